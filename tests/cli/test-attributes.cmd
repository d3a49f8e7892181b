test tests/cli/attributes.test

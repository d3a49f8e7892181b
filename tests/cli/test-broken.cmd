test tests/cli/broken.test

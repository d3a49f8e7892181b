test tests/cli/misspelt-fields.test

test - tests/cli/failing.test

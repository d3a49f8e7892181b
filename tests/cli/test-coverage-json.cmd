test --coverage --json tests/cli/failing.test

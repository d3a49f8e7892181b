test --verbose --coverage tests/cli/failing.test

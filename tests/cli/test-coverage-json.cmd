test --coverage --format json tests/cli/failing.test

test --format tap tests/cli/failing.test

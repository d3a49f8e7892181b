analyze --format sarif tests/cli/broken-promise.policy

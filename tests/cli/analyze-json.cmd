analyze --json tests/cli/broken-promise.policy

verify tests/cli/broken-promise.policy

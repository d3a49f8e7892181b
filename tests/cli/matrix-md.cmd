matrix tests/cli/broken-promise.policy

verify --json tests/cli/broken-promise.policy

verify --format json tests/cli/broken-promise.policy

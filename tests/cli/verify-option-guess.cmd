verify --fromat json tests/cli/broken-promise.policy

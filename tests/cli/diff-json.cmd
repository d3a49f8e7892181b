diff --format json tests/cli/broken-promise.policy tests/cli/uncited.policy

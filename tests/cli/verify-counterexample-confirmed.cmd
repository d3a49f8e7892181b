eval --policy tests/cli/broken-promise.policy -

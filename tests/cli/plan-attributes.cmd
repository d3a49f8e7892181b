plan --policy tests/cli/attributes.policy -

explain --policy tests/cli/consent-lifts-deny.policy -

check --werror tests/cli/consent-lifts-deny.policy

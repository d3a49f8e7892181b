fmt --check policies/privacy.policy tests/cli/unformatted.policy

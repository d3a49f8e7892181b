diff policies/privacy.policy tests/cli/privacy-v2.policy

check tests/cli/broken.policy

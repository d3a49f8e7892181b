check --format sarif tests/cli/broken.policy

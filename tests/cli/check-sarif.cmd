check --format sarif tests/cli/uncited.policy

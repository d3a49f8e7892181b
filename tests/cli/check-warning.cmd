check tests/cli/uncited.policy

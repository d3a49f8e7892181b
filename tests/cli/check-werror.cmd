check --werror tests/cli/uncited.policy

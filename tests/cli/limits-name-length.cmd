check --max-name-length 16 tests/cli/long-name.policy

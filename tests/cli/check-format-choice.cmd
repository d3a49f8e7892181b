check --format xml tests/cli/broken.policy

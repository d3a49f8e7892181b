fmt tests/cli/broken.policy

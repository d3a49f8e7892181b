check --format json tests/cli/broken.policy

serve --policy tests/cli/broken.policy --port 0

check tests/documents/broken.policy

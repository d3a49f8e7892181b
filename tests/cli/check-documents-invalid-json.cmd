check tests/documents/invalid-json.policy

check --max-document-depth=2 tests/documents/todo.policy

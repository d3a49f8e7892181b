check --max-document-bytes 200 tests/documents/todo.policy

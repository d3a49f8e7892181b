check tests/documents/todo.policy --max-documents 1

check tests/documents/todo.policy

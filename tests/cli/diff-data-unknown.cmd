diff --data nobody=tests/documents/todo/users.json tests/documents/todo.policy

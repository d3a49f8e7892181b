diff --data users=tests/documents/todo/users.json tests/documents/todo.policy

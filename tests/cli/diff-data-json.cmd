diff --format json --data users=tests/documents/todo/users-v2.json tests/documents/todo.policy

diff --data users=tests/documents/todo/users-broken.json tests/documents/todo.policy

diff --data users=tests/documents/todo/missing.json tests/documents/todo.policy

diff --data users=tests/documents/todo/users.json -

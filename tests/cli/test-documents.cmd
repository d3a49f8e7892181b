test tests/documents/todo.test

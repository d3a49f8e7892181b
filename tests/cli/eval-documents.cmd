eval --policy tests/documents/todo.policy --jsonl -

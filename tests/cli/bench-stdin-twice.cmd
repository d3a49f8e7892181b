bench --policy - --jsonl -

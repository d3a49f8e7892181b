eval --policy tests/cli/broken.policy policies/examples/01-counterparty-contact-during-transaction.json

eval --policy policies/privacy.policy --as-of 2026-03-01 policies/examples/01-counterparty-contact-during-transaction.json

eval --policy policies/privacy.policy --max-request-bytes=100 policies/examples/01-counterparty-contact-during-transaction.json

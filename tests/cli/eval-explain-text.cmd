eval --policy policies/privacy.policy --explain --format text policies/examples/06-store-unencrypted-credentials.json

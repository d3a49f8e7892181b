explain --policy policies/privacy.policy --format json policies/examples/06-store-unencrypted-credentials.json

explain --policy policies/privacy.policy policies/examples/06-store-unencrypted-credentials.json

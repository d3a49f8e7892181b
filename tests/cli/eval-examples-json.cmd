eval --policy policies/privacy.policy policies/examples/*.json

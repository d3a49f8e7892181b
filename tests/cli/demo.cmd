eval --policy policies/privacy.policy --format text policies/examples/*.json

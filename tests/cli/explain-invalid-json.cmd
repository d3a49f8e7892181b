explain --policy policies/privacy.policy --format json -

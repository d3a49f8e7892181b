eval --policy policies/privacy.policy --format text -

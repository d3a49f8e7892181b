eval --policy policies/privacy.policy --bogus

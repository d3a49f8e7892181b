explain --policy policies/privacy.policy -

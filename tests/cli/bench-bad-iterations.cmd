bench --policy policies/privacy.policy --iterations 0

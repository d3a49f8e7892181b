serve --policy policies/privacy.policy --threads 0

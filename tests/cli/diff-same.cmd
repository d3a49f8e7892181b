diff policies/privacy.policy policies/privacy.policy

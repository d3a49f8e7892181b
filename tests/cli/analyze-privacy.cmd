analyze policies/privacy.policy

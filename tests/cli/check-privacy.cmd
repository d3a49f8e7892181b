check policies/privacy.policy

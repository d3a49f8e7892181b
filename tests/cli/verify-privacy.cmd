verify policies/privacy.policy

check --max-rules 28 policies/privacy.policy

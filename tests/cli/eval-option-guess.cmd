eval --polcy policies/privacy.policy

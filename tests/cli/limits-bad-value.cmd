check --max-name-length zero policies/privacy.policy

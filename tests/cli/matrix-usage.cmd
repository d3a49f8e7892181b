matrix --format pdf policies/privacy.policy

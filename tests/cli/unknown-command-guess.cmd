chek policies/privacy.policy

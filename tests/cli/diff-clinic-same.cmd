diff policies/clinic.policy policies/clinic.policy

plan --policy policies/clinic.policy -

plan --policy policies/clinic.policy policies/plans/clinic-researcher.json

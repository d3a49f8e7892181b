plan --policy policies/clinic.policy --sql postgres policies/plans/clinic-person-access.json

explain --policy policies/clinic.policy tests/cli/clinic-representative.json

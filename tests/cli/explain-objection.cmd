explain --policy policies/clinic.policy tests/cli/clinic-family.json

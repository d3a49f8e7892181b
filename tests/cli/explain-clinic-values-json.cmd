explain --policy policies/clinic.policy --format json tests/cli/clinic-family.json

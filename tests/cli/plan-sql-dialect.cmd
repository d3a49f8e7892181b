plan --policy policies/clinic.policy --sql mysql --mapping tests/cli/sql-partial.mapping.json policies/plans/clinic-person-access.json

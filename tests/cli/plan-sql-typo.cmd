plan --policy policies/clinic.policy --sql postgres --mapping tests/cli/sql-typo.mapping.json policies/plans/clinic-person-access.json

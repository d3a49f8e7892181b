diff policies/clinic.policy tests/cli/clinic-v2.policy

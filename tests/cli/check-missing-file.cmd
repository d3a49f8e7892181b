check no/such/file.policy

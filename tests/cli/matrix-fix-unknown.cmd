matrix --fix data.subject_ag=3 policies/clinic.policy

matrix --fix data.subject_age=twelve policies/clinic.policy

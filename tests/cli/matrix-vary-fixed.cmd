matrix --vary data.subject_age --fix data.subject_age=12 policies/clinic.policy

matrix --vary data.subject_age policies/clinic.policy

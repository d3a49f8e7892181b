-- The person's question of policies/plans/clinic-person-access.json, written by hand: their
-- own records, those of a minor they represent, and the clinical records of someone who
-- named them as a care contact (no objection is known).
SELECT id FROM records r
WHERE r.patient_id = 'p-1'
   OR (r.subject_age < 18
       AND EXISTS (SELECT 1 FROM record_representatives p WHERE p.record_id = r.id AND p.person_id = 'p-1'))
   OR (r.category IN ('clinical_record', 'lab_result', 'sud_record')
       AND EXISTS (SELECT 1 FROM record_care_contacts c WHERE c.record_id = r.id AND c.person_id = 'p-1'))

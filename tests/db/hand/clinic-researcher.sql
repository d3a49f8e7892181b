-- The researcher's question of policies/plans/clinic-researcher.json, written by hand:
-- de-identified records, or identified ones with a research authorization; an SUD record
-- also needs the SUD consent. Consents count while their dates are later than the time.
SELECT id FROM records r
WHERE (r.deidentified
       OR EXISTS (SELECT 1 FROM consents c WHERE c.patient_id = r.patient_id
                  AND c.consent = 'research_authorization'
                  AND (c.expires_at IS NULL OR c.expires_at > '2026-05-01T09:00:00Z')
                  AND (c.withdrawn_at IS NULL OR c.withdrawn_at > '2026-05-01T09:00:00Z')))
  AND (r.category <> 'sud_record'
       OR EXISTS (SELECT 1 FROM consents c WHERE c.patient_id = r.patient_id
                  AND c.consent = 'sud_consent'
                  AND (c.expires_at IS NULL OR c.expires_at > '2026-05-01T09:00:00Z')
                  AND (c.withdrawn_at IS NULL OR c.withdrawn_at > '2026-05-01T09:00:00Z')))

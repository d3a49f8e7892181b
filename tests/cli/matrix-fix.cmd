matrix --fix context.time=2026-03-01 policies/clinic.policy

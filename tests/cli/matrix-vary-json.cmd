matrix --format json --fix context.time=2026-03-01 --fix objected:family_disclosure --vary requester.id tests/cli/attributes.policy

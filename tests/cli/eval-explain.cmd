eval --policy policies/privacy.policy --explain policies/examples/02-partner-marketing-without-consent.json

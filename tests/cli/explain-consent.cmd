explain --policy policies/privacy.policy policies/examples/02-partner-marketing-without-consent.json

plan --policy policies/privacy.policy --format json policies/plans/privacy-partner-marketing.json

explain --color --policy policies/privacy.policy policies/examples/08-user-edits-own-data.json

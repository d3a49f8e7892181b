eval --policy policies/privacy.policy policies/examples policies/examples/08-user-edits-own-data.json

matrix --fix data.subject_age=200 tests/cli/attributes.policy

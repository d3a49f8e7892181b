diff tests/cli/vocabulary-old.policy tests/cli/vocabulary-new.policy

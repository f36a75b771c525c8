"""The `wxtui` command: family-neutral verbs, each resolving the account's family once."""

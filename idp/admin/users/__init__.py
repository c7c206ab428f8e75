"""Users and groups: accounts, their sessions and authenticators, memberships."""

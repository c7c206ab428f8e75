"""Who people are: accounts, sign-up, sessions and devices, invitations, deletion, site settings."""

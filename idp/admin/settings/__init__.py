"""Site settings stored in the database."""

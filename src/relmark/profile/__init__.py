"""relmark.profile."""

"""relmark.trust."""

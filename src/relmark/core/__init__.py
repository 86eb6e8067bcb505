"""relmark.core."""

"""relmark.domain."""

"""relmark.clv."""

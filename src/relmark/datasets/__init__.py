"""relmark.datasets."""

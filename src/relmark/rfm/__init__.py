"""relmark.rfm."""

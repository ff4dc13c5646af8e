"""Delivery-date estimation: the transit-time model learned from history and the quote engine."""

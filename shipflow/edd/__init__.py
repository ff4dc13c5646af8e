"""Delivery-date estimation: the transit model, quoting, and the service around them."""

"""Prepaid returns: eligibility, approval, labels, refund triggers."""

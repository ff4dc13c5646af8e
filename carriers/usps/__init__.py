"""USPS (apis.usps.com v3): OAuth 2 client credentials, Tracking v3, Domestic Prices v3,
Labels v3."""

from carriers.usps.carrier import USPSCarrier

__all__ = ["USPSCarrier"]

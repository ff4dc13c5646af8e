"""DHL (Shipment Tracking - Unified API, developer.dhl.com): tracking only."""

from carriers.dhl.carrier import DHLCarrier

__all__ = ["DHLCarrier"]

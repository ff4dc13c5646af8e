"""Delhivery (India): client (I/O), mapping (pure payload functions), units (code tables),
carrier (adapter)."""

from carriers.delhivery.carrier import DelhiveryCarrier

__all__ = ["DelhiveryCarrier"]

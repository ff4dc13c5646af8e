"""UPS: client (I/O), mapping (pure payload functions), units (code tables), carrier (adapter)."""

from carriers.ups.carrier import UPSCarrier

__all__ = ["UPSCarrier"]

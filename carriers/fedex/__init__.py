"""FedEx: client (I/O), mapping (pure payload functions), units (code tables), carrier (adapter)."""

from carriers.fedex.carrier import FedExCarrier

__all__ = ["FedExCarrier"]

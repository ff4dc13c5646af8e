"""Tapin, Iran Post's e-commerce counter (Pishtaz and Vizheh parcels): client (I/O), mapping
(pure payload functions), units (code tables), carrier (adapter)."""

from carriers.tapin.carrier import TapinCarrier

__all__ = ["TapinCarrier"]

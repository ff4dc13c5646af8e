"""Carrier adapters: each turns a carrier's raw payloads into shipflow.domain objects."""

from carriers.base import (
    Capability,
    Carrier,
    CarrierAuthError,
    CarrierError,
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    NotSupported,
    WebhookSignatureError,
)
from carriers.registry import available_carriers, get_carrier_class

__all__ = [
    "Capability",
    "Carrier",
    "CarrierAuthError",
    "CarrierError",
    "CarrierRateLimited",
    "CarrierRejected",
    "CarrierUnavailable",
    "NotSupported",
    "WebhookSignatureError",
    "available_carriers",
    "get_carrier_class",
]

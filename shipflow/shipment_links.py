"""Signed, expiring links that let a customer see their own shipment without an account.

A token names the brand and the shipment, is signed with the links key (derived from the app
secret, apart from the session key) and a salt per purpose (a tracking token opens no
failed-delivery form), and expires after `Settings.link_max_age_days`. A link earned with the
order number and postal code (a weak factor: anyone at the address knows it) is marked
`place_only` and shows status, dates and the city, never the person or the failed-delivery
actions. Its age is measured on the runtime's clock, so the accelerated demo clock and tests
age links the way they age everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from shipflow import links
from shipflow.links import LinkExpired, LinkInvalid

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

TRACKING = "tracking"
__all__ = [
    "TRACKING",
    "Grant",
    "LinkExpired",
    "LinkInvalid",
    "read_grant",
    "read_token",
    "tracking_link",
    "tracking_path",
]


@dataclass(frozen=True)
class Grant:
    shipment_id: str
    place_only: bool = False


def make_token(
    runtime: Runtime, purpose: str, brand_code: str, shipment_id: str, place_only: bool = False
) -> str:
    data = {"b": brand_code, "s": shipment_id} | ({"p": 1} if place_only else {})
    return links.make_token(runtime.settings.signing_key("links"), purpose, data, runtime.clock)


def read_grant(runtime: Runtime, purpose: str, brand_code: str, token: str) -> Grant:
    """What a token grants, or LinkExpired / LinkInvalid."""
    max_age = timedelta(days=runtime.settings.link_max_age_days)
    payload = links.read_token(
        runtime.settings.signing_key("links"), purpose, token, max_age, runtime.clock
    )
    if not isinstance(payload, dict) or payload.get("b") != brand_code or "s" not in payload:
        raise LinkInvalid(token)
    return Grant(str(payload["s"]), place_only=bool(payload.get("p")))


def read_token(runtime: Runtime, purpose: str, brand_code: str, token: str) -> str:
    """The shipment id a token grants, or LinkExpired / LinkInvalid."""
    return read_grant(runtime, purpose, brand_code, token).shipment_id


def tracking_path(
    brand_code: str, shipment_id: str, runtime: Runtime, place_only: bool = False
) -> str:
    token = make_token(runtime, TRACKING, brand_code, shipment_id, place_only)
    return f"/t/{brand_code}/{token}"


def tracking_link(brand_code: str, shipment_id: str, runtime: Runtime) -> str:
    """The customer's tracking page as an absolute URL (e-mails, SMS)."""
    base = runtime.settings.base_url.rstrip("/")
    return base + tracking_path(brand_code, shipment_id, runtime)

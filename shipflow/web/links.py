"""Signed, expiring links that let a customer see their own shipment without an account.

A token names the brand and the shipment, is signed with the app secret and a salt per
purpose (a tracking token opens no failed-delivery form), and expires after
`Settings.link_max_age_days`. Its age is measured on the runtime's clock, so the
accelerated demo clock and tests age links the way they age everything else.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from shipflow.clock import Clock
from shipflow.runtime import Runtime

TRACKING = "tracking"
NDR = "ndr"


class LinkInvalid(Exception):
    """Tampered with, signed for another purpose or brand, or not a token at all."""


class LinkExpired(LinkInvalid):
    """Genuine but older than the configured maximum age."""


def _signer_on(clock: Clock) -> type[TimestampSigner]:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return ClockSigner


def _serializer(runtime: Runtime, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        runtime.settings.secret_key,
        salt=f"shipflow.{purpose}",
        signer=_signer_on(runtime.clock),
    )


def make_token(runtime: Runtime, purpose: str, brand_code: str, shipment_id: str) -> str:
    return _serializer(runtime, purpose).dumps({"b": brand_code, "s": shipment_id})


def read_token(runtime: Runtime, purpose: str, brand_code: str, token: str) -> str:
    """The shipment id a token grants, or LinkExpired / LinkInvalid."""
    max_age = runtime.settings.link_max_age_days * 24 * 3600
    try:
        payload = _serializer(runtime, purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired(token) from None
    except BadSignature:
        raise LinkInvalid(token) from None
    if not isinstance(payload, dict) or payload.get("b") != brand_code or "s" not in payload:
        raise LinkInvalid(token)
    return str(payload["s"])


def _runtime(runtime: Runtime | None) -> Runtime:
    return runtime or current_app.extensions["shipflow"]


def tracking_path(brand_code: str, shipment_id: str, runtime: Runtime | None = None) -> str:
    token = make_token(_runtime(runtime), TRACKING, brand_code, shipment_id)
    return f"/t/{brand_code}/{token}"


def ndr_path(brand_code: str, shipment_id: str, runtime: Runtime | None = None) -> str:
    """The failed-delivery page (`/ndr/<token>`: token purpose "ndr", same payload)."""
    return f"/ndr/{make_token(_runtime(runtime), NDR, brand_code, shipment_id)}"


def tracking_link(brand_code: str, shipment_id: str, runtime: Runtime | None = None) -> str:
    """The customer's tracking page as an absolute URL (e-mails, SMS). Outside a request,
    pass the runtime."""
    runtime = _runtime(runtime)
    base = runtime.settings.base_url.rstrip("/")
    return base + tracking_path(brand_code, shipment_id, runtime)

"""What the OAuth carriers' tests share: a one-parcel ground shipment, a test account, tracking
events located the way the adapters write locations, and the two label operations."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from carriers.base import CarrierAccount, ShipmentRequest
from shipflow.domain import Address, Parcel, Reason, Status, TrackingEvent
from tests.carriers.carrier_contract import Operation


def shipment(shipper: Address, recipient: Address, **fields: Any) -> ShipmentRequest:
    request = ShipmentRequest(
        shipper=shipper,
        recipient=recipient,
        parcels=[Parcel(weight_g=1000, length_mm=300, width_mm=200, height_mm=100)],
        service="ground",
        reference="order-1001",
    )
    return replace(request, **fields)


def oauth_account(carrier: str, account_id: str, **credentials: str) -> CarrierAccount:
    return CarrierAccount(
        carrier=carrier,
        account_id=account_id,
        credentials={"client_id": "test-client", "client_secret": "test-secret", **credentials},
        rate_limit_per_second=1000,
    )


def located_event(
    status: Status,
    when: datetime,
    code: str,
    text: str,
    reason: Reason | None = None,
    city: str = "",
    state: str = "",
    postal: str = "",
    country: str = "US",
) -> TrackingEvent:
    """A tracking event whose location reads "city, state, postal, country" (blanks left out)."""
    return TrackingEvent(
        status=status,
        occurred_at=when,
        raw_code=code,
        raw_text=text,
        reason=reason,
        location=", ".join(p for p in (city, state, postal, country) if p),
        city=city,
        state=state,
        postal_code=postal,
        country=country,
    )


def label_operations(url: str, fixture: str, request: ShipmentRequest, label: Any) -> list:
    """An outbound and a return label, both answered by the same ship call."""
    return [
        Operation(
            "label", "POST", url, fixture, lambda c: c.create_label(request), label, buys=True
        ),
        Operation(
            "return_label",
            "POST",
            url,
            fixture,
            lambda c: c.create_return_label(request),
            label,
            buys=True,
        ),
    ]

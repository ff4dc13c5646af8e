"""The USPS adapter: tracking, domestic prices, labels, return labels and cancelling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    Label,
    RateQuote,
    ShipmentRequest,
)
from carriers.convert import reading
from carriers.http import unless_not_found
from carriers.usps import mapping
from carriers.usps.client import USPSClient
from carriers.usps.units import DEFAULT_RATED_SERVICES
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate


class USPSCarrier(Carrier):
    name = "usps"
    capabilities = frozenset(
        {
            Capability.TRACKING_POLL,
            Capability.RATES,
            Capability.LABELS,
            Capability.RETURN_LABELS,
            Capability.CANCEL,
        }
    )
    track_batch_size = 1  # Tracking v3 answers one number per call

    def __init__(
        self, account: CarrierAccount, client: USPSClient | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(account, clock)
        self.client = client or USPSClient(account)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        updates = []
        for number in tracking_numbers:
            payload = unless_not_found(self.client.tracking, number)
            if payload is None:
                continue
            with reading(self.name, "tracking response"):
                update = mapping.tracking_update(payload)
            if update is not None:
                updates.append(update)
        return updates

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        services = [request.service] if request.service else list(DEFAULT_RATED_SERVICES)
        price_type = self.account.credentials.get("price_type", "RETAIL")
        quotes = []
        for service in services:
            body = mapping.price_request(replace(request, service=service), price_type)
            payload = self.client.base_rates(body)
            with reading(self.name, "price response"):
                quotes.append(mapping.rate_quote(service, payload))
        return quotes

    def create_label(self, request: ShipmentRequest) -> Label:
        body = self.client.label(mapping.label_request(request))
        with reading(self.name, "label response"):
            return mapping.label(request.service, body)

    def create_return_label(self, request: ShipmentRequest) -> Label:
        body = self.client.return_label(mapping.label_request(request))
        with reading(self.name, "return label response"):
            return mapping.label(request.service, body)

    def cancel(self, tracking_number: str) -> None:
        self.client.cancel_label(tracking_number)

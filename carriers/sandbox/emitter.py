"""Webhooks from the sandbox carrier: each registered parcel's scans are sent, signed (on the
real time, see `SandboxCarrier`), once their time has come on the carrier's clock, through a
pluggable `deliver(url, body, headers)`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import requests

from carriers.sandbox import mapping, signing
from carriers.sandbox.carrier import SandboxCarrier

logger = logging.getLogger(__name__)

Deliver = Callable[[str, bytes, Mapping[str, str]], object]


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    url: str
    body: bytes
    headers: Mapping[str, str]
    tracking_number: str


def http_deliver(url: str, body: bytes, headers: Mapping[str, str]) -> None:
    requests.post(url, data=body, headers=dict(headers), timeout=10).raise_for_status()


class SandboxEmitter:
    """Tracks how far each parcel's webhooks have gone; a failed delivery is retried on the
    next run and later scans of that parcel wait for it, as carriers keep order per parcel."""

    def __init__(self, carrier: SandboxCarrier, deliver: Deliver = http_deliver) -> None:
        self.carrier = carrier
        self.deliver = deliver
        self._url: dict[str, str] = {}
        self._sent: dict[str, int] = {}

    def register(self, tracking_number: str, url: str) -> None:
        self._url[tracking_number] = url
        self._sent.setdefault(tracking_number, 0)

    def due(self) -> Iterator[WebhookDelivery]:
        now = self.carrier.clock.now()
        for tn, url in list(self._url.items()):
            found = self.carrier.timeline(tn)
            if not found:
                continue
            shipment, timeline = found
            estimate = self.carrier.estimated_delivery(shipment, timeline, now)
            for event in timeline.until(now)[self._sent[tn] :]:
                body = mapping.webhook_body(tn, shipment.service, estimate, event, now)
                signed_at = self.carrier.wall_clock.now()
                headers = signing.sign(self.carrier.webhook_secret, body, signed_at)
                yield WebhookDelivery(url, body, headers, tn)

    def run_once(self) -> int:
        """Send what is due; returns how many deliveries succeeded."""
        sent, failed = 0, set()
        for delivery in self.due():
            if delivery.tracking_number in failed:
                continue
            try:
                self.deliver(delivery.url, delivery.body, delivery.headers)
            except Exception as exc:  # any receiver failure: keep the event for the next run
                logger.warning("sandbox webhook to %s failed: %s", delivery.url, exc)
                failed.add(delivery.tracking_number)
                continue
            self._sent[delivery.tracking_number] += 1
            sent += 1
        return sent

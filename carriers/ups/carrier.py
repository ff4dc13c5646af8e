"""The UPS adapter: rates, labels (outbound and return), voids, tracking polls, and Track
Alert webhooks (subscribe per number, UPS then pushes each scan with our credential)."""

from __future__ import annotations

from collections.abc import Sequence

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierError,
    CarrierRejected,
    Label,
    RateQuote,
    ShipmentRequest,
    TrackingQuery,
    WebhookRequest,
    one_parcel,
)
from carriers.http import unless_not_found
from carriers.units import label_format
from carriers.ups import mapping, units
from carriers.ups.client import UPSClient
from carriers.webhook_auth import header, require_shared_secret, webhook_json
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate


class UPSCarrier(Carrier):
    """Credentials: client_id, client_secret, shipper_number (defaults to the account id),
    webhook_credential (what Track Alert echoes), label_format (GIF, ZPL, EPL, SPL)."""

    name = "ups"
    capabilities = frozenset(
        {
            Capability.RATES,
            Capability.LABELS,
            Capability.RETURN_LABELS,
            Capability.CANCEL,
            Capability.TRACKING_POLL,
            Capability.WEBHOOKS,
            Capability.PUSH_SUBSCRIPTIONS,
        }
    )
    track_batch_size = 1  # the Track API takes one inquiry number per call

    def __init__(
        self, account: CarrierAccount, client: UPSClient | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(account, clock)
        self.client = client or UPSClient(account)
        self.shipper_number = account.credentials.get("shipper_number", account.account_id)
        self.label_format = label_format(self.name, account.credentials, "GIF", units.LABEL_FORMATS)

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        payload = mapping.build_rate_request(request, self.shipper_number)
        return mapping.parse_rate_response(self.client.rate(payload, shop=not request.service))

    def create_label(self, request: ShipmentRequest) -> Label:
        one_parcel(request, self.name)
        payload = mapping.build_ship_request(request, self.shipper_number, self.label_format)
        return mapping.parse_ship_response(self.client.ship(payload), request.service)

    def cancel(self, tracking_number: str) -> None:
        if not mapping.void_succeeded(self.client.void(tracking_number)):
            raise CarrierRejected(f"ups did not void {tracking_number}", carrier=self.name)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        updates = []
        for number in tracking_numbers:
            body = unless_not_found(self.client.track, number)
            if body is not None:
                updates.extend(mapping.parse_track_response(body))
        return updates

    def subscribe(
        self, queries: Sequence[TrackingQuery], webhook_url: str
    ) -> dict[str, CarrierError]:
        """Ask Track Alert to push these numbers' scans (for 14 days)."""
        payload = mapping.build_subscription(
            [q.tracking_number for q in queries],
            webhook_url,
            self.account.credentials["webhook_credential"],
        )
        refused = mapping.parse_subscription(self.client.subscribe(payload))[1]
        return {
            number: CarrierRejected(f"UPS Track Alert refused {number}", carrier=self.name)
            for number in refused
        }

    def verify_webhook(self, request: WebhookRequest) -> None:
        require_shared_secret(
            self.name,
            header(request.headers, "credential"),
            self.account.credentials.get("webhook_credential", ""),
        )

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        return mapping.parse_alerts(webhook_json(self.name, request.body))

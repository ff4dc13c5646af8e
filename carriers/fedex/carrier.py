"""The FedEx adapter: rates, labels (outbound and return), cancels, tracking polls in
batches of 30, and tracking webhooks signed with the project's security token."""

from __future__ import annotations

from collections.abc import Sequence

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierRejected,
    Label,
    RateQuote,
    ShipmentRequest,
    WebhookRequest,
    one_parcel,
)
from carriers.fedex import mapping, units
from carriers.fedex.client import FedExClient
from carriers.units import label_format
from carriers.webhook_auth import header, require_hmac_sha256, webhook_json
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate


class FedExCarrier(Carrier):
    """Credentials: client_id, client_secret, account_number (defaults to the account id),
    webhook_secret (the webhook project's security token), label_format (PDF, PNG, ZPLII,
    EPL2)."""

    name = "fedex"
    capabilities = frozenset(
        {
            Capability.RATES,
            Capability.LABELS,
            Capability.RETURN_LABELS,
            Capability.CANCEL,
            Capability.TRACKING_POLL,
            Capability.WEBHOOKS,
        }
    )
    track_batch_size = 30  # the Track API's limit per request

    def __init__(
        self, account: CarrierAccount, client: FedExClient | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(account, clock)
        self.client = client or FedExClient(account)
        self.account_number = account.credentials.get("account_number", account.account_id)
        self.label_format = label_format(self.name, account.credentials, "PDF", units.LABEL_FORMATS)

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        payload = mapping.build_rate_request(request, self.account_number)
        return mapping.parse_rate_response(self.client.rate(payload))

    def create_label(self, request: ShipmentRequest) -> Label:
        one_parcel(request, self.name)
        payload = mapping.build_ship_request(request, self.account_number, self.label_format)
        return mapping.parse_ship_response(self.client.ship(payload), request.service)

    def cancel(self, tracking_number: str) -> None:
        payload = mapping.build_cancel_request(tracking_number, self.account_number)
        if not mapping.cancel_succeeded(self.client.cancel(payload)):
            raise CarrierRejected(f"fedex did not cancel {tracking_number}", carrier=self.name)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        updates: list[TrackingUpdate] = []
        for batch in self.track_batches(tracking_numbers):
            body = self.client.track(mapping.build_track_request(batch))
            updates.extend(mapping.parse_track_response(body))
        return updates

    def verify_webhook(self, request: WebhookRequest) -> None:
        require_hmac_sha256(
            self.name,
            request.body,
            self.account.credentials.get("webhook_secret", ""),
            header(request.headers, "fedex-signature"),
        )

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        return mapping.parse_track_response(webhook_json(self.name, request.body))

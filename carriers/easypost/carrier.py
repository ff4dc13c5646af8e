"""The EasyPost adapter: one account reaching 100+ carriers for rates, labels, returns,
refunds, tracker polls and signed tracker webhooks."""

from __future__ import annotations

from collections.abc import Sequence

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierError,
    CarrierOutcomeUnknown,
    CarrierRejected,
    Label,
    RateQuote,
    ShipmentRequest,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.convert import reading
from carriers.easypost import mapping
from carriers.easypost.client import EasyPostClient
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate


class EasyPostCarrier(Carrier):
    name = "easypost"
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
    track_batch_size = 1  # one Tracker per call

    def __init__(
        self,
        account: CarrierAccount,
        client: EasyPostClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(account, clock)
        self.client = client or EasyPostClient(account)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        """Accepts tracker ids (trk_...) or tracking codes; creating a Tracker for a known
        code returns the existing one, so polling by code is safe."""
        updates = []
        for number in tracking_numbers:
            if number.startswith("trk_"):
                tracker = self.client.tracker(number)
            else:
                carrier = self.account.credentials.get("tracking_carrier", "")
                tracker = self.client.create_tracker(number, carrier)
            with reading(self.name, "tracker"):
                update = mapping.tracking_update(tracker)
            if update is not None:
                updates.append(update)
        return updates

    def verify_webhook(self, request: WebhookRequest) -> None:
        if not mapping.signature_valid(request, self.account.credentials.get("webhook_secret", "")):
            raise WebhookSignatureError(
                f"easypost webhook has a missing or wrong {mapping.SIGNATURE_HEADER}",
                carrier=self.name,
            )

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        self.verify_webhook(request)
        with reading(self.name, "webhook event"):
            return mapping.webhook_updates(request.body)

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        shipment = self.client.create_shipment(mapping.shipment_request(request))
        with reading(self.name, "shipment"):
            return mapping.rate_quotes(shipment)

    def create_label(self, request: ShipmentRequest) -> Label:
        shipment = self.client.create_shipment(mapping.shipment_request(request))
        with reading(self.name, "shipment"):
            rate_id = mapping.rate_id(shipment, request.service)
        bought = self.client.buy(shipment["id"], rate_id)
        try:
            with reading(self.name, "bought shipment"):
                url = mapping.label_url(bought)
            label_data = self.client.download(url)
            with reading(self.name, "bought shipment"):
                return mapping.label(bought, label_data)
        except CarrierError as exc:  # paid for: buying again would pay twice
            raise CarrierOutcomeUnknown(
                f"easypost bought {shipment['id']} but its label could not be had: {exc}",
                carrier=self.name,
            ) from exc

    def cancel(self, tracking_number: str) -> None:
        """EasyPost refunds by shipment: pass the label's `carrier_shipment_id` (shp_...)."""
        if not tracking_number.startswith("shp_"):
            raise CarrierRejected(
                "easypost refunds by shipment id (shp_...), not by tracking code",
                carrier=self.name,
            )
        shipment = self.client.refund(tracking_number)
        with reading(self.name, "refund"):
            accepted = mapping.refund_accepted(shipment)
        if not accepted:
            raise CarrierRejected(
                f"easypost refused the refund (refund_status={shipment.get('refund_status')})",
                carrier=self.name,
                carrier_code=str(shipment.get("refund_status")),
            )

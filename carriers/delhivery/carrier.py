"""The Delhivery adapter: shipments (prepaid, cash on delivery, reverse pickups) with their
packing-slip label, cancellation, pickup requests, tracking polls of up to 50 waybills, scan
pushes, and failed-delivery instructions through the NDR API."""

from __future__ import annotations

from collections.abc import Sequence

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierError,
    CarrierOutcomeUnknown,
    FailedDeliveryAction,
    FailedDeliveryInstruction,
    Label,
    PickupConfirmation,
    PickupRequest,
    ShipmentRequest,
    WebhookRequest,
)
from carriers.delhivery import mapping, units
from carriers.delhivery.client import DelhiveryClient
from carriers.webhook_auth import header, require_shared_secret, webhook_json
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate


class DelhiveryCarrier(Carrier):
    """Credentials: api_token (Delhivery One > Settings > API setup), pickup_location (the
    warehouse name exactly as registered with Delhivery), webhook_token (the secret we give
    Delhivery to send as `Authorization: Bearer <token>` with each scan push: the push
    itself is unsigned)."""

    name = "delhivery"
    capabilities = frozenset(
        {
            Capability.LABELS,
            Capability.RETURN_LABELS,
            Capability.CANCEL,
            Capability.TRACKING_POLL,
            Capability.WEBHOOKS,
            Capability.FAILED_DELIVERY_ACTIONS,
            Capability.PICKUPS,
            Capability.CASH_ON_DELIVERY,
        }
    )
    # The NDR API re-attempts (on a chosen day too) and edits the consignee's details; it
    # has no return-to-origin or hold action.
    failed_delivery_actions = frozenset(
        {FailedDeliveryAction.REATTEMPT, FailedDeliveryAction.UPDATE_ADDRESS}
    )
    track_batch_size = units.TRACK_BATCH

    def __init__(
        self,
        account: CarrierAccount,
        client: DelhiveryClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(account, clock)
        self.client = client or DelhiveryClient(account)
        self.pickup_location = account.credentials.get("pickup_location", "")

    def create_label(self, request: ShipmentRequest) -> Label:
        form = mapping.build_create_request(request, self.pickup_location)
        waybill = mapping.created_waybill(self.client.create(form))
        try:
            link = mapping.packing_slip_link(self.client.packing_slip(waybill), waybill)
            document = self.client.download(link)
        except CarrierError as exc:
            raise CarrierOutcomeUnknown(
                f"delhivery created waybill {waybill} but its label could not be fetched "
                f"({exc}); fetch it again or cancel the waybill",
                carrier=self.name,
            ) from exc
        return Label(
            carrier=self.name,
            service=request.service,
            tracking_number=waybill,
            label_format="PDF",
            label_data=document,
            carrier_shipment_id=waybill,
        )

    def cancel(self, tracking_number: str) -> None:
        body = self.client.cancel(mapping.build_cancel_request(tracking_number))
        mapping.check_cancelled(body, tracking_number)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        updates: list[TrackingUpdate] = []
        for batch in self.track_batches(tracking_numbers):
            updates.extend(mapping.parse_track_response(self.client.track(batch)))
        return updates

    def verify_webhook(self, request: WebhookRequest) -> None:
        token = self.account.credentials.get("webhook_token", "")
        require_shared_secret(
            self.name, header(request.headers, "Authorization"), f"Bearer {token}" if token else ""
        )

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        return mapping.parse_push(webhook_json(self.name, request.body))

    def failed_delivery_action(self, instruction: FailedDeliveryInstruction) -> str:
        body = self.client.ndr(mapping.build_ndr_request(instruction))
        return mapping.ndr_request_id(body)

    def schedule_pickup(self, request: PickupRequest) -> PickupConfirmation:
        payload = mapping.build_pickup_request(request, self.pickup_location)
        return mapping.parse_pickup_response(self.client.pickup(payload), request)

"""Orders in from shops, fulfilments back out: the service side of `channels/`.

A shop's webhook is stored raw by the same intake as a carrier's; `import_receipt` turns it
into an order through `shipflow.orders` (once per shop order). When the order's parcel moves,
the outbox hands each milestone to `write_back`, which tells the shop through its source."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from channels.base import Capability, Fulfilment, FulfilmentEvent
from shipflow.channel_accounts import Shop, UnknownChannelAccount, load_shop
from shipflow.domain.events import MILESTONES, ShipmentShipped
from shipflow.orders import import_order
from shipflow.store.models import Order, OutboxMessage, Shipment
from shipflow.store.tracking_models import WebhookReceipt

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

STATUS_OF_TOPIC = {event.topic: status for status, event in MILESTONES.items()}


def import_receipt(
    session: Session, runtime: Runtime, receipt: WebhookReceipt, now: datetime, shops: dict
) -> str | None:
    """A stored shop webhook -> its order (not committed); a replay finds the first one."""
    shop: Shop | None = shops.get(receipt.account)
    if shop is None:
        shop = shops[receipt.account] = load_shop(session, runtime, receipt.account)
    notice = shop.source.parse_webhook(receipt.request())
    if notice.order is not None:
        import_order(session, receipt.brand_id, shop.id, notice.order)
    return None


def write_back(session: Session, message: OutboxMessage, *, runtime: Runtime) -> None:
    """Tell the shop an order it sent has shipped (a fulfilment) or reached a milestone.
    At least once: sources dedupe on the message's key."""
    shipment = session.get(Shipment, message.payload["shipment_id"])
    order = session.get(Order, shipment.order_id) if shipment and shipment.order_id else None
    if (
        shipment is None
        or order is None
        or order.source_account is None
        or order.source_order_id is None
        or shipment.kind != "forward"
    ):
        return
    try:
        source = load_shop(session, runtime, order.source_account).source
    except UnknownChannelAccount:  # the shop was removed from config.yaml: nobody to tell
        log.warning("order %s: its shop %s is no longer configured", order.id, order.source_account)
        return
    if message.topic == ShipmentShipped.topic:
        if source.supports(Capability.FULFILMENTS):
            source.write_fulfilment(
                Fulfilment(
                    source_order_id=order.source_order_id,
                    carrier=shipment.carrier,
                    service=shipment.service,
                    tracking_number=shipment.tracking_number,
                    idempotency_key=message.dedupe_key,
                )
            )
    elif source.supports(Capability.TRACKING_EVENTS):
        source.write_tracking_event(
            FulfilmentEvent(
                source_order_id=order.source_order_id,
                tracking_number=shipment.tracking_number,
                status=STATUS_OF_TOPIC[message.topic],
                occurred_at=datetime.fromisoformat(message.payload["occurred_at"]),
                idempotency_key=message.dedupe_key,
            )
        )

"""Post-purchase reactions to tracking, run by the outbox dispatcher, and their periodic jobs.

Tracking writes domain events to the outbox; here a failed attempt opens or counts a
failed-delivery case, milestones become customer messages, a return parcel's first scan and
arrival move the return on, and store webhooks leave signed. `shipflow.reactions` says which
event each handler takes; the dispatcher passes the runtime, the session and the message.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow import customer_messages as customer
from shipflow import pickup_points
from shipflow.brands import brand_config
from shipflow.channel_orders import refund_order, refund_return
from shipflow.domain import Reason, Status
from shipflow.domain.events import (
    AvailableForPickup,
    Delivered,
    DeliveryAttemptFailed,
    OutForDelivery,
    ShipmentDelayed,
    ShipmentShipped,
)
from shipflow.i18n import format_day
from shipflow.notify.templates import Milestone
from shipflow.notify.transports import post_signed
from shipflow.ops_remedies import refunded
from shipflow.postpurchase import money_text, ndr_service
from shipflow.returns.service import mark_refunded, on_return_shipment_status
from shipflow.shipment_links import tracking_link
from shipflow.store.db import per_transaction
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.outbox import Claimed, Parcel, ShipmentRead, parcel_of, shipment_of
from shipflow.update_subscriptions import subscribers

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

MILESTONE_OF_TOPIC = {
    ShipmentShipped.topic: Milestone.SHIPPED,
    OutForDelivery.topic: Milestone.OUT_FOR_DELIVERY,
    Delivered.topic: Milestone.DELIVERED,
    ShipmentDelayed.topic: Milestone.DELAYED,
    AvailableForPickup.topic: Milestone.READY_FOR_PICKUP,
}
# What a return parcel's milestone means for the return (first scan, arrival).
RETURN_STATUS_OF_TOPIC = {
    ShipmentShipped.topic: Status.IN_TRANSIT,
    OutForDelivery.topic: Status.OUT_FOR_DELIVERY,
    Delivered.topic: Status.DELIVERED,
}

# What a delivery makes stale for the customer: one update may cross several milestones ("out
# for delivery" and "delivered" in one payload), each published, written back to the shop and
# kept in the timeline; the customer hears only of the delivery, and no failed-delivery case
# opens for a parcel delivered since.
STALE_ONCE_DELIVERED = frozenset(
    {
        ShipmentShipped.topic,
        OutForDelivery.topic,
        AvailableForPickup.topic,
        DeliveryAttemptFailed.topic,
    }
)


def _stale(shipment: ShipmentRead | Shipment, topic: str) -> bool:
    return topic in STALE_ONCE_DELIVERED and shipment.status == Status.DELIVERED


def _ours(shipment: ShipmentRead | Shipment | None, payload: dict[str, Any]) -> bool:
    return shipment is not None and shipment.brand_id == payload.get("brand_id")


def _shipment(session: Session, payload: dict[str, Any]) -> Shipment | None:
    shipment = shipment_of(session, payload.get("shipment_id", ""))
    return shipment if _ours(shipment, payload) else None  # else deleted, or not ours


def on_attempt_failed(runtime: Runtime, session: Session, message: Claimed) -> None:
    shipment = _shipment(session, message.payload)
    if shipment is None or shipment.kind != "forward" or _stale(shipment, message.topic):
        return
    reason = message.payload.get("reason")
    ndr_service(runtime, session).on_attempt_failed(
        shipment, Reason(reason) if reason else None, runtime.clock.now()
    )


def on_uncollected(runtime: Runtime, session: Session, message: Claimed) -> None:
    """A parcel going back because nobody collected it from the pickup point, or the customer
    refused to pay on delivery, is followed up as a failed delivery: the customer may still
    choose a redelivery before it reaches the warehouse."""
    shipment = _shipment(session, message.payload)
    reason = message.payload.get("reason")
    if shipment is None or shipment.kind != "forward" or reason not in pickup_points.UNCOLLECTED:
        return
    _follow_up_uncollected(runtime, session, shipment, Reason(reason), runtime.clock.now())


def on_milestone(runtime: Runtime, session: Session, message: Claimed) -> None:
    """Forward parcels: tell the customer. Return parcels: move the return on."""
    parcel = parcel_of(session, message.payload.get("shipment_id", ""))
    if parcel is None or not _ours(parcel.shipment, message.payload):
        return  # deleted since, or not ours to act on
    shipment, now = parcel.shipment, runtime.clock.now()
    if shipment.kind == "return":
        status = RETURN_STATUS_OF_TOPIC.get(message.topic)
        returned = shipment_of(session, shipment.id)
        if status is not None and returned is not None:
            on_return_shipment_status(session, returned, status, now, runtime.settings)
        return
    if _stale(shipment, message.topic):
        return
    if message.topic == Delivered.topic:
        ndr_service(runtime, session).on_delivered(shipment.id, now)
    _message_customer(session, runtime, parcel, message.topic, message.payload, now)


def _later(shipment: ShipmentRead, payload: dict[str, Any]) -> bool:
    """Only a prediction past the promise is news for the customer (a silent or unpicked
    parcel still on time is ops' business)."""
    predicted = payload.get("predicted_date") or shipment.predicted_date
    promised = payload.get("promised_date") or shipment.promised_date
    as_day = lambda d: date.fromisoformat(d) if isinstance(d, str) else d  # noqa: E731
    return bool(predicted and promised and as_day(predicted) > as_day(promised))


def _message_customer(
    session: Session,
    runtime: Runtime,
    parcel: Parcel,
    topic: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    shipment, order = parcel.shipment, parcel.order
    if order is None or (topic == ShipmentDelayed.topic and not _later(shipment, payload)):
        return
    day = payload.get("predicted_date") or shipment.predicted_date or shipment.promised_date
    when = date.fromisoformat(day) if isinstance(day, str) else day
    tell_customer(
        session,
        runtime,
        shipment,
        order,
        parcel.position,
        MILESTONE_OF_TOPIC[topic],
        now,
        when=when,
        discriminator=str(when) if topic == ShipmentDelayed.topic else "",
    )


class Told(Protocol):
    """A shipment as its customer's messages read it: a `Shipment`, or the outbox's
    `ShipmentRead` (see `customer_messages.Customer`)."""

    @property
    def id(self) -> str: ...

    @property
    def brand_id(self) -> str: ...

    @property
    def pickup_point(self) -> dict[str, Any] | None: ...

    @property
    def pickup_deadline(self) -> datetime | None: ...


class Ordered(customer.Customer, Protocol):
    """An order as a milestone message reads it: its customer's, and where it goes."""

    @property
    def ship_to(self) -> dict[str, Any]: ...


def tell_customer(
    session: Session,
    runtime: Runtime,
    shipment: Told,
    order: Ordered,
    parcel: tuple[int, int] | None,
    milestone: Milestone,
    now: datetime,
    *,
    when: date | None = None,
    discriminator: str = "",
) -> int:
    """Queue a milestone message about one parcel: its link, delivery date, pickup point and,
    for an order in several parcels, which one it is (`parcel`: n of total); to the order's
    contact and to each contact asked for on the tracking page. Returns how many were new
    (not queued before)."""
    brand = per_transaction(  # held for the transaction: a batch of messages reads it once
        session, ("brand", shipment.brand_id), partial(session.get_one, Brand, shipment.brand_id)
    )
    language = customer.language_of(session, order, runtime.settings)
    zone = customer.zone_for(order.ship_to or {})
    link = tracking_link(brand.code, shipment.id, runtime)

    def context(language: str) -> dict[str, str]:
        pickup = pickup_points.message_context(
            shipment.pickup_point, shipment.pickup_deadline, language, zone
        )
        day = format_day(when, with_year=True, language=language) if when else ""
        return {"link": link, "feedback_link": f"{link}#feedback", "delivery_date": day, **pickup}

    send = partial(
        customer.queue,
        session,
        brand=brand,
        order=order,
        milestone=milestone,
        now=now,
        customer_zone=zone,
        settings=runtime.settings,
        shipment_id=shipment.id,
        parcel=parcel,
    )
    queued = [send(context=context(language), discriminator=discriminator, language=language)]
    for asked in subscribers(session, shipment.id):
        queued.append(
            send(
                channel=asked.channel,
                recipient=asked.recipient,
                language=asked.language,
                context=context(asked.language),
                discriminator=f"{discriminator}:{asked.id}",
            )
        )
    return sum(row is not None for row in queued)


def send_store_webhook(runtime: Runtime, session: Session, message: Claimed) -> None:
    """POST the return event to the store, signed with the brand's secret; a failure raises
    and the outbox retries with backoff (the Idempotency-Key lets the store drop repeats)."""
    if message.brand_id is None:  # `StoreWebhook` always names its brand
        raise ValueError(f"outbox message {message.id} ({message.topic}) names no brand")
    brand = brand_config(session, message.brand_id, runtime.settings)
    secret = brand.returns.store_webhook_secret if brand else ""
    if not secret:
        log.warning(
            "store webhook for brand %s not sent: no returns.store_webhook_secret",
            message.brand_id,
        )
        return
    body = {"event": message.payload["event"], "data": message.payload["data"]}
    allowed = runtime.settings.notify.allow_private_networks
    post_signed(message.payload["url"], secret, body, key=message.dedupe_key, allowed=allowed)


def refund_in_the_shop(runtime: Runtime, session: Session, message: Claimed) -> None:
    """A received return refunded through its shop, then the customer told (once)."""
    request = refund_return(session, runtime, message)
    if request is not None:
        now = runtime.clock.now()
        mark_refunded(session, request, now, money_text(request.language), runtime.settings)


def refund_order_in_the_shop(runtime: Runtime, session: Session, message: Claimed) -> None:
    """An order ops refunded (a parcel never received) refunded through its shop."""
    action = refund_order(session, runtime, message)
    if action is not None:
        refunded(session, action, runtime.clock.now())


def deliver_messages(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        sent = customer.deliver_due(session, runtime.clock.now(), runtime.customer_senders)
        session.commit()
        return sent


def remind_pickups(runtime: Runtime) -> int:
    """Parcels waiting at a pickup point: a reminder on each of the brand's
    `notifications.pickup_reminder_days` before the deadline (once each, never after pickup);
    past the deadline, the failed-delivery follow-up. Returns how many parcels were acted on."""
    now = runtime.clock.now()
    acted = 0
    with runtime.sessions() as session:
        for shipment in pickup_points.waiting(session):
            deadline = shipment.pickup_deadline
            if deadline is None or shipment.order_id is None:
                continue
            if now >= deadline:
                acted += _follow_up_uncollected(
                    runtime, session, shipment, Reason.NOT_COLLECTED, now
                )
                continue
            brand = brand_config(session, shipment.brand_id, runtime.settings)
            days = brand.notifications.pickup_reminder_days if brand else []
            due = pickup_points.reminder_due(deadline, now, days)
            if due is None:
                continue
            order = session.get_one(Order, shipment.order_id)
            parcel = customer.parcel_position(order.shipments, shipment.id)
            milestone = Milestone.PICKUP_REMINDER
            tell_customer(
                session, runtime, shipment, order, parcel, milestone, now, discriminator=f"{due}d"
            )
            acted += 1
        session.commit()
    return acted


DAY_BEFORE = (Status.INFO_RECEIVED.value, Status.IN_TRANSIT.value)


def remind_day_before(runtime: Runtime) -> int:
    """Parcels predicted to arrive tomorrow (in the customer's zone): "it arrives tomorrow",
    once per predicted day, so a new prediction brings a new message. Returns how many were
    new, so the job runner does not take a repeat for more work."""
    now = runtime.clock.now()
    acted = 0
    with runtime.sessions() as session:
        soon = select(Shipment).where(
            Shipment.kind == "forward",
            Shipment.status.in_(DAY_BEFORE),
            Shipment.order_id.is_not(None),
            Shipment.predicted_date.between(now.date(), now.date() + timedelta(days=2)),
        )
        for shipment in session.scalars(soon):
            order = session.get_one(Order, shipment.order_id)
            zone = ZoneInfo(customer.zone_for(order.ship_to or {}))
            day = shipment.predicted_date
            if day != now.astimezone(zone).date() + timedelta(days=1):
                continue
            parcel = customer.parcel_position(order.shipments, shipment.id)
            acted += tell_customer(
                session,
                runtime,
                shipment,
                order,
                parcel,
                Milestone.ARRIVES_TOMORROW,
                now,
                when=day,
                discriminator=str(day),
            )
        session.commit()
    return acted


def _follow_up_uncollected(
    runtime: Runtime, session: Session, shipment: Shipment, reason: Reason, now: datetime
) -> bool:
    """Counted once as a failed attempt: the deadline passing, the carrier's return scan that
    follows it, and a refused COD's attempt and return are one failure, not two."""
    ndr = ndr_service(runtime, session)
    case = ndr.case_of(shipment.id)
    if case is not None and case.reason == reason.value:
        return False
    ndr.on_attempt_failed(shipment, reason, now)
    return True


def follow_up_failed_deliveries(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        moved = ndr_service(runtime, session).follow_up_due(runtime.clock.now())
        session.commit()
        return moved


def push_failed_delivery_choices(runtime: Runtime) -> int:
    """Customers' failed-delivery choices a carrier outage kept waiting, sent again."""
    with runtime.sessions() as session:
        sent = ndr_service(runtime, session).push_pending(runtime.clock.now())
        session.commit()
        return sent

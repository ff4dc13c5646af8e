"""Post-purchase reactions to tracking, run by the outbox dispatcher, and their periodic jobs.

Tracking writes domain events to the outbox; here a failed attempt opens or counts a
failed-delivery case, milestones become customer messages, a return parcel's first scan and
arrival move the return on, and store webhooks leave signed. Handlers take the runtime from
the session (`session.info["runtime"]`) since the dispatcher hands them a session only.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from shipflow import customer_messages as customer
from shipflow.brands import brand_config
from shipflow.domain import Reason, Status
from shipflow.jobs import job
from shipflow.jobs.outbox import register_handler
from shipflow.notify.templates import Milestone
from shipflow.notify.transports import post_signed
from shipflow.postpurchase import ndr_service
from shipflow.returns.service import STORE_WEBHOOK_TOPIC, on_return_shipment_status
from shipflow.runtime import Runtime
from shipflow.store.models import Brand, Order, OutboxMessage, Shipment
from shipflow.web.i18n import format_day
from shipflow.web.links import tracking_link

log = logging.getLogger(__name__)

MILESTONE_OF_TOPIC = {
    "shipment.shipped": Milestone.SHIPPED,
    "shipment.out_for_delivery": Milestone.OUT_FOR_DELIVERY,
    "shipment.delivered": Milestone.DELIVERED,
    "shipment.delayed": Milestone.DELAYED,
}
# What a return parcel's milestone means for the return (first scan, arrival).
RETURN_STATUS_OF_TOPIC = {
    "shipment.shipped": Status.IN_TRANSIT,
    "shipment.out_for_delivery": Status.OUT_FOR_DELIVERY,
    "shipment.delivered": Status.DELIVERED,
}


def runtime_of(session: Session) -> Runtime:
    return session.info["runtime"]


def _shipment(session: Session, payload: dict[str, Any]) -> Shipment | None:
    shipment = session.get(Shipment, payload.get("shipment_id", ""))
    if shipment is None or shipment.brand_id != payload.get("brand_id"):
        return None  # deleted since, or not ours to act on
    return shipment


def on_attempt_failed(session: Session, message: OutboxMessage) -> None:
    shipment = _shipment(session, message.payload)
    if shipment is None or shipment.kind != "forward":
        return
    reason = message.payload.get("reason")
    runtime = runtime_of(session)
    ndr_service(runtime, session).on_attempt_failed(
        shipment, Reason(reason) if reason else None, runtime.clock.now()
    )


def on_milestone(session: Session, message: OutboxMessage) -> None:
    """Forward parcels: tell the customer. Return parcels: move the return on."""
    shipment = _shipment(session, message.payload)
    if shipment is None:
        return
    runtime = runtime_of(session)
    now = runtime.clock.now()
    if shipment.kind == "return":
        status = RETURN_STATUS_OF_TOPIC.get(message.topic)
        if status is not None:
            on_return_shipment_status(session, shipment, status, now)
        return
    if message.topic == "shipment.delivered":
        ndr_service(runtime, session).on_delivered(shipment.id, now)
    _message_customer(session, runtime, shipment, message.topic, message.payload, now)


def _later(shipment: Shipment, payload: dict[str, Any]) -> bool:
    """Only a prediction past the promise is news for the customer (a silent or unpicked
    parcel still on time is ops' business)."""
    predicted = payload.get("predicted_date") or shipment.predicted_date
    promised = payload.get("promised_date") or shipment.promised_date
    as_day = lambda d: date.fromisoformat(d) if isinstance(d, str) else d  # noqa: E731
    return bool(predicted and promised and as_day(predicted) > as_day(promised))


def _message_customer(
    session: Session,
    runtime: Runtime,
    shipment: Shipment,
    topic: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    if shipment.order_id is None or (topic == "shipment.delayed" and not _later(shipment, payload)):
        return
    order = session.get(Order, shipment.order_id)
    brand = session.get(Brand, shipment.brand_id)
    languages = (brand.settings or {}).get("languages") or ["en"]
    language = customer.pick_language(order.language, languages)
    link = tracking_link(brand.code, shipment.id, runtime)
    day = payload.get("predicted_date") or shipment.predicted_date or shipment.promised_date
    when = date.fromisoformat(day) if isinstance(day, str) else day
    customer.queue(
        session,
        brand=brand,
        order=order,
        milestone=MILESTONE_OF_TOPIC[topic],
        context={
            "link": link,
            "feedback_link": f"{link}#feedback",
            "delivery_date": format_day(when, with_year=True, language=language) if when else "",
        },
        now=now,
        customer_zone=customer.zone_for(order.ship_to or {}),
        shipment_id=shipment.id,
        discriminator=str(when) if topic == "shipment.delayed" else "",
    )


def send_store_webhook(session: Session, message: OutboxMessage) -> None:
    """POST the return event to the store, signed with the brand's secret; a failure raises
    and the outbox retries with backoff (the Idempotency-Key lets the store drop repeats)."""
    brand = brand_config(session, message.brand_id)
    secret = brand.returns.store_webhook_secret if brand else ""
    if not secret:
        log.warning(
            "store webhook for brand %s not sent: no returns.store_webhook_secret",
            message.brand_id,
        )
        return
    body = {"event": message.payload["event"], "data": message.payload["data"]}
    allowed = runtime_of(session).settings.notify.allow_private_networks
    post_signed(message.payload["url"], secret, body, key=message.dedupe_key, allowed=allowed)


def register() -> None:
    """Subscribe the handlers to the outbox (idempotent; done when the job runner loads this
    module through `JOB_MODULES`)."""
    register_handler("shipment.attempt_failed", on_attempt_failed)
    for topic in MILESTONE_OF_TOPIC:
        register_handler(topic, on_milestone)
    register_handler(STORE_WEBHOOK_TOPIC, send_store_webhook)


register()


@job("postpurchase.deliver_messages", every=30)
def deliver_messages(runtime: Runtime) -> int:
    senders = customer.customer_senders(runtime.settings)
    with runtime.sessions() as session:
        sent = customer.deliver_due(session, runtime.clock.now(), senders)
        session.commit()
        return sent


@job("postpurchase.ndr_follow_up", every=600)
def follow_up_failed_deliveries(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        moved = ndr_service(runtime, session).follow_up_due(runtime.clock.now())
        session.commit()
        return moved

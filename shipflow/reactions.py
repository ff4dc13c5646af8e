"""Who reacts to what: every event class and what runs when it happens, in one table.

Two kinds of reaction:
- in the transaction that raised the event, in the order listed, once per batch of events
  (set-based: a handler takes every shipment the batch tracked, so its queries are per
  batch, not per event): they see the rows as the events left them and commit or roll back
  with them (the delivery date, delay detection);
- through the outbox, once the change is committed: the topic's handlers in the order
  listed, run at least once (so each dedupes on `message.dedupe_key`; a failure retries the
  message, and the handlers before it again), retried with backoff on failure.

A new reaction is one row here (and its handler beside the service it calls). The topic of
each outbox message is its event class's `topic`; the runtime (`shipflow.runtime`) binds
these handlers to itself once, and `tests/test_reactions.py` checks every published event
class has a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from shipflow.channel_orders import write_back
from shipflow.delays import routing
from shipflow.delays.service import detect_for_shipments
from shipflow.domain.events import (
    AvailableForPickup,
    Delivered,
    DeliveryAttemptFailed,
    OpsNotification,
    OpsRefund,
    OutForDelivery,
    ReturnedToSender,
    ReturningToSender,
    ShipmentDelayed,
    ShipmentException,
    ShipmentShipped,
    ShipmentStatusChanged,
    ShipmentTracked,
    ShopRefund,
    StoreWebhook,
)
from shipflow.jobs.postpurchase import (
    on_attempt_failed,
    on_milestone,
    on_uncollected,
    refund_in_the_shop,
    refund_order_in_the_shop,
    send_store_webhook,
)
from shipflow.jobs.stages import timed
from shipflow.store.outbox import Claimed
from shipflow.tracking.ingest import Tracked
from shipflow.tracking.prediction import revise_predictions

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

TrackedHandler = Callable[["Runtime", Session, Sequence[Tracked]], None]
OutboxHandler = Callable[["Runtime", Session, Claimed], None]


@dataclass(frozen=True)
class InTransaction:
    handlers: tuple[TrackedHandler, ...]


@dataclass(frozen=True)
class ThroughOutbox:
    handlers: tuple[OutboxHandler, ...] = ()  # none: nothing reacts yet; marked done

    def __call__(self, runtime: Runtime, session: Session, message: Claimed) -> None:
        for handler in self.handlers:
            with timed(f"reaction:{handler.__name__}"):
                handler(runtime, session, message)


def revise_delivery_date(runtime: Runtime, session: Session, tracked: Sequence[Tracked]) -> None:
    revise_predictions(runtime.edd, session, tracked)


def detect_delays(runtime: Runtime, session: Session, tracked: Sequence[Tracked]) -> None:
    """Judged at the time the batch's events were stored (one `now` for the whole batch)."""
    now = tracked[0][1].occurred_at
    detect_for_shipments(session, [shipment for shipment, _ in tracked], now, runtime.settings)


def notify_ops(runtime: Runtime, session: Session, message: Claimed) -> None:
    routing.handle(session, message, runtime.settings)


def tell_the_shop(runtime: Runtime, session: Session, message: Claimed) -> None:
    write_back(session, message, runtime=runtime)


EVENT_HANDLERS: dict[type[Any], InTransaction | ThroughOutbox] = {  # event class -> reaction
    # Delay detection reads the prediction just revised, so it runs second.
    ShipmentTracked: InTransaction((revise_delivery_date, detect_delays)),
    # Every milestone of an order a shop sent is written back to that shop (tell_the_shop).
    DeliveryAttemptFailed: ThroughOutbox((on_attempt_failed, tell_the_shop)),  # the NDR case
    # Forward parcels: a customer message. Return parcels: the return moves on.
    ShipmentShipped: ThroughOutbox((on_milestone, tell_the_shop)),
    OutForDelivery: ThroughOutbox((on_milestone, tell_the_shop)),
    Delivered: ThroughOutbox((on_milestone, tell_the_shop)),  # also closes the NDR case
    # A message if later than the promise; the shop's timeline shows the parcel delayed.
    ShipmentDelayed: ThroughOutbox((on_milestone, tell_the_shop)),
    # The store, its hours and the deadline, to the customer (reminders: `remind_pickups`).
    AvailableForPickup: ThroughOutbox((on_milestone, tell_the_shop)),
    ShipmentException: ThroughOutbox((tell_the_shop,)),
    # Not collected from the pickup point, or COD refused: followed up as a failed delivery.
    ReturningToSender: ThroughOutbox((on_uncollected, tell_the_shop)),
    ReturnedToSender: ThroughOutbox((tell_the_shop,)),
    ShipmentStatusChanged: ThroughOutbox(),  # every change, for webhooks out to come
    StoreWebhook: ThroughOutbox((send_store_webhook,)),  # signed POST to the brand's store
    ShopRefund: ThroughOutbox((refund_in_the_shop,)),  # the shop refunds a received return
    OpsRefund: ThroughOutbox((refund_order_in_the_shop,)),  # the shop refunds what ops decided
    OpsNotification: ThroughOutbox((notify_ops,)),  # Slack, e-mail or webhook to ops
}


class Reactions:
    """`EVENT_HANDLERS` bound to one runtime: `outbox` maps each topic to its handler,
    `in_transaction` runs a batch's in-transaction reactions."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.outbox: dict[str, Callable[[Session, Claimed], None]] = {
            event.topic: partial(reaction, runtime)
            for event, reaction in EVENT_HANDLERS.items()
            if isinstance(reaction, ThroughOutbox) and reaction.handlers
        }

    def in_transaction(self, session: Session, tracked: Sequence[Tracked]) -> None:
        """A shipment tracked twice in the batch reacts once, as its last update left it
        (its `ShipmentTracked` then holds every event of the earlier one too)."""
        latest = list({shipment.id: (shipment, event) for shipment, event in tracked}.values())
        reaction = EVENT_HANDLERS[ShipmentTracked]
        assert isinstance(reaction, InTransaction)
        for handler in reaction.handlers:
            with timed(f"reaction:{handler.__name__}"):
                handler(self.runtime, session, latest)

"""Orders in from shops, fulfilments back out: the service side of `channels/`.

A shop's webhook is stored raw by the same intake as a carrier's; `import_receipt` reads
its notice and `apply_order` brings our order to the shop's state. Webhooks and the
reconciliation job (`shipflow.channel_sync`) take that one path, so each is idempotent and
order-independent: a delivery id acted on once, a state older than the one we hold ignored.

An order is allocated (its label bought) once it is paid, or unpaid when the account's
`allocate_unpaid` allows why (cash on delivery); never while it needs attention (what the
shop sent is missing or unmapped: kept, named in `Order.attention`, ops alerted) or after it
is cancelled (its labels voided, its pending customer messages stopped).

When the order's parcel moves, the outbox hands each milestone to `write_back`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from carriers.base import CarrierError
from channels.base import (
    Capability,
    ChannelAuthError,
    ChannelRateLimited,
    Fulfilment,
    FulfilmentEvent,
    InboundOrder,
    Refund,
    ShopNotice,
    Topic,
)
from shipflow import pickup_points
from shipflow.allocation.service import NotAllocated
from shipflow.channel_accounts import Shop, UnknownChannelAccount, disable_account, load_shop
from shipflow.delays.alerts import raise_alert
from shipflow.domain import TERMINAL_STATUSES, Status
from shipflow.domain.events import MILESTONES, ShipmentDelayed, ShipmentShipped
from shipflow.fulfilment import Plan, ship_all
from shipflow.orders import import_order, line_inputs, set_lines, ship_to_of
from shipflow.shipment_links import tracking_link
from shipflow.store.db import insert_or_skip, per_transaction
from shipflow.store.models import Brand, ChannelDelivery, Order, Shipment
from shipflow.store.ops_models import OpsAction
from shipflow.store.outbox import Claimed, RetryAfter, parcel_of, shipment_of
from shipflow.store.postpurchase_models import CustomerMessageRow, ReturnRequestRow
from shipflow.store.tracking_models import WebhookReceipt, as_request

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

STATUS_OF_TOPIC = {event.topic: status for status, event in MILESTONES.items()}
ALERT_KIND = "shop_order"  # ops alerts about shop orders (attention, changes after a label)
VOIDED = Status.CANCELLED.value  # a shipment whose label was voided
# A label whose parcel the carrier has not taken yet: voiding it stops the shipment.
VOIDABLE = frozenset({Status.PENDING.value, Status.INFO_RECEIVED.value})
NOT_ALLOCATED = "not allocated: ops alerted"
HeldOrders = dict[tuple[str, str], Order | None]  # (account id, shop's order id) -> ours


def import_receipt(
    session: Session, runtime: Runtime, receipt: WebhookReceipt, now: datetime, shops: dict
) -> str | None:
    """A stored shop webhook -> its effect (not committed); returns the note ops see on it."""
    [outcome] = import_receipts(session, runtime, [receipt], now, shops).values()
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def import_receipts(
    session: Session,
    runtime: Runtime,
    receipts: Sequence[WebhookReceipt],
    now: datetime,
    shops: dict,
) -> dict[int, str | Exception | None]:
    """A batch of stored shop webhooks in `session`'s one transaction (not committed): each
    run of receipts naming distinct orders decided together (`OrderBatch.item`: one savepoint,
    their delivery ids noted in one statement, their orders and lines inserted one statement a
    table). A run that fails is undone and redone receipt by receipt, so the one that fails is
    the only one answered with its exception; the others with their notes, by receipt id."""
    outcomes: dict[int, str | Exception | None] = {}
    notices: dict[int, tuple[Shop, ShopNotice]] = {}
    for receipt in receipts:
        try:
            notices[receipt.id] = _notice(session, runtime, receipt, shops)
        except Exception as exc:  # this receipt alone: the caller records it
            outcomes[receipt.id] = exc
    keys = {
        receipt_id: (shop.id, notice.order.source_order_id)
        for receipt_id, (shop, notice) in notices.items()
        if notice.order is not None
    }
    batch = OrderBatch(session, runtime, now, keys.values())
    allocating: dict[int, str] = {}  # receipt id -> the order whose label it planned

    def decide(run: list[int]) -> None:
        fresh = _first_deliveries(session, [notices[i] for i in run], now)
        for receipt_id in run:
            shop, notice = notices[receipt_id]
            planned = len(batch.plans)
            outcomes[receipt_id] = _import_notice(session, runtime, shop, notice, now, batch, fresh)
            if len(batch.plans) > planned:  # its order's label is to be bought
                allocating[receipt_id] = batch.plans[-1].order.id

    for run in _runs(list(notices), keys):
        try:
            with batch.item(*(keys.get(i) for i in run)):
                decide(run)
        except Exception as exc:
            if len(run) == 1:  # rolled back to its savepoint: the rest go on
                outcomes[run[0]] = exc
                continue
            log.warning("shop receipts %s failed together; each alone", run, exc_info=True)
            for receipt_id in run:
                allocating.pop(receipt_id, None)
                try:
                    with batch.item(keys.get(receipt_id)):
                        decide([receipt_id])
                except Exception as alone:
                    outcomes[receipt_id] = alone
    batch.buy_labels()
    for receipt_id, order_id in allocating.items():
        if order_id in batch.not_allocated:
            outcomes[receipt_id] = _with_note(outcomes[receipt_id], NOT_ALLOCATED)
    return outcomes


def _runs(receipt_ids: list[int], keys: dict[int, tuple[str, str]]) -> Iterator[list[int]]:
    """The receipts in a row naming distinct orders: a later state of an order is decided
    after the earlier one's label is bought (`OrderBatch.item`)."""
    run: list[int] = []
    for receipt_id in receipt_ids:
        key = keys.get(receipt_id)
        if key is not None and any(keys.get(i) == key for i in run):
            yield run
            run = []
        run.append(receipt_id)
    if run:
        yield run


class OrderBatch:
    """Shop orders brought to the shop's state in one transaction (a claimed batch of
    webhooks, a page of the reconciliation), in `item`s. The orders it names are read in one
    query; the labels it allocates are bought together once its orders are decided
    (`buy_labels`: the purchases recorded in one committed transaction, the rows inserted one
    statement a table), so an order costs a few statements."""

    def __init__(
        self, session: Session, runtime: Runtime, now: datetime, keys: Iterable[tuple[str, str]]
    ) -> None:
        self.session, self.runtime, self.now = session, runtime, now
        self.held = held_orders(session, keys)
        self.plans: list[Plan] = []
        self.not_allocated: set[str] = set()  # orders whose labels could not be bought
        self.savepoints = True  # each new order checks its number in a savepoint of its own

    @contextmanager
    def item(self, *keys: tuple[str, str] | None) -> Iterator[None]:
        """Orders of the batch (`keys`: account id, shop's order id; None for a notice about
        none), undone together if it raises: a savepoint. One order: its number checked in a
        savepoint of its own (DuplicateOrderNumber). Several (distinct): none of their own,
        their rows flushed together as the savepoint ends (no read here needs them before:
        the orders named were read up front, the rules and models once per transaction); if
        one fails, all fail, for the caller to redo them one by one. A later state of an order
        whose label is still to be bought waits for it: the labels planned so far are bought
        first."""
        if any((p.order.source_account, p.order.source_order_id) in keys for p in self.plans):
            self.buy_labels()
        held, planned = dict(self.held), len(self.plans)
        self.savepoints = len(keys) == 1
        try:
            with self.session.begin_nested(), self.session.no_autoflush:
                yield
        except BaseException:
            self.held.clear()
            self.held.update(held)
            del self.plans[planned:]
            raise
        finally:
            self.savepoints = True

    def buy_labels(self) -> None:
        """Buy the planned labels (`fulfilment.ship_all`); an order whose label could not be
        bought, whatever stopped it, needs attention, ops alerted (its purchase stays pending
        unless the carrier certainly sold nothing: `label_purchases`)."""
        plans, self.plans = self.plans, []
        for plan, outcome in zip(plans, ship_all(self.session, plans, self.runtime), strict=True):
            if isinstance(outcome, Exception):
                log.warning("order %s: no label bought", plan.order.id, exc_info=outcome)
                _not_allocated(self.session, plan.order, self.now, outcome)
                self.not_allocated.add(plan.order.id)


def _notice(
    session: Session, runtime: Runtime, receipt: WebhookReceipt, shops: dict
) -> tuple[Shop, ShopNotice]:
    shop: Shop | None = shops.get(receipt.account)
    if shop is None:
        shop = shops[receipt.account] = load_shop(session, runtime, receipt.account)
    return shop, shop.source.parse_webhook(as_request(receipt))


def held_orders(session: Session, keys: Iterable[tuple[str, str]]) -> HeldOrders:
    """The orders we hold of these (account id, shop's order id), in one query; None for
    the ones we do not hold yet."""
    held: HeldOrders = dict.fromkeys(keys)
    if held:
        found = session.scalars(
            select(Order).where(tuple_(Order.source_account, Order.source_order_id).in_(held))
        )
        held.update({(o.source_account or "", o.source_order_id or ""): o for o in found})
    return held


def _import_notice(
    session: Session,
    runtime: Runtime,
    shop: Shop,
    notice: ShopNotice,
    now: datetime,
    batch: OrderBatch,
    fresh: set[tuple[str, str]],
) -> str | None:
    """`fresh`: the deliveries first noted now (`_first_deliveries`); each acted on once."""
    if notice.delivery_id:
        if (shop.id, notice.delivery_id) not in fresh:
            return f"delivery {notice.delivery_id} was already acted on"
        fresh.remove((shop.id, notice.delivery_id))
    if notice.topic is Topic.UNINSTALLED:
        disable_account(session, shop.id)
        return "the shop removed the app: account disabled"
    if not shop.enabled:
        return "the account is disabled: ignored"
    if notice.order is None:
        return None
    return apply_order(session, runtime, shop, notice.topic, notice.order, now, batch)


def _first_deliveries(
    session: Session, notices: Sequence[tuple[Shop, ShopNotice]], now: datetime
) -> set[tuple[str, str]]:
    """The notices' deliveries noted as acted on, in one statement: the (account id, delivery
    id) pairs not noted before (the unique key skips the others' inserts)."""
    rows = [
        {"account_id": shop.id, "delivery_id": notice.delivery_id, "received_at": now}
        for shop, notice in notices
        if notice.delivery_id
    ]
    if not rows:
        return set()
    noted = session.execute(
        insert_or_skip(session.get_bind().dialect.name, ChannelDelivery)
        .values(rows)
        .returning(ChannelDelivery.account_id, ChannelDelivery.delivery_id)
    )
    return {(account_id, delivery_id) for account_id, delivery_id in noted}


def find_order(session: Session, account_id: str, source_order_id: str) -> Order | None:
    return session.scalar(
        select(Order).where(
            Order.source_account == account_id, Order.source_order_id == source_order_id
        )
    )


def apply_order(
    session: Session,
    runtime: Runtime,
    shop: Shop,
    topic: Topic,
    inbound: InboundOrder,
    now: datetime,
    batch: OrderBatch,
) -> str | None:
    """Bring our order to the state the shop sent (not committed), within an `item` of
    `batch`, where its label, if it is to be bought, is planned; a note for ops, if any."""
    key = (shop.id, inbound.source_order_id)
    order = batch.held[key] if key in batch.held else find_order(session, *key)
    if order is None and inbound.nothing_to_ship:  # a shop's history, a sale at its counter
        return f"order {inbound.order_number}: nothing left to ship in the shop, not imported"
    if order is not None and _older(inbound.updated_at, order.source_updated_at):
        return f"order {order.order_number}: an older state than the one held, ignored"
    problems = [*inbound.problems, *_unmapped(shop, inbound)]
    details = _details(shop, inbound)
    notes: list[str] = []
    if order is None:  # inserted with the shop's state: the lines below change nothing
        order = import_order(
            session,
            shop.brand_id,
            shop.id,
            _namespaced(shop, inbound),
            details,
            savepoint=batch.savepoints,
        )
        batch.held[key] = order
    elif _changed(order, inbound):
        if _labelled(order):
            _alert(
                session,
                order,
                now,
                "changed in the shop after its label was bought",
                f"changed-after-label:{order.id}:{inbound.updated_at}",
            )
            notes.append("changed after its label: ops alerted")
        else:
            _replace_contents(order, inbound)
    order.source_updated_at = inbound.updated_at or order.source_updated_at
    order.paid = inbound.paid
    order.source_details = details
    if sorted(problems) != sorted(order.attention or []):
        order.attention = problems
        if problems:
            _alert(
                session,
                order,
                now,
                "needs attention: " + "; ".join(problems),
                f"attention:{order.id}:{'|'.join(sorted(problems))}",
            )
    if inbound.cancelled or topic is Topic.ORDER_CANCELLED:
        if order.cancelled_at is None:
            cancel_order(session, runtime, order, now)
    elif _allocatable(shop, order, inbound) and not _planned(session, runtime, order, now, batch):
        notes.append(NOT_ALLOCATED)
    return " | ".join(notes) or None


def _older(given: datetime | None, held: datetime | None) -> bool:
    return given is not None and held is not None and given < held


def _namespaced(shop: Shop, inbound: InboundOrder) -> InboundOrder:
    """Two shops of a brand both have a `#1001`: a shop's numbers carry its account code."""
    return replace(inbound, order_number=f"{shop.code}-{inbound.order_number.lstrip('#')}")


def _unmapped(shop: Shop, inbound: InboundOrder) -> list[str]:
    """What the account's mapping tables do not know (no table: nothing to map)."""
    rules, problems = shop.rules, []
    if rules.shipping_methods and inbound.shipping_method not in rules.shipping_methods:
        problems.append(f"shipping_method {inbound.shipping_method!r} has no service level")
    if rules.locations and inbound.location_id not in rules.locations:
        problems.append(f"location_id {inbound.location_id!r} has no warehouse")
    return problems


def _details(shop: Shop, inbound: InboundOrder) -> dict[str, Any]:
    rules = shop.rules
    level = rules.shipping_methods.get(inbound.shipping_method)
    point = inbound.pickup_point
    return {
        "shop_order_number": inbound.order_number,
        "shipping_method": inbound.shipping_method,
        "service_level": level.value if level else None,
        "warehouse": rules.locations.get(inbound.location_id),
        "cash_on_delivery": inbound.cash_on_delivery,
        "pickup_point": point.id if point else None,
        "line_ids": {
            line.sku: line.source_line_id for line in inbound.lines if line.source_line_id
        },
    }


def _changed(order: Order, inbound: InboundOrder) -> bool:
    """The address, the lines or the pickup point differ from what the order holds."""
    lines = [(line.sku, line.quantity) for line in order.lines]
    return (
        ship_to_of(inbound) != {**(order.ship_to or {})}
        or lines != [(line.sku, line.quantity) for line in inbound.lines]
        or _pickup_json(inbound) != order.pickup_point
    )


def _pickup_json(inbound: InboundOrder) -> dict[str, Any] | None:
    return pickup_points.as_json(inbound.pickup_point) if inbound.pickup_point else None


def _replace_contents(order: Order, inbound: InboundOrder) -> None:
    order.ship_to = ship_to_of(inbound)
    order.pickup_point = _pickup_json(inbound)
    set_lines(order, line_inputs(inbound))


def _labelled(order: Order) -> list[Shipment]:
    return [s for s in order.shipments if s.kind == "forward" and s.status != VOIDED]


def _allocatable(shop: Shop, order: Order, inbound: InboundOrder) -> bool:
    allowed = inbound.paid or (
        inbound.cash_on_delivery > 0 and "cash_on_delivery" in shop.rules.allocate_unpaid
    )
    return (
        allowed
        and not inbound.nothing_to_ship  # the shop shipped it itself meanwhile
        and not order.attention
        and order.cancelled_at is None
        and not order.shipments
    )


def _planned(
    session: Session, runtime: Runtime, order: Order, now: datetime, batch: OrderBatch
) -> bool:
    """Allocate the order, its label planned in `batch`; what stops it makes the order need
    attention."""
    try:
        batch.plans.append(runtime.fulfilment(shop_brand_code(session, order)).plan(session, order))
    except NotAllocated as exc:
        _not_allocated(session, order, now, exc)
        return False
    return True


def _not_allocated(session: Session, order: Order, now: datetime, exc: Exception) -> None:
    order.attention = [f"allocation: {exc}"]
    _alert(session, order, now, f"could not be allocated: {exc}", f"allocation:{order.id}")


def _with_note(notes: str | Exception | None, note: str) -> str:
    return " | ".join(n for n in (notes, note) if isinstance(n, str))


def cancel_order(session: Session, runtime: Runtime, order: Order, now: datetime) -> None:
    """The shop cancelled it (or refunded it whole: WooCommerce and SHOPLINE say so by the
    status): void the labels whose parcels the carrier has not taken, stop its customer
    messages. A parcel delivered or back needs nothing (a refund after a return, often our
    own); one on its way cannot be voided: ops are told, to intercept it or let it arrive."""
    order.cancelled_at = now
    brand_code = shop_brand_code(session, order)
    for shipment in _labelled(order):
        if shipment.status in TERMINAL_STATUSES:
            continue
        if shipment.status not in VOIDABLE:
            _alert(
                session,
                order,
                now,
                "cancelled in the shop while its parcel is on its way: intercept it or let it"
                " arrive",
                f"travelling:{shipment.id}",
            )
            continue
        try:
            runtime.carriers.account(brand_code, shipment.carrier_account).cancel(
                shipment.tracking_number
            )
        except CarrierError as exc:  # bought and not voidable here: someone does it by hand
            _alert(
                session,
                order,
                now,
                f"cancelled, but label {shipment.tracking_number} could not be voided: {exc}",
                f"void:{shipment.id}",
            )
            continue
        shipment.status = VOIDED
    shipment_ids = [s.id for s in order.shipments]
    if shipment_ids:
        session.execute(
            update(CustomerMessageRow)
            .where(
                CustomerMessageRow.shipment_id.in_(shipment_ids),
                CustomerMessageRow.status == "scheduled",
            )
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )


def shop_brand_code(session: Session, order: Order) -> str:
    """Read once per transaction (a batch's orders share their brand)."""
    return per_transaction(
        session, ("brand.code", order.brand_id), lambda: session.get_one(Brand, order.brand_id).code
    )


def _alert(session: Session, order: Order, now: datetime, what: str, key: str) -> None:
    raise_alert(
        session,
        order.brand_id,
        now,
        kind=ALERT_KIND,
        severity="warning",
        dedupe_key=key[:200],
        title=f"Shop order {order.order_number} {what}"[:300],
        details={"order_id": order.id},
    )


# --- write-back ---------------------------------------------------------------------------


def write_back(session: Session, message: Claimed, *, runtime: Runtime) -> None:
    """Tell the shop an order it sent has shipped (a fulfilment per parcel) or reached a
    milestone. At least once: sources dedupe on the message's key. Throttled: tried again
    when the platform says, without counting as a failure; refused credentials: ops alerted,
    not retried."""
    parcel = parcel_of(session, message.payload["shipment_id"])  # read with the batch
    order = parcel.order if parcel and parcel.shipment.kind == "forward" else None
    if order is None or order.source_account is None or order.source_order_id is None:
        return
    try:
        shop = load_shop(session, runtime, order.source_account)
    except UnknownChannelAccount:  # the shop was removed: nobody to tell
        log.warning("order %s: its shop %s is no longer configured", order.id, order.source_account)
        return
    shipment = shipment_of(session, message.payload["shipment_id"])  # told, and changed
    if not shop.enabled or shipment is None or shipment.order is None:
        return
    with shop_errors(session, runtime, shop, shipment.order):
        _tell(session, runtime, shop, shipment.order, shipment, message)


@contextmanager
def shop_errors(session: Session, runtime: Runtime, shop: Shop, order: Order) -> Iterator[None]:
    """A throttled shop: the outbox tries again when it says, not counted as a failure.
    Refused credentials: ops alerted, the message dropped (retrying cannot help until the
    shop is connected again). Other errors: the outbox's retries with backoff."""
    try:
        yield
    except ChannelRateLimited as exc:
        raise RetryAfter(exc.retry_after or 60.0, str(exc)) from exc
    except ChannelAuthError as exc:
        _alert(
            session,
            order,
            runtime.clock.now(),
            f"could not be written back: the shop refused our credentials ({exc})",
            f"auth:{shop.id}",
        )


def _tell(
    session: Session,
    runtime: Runtime,
    shop: Shop,
    order: Order,
    shipment: Shipment,
    message: Claimed,
) -> None:
    source = shop.source
    assert order.source_order_id is not None
    if message.topic == ShipmentShipped.topic and source.supports(Capability.FULFILMENTS):
        reference = source.write_fulfilment(
            Fulfilment(
                source_order_id=order.source_order_id,
                carrier=shipment.carrier,
                service=shipment.service,
                tracking_number=shipment.tracking_number,
                idempotency_key=message.dedupe_key,
                tracking_url=tracking_link(shop_brand_code(session, order), shipment.id, runtime),
                carrier_name=shipment.carrier,
            )
        )
        shipment.details = {**(shipment.details or {}), "shop_fulfilment": reference}
    # Then the milestone itself, "in transit" included: the timeline shows the parcel moving.
    if not source.supports(Capability.TRACKING_EVENTS):
        return
    delayed = message.topic == ShipmentDelayed.topic
    status = Status(shipment.status) if delayed else STATUS_OF_TOPIC[message.topic]
    predicted = shipment.predicted_date
    source.write_tracking_event(
        FulfilmentEvent(
            source_order_id=order.source_order_id,
            tracking_number=shipment.tracking_number,
            status=status,
            occurred_at=datetime.fromisoformat(message.payload["occurred_at"]),
            idempotency_key=message.dedupe_key,
            fulfilment_ref=(shipment.details or {}).get("shop_fulfilment", ""),
            delayed=delayed,
            estimated_delivery=(
                datetime.combine(predicted, datetime.min.time(), tzinfo=runtime.clock.now().tzinfo)
                if predicted
                else None
            ),
        )
    )


def refund_return(session: Session, runtime: Runtime, message: Claimed) -> ReturnRequestRow | None:
    """Create the refund of a received return in its order's shop (the outbox's `ShopRefund`);
    the shop dedupes on the message's key. The return, if the shop refunded it."""
    request = session.get(ReturnRequestRow, message.payload["return_id"])
    order = session.get(Order, request.order_id) if request else None
    if (
        request is None
        or order is None
        or order.source_account is None
        or order.source_order_id is None
    ):
        return None
    refund = Refund(
        source_order_id=order.source_order_id,
        amount=request.refund_amount,
        currency=request.currency,
        idempotency_key=message.dedupe_key,
        lines=_shop_lines(order, ((i.sku, i.quantity) for i in request.items if i.accepted)),
        note=f"Return {request.id} received",
    )
    return request if _write_refund(session, runtime, order, refund) else None


def _shop_lines(order: Order, refunded: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """(the shop's line id, quantity) of the refunded (SKU, quantity) pairs the shop sent us."""
    line_ids = (order.source_details or {}).get("line_ids", {})
    return tuple((line_ids[sku], quantity) for sku, quantity in refunded if sku in line_ids)


def refund_order(session: Session, runtime: Runtime, message: Claimed) -> OpsAction | None:
    """Refund a whole order in its shop for ops (the outbox's `OpsRefund`: a parcel the
    customer never received); the shop dedupes on the message's key. The ops action, if the
    shop refunded it."""
    action = session.get(OpsAction, message.payload["action_id"])
    shipment = session.get(Shipment, action.shipment_id) if action else None
    order = shipment.order if shipment else None
    if action is None or order is None or order.source_order_id is None:
        return None
    refund = Refund(
        source_order_id=order.source_order_id,
        amount=order.total_amount,
        currency=order.currency,
        idempotency_key=message.dedupe_key,
        lines=_shop_lines(order, ((line.sku, line.quantity) for line in order.lines)),
        note=f"Refund by {action.actor}: {action.note}"
        if action.note
        else f"Refund by {action.actor}",
    )
    return action if _write_refund(session, runtime, order, refund) else None


def _write_refund(session: Session, runtime: Runtime, order: Order, refund: Refund) -> bool:
    """Whether the shop took the refund (a throttled or disconnected shop: see `shop_errors`)."""
    if order.source_account is None:
        return False
    shop = load_shop(session, runtime, order.source_account)
    with shop_errors(session, runtime, shop, order):
        shop.source.write_refund(refund)
        return True
    return False

"""A label is paid for the moment the carrier answers, so each purchase is written down and
committed (on a connection of its own) before the carrier is called, and settled with the
shipment it opens, in the caller's transaction. A crash, or a call that got no usable answer,
leaves the purchase `pending`: it blocks buying again for the same order or return, and
`shipflow labels reconcile` lists it for someone to check with the carrier and release.

None of our carriers documents an idempotency key for creating a shipment, so a pending
purchase is never repeated on its own: the carrier may have sold the label."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carriers.base import CarrierError, CarrierOutcomeUnknown, CarrierResponseError, Label
from shipflow.store.label_models import LabelPurchase

PENDING, BOUGHT, FAILED = "pending", "bought", "failed"


class PurchasePending(Exception):
    """An earlier label purchase for the same order or return has no known outcome."""


@dataclass(frozen=True)
class Purchase:
    """What a label is bought for: an order's shipment, or a return (`return_id`)."""

    brand_id: str
    order_id: str
    carrier_account: str
    return_id: str | None = None

    @property
    def key(self) -> str:
        return f"return:{self.return_id}" if self.return_id else f"order:{self.order_id}"


def buy(session: Session, purchase: Purchase, now: datetime, call: Callable[[], Label]) -> Label:
    """`call()` the carrier once, recorded before and after. The purchase is marked bought in
    `session`, so it commits with the shipment; if that transaction never commits, the
    purchase stays pending for someone to reconcile."""
    purchase_id = _record(session, purchase, now)
    try:
        label = call()
    except Exception as exc:
        _settle_failure(session, purchase_id, exc, now)
        raise
    session.execute(
        update(LabelPurchase)
        .where(LabelPurchase.id == purchase_id)
        .values(status=BOUGHT, tracking_number=label.tracking_number, updated_at=now)
        .execution_options(autoflush=False)  # the caller's pending changes flush together later
    )
    return label


@contextmanager
def _writing(session: Session) -> Iterator[Session]:
    """Where purchase records are written: on a connection of their own, committed at once.
    SQLite has one writer at a time, so a caller's open write transaction (work done before
    the label, or the write lock `store.db.for_update` took to serialise the order) is
    committed first: another connection would wait for it. From there on the pending
    record, one per order or return, is what keeps a second purchase out."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None  # a connection in use has its driver's
        if dbapi.in_transaction:
            session.commit()
    with Session(connection.engine, expire_on_commit=False) as own, own.begin():
        yield own


def _pending(session: Session, key: str) -> LabelPurchase | None:
    return session.scalar(
        select(LabelPurchase).where(
            LabelPurchase.idempotency_key == key, LabelPurchase.status == PENDING
        )
    )


def _record(session: Session, purchase: Purchase, now: datetime) -> str:
    """The pending record, or PurchasePending when one is there already (the unique index on
    pending purchases' keys refuses a second)."""
    row = LabelPurchase(
        brand_id=purchase.brand_id,
        idempotency_key=purchase.key,
        order_id=purchase.order_id,
        return_id=purchase.return_id,
        carrier_account=purchase.carrier_account,
        status=PENDING,
        created_at=now,
        updated_at=now,
    )
    try:
        with _writing(session) as writer:
            writer.add(row)
        return row.id
    except IntegrityError:
        with _writing(session) as reader:
            pending = _pending(reader, purchase.key)
    what = "return" if purchase.return_id else "order"
    since = f" ({pending.id}, since {pending.created_at.isoformat()})" if pending else ""
    raise PurchasePending(
        f"a label for this {what} is being bought or its purchase has no known outcome{since}; "
        "check it with the carrier, then release it: shipflow labels release"
    )


def nothing_bought(exc: Exception) -> bool:
    """Whether the carrier certainly sold no label: it said no, or was never reached. An
    unreadable answer or any other failure may hide a label that was paid for."""
    return isinstance(exc, CarrierError) and not isinstance(
        exc, CarrierOutcomeUnknown | CarrierResponseError
    )


def _settle_failure(session: Session, purchase_id: str, exc: Exception, now: datetime) -> None:
    with _writing(session) as writer:
        row = writer.get_one(LabelPurchase, purchase_id)
        row.error, row.updated_at = f"{type(exc).__name__}: {exc}"[:1000], now
        if nothing_bought(exc):
            row.status = FAILED


def stale(session: Session, now: datetime, older_than: timedelta) -> list[LabelPurchase]:
    """Purchases still pending after `older_than`: a crash or an unanswered call."""
    return list(
        session.scalars(
            select(LabelPurchase)
            .where(LabelPurchase.status == PENDING, LabelPurchase.created_at < now - older_than)
            .order_by(LabelPurchase.created_at)
        )
    )


def release(session: Session, purchase_id: str, note: str, now: datetime) -> LabelPurchase:
    """Someone checked with the carrier (and voided any label it sold): the order or return
    may be labelled again."""
    row = session.get(LabelPurchase, purchase_id)
    if row is None or row.status != PENDING:
        raise LookupError(f"no pending label purchase {purchase_id!r}")
    row.status, row.error, row.updated_at = FAILED, f"released: {note}"[:1000], now
    return row

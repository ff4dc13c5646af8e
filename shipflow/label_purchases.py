"""A label is paid for the moment the carrier answers, so each purchase is written down and
committed (on a connection of its own; a batch's purchases in one transaction) before the
carrier is called, and settled with the shipment it opens, in the caller's transaction. A
crash, or a call that got no usable answer, leaves the purchase `pending`: it blocks buying
again for the same order or return, and `shipflow labels reconcile` lists it for someone to
check with the carrier and release.

None of our carriers documents an idempotency key for creating a shipment, so a pending
purchase is never repeated on its own: the carrier may have sold the label."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from carriers.base import CarrierError, CarrierOutcomeUnknown, CarrierResponseError, Label
from shipflow.store.db import insert_or_skip
from shipflow.store.label_models import LabelPurchase, new_purchase_id

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
    """`call()` the carrier once, recorded before and after (`buy_all` of one); raises what
    stopped it."""
    [outcome] = buy_all(session, [(purchase, call)], now)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def buy_all(
    session: Session, purchases: Sequence[tuple[Purchase, Callable[[], Label]]], now: datetime
) -> list[Label | Exception]:
    """Each purchase's `call()` to the carrier, once, after the whole batch is recorded pending
    in one committed transaction: its label, or what stopped it (PurchasePending when one is
    pending already, the carrier's error). The ones bought are marked so in `session`, so
    they commit with their shipments; if that transaction never commits, they stay pending
    for someone to reconcile."""
    if not purchases:
        return []
    recorded = _record(session, [purchase for purchase, _ in purchases], now)
    outcomes: list[Label | Exception] = []
    failed: list[tuple[str, Exception]] = []
    for (_, call), purchase_id in zip(purchases, recorded, strict=True):
        if isinstance(purchase_id, Exception):
            outcomes.append(purchase_id)
            continue
        try:
            outcomes.append(call())
        except Exception as exc:  # settled below; the caller decides what it means
            failed.append((purchase_id, exc))
            outcomes.append(exc)
    if failed:
        _settle_failures(session, failed, now)
    bought = [
        {
            "id": purchase_id,
            "status": BOUGHT,
            "tracking_number": o.tracking_number,
            "updated_at": now,
        }
        for purchase_id, o in zip(recorded, outcomes, strict=True)
        if isinstance(o, Label) and isinstance(purchase_id, str)  # a label: a record of ours
    ]
    if bought:  # the caller's pending changes flush together later
        session.execute(update(LabelPurchase), bought, execution_options={"autoflush": False})
    return outcomes


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


def _record(
    session: Session, purchases: Sequence[Purchase], now: datetime
) -> list[str | PurchasePending]:
    """Each purchase's pending record, all in one statement, or PurchasePending for one whose
    key has a pending record already (the unique index on pending purchases' keys skips it)."""
    rows = [
        {
            "id": new_purchase_id(),
            "brand_id": p.brand_id,
            "idempotency_key": p.key,
            "order_id": p.order_id,
            "return_id": p.return_id,
            "carrier_account": p.carrier_account,
            "status": PENDING,
            "created_at": now,
            "updated_at": now,
        }
        for p in purchases
    ]
    with _writing(session) as writer:
        dialect = writer.get_bind().dialect.name
        inserted = set(
            writer.scalars(
                insert_or_skip(dialect, LabelPurchase).values(rows).returning(LabelPurchase.id)
            )
        )
        skipped = {row["idempotency_key"] for row in rows if row["id"] not in inserted}
        held = {p.idempotency_key: p for p in _pending(writer, skipped)} if skipped else {}
    return [
        row["id"] if row["id"] in inserted else _already(p, held.get(p.key))
        for row, p in zip(rows, purchases, strict=True)
    ]


def _pending(session: Session, keys: Iterable[str]) -> Sequence[LabelPurchase]:
    return session.scalars(
        select(LabelPurchase).where(
            LabelPurchase.idempotency_key.in_(keys), LabelPurchase.status == PENDING
        )
    ).all()


def _already(purchase: Purchase, pending: LabelPurchase | None) -> PurchasePending:
    what = "return" if purchase.return_id else "order"
    since = f" ({pending.id}, since {pending.created_at.isoformat()})" if pending else ""
    return PurchasePending(
        f"a label for this {what} is being bought or its purchase has no known outcome{since}; "
        "check it with the carrier, then release it: shipflow labels release"
    )


def nothing_bought(exc: Exception) -> bool:
    """Whether the carrier certainly sold no label: it said no, or was never reached. An
    unreadable answer or any other failure may hide a label that was paid for."""
    return isinstance(exc, CarrierError) and not isinstance(
        exc, CarrierOutcomeUnknown | CarrierResponseError
    )


def _settle_failures(
    session: Session, failed: Sequence[tuple[str, Exception]], now: datetime
) -> None:
    """Each failed call's error kept on its purchase, failed where certainly nothing was bought
    (else it stays pending), in one committed transaction."""
    with _writing(session) as writer:
        ids = [purchase_id for purchase_id, _ in failed]
        rows = {
            r.id: r for r in writer.scalars(select(LabelPurchase).where(LabelPurchase.id.in_(ids)))
        }
        for purchase_id, exc in failed:
            row = rows[purchase_id]
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

"""Polling carriers for shipments whose webhooks are missing or silent.

Each shipment carries `next_poll_at`, when the poller next looks at it (config
`tracking.poll_every_minutes`; terminal statuses are never polled). A worker leases the due
ones (the lease pushes `next_poll_at` forward, so many workers never poll one shipment twice
and a dead worker's lease lapses). One whose carrier spoke within its status's interval is
not asked: it is rescheduled that interval after its last event. Pushed events leave
`next_poll_at` where it is (unless they reach or leave a terminal status), so their update of
the shipment changes no indexed column and is HOT; a status with a shorter interval than the
one it follows (out for delivery after in transit) is then looked at at the time already set,
up to the longer interval after the last look. The rest are asked in batches of each
carrier's `track_batch_size`, and on a carrier outage or rate limit pushed back instead of
dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from carriers.base import (
    Capability,
    CarrierError,
    CarrierRateLimited,
    CarrierUnavailable,
    TrackingQuery,
)
from shipflow.brands import brand_config
from shipflow.domain import Address
from shipflow.orders import ship_to_address
from shipflow.store.db import update_all
from shipflow.store.lease import claim
from shipflow.store.models import Order, Shipment, table_of
from shipflow.tracking.accounts import UnknownAccount, account_for_shipment
from shipflow.tracking.config import TrackingConfig
from shipflow.tracking.ingest import ingest_updates

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)
UNKNOWN_ACCOUNT_RETRY = 6 * 3600.0
_SHIPMENTS = table_of(Shipment)


def lease_due(session: Session, now: datetime, config: TrackingConfig, limit: int) -> list[Row]:
    """Claim up to `limit` due shipments (oldest due first) and commit the claim."""
    rows = claim(
        session,
        Shipment,
        [Shipment.next_poll_at <= now],
        [Shipment.next_poll_at],
        limit,
        {"next_poll_at": now + timedelta(seconds=config.lease_seconds)},
        returning=[
            Shipment.brand_id,
            Shipment.carrier,
            Shipment.carrier_account,
            Shipment.tracking_number,
            Shipment.status,
            Shipment.last_event_at,
        ],
    )
    session.commit()
    return rows


def not_to_ask(
    rows: Sequence[Row], now: datetime, config: TrackingConfig
) -> dict[str, datetime | None]:
    """The leased shipments not to ask their carrier about, each with its next look: none for
    a status no longer polled; for one whose carrier spoke within its status's interval (a
    push since the last look), that interval after its last event. A last event dated ahead
    of our clock proves nothing: that carrier is asked."""
    later: dict[str, datetime | None] = {}
    for row in rows:
        if not config.polled(row.status):
            later[row.id] = None
        elif row.last_event_at is not None and row.last_event_at <= now:
            due = config.next_poll(row.status, row.last_event_at)
            if due is not None and due > now:
                later[row.id] = due
    return later


@dataclass
class CarrierGate:
    """Per carrier, per process: a minimum gap between calls and a backoff after an outage
    or a rate limit, so a struggling carrier is left alone rather than hammered."""

    min_interval: float = 0.0
    blocked_until: float = 0.0
    failures: int = 0
    last_call: float = 0.0

    def wait(self) -> None:
        gap = self.last_call + self.min_interval - time.monotonic()
        if gap > 0:
            time.sleep(gap)
        self.last_call = time.monotonic()


class CarrierGates:
    """The process's gate of each carrier (the runtime keeps one set)."""

    def __init__(self) -> None:
        self._gates: dict[str, CarrierGate] = defaultdict(CarrierGate)
        self._lock = threading.Lock()

    def __call__(self, carrier: str) -> CarrierGate:
        with self._lock:
            return self._gates[carrier]


def _schedule(session: Session, polls: dict[str, datetime | None]) -> None:
    """Each shipment's next poll (None: never), in one statement."""
    update_all(session, _SHIPMENTS, "id", [{"id": i, "next_poll_at": w} for i, w in polls.items()])


def _poll_group(runtime: Runtime, rows: list[Row]) -> None:
    """One brand's shipments on one carrier account."""
    config = runtime.settings.tracking
    first = rows[0]
    with runtime.sessions() as session:
        try:
            account = account_for_shipment(
                session, runtime, first.brand_id, first.carrier, first.carrier_account
            )
        except (UnknownAccount, KeyError) as exc:  # fixed by a config change: check back later
            log.warning("cannot poll %s: %s", first.carrier, exc)
            account = None
    if account is None:
        _defer(runtime, rows, UNKNOWN_ACCOUNT_RETRY)
        return
    if not account.adapter.supports(Capability.TRACKING_POLL):  # webhooks only: never poll
        _defer(runtime, rows, None)
        return
    gate = runtime.poll_gates(account.carrier)
    gate.min_interval = 1 / account.adapter.account.rate_limit_per_second
    size = max(account.adapter.track_batch_size, 1)
    for start in range(0, len(rows), size):
        batch, rest = rows[start : start + size], rows[start:]
        if time.monotonic() < gate.blocked_until:
            _defer(runtime, rest, gate.blocked_until - time.monotonic())
            return
        try:
            gate.wait()
            updates = account.adapter.track_queries(tracking_queries(runtime, batch))
        except CarrierUnavailable as exc:
            gate.failures += 1
            delay = config.backoff(gate.failures)
            if isinstance(exc, CarrierRateLimited) and exc.retry_after:
                delay = max(delay, exc.retry_after)
            gate.blocked_until = time.monotonic() + delay
            log.warning("%s unavailable, polls deferred %.0fs: %s", account.carrier, delay, exc)
            _defer(runtime, rest, delay)
            return
        except CarrierError as exc:
            log.warning("%s refused a tracking poll: %s", account.carrier, exc)
            updates = []
        else:
            gate.failures = 0
        _record(runtime, first.brand_id, account.carrier, batch, updates)


def tracking_queries(runtime: Runtime, batch: Sequence[Row]) -> list[TrackingQuery]:
    """The batch with what some carriers take beside the number: the last four digits of the
    order's phone (the ship-to phone, else the customer's), which SF Express checks before it
    tells a route; and the shipment's warehouse and ship-to addresses, from which Kuaidi100
    predicts the arrival."""
    with runtime.sessions() as session:
        found = {
            row.id: row
            for row in session.execute(
                select(Shipment.id, Shipment.brand_id, Shipment.warehouse_code, Order)
                .outerjoin(Order, Order.id == Shipment.order_id)
                .where(Shipment.id.in_([r.id for r in batch]))
            )
        }
        origins = {
            brand_id: warehouse_addresses(session, runtime, brand_id)
            for brand_id in {row.brand_id for row in found.values()}
        }
        return [
            _query(r.tracking_number, found[r.id], origins[found[r.id].brand_id]) for r in batch
        ]


def _query(tracking_number: str, row: Row, origins: dict[str, Address]) -> TrackingQuery:
    order: Order | None = row.Order
    phone = str((order.ship_to or {}).get("phone") or order.customer_phone or "") if order else ""
    return TrackingQuery(
        tracking_number,
        last_digits(phone, 4),
        origin=origins.get(row.warehouse_code),
        destination=ship_to_address(order) if order else None,
    )


def warehouse_addresses(session: Session, runtime: Runtime, brand_id: str) -> dict[str, Address]:
    """The brand's warehouses by code (none for a brand the configuration no longer names)."""
    brand = brand_config(session, brand_id, runtime.settings)
    return {w.code: w.to_domain().address for w in brand.warehouses} if brand else {}


def last_digits(phone: str, count: int) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return digits[-count:] if len(digits) >= count else ""


def _defer(runtime: Runtime, rows: Sequence[Row], seconds: float | None) -> None:
    """Next poll in `seconds` (None: never)."""
    when = None if seconds is None else runtime.clock.now() + timedelta(seconds=seconds)
    with runtime.sessions() as session:
        _schedule(session, dict.fromkeys((r.id for r in rows), when))
        session.commit()


def _record(
    runtime: Runtime, brand_id: str, carrier: str, batch: Sequence[Row], updates: list
) -> None:
    """Ingest what the carrier said and schedule each shipment's next poll by its (possibly
    new) status, in one transaction."""
    now, config = runtime.clock.now(), runtime.settings.tracking
    with runtime.sessions() as session:
        ingest_updates(
            session,
            brand_id,
            carrier,
            updates,
            "poll",
            now,
            config,
            runtime.reactions.in_transaction,
        )
        for shipment in session.scalars(
            select(Shipment).where(Shipment.id.in_([r.id for r in batch]))
        ):
            shipment.next_poll_at = config.next_poll(shipment.status, now)
        session.commit()


def poll_due(runtime: Runtime, limit: int | None = None) -> int:
    """Lease one batch of due shipments and poll those `not_to_ask` leaves; returns how many
    were leased."""
    config, now = runtime.settings.tracking, runtime.clock.now()
    with runtime.sessions() as session:
        rows = lease_due(session, now, config, limit or config.poll_batch)
        later = not_to_ask(rows, now, config)
        if later:
            _schedule(session, later)
            session.commit()
    groups: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for row in rows:
        if row.id not in later:
            groups[(row.brand_id, row.carrier, row.carrier_account)].append(row)
    for group in groups.values():
        _poll_group(runtime, group)
    return len(rows)

"""A queue growing now slows the parcels handed over now: stretch transit by the backlog.

Delivered history shows a slowdown only once its slow parcels arrive, weeks late (the first
deliveries of a backlog are its fast parcels); the parcels still in flight show it as they pile
up. By Little's law a parcel ordered now spends about backlog / throughput until its delivery:
the parcels ordered and not delivered over the recent deliveries per day. In a steady network
that equals the mean time from order to delivery of recent deliveries, so their ratio says how
many times longer it takes now. The queue counts from the order, not the handover: a surge of
orders still in the warehouses is ahead of a parcel ordered now, days before it shows among the
parcels in flight. Measured per carrier service from one query per brand; the ratio, less its
counting noise and capped, stretches that service's transit (`TransitModel.with_backlog`).
Where nothing piles up it is 1 and changes nothing.

That query aggregates months of a brand's shipments (hundreds of millions of rows at 50
million parcels a month): a periodic job (`count_backlogs`) runs it once for the instance and
stores the counts, and quotes read them (`backlog_stretches`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from shipflow.domain import Status
from shipflow.edd.transit import ModelConfig
from shipflow.store.db import unit_of_work
from shipflow.store.edd_models import BacklogCountRow
from shipflow.store.models import Brand, Order, Shipment

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

# out of the carrier's queue without a delivery
NEVER_DELIVERED = (Status.RETURNED_TO_SENDER, Status.EXPIRED, Status.CANCELLED)
JULIAN_EPOCH = 2440587.5  # SQLite's julianday() of 1970-01-01 00:00 UTC


@dataclass(frozen=True, slots=True)
class Backlog:
    """One service's queue over the last `backlog_days` (see the module docstring)."""

    # parcels ordered and not delivered on average (time-weighted) over the window
    in_flight: float
    delivered: int  # deliveries in the window
    usual_days: float  # mean order -> delivery, calendar days, of backlog_baseline_days

    def stretch(self, config: ModelConfig) -> float:
        """How many times longer transit takes now: the expected wait (parcels ordered and not
        delivered over deliveries per day) over the usual time from order to delivery, lowered
        by `backlog_z` standard errors of its counts' Poisson noise (a thin service's ratio
        jumps by chance), between 1 and `max_backlog_stretch`. A shrinking queue never shortens
        a promise."""
        if not config.backlog or self.in_flight <= 0 or self.delivered <= 0:
            return 1.0
        wait = self.in_flight * config.backlog_days / self.delivered
        ratio = wait / self.usual_days if self.usual_days > 0 else 1.0
        noise = config.backlog_z * math.sqrt(1 / self.in_flight + 1 / self.delivered)
        return round(min(max(ratio * (1 - noise), 1.0), config.max_backlog_stretch), 2)


def stretches(backlogs: dict[str, Backlog], config: ModelConfig) -> dict[str, float]:
    """Each service key's stretch, for `TransitModel.with_backlog`."""
    return {key: backlog.stretch(config) for key, backlog in backlogs.items()}


def backlog_stretches(
    session: Session, brand_id: str | None, now: datetime, config: ModelConfig
) -> dict[str, float]:
    """The brand's stretch per service key (none for no brand or with the switch off), from
    the counts `count_backlogs` stored; counted here, as of `now`, only while it has stored
    none for the brand (a fresh install, a brand added since its last run)."""
    if not brand_id or not config.backlog:
        return {}
    backlogs = stored_backlog(session, brand_id)
    if backlogs is None:
        backlogs = current_backlog(session, brand_id, now, config)
    return stretches(backlogs, config)


def count_backlogs(runtime: Runtime, max_age: timedelta = timedelta(minutes=10)) -> int:
    """The periodic job: count and store the queue of each brand whose stored counts are older
    than `max_age` by the runtime's clock (an accelerated demo counts in its own time), with
    its newest model's settings, as quotes would; returns how many brands it counted. Ten
    minutes move a week's average little, and the query runs once per brand and period
    instead of once per process every `EddService.refresh_seconds`."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        counted = dict(
            session.execute(select(BacklogCountRow.brand_id, BacklogCountRow.counted_at)).all()
        )
        due = [
            brand_id
            for brand_id in session.scalars(select(Brand.id))
            if brand_id not in counted or now - counted[brand_id] >= max_age
        ]
    done = 0
    for brand_id in due:
        with unit_of_work(runtime.sessions) as session:
            if not claim_count(session, brand_id):
                continue
            row = session.get(BacklogCountRow, brand_id)  # another run may have just counted
            if row is not None and now - row.counted_at < max_age:
                continue
            config = runtime.edd.latest_model(session, brand_id).config
            backlogs = current_backlog(session, brand_id, now, config) if config.backlog else {}
            session.merge(
                BacklogCountRow(
                    brand_id=brand_id,
                    counted_at=now,
                    services={key: asdict(backlog) for key, backlog in backlogs.items()},
                )
            )
            done += 1
    return done


def claim_count(session: Session, brand_id: str) -> bool:
    """Whether this transaction may count the brand, no other run counting it: on PostgreSQL
    a lock per brand for the transaction, so the runs Celery's beat sends each minute while a
    long count goes on skip it rather than scan the same months again. SQLite's embedded
    runner never runs a job twice at once."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    digest = hashlib.sha1(f"backlog_counts:{brand_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(key))))


def stored_backlog(session: Session, brand_id: str) -> dict[str, Backlog] | None:
    """The brand's queue per service key as `count_backlogs` last stored it; None if never."""
    row = session.get(BacklogCountRow, brand_id)
    if row is None:
        return None
    return {key: Backlog(**counts) for key, counts in row.services.items()}


def current_backlog(
    session: Session, brand_id: str, now: datetime, config: ModelConfig
) -> dict[str, Backlog]:
    """The brand's forward shipments' queue per service key ("carrier:service"), one query.

    The parcels ordered and not delivered are averaged over the window (each counts for the
    share of it it spent after its order, or its handover without one, and before its
    delivery, at most `max_in_flight_days`): Little's law holds for averages, and a snapshot
    would swing with the weekday (parcels handed over on Friday wait out the weekend)."""
    window = now - timedelta(days=config.backlog_days)
    baseline = now - timedelta(days=config.backlog_baseline_days)
    days = _day_number(session)
    at = days.now(now)
    shipped, delivered = days.of(Shipment.shipped_at), days.of(Shipment.delivered_at)
    ordered = func.coalesce(days.of(Order.placed_at), shipped)
    ended = days.least(func.coalesce(delivered, at), at, ordered + config.max_in_flight_days)
    spent = days.greatest(ended - days.greatest(ordered, at - config.backlog_days), 0.0)
    is_delivered = Shipment.delivered_at.is_not(None)
    gone = ~is_delivered & Shipment.status.in_(NEVER_DELIVERED)
    rows: Sequence[Row[str, str, float | Decimal | None, int, float | Decimal | None]] = (
        session.execute(
            select(
                Shipment.carrier,
                Shipment.service,
                func.sum(spent).filter(~gone) / config.backlog_days,
                func.count().filter(is_delivered, Shipment.delivered_at >= window),
                func.avg(delivered - ordered).filter(
                    is_delivered, Shipment.delivered_at >= baseline
                ),
            )
            .outerjoin(Order, Order.id == Shipment.order_id)
            .where(
                Shipment.brand_id == brand_id,
                Shipment.kind == "forward",
                func.coalesce(Order.placed_at, Shipment.shipped_at).is_not(None),
                # a shipment is created before it ships: this bound lets the index find them
                Shipment.created_at >= min(baseline, window) - timedelta(days=90),
            )
            .group_by(Shipment.carrier, Shipment.service)
        ).all()
    )
    return {
        f"{carrier}:{service}": Backlog(float(in_flight or 0.0), count, float(usual or 0.0))
        for carrier, service, in_flight, count, usual in rows
    }


@dataclass(frozen=True, slots=True)
class _DayNumber:
    """Moments as fractional day numbers, as SQLite (julian days) and PostgreSQL each count."""

    sqlite: bool

    def of(self, column: InstrumentedAttribute[datetime | None]) -> ColumnElement[Any]:
        if self.sqlite:
            return func.julianday(column)
        return func.extract("epoch", column) / 86400

    def now(self, moment: datetime) -> float:
        return moment.timestamp() / 86400 + (JULIAN_EPOCH if self.sqlite else 0.0)

    def least(self, *values: Any) -> ColumnElement[Any]:
        return (func.min if self.sqlite else func.least)(*values)

    def greatest(self, *values: Any) -> ColumnElement[Any]:
        return (func.max if self.sqlite else func.greatest)(*values)


def _day_number(session: Session) -> _DayNumber:
    return _DayNumber(session.get_bind().dialect.name == "sqlite")

"""A queue growing now slows the parcels handed over now: stretch transit by the backlog.

Delivered history shows a slowdown only once its slow parcels arrive, weeks late (the first
deliveries of a backlog are its fast parcels); the parcels still in flight show it as they pile
up. By Little's law a parcel ordered now spends about backlog / throughput until its delivery:
the parcels ordered and not delivered over the recent deliveries per day. In a steady network
that equals the mean time from order to delivery of recent deliveries, so their ratio says how
many times longer it takes now. The queue counts from the order, not the handover: a surge of
orders still in the warehouses is ahead of a parcel ordered now, days before it shows among the
parcels in flight. Measured per carrier service; the ratio, less its counting noise and capped,
stretches that service's transit (`TransitModel.with_backlog`). Where nothing piles up it is 1
and changes nothing.

Time is counted in the service's working days (its delivery weekdays and the holidays of
the `holiday_country` and `holiday_subdivision` configured for most of the brand's
warehouses, as its quotes' cut-off and handover count them, make-up days included,
`shipflow.calendars`; quotes date the transit itself in the destination country's calendar,
one calendar per brand here): a parcel waiting
out a week of Lunar New Year ages by none of it and neither do the deliveries per day, so a
closure does not read as a backlog; calendar days had stretched ground 1.18-1.5 after it on a
network that was not slower.

Counting aggregates months of a brand's shipments (hundreds of millions of rows at 50 million
parcels a month): a periodic job (`count_backlogs`) counts for the instance and stores the
counts, and quotes read them (`backlog_stretches`; unstretched until it has stored a brand's
counts, which it does within a minute of its first look). The job scans only the parcels in
flight or delivered within the window (partial and delivery-time indexes find them) and keeps
the usual transit as daily totals of past deliveries, each day's redone once a day for a week
for the deliveries recorded late, then final (a day without any is queried again at each run:
a history imported after the job's first look fills such days); all of them redone when the
calendar they were counted in changes (`Calendars.fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from prometheus_client import Counter as Metric
from sqlalchemy import ColumnElement, Integer, Subquery, cast, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from shipflow.brands import brand_config
from shipflow.calendars import BusinessCalendar, calendar
from shipflow.clock import Clock
from shipflow.domain import Status, Warehouse
from shipflow.edd.transit import ModelConfig, TransitModel
from shipflow.store.db import each_in_own_transaction
from shipflow.store.edd_models import BacklogCountRow
from shipflow.store.models import Brand, Order, Shipment

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)
# out of the carrier's queue without a delivery
NEVER_DELIVERED = (Status.RETURNED_TO_SENDER, Status.EXPIRED, Status.CANCELLED)
JULIAN_EPOCH = 2440587.5  # SQLite's julianday() of 1970-01-01 00:00 UTC
EPOCH = date(1970, 1, 1)
COUNT_EVERY = timedelta(minutes=10)  # the job's period
# Stored counts older than this mean the job has stopped: quotes go unstretched (see
# `backlog_stretches`) rather than stretched by a queue of hours ago.
STALE_AFTER = 3 * COUNT_EVERY
LOOK_EVERY_SECONDS = 60  # the job's schedule (real seconds): it counts the brands due
# Deliveries are totalled by day once the day is this many days past, and again as each of the
# next days settles until it is RECOUNTED_AFTER days past: a delivery recorded late (a
# carrier's event after midnight, tracking polls catching up after an outage) still lands in
# its day's total, for one more query a day rather than one each run.
SETTLED_DAYS = 2
RECOUNTED_AFTER = 7
STALE_COUNTS = Metric(
    "shipflow_edd_stale_backlog_total",
    "Backlog stretches not applied because the stored counts were stale (the job stopped)",
)


@dataclass(frozen=True, slots=True)
class Backlog:
    """One service's queue over the last `backlog_days` (see the module docstring)."""

    # parcels ordered and not delivered on average over the window's working time
    in_flight: float
    delivered: int  # deliveries in the window
    usual_days: float  # mean order -> delivery, working days, of backlog_baseline_days
    window_days: float  # working days in the window

    def stretch(self, config: ModelConfig) -> float:
        """How many times longer transit takes now: the expected wait (parcels ordered and not
        delivered over deliveries per working day) over the usual time from order to delivery,
        lowered by `backlog_z` standard errors of its counts' Poisson noise (a thin service's
        ratio jumps by chance), between 1 and `max_backlog_stretch`. A shrinking queue never
        shortens a promise."""
        if not config.backlog or self.in_flight <= 0 or self.delivered <= 0:
            return 1.0
        wait = self.in_flight * self.window_days / self.delivered
        ratio = wait / self.usual_days if self.usual_days > 0 else 1.0
        noise = config.backlog_z * math.sqrt(1 / self.in_flight + 1 / self.delivered)
        return round(min(max(ratio * (1 - noise), 1.0), config.max_backlog_stretch), 2)


def stretches(backlogs: dict[str, Backlog], config: ModelConfig) -> dict[str, float]:
    """Each service key's stretch, for `TransitModel.with_backlog`."""
    return {key: backlog.stretch(config) for key, backlog in backlogs.items()}


@dataclass(frozen=True, slots=True)
class WorkingTime:
    """Working days elapsed in one calendar since `since`, for moments given as local day
    numbers (days since 1970-01-01 in the brand's zone) and the part of their day passed:
    a closed day adds nothing, an open day the part of it passed."""

    calendar: BusinessCalendar
    since: date

    def at(self, day: int, part: float) -> float:
        on = EPOCH + timedelta(days=day)
        is_open = self.calendar.is_business_day(on)
        return self.calendar.count(self.since, on) - is_open * (1.0 - part)

    def total(self, day: int, count: int, parts: float) -> float:
        """`at` summed over `count` moments of one day whose parts of it sum to `parts`."""
        on = EPOCH + timedelta(days=day)
        is_open = self.calendar.is_business_day(on)
        return count * (self.calendar.count(self.since, on) - is_open) + is_open * parts


@dataclass(frozen=True, slots=True)
class Calendars:
    """The working time of each service of a brand: its delivery weekdays (as the model
    learned them) and the holidays of `holidays` (country, subdivision), days counted in
    `zone`."""

    model: TransitModel
    holidays: tuple[str | None, str | None]
    zone: str
    now: datetime
    # the zone's UTC offset at `now`, in days (a DST change within the window moves a
    # moment's day by an hour's worth at most)
    offset: float = field(init=False)

    def __post_init__(self) -> None:
        found = self.now.astimezone(ZoneInfo(self.zone)).utcoffset()
        object.__setattr__(self, "offset", found.total_seconds() / 86400 if found else 0.0)

    def of(self, key: str) -> WorkingTime:
        return self._working(self.model.weekdays(key))

    def window(self, key: str) -> tuple[WorkingTime, int, float]:
        """The service's working time, the local day its window starts on and the working
        days in the window up to now."""
        working = self.of(key)
        start = self.window_start(self.model.weekdays(key))
        return working, start, working.at(*self.local(self.now)) - working.at(start, 0.0)

    def _working(self, weekdays: frozenset[int]) -> WorkingTime:
        since = self.now.date() - timedelta(days=400)
        return WorkingTime(calendar(weekdays, *self.holidays), since)

    def weekday_sets(self) -> set[frozenset[int]]:
        """The weekdays of every service the model knows, and the default's."""
        return {*self.model.service_weekdays.values(), self.model.config.delivery_weekdays}

    def window_start(self, weekdays: frozenset[int]) -> int:
        """The local day that starts a window of as many working days as `backlog_days` hold
        in a week of these weekdays (5 of 7 for Monday to Friday), before today: a closure
        lengthens the window instead of leaving it a day of traffic."""
        working = self._working(weekdays)
        left = max(round(self.model.config.backlog_days * len(weekdays) / 7), 1)
        day = self.today()
        while left > 0:
            day -= 1
            left -= working.calendar.is_business_day(EPOCH + timedelta(days=day))
        return day

    def moment(self, day: int) -> datetime:
        """The start of a local day, as a UTC moment (at `now`'s offset)."""
        return datetime.fromtimestamp((day - self.offset) * 86400, self.now.tzinfo)

    def local(self, moment: datetime) -> tuple[int, float]:
        """`moment` as a local day number and the part of that day passed."""
        value = moment.timestamp() / 86400 + self.offset
        return math.floor(value), value - math.floor(value)

    def today(self) -> int:
        return self.local(self.now)[0]

    def fingerprint(self) -> str:
        """What the working days of stored daily totals depend on: the zone their days are
        local to, the holidays and each service's delivery weekdays. Totals kept under another
        calendar (holidays or zone reconfigured, weekdays learned anew) would blend two units
        in one mean for up to `backlog_baseline_days`."""
        model = self.model
        weekdays = {key: sorted(days) for key, days in model.service_weekdays.items()}
        parts = [self.zone, self.holidays, sorted(model.config.delivery_weekdays), weekdays]
        return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def brand_calendars(
    warehouses: Sequence[Warehouse], model: TransitModel, now: datetime
) -> Calendars:
    """The brand's calendars, from its configured warehouses as quotes have them: the holidays
    (`holiday_country`, `holiday_subdivision`) most of them close on, ties to the first by
    code, in the zone of the first of those by code."""
    ordered = sorted(warehouses, key=lambda warehouse: warehouse.code)
    if not ordered:
        return Calendars(model, (None, None), "UTC", now)
    pairs = [warehouse.holidays for warehouse in ordered]
    holidays = Counter(pairs).most_common(1)[0][0]
    zone = next(w.timezone for w, pair in zip(ordered, pairs, strict=True) if pair == holidays)
    return Calendars(model, holidays, zone, now)


def stale_after(clock: Clock) -> timedelta:
    """`STALE_AFTER` on `clock`, but at least three of the job's looks, which are scheduled in
    real seconds: on the demo's clock (a simulated day a real minute) a look spans a day, so
    counts would read stale a second after each."""
    return max(STALE_AFTER, 3 * timedelta(seconds=LOOK_EVERY_SECONDS) * clock.speed)


def backlog_stretches(
    session: Session,
    brand_id: str | None,
    now: datetime,
    config: ModelConfig,
    stale: timedelta = STALE_AFTER,
) -> dict[str, float]:
    """The brand's stretch per service key (none for no brand or with the switch off), from
    the counts `count_backlogs` stored. None until it has stored the brand's (a fresh install
    or a brand just added, for the minute until its first look): counting here would put a
    scan of months of shipments on the request path of each process, for a stretch that is 1
    wherever nothing piles up. Counts older than `stale` (`stale_after` of the runtime's
    clock) stretch nothing either: the job has stopped, and a queue of hours ago may have
    drained (promises fall back to the model's own; logged, and counted for ops to alert on).
    `config`: the settings of the model the stretches are for (its backlog switch and caps)."""
    if not brand_id or not config.backlog:
        return {}
    row = session.get(BacklogCountRow, brand_id)
    if row is None or any("window_days" not in counts for counts in row.services.values()):
        return {}  # not counted yet, or counted in calendar days (an earlier release) until then
    if now - row.counted_at > stale:
        log.warning(
            "backlog counts of brand %s stale since %s: not stretched", brand_id, row.counted_at
        )
        STALE_COUNTS.inc()
        return {}
    return stretches(stored_backlog(row), config)


def count_backlogs(runtime: Runtime, max_age: timedelta = COUNT_EVERY) -> int:
    """The periodic job: count and store the queue of each brand whose stored counts are older
    than `max_age` by the runtime's clock (an accelerated demo counts in its own time), with
    its newest model's settings and calendars, as quotes would; returns how many brands it
    counted. Ten minutes move a week's average little, and the query runs once per brand and
    period instead of once per process every `EddService.refresh_seconds`."""
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

    def count(session: Session, brand_id: str) -> bool:
        if not claim_count(session, brand_id):
            return False
        row = session.get(BacklogCountRow, brand_id)  # another run may have just counted
        if row is not None and now - row.counted_at < max_age:
            return False
        model = runtime.edd.latest_model(session, brand_id)
        backlogs: dict[str, Backlog] = {}
        days: dict[str, dict[str, list[float]]] = {}
        fingerprint = None
        if model.config.backlog:
            brand = brand_config(session, brand_id, runtime.settings)
            warehouses = [w.to_domain() for w in brand.warehouses] if brand else []
            calendars = brand_calendars(warehouses, model, now)
            fingerprint = calendars.fingerprint()
            kept = row is not None and row.calendar == fingerprint
            known = (row.days, row.counted_at) if row and kept else ({}, None)
            backlogs, days = current_backlog(session, brand_id, calendars, *known)
        session.merge(
            BacklogCountRow(
                brand_id=brand_id,
                counted_at=now,
                services={key: asdict(backlog) for key, backlog in backlogs.items()},
                days=days,
                calendar=fingerprint,
            )
        )
        return True

    return sum(each_in_own_transaction(runtime.sessions, due, count, "backlog count").values())


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


def stored_backlog(row: BacklogCountRow) -> dict[str, Backlog]:
    """The brand's queue per service key as `count_backlogs` last stored it."""
    return {key: Backlog(**counts) for key, counts in row.services.items()}


def current_backlog(
    session: Session,
    brand_id: str,
    calendars: Calendars,
    known: Mapping[str, Mapping[str, list[float]]] | None = None,
    known_at: datetime | None = None,
) -> tuple[dict[str, Backlog], dict[str, dict[str, list[float]]]]:
    """The brand's forward shipments' queue per service key ("carrier:service"), and the
    daily delivery totals its usual transit comes from (local day -> service key -> [count,
    working days from order to delivery]): those of `known` (counted at `known_at`) kept, but
    for the days less than `RECOUNTED_AFTER` past at the first count of a local day; the other
    settled days of the baseline counted, one query each for the window and for the days
    counted."""
    config = calendars.model.config
    today = calendars.today()
    first, last = today - config.backlog_baseline_days - SETTLED_DAYS + 1, today - SETTLED_DAYS
    known = known or {}
    counted_today = known_at is not None and calendars.local(known_at)[0] == today
    final = last if counted_today else today - RECOUNTED_AFTER  # kept up to it
    days = {day: dict(totals) for day, totals in known.items() if first <= _day(day) <= final}
    missing = [day for day in range(first, last + 1) if _iso(day) not in days]
    if missing:
        days |= _daily_deliveries(session, brand_id, calendars, missing)
    usual: dict[str, list[float]] = {}
    for totals in days.values():
        for key, (count, spent) in totals.items():
            found = usual.setdefault(key, [0.0, 0.0])
            found[0], found[1] = found[0] + count, found[1] + spent
    window = _in_window(session, brand_id, calendars)
    backlogs = {
        key: Backlog(
            in_flight / window_days if window_days > 0 else 0.0,
            delivered,
            usual[key][1] / usual[key][0] if usual.get(key, [0])[0] else 0.0,
            window_days,
        )
        for key, (in_flight, delivered, window_days) in window.items()
    }
    return backlogs, days


def _iso(day: int) -> str:
    return (EPOCH + timedelta(days=day)).isoformat()


def _day(iso: str) -> int:
    return (date.fromisoformat(iso) - EPOCH).days


def _in_window(
    session: Session, brand_id: str, calendars: Calendars
) -> dict[str, tuple[float, int, float]]:
    """Per service key: the working days its parcels spent ordered and not delivered within
    its window (each from its order, or its handover without one, to its delivery, at most
    `max_in_flight_days`), its deliveries in the window, the window's working days. One
    query over the parcels in flight or delivered within the earliest window, grouped by the
    local days each one's time there starts and ends on and it was delivered on (working
    time is the calendar's, in Python). Little's law holds for averages, and a snapshot
    would swing with the weekday (parcels handed over on Friday wait out the weekend)."""
    config, now = calendars.model.config, calendars.now
    days = _day_number(session, calendars.offset)
    earliest = min(calendars.window_start(weekdays) for weekdays in calendars.weekday_sets())
    window = calendars.moment(earliest)
    at = days.now(now)
    delivered = days.of(Shipment.delivered_at)
    ordered = func.coalesce(days.of(Order.placed_at), days.of(Shipment.shipped_at))
    ended = days.least(func.coalesce(delivered, at), at, ordered + config.max_in_flight_days)
    started = days.least(days.greatest(ordered, float(earliest)), ended)
    parcels = _forward_parcels(
        brand_id,
        [started.label("started"), ended.label("ended"), delivered.label("delivered")],
        or_(
            # in flight: the partial index of undelivered shipments by creation, which
            # is after the order, so one ordered before this spent nothing in the window
            Shipment.delivered_at.is_(None)
            & (Shipment.created_at >= window - timedelta(days=config.max_in_flight_days))
            & Shipment.status.not_in(NEVER_DELIVERED),
            Shipment.delivered_at >= window,  # the deliveries' index
        ),
    )
    start_day, end_day = days.whole(parcels.c.started), days.whole(parcels.c.ended)
    delivery_day = days.whole(parcels.c.delivered)
    rows: Sequence[Any] = session.execute(
        select(
            parcels.c.carrier,
            parcels.c.service,
            start_day.label("start_day"),
            end_day.label("end_day"),
            delivery_day.label("delivery_day"),
            func.count(),
            func.sum(parcels.c.started - start_day),
            func.sum(parcels.c.ended - end_day),
        ).group_by(parcels.c.carrier, parcels.c.service, "start_day", "end_day", "delivery_day")
    ).all()
    windows = {key: calendars.window(key) for key in {f"{row[0]}:{row[1]}" for row in rows}}
    spent, arrived = dict.fromkeys(windows, 0.0), dict.fromkeys(windows, 0)
    for carrier, service, first, last, arrival, count, starts, ends in rows:
        key = f"{carrier}:{service}"
        working, start, _ = windows[key]
        if last >= start:
            if first >= start:
                spent[key] -= working.total(int(first), count, float(starts))
            else:
                spent[key] -= count * working.at(start, 0.0)
            spent[key] += working.total(int(last), count, float(ends))
        if arrival is not None and arrival >= start:
            arrived[key] += count
    return {key: (spent[key], arrived[key], days) for key, (_, _, days) in windows.items()}


def _forward_parcels(
    brand_id: str, columns: Sequence[ColumnElement[Any]], among: ColumnElement[bool]
) -> Subquery:
    """The brand's outbound parcels `among` these, with a start (the order, else the handover):
    their carrier, service and `columns`."""
    return (
        select(Shipment.carrier, Shipment.service, *columns)
        .outerjoin(Order, Order.id == Shipment.order_id)
        .where(
            Shipment.brand_id == brand_id,
            Shipment.kind == "forward",
            func.coalesce(Order.placed_at, Shipment.shipped_at).is_not(None),
            among,
        )
        .subquery()
    )


def _daily_deliveries(
    session: Session, brand_id: str, calendars: Calendars, missing: Sequence[int]
) -> dict[str, dict[str, list[float]]]:
    """Per local day of `missing` delivered on, per service key: the deliveries and their
    working days from order (or handover) to delivery. One query over those days' deliveries
    (each run of consecutive days a range of the deliveries' index), grouped by the local
    days each was ordered and delivered on."""
    days = _day_number(session, calendars.offset)
    delivered = days.of(Shipment.delivered_at)
    ordered = func.coalesce(days.of(Order.placed_at), days.of(Shipment.shipped_at))
    runs = [[missing[0], missing[0]]]
    for day in missing[1:]:
        if day == runs[-1][1] + 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    parcels = _forward_parcels(
        brand_id,
        [delivered.label("delivered"), ordered.label("ordered")],
        or_(
            *(
                (Shipment.delivered_at >= calendars.moment(first))
                & (Shipment.delivered_at < calendars.moment(last + 1))
                for first, last in runs
            )
        ),
    )
    delivery_day, order_day = days.whole(parcels.c.delivered), days.whole(parcels.c.ordered)
    rows: Sequence[Any] = session.execute(
        select(
            parcels.c.carrier,
            parcels.c.service,
            delivery_day.label("delivery_day"),
            order_day.label("order_day"),
            func.count(),
            func.sum(parcels.c.delivered - delivery_day),
            func.sum(parcels.c.ordered - order_day),
        ).group_by(parcels.c.carrier, parcels.c.service, "delivery_day", "order_day")
    ).all()
    working_times = {key: calendars.of(key) for key in {f"{row[0]}:{row[1]}" for row in rows}}
    totals: dict[str, dict[str, list[float]]] = {}
    for carrier, service, on, from_day, count, arrivals, orders in rows:
        key = f"{carrier}:{service}"
        working = working_times[key]
        spent = working.total(int(on), count, float(arrivals))
        spent -= working.total(int(from_day), count, float(orders))
        found = totals.setdefault(_iso(int(on)), {}).setdefault(key, [0, 0.0])
        found[0], found[1] = found[0] + count, found[1] + spent
    return totals


@dataclass(frozen=True, slots=True)
class _DayNumber:
    """Moments as fractional local day numbers (days since 1970-01-01 plus the zone's UTC
    offset), as SQLite and PostgreSQL each compute them."""

    sqlite: bool
    offset: float  # days

    def of(self, column: InstrumentedAttribute[datetime | None]) -> ColumnElement[Any]:
        if self.sqlite:
            return func.julianday(column) - (JULIAN_EPOCH - self.offset)
        return func.extract("epoch", column) / 86400 + self.offset

    def now(self, moment: datetime) -> float:
        return moment.timestamp() / 86400 + self.offset

    def whole(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """The day a day number falls on (SQLite's cast truncates, and day numbers are > 0)."""
        return cast(value, Integer) if self.sqlite else func.floor(value)

    def least(self, *values: Any) -> ColumnElement[Any]:
        return (func.min if self.sqlite else func.least)(*values)

    def greatest(self, *values: Any) -> ColumnElement[Any]:
        return (func.max if self.sqlite else func.greatest)(*values)


def _day_number(session: Session, offset: float) -> _DayNumber:
    return _DayNumber(session.get_bind().dialect.name == "sqlite", offset)

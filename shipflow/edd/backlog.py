"""A queue growing now slows the parcels handed over now: stretch transit by the backlog.

Delivered history shows a slowdown only once its slow parcels arrive, weeks late (the first
deliveries of a backlog are its fast parcels); the parcels still in flight show it as they pile
up. By Little's law a parcel handed over now spends about backlog / throughput in transit: the
parcels in flight over the recent deliveries per day. In a steady network that equals the mean
transit of recent deliveries, so their ratio says how many times longer transit takes now.
Measured per carrier service from one query per brand, refreshed with the brand's model; the
ratio, less its counting noise and capped, stretches that service's transit
(`TransitModel.with_backlog`). Where nothing piles up it is 1 and changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from shipflow.domain import Status
from shipflow.edd.transit import ModelConfig
from shipflow.store.models import Shipment

# out of the carrier's queue without a delivery
NEVER_DELIVERED = (Status.RETURNED_TO_SENDER, Status.EXPIRED, Status.CANCELLED)


@dataclass(frozen=True, slots=True)
class Backlog:
    """One service's queue at a moment (see the module docstring)."""

    in_flight: int  # handed over within max_in_flight_days and not delivered yet
    delivered: int  # deliveries of the last backlog_throughput_days
    usual_days: float  # mean handover -> delivery, calendar days, of backlog_baseline_days

    def stretch(self, config: ModelConfig) -> float:
        """How many times longer transit takes now: the expected wait (backlog / deliveries
        per day) over the usual transit, lowered by `backlog_z` standard errors of its
        counts' Poisson noise (a thin service's ratio jumps by chance), between 1 and
        `max_backlog_stretch`. A shrinking queue never shortens a promise."""
        if not config.backlog or self.in_flight <= 0 or self.delivered <= 0:
            return 1.0
        wait = self.in_flight * config.backlog_throughput_days / self.delivered
        ratio = wait / self.usual_days if self.usual_days > 0 else 1.0
        noise = config.backlog_z * math.sqrt(1 / self.in_flight + 1 / self.delivered)
        return round(min(max(ratio * (1 - noise), 1.0), config.max_backlog_stretch), 2)


def stretches(backlogs: dict[str, Backlog], config: ModelConfig) -> dict[str, float]:
    """Each service key's stretch, for `TransitModel.with_backlog`."""
    return {key: backlog.stretch(config) for key, backlog in backlogs.items()}


def backlog_stretches(
    session: Session, brand_id: str | None, now: datetime, config: ModelConfig
) -> dict[str, float]:
    """The brand's stretch per service key now (none for no brand or with the switch off)."""
    if not brand_id or not config.backlog:
        return {}
    return stretches(current_backlog(session, brand_id, now, config), config)


def current_backlog(
    session: Session, brand_id: str, now: datetime, config: ModelConfig
) -> dict[str, Backlog]:
    """The brand's forward shipments' queue per service key ("carrier:service"), one query."""
    in_flight_since = now - timedelta(days=config.max_in_flight_days)
    recent = now - timedelta(days=config.backlog_throughput_days)
    baseline = now - timedelta(days=config.backlog_baseline_days)
    transit_days = _transit_days(session)
    delivered = Shipment.delivered_at.is_not(None)
    gone = ~delivered & Shipment.status.in_(NEVER_DELIVERED)
    rows: Sequence[Row[str, str, int, int, float | Decimal | None]] = session.execute(
        select(
            Shipment.carrier,
            Shipment.service,
            func.count().filter(Shipment.shipped_at >= in_flight_since, ~delivered, ~gone),
            func.count().filter(delivered, Shipment.delivered_at >= recent),
            func.avg(transit_days).filter(delivered, Shipment.delivered_at >= baseline),
        )
        .where(
            Shipment.brand_id == brand_id,
            Shipment.kind == "forward",
            Shipment.shipped_at.is_not(None),
            # a shipment is created before it ships: this bound lets the index find them
            Shipment.created_at >= min(baseline, in_flight_since) - timedelta(days=60),
        )
        .group_by(Shipment.carrier, Shipment.service)
    ).all()
    return {
        f"{carrier}:{service}": Backlog(in_flight, recent_count, float(usual or 0.0))
        for carrier, service, in_flight, recent_count, usual in rows
    }


def _transit_days(session: Session) -> ColumnElement[float | Decimal]:
    """A shipment's handover -> delivery in days, as SQLite and PostgreSQL each compute it."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(Shipment.delivered_at) - func.julianday(Shipment.shipped_at)
    return func.extract("epoch", Shipment.delivered_at - Shipment.shipped_at) / 86400

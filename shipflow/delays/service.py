"""Turning detected delays into alerts and `ShipmentDelayed` events for the shipments a batch
of tracking events touched: `detect_for_shipments` runs after every batch. The helpers here
are shared with the scheduled sweep (`shipflow.delays.sweep`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, SQLColumnExpression, cast, func, select
from sqlalchemy.orm import Session

from shipflow.brands import brand_config
from shipflow.delays import alerts
from shipflow.delays.detectors import (
    Delay,
    Policy,
    ShipmentSnapshot,
    delayed_kinds,
    detect,
    self_resolving_kinds,
)
from shipflow.delays.risk_store import load_model, with_journeys
from shipflow.delays.stale_limits import learned_limits
from shipflow.domain import Status
from shipflow.domain.events import ShipmentDelayed
from shipflow.store.db import one_of, per_transaction
from shipflow.store.models import Alert, Shipment
from shipflow.store.outbox import publish_all
from shipflow.store.shipment_writes import TrackedShipment, stage

if TYPE_CHECKING:
    from shipflow.config import Settings

Lane = tuple[str, str]
# What a snapshot reads of a shipment, in the order `snapshot_from_row` unpacks it.
SNAPSHOT_COLUMNS = (
    Shipment.id,
    Shipment.brand_id,
    Shipment.carrier,
    Shipment.status,
    Shipment.created_at,
    Shipment.kind,
    Shipment.status_reason,
    Shipment.promised_date,
    Shipment.predicted_date,
    Shipment.last_event_at,
    Shipment.warehouse_code,
    Shipment.destination_state,
    Shipment.destination_postal_code,
    Shipment.service,
)
# Those values of a loaded shipment, read in one call.
_snapshot_values = attrgetter(*(column.key for column in SNAPSHOT_COLUMNS))


def policy_for(session: Session, brand_id: str, settings: Settings) -> Policy:
    """The brand's policy from its configuration (alert channels hold secrets, so they are
    never stored on the brand row); the defaults for a brand the configuration lacks."""
    brand = brand_config(session, brand_id, settings)
    if brand is None:
        return Policy()
    return Policy(
        alerts=brand.alerts,
        warehouses={w.code: w.to_domain() for w in brand.warehouses},
        learned_stale_hours=learned_limits(session, brand_id),
        risk=load_model(session, brand_id),
    )


def region_of(state: str, postal_code: str, policy: Policy) -> str:
    return state if policy.alerts.lane.region == "state" else postal_code[:3]


def region_column(policy: Policy) -> SQLColumnExpression[str]:
    if policy.alerts.lane.region == "state":
        return Shipment.destination_state
    return func.substr(Shipment.destination_postal_code, 1, 3)


def snapshot_from_row(row: Sequence[Any], policy: Policy) -> ShipmentSnapshot:
    """The one snapshot builder: from the values of `SNAPSHOT_COLUMNS`, in their order (the
    sweep's result rows; unpacked by position, which is several times faster than by name)."""
    (
        id_,
        brand_id,
        carrier,
        status,
        created_at,
        kind,
        reason,
        promised_date,
        predicted_date,
        last_event_at,
        warehouse_code,
        state,
        postal_code,
        service,
    ) = row
    return ShipmentSnapshot(
        id=id_,
        brand_id=brand_id,
        carrier=carrier,
        status=Status(status),
        created_at=created_at,
        kind=kind,
        reason=reason,
        promised_date=promised_date,
        predicted_date=predicted_date,
        last_event_at=last_event_at,
        warehouse_code=warehouse_code,
        region=region_of(state, postal_code, policy),
        service=service,
    )


def snapshot(shipment: Shipment | TrackedShipment, policy: Policy) -> ShipmentSnapshot:
    """The snapshot of a loaded (possibly not yet flushed) shipment."""
    return snapshot_from_row(_snapshot_values(shipment), policy)


def shipment_alert(snap: ShipmentSnapshot, delay: Delay) -> dict:
    return {
        "kind": delay.kind,
        "severity": delay.severity,
        "title": delay.title,
        "dedupe_key": delay.dedupe_key,
        "details": {**delay.details, "why": delay.why},
        "shipment_id": snap.id,
        "carrier": snap.carrier,
        "region": snap.region or None,
    }


def delayed_event(snap: ShipmentSnapshot, delay: Delay, now: datetime) -> ShipmentDelayed:
    return ShipmentDelayed(
        brand_id=snap.brand_id,
        shipment_id=snap.id,
        occurred_at=now,
        promised_date=snap.promised_date,
        predicted_date=snap.predicted_date,
        why=delay.why,
    )


def open_incidents(session: Session, brand_id: str) -> dict[Lane, Alert]:
    found = session.scalars(
        select(Alert).where(
            Alert.brand_id == brand_id,
            Alert.kind == "lane_incident",
            Alert.status != alerts.RESOLVED,
        )
    )
    # Lane incidents always name their lane (sweep._raise_incidents writes both columns).
    return {
        (a.carrier, a.region): a for a in found if a.carrier is not None and a.region is not None
    }


# --- the shipments of a batch of tracking events ------------------------------------------


def _fill_destination(session: Session, shipment: TrackedShipment) -> None:
    if shipment.destination_postal_code or shipment.order is None:
        return
    ship_to = shipment.order.ship_to or {}
    stage(
        session,
        shipment,
        destination_state=str(ship_to.get("state") or ""),
        destination_postal_code=str(ship_to.get("postal_code") or ""),
    )


def detect_for_shipments(
    session: Session, shipments: Sequence[TrackedShipment], now: datetime, settings: Settings
) -> dict[str, list[Delay]]:
    """Judge the shipments a batch of tracking events touched, now: raise their new alerts
    (unless the lane has an open incident, which stands for them), resolve the ones no longer
    true, publish `ShipmentDelayed`. Set-based: the brand's policy and incidents once per
    transaction, the shipments' open alerts in one query (as rows), those no longer true
    resolved in one update, new alerts in one insert; the rest is the detectors in memory.
    A destination the shipment lacks is taken from its order and staged (`shipment_writes`:
    the caller writes it). Returns each shipment's delays by id."""
    shipments = list({s.id: s for s in shipments}.values())
    if not shipments:
        return {}
    policies = {
        brand_id: per_transaction(
            session, ("delays.policy", brand_id), partial(policy_for, session, brand_id, settings)
        )
        for brand_id in dict.fromkeys(shipment.brand_id for shipment in shipments)
    }
    snaps: dict[str, list[ShipmentSnapshot]] = defaultdict(list)
    for shipment in shipments:
        _fill_destination(session, shipment)
        snaps[shipment.brand_id].append(snapshot(shipment, policies[shipment.brand_id]))
    judged: dict[str, tuple[ShipmentSnapshot, list[Delay]]] = {
        snap.id: (snap, detect(snap, now, policies[brand_id]))
        for brand_id, brand_snaps in snaps.items()
        for snap in with_journeys(session, brand_snaps, now, policies[brand_id])
    }
    unresolved = session.execute(
        select(Alert.id, Alert.brand_id, Alert.shipment_id, Alert.kind, Alert.dedupe_key).where(
            one_of(session, Alert.shipment_id, judged), Alert.status != alerts.RESOLVED
        )
    ).all()
    raised_keys = {(a.brand_id, a.dedupe_key) for a in unresolved}
    new_alerts: list[dict[str, Any]] = []
    delayed_events: list[ShipmentDelayed] = []
    kinds, delayed = self_resolving_kinds(), delayed_kinds()
    # Lane incidents are raised by the sweep, never here: a batch reads them once.
    incidents = {
        brand_id: per_transaction(
            session,
            ("delays.open_incidents", brand_id),
            partial(open_incidents, session, brand_id),
        )
        for brand_id in policies
    }
    for snap, delays in judged.values():
        if (snap.carrier, snap.region) not in incidents[snap.brand_id]:
            new_alerts.extend(
                alerts.alert_row(snap.brand_id, now, **shipment_alert(snap, delay))
                for delay in delays
                if (snap.brand_id, delay.dedupe_key) not in raised_keys
            )
        first_delayed = next((d for d in delays if d.kind in delayed), None)
        if first_delayed is not None:
            delayed_events.append(delayed_event(snap, first_delayed, now))
    stale = [
        alert.id
        for alert in unresolved  # each names a shipment of the batch
        if alert.kind in kinds
        and alert.dedupe_key not in {d.dedupe_key for d in judged[alert.shipment_id][1]}
    ]
    alerts.resolve_all(session, stale, "shipflow", now)
    alerts.insert_alerts(session, new_alerts)
    publish_all(session, delayed_events)
    return {sid: delays for sid, (_, delays) in judged.items()}


def sql_date(session: Session, column):
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column)
    return cast(column, Date)

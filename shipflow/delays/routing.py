"""Ops alerts out: route each new alert by the brand's rules, fold many of a kind into one
digest, escalate what nobody acknowledged in time. Sending is `shipflow.notify`'s part. Everything goes through the outbox, one
message per (alert or digest, channel, stage), so a send happens at least once and never
twice for the same reason."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shipflow.delays import alerts as alert_store
from shipflow.delays.config import AlertsConfig
from shipflow.delays.service import policy_for
from shipflow.domain.events import OpsNotification
from shipflow.notify.transports import Message, SendError, TransportSettings, ops_transport
from shipflow.store.db import in_values, unit_of_work
from shipflow.store.lease import unleased
from shipflow.store.models import Alert, OutboxMessage
from shipflow.store.outbox import Claimed
from shipflow.text import one_line

if TYPE_CHECKING:
    from shipflow.config import Settings

TOPIC = OpsNotification.topic
NEW, ESCALATION = "new", "escalation"
MAX_ATTEMPTS_BACKOFF = timedelta(hours=1)
Routed = dict[tuple[str, str], list[str]]  # (channel, kind) -> alert ids


DIGEST_SAMPLE = 50  # alerts a digest names; its subject gives the full count


@dataclass
class DispatchResult:
    notified: int = 0
    escalated: int = 0
    messages: int = 0


def _message(brand_id: str, channel: str, stage: str, ids: list[str], now: datetime) -> dict:
    ids = sorted(ids)
    if len(ids) == 1:
        key = f"{TOPIC}:{stage}:{channel}:{ids[0]}"
    else:
        digest = hashlib.sha256("|".join(ids).encode()).hexdigest()[:20]
        key = f"{TOPIC}:{stage}:{channel}:digest:{digest}"
    return {
        "brand_id": brand_id,
        "topic": TOPIC,
        "dedupe_key": key,
        "payload": {
            "channel": channel,
            "stage": stage,
            "alert_ids": ids[:DIGEST_SAMPLE],
            "total": len(ids),
        },
        "created_at": now,
        "available_at": now,
        "attempts": 0,
    }


def _batches(brand_id: str, stage: str, routed: Routed, config: AlertsConfig, now) -> list[dict]:
    """One message per alert, or one digest per (channel, kind) when many fire at once."""
    messages: list[dict[str, Any]] = []
    for (channel, _kind), ids in routed.items():
        groups = [ids] if len(ids) >= config.digest_threshold else [[i] for i in ids]
        messages.extend(_message(brand_id, channel, stage, g, now) for g in groups)
    return messages


def _mark(session: Session, ids: list[str], **values) -> None:
    for clause in in_values(session, Alert.id, ids):
        session.execute(
            update(Alert)
            .where(clause)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def dispatch(session: Session, brand_id: str, now: datetime, settings: Settings) -> DispatchResult:
    """Queue notifications for the brand's new alerts and due escalations. Reads plain rows
    and marks them in bulk: after a first sweep there may be tens of thousands."""
    config = policy_for(session, brand_id, settings).alerts
    columns = (Alert.id, Alert.kind, Alert.severity, Alert.carrier, Alert.notified_at)
    unresolved = (Alert.brand_id == brand_id, Alert.status == alert_store.OPEN)

    fresh = session.execute(select(*columns).where(*unresolved, Alert.notified_at.is_(None)))
    new: Routed = defaultdict(list)
    notified = []
    for alert in fresh:
        notified.append(alert.id)
        for channel in sorted(config.channels_for(alert.kind, alert.severity, alert.carrier)):
            new[channel, alert.kind].append(alert.id)

    waiting = session.execute(
        select(*columns).where(
            *unresolved, Alert.notified_at.is_not(None), Alert.escalated_at.is_(None)
        )
    )
    escalate: Routed = defaultdict(list)
    escalated = []
    for alert in waiting:
        due = config.escalations_for(
            alert.kind, alert.severity, alert.carrier, alert.notified_at, now
        )
        for channel in sorted(due):
            escalate[channel, alert.kind].append(alert.id)
        if due:
            escalated.append(alert.id)

    _mark(session, notified, notified_at=now)
    _mark(session, escalated, escalated_at=now)
    messages = _batches(brand_id, NEW, new, config, now)
    messages += _batches(brand_id, ESCALATION, escalate, config, now)
    alert_store.insert_ignoring(session, OutboxMessage, messages, ["dedupe_key"])
    return DispatchResult(len(notified), len(escalated), len(messages))


# --- delivery ----------------------------------------------------------------------------


def alert_line(alert: Alert) -> str:
    where = " · ".join(filter(None, [alert.carrier, alert.region]))
    return f"[{alert.severity}] {alert.title}" + (f" ({where})" if where else "")


def notice_for(
    alerts: list[Alert], stage: str, key: str, base_url: str, total: int | None = None
) -> Message:
    """`total`: how many alerts a digest stands for (it names only a sample). The subject is
    made one line: alert titles hold shopper text, and a line break cannot go in a header."""
    total = max(total or 0, len(alerts))
    kinds = sorted({a.kind for a in alerts})
    worst = max(alerts, key=lambda a: ("info", "warning", "critical").index(a.severity))
    if total == 1:
        subject = f"shipflow {worst.severity}: {worst.title}"
        link = f"{base_url}/ops/alerts?id={worst.id}"
    else:
        subject = f"shipflow: {total} {'/'.join(kinds)} alerts ({worst.severity})"
        link = f"{base_url}/ops/alerts?kind={kinds[0]}" if len(kinds) == 1 else f"{base_url}/ops/"
    if stage == ESCALATION:
        subject = f"ESCALATED, not acknowledged: {subject}"
    data = {
        "stage": stage,
        "alerts": [
            {
                "id": a.id,
                "kind": a.kind,
                "severity": a.severity,
                "status": a.status,
                "title": a.title,
                "carrier": a.carrier,
                "region": a.region,
                "shipment_id": a.shipment_id,
                "created_at": a.created_at.isoformat(),
            }
            for a in alerts
        ],
    }
    subject, lines = one_line(subject), [alert_line(a) for a in alerts]
    more = [f"... and {total - len(lines)} more"] if total > len(lines) else []
    body = "\n".join([subject, *(f"- {line}" for line in lines), *more, link])
    return Message(key, subject, body, lines=lines, link=link, data=data, total=total)


def handle(session: Session, message: Claimed, settings: Settings) -> None:
    """Send one queued notification. Alerts resolved meanwhile (or, for an escalation,
    acknowledged) are left out; with none left there is nothing to send."""
    payload = message.payload
    brand_id = message.brand_id
    if brand_id is None:  # ops notifications are a brand's; no alert belongs to none
        return
    wanted = (
        (alert_store.OPEN,)
        if payload["stage"] == ESCALATION
        else (alert_store.OPEN, alert_store.ACKNOWLEDGED)
    )
    found = session.scalars(
        select(Alert)
        .where(
            Alert.brand_id == brand_id,
            Alert.id.in_(payload["alert_ids"]),
            Alert.status.in_(wanted),
        )
        .order_by(Alert.created_at, Alert.id)
    ).all()
    if not found:
        return
    channel = policy_for(session, brand_id, settings).alerts.channels.get(payload["channel"])
    if channel is None:
        raise SendError(f"channel {payload['channel']!r} is no longer configured")
    notice = notice_for(
        list(found), payload["stage"], message.dedupe_key, settings.base_url, payload.get("total")
    )
    reach = TransportSettings(settings.smtp_url, settings.notify.allow_private_networks)
    ops_transport(channel, reach).send(notice)


def deliver_due(runtime, limit: int = 100) -> int:
    """Send due ops notifications, each in its own transaction; failures back off
    exponentially (1 min, 2, 4 ... up to an hour). Returns how many were sent."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        due = session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.topic == TOPIC,
                OutboxMessage.processed_at.is_(None),
                OutboxMessage.available_at <= now,
                unleased(OutboxMessage, now),  # not one the outbox's dispatcher holds
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    sent = 0
    for message_id in due:
        with unit_of_work(runtime.sessions) as session:
            message = session.get(OutboxMessage, message_id, with_for_update={"skip_locked": True})
            if message is None or message.processed_at is not None:
                continue
            try:
                handle(session, message, runtime.settings)
            except SendError as exc:
                message.attempts += 1
                message.last_error = str(exc)[:2000]
                delay = min(timedelta(minutes=2 ** (message.attempts - 1)), MAX_ATTEMPTS_BACKOFF)
                message.available_at = now + delay
                continue
            message.processed_at = now
            sent += 1
    return sent

"""Alerts and outbox rows written in bulk through the shared writer (`store.db.
insert_all_or_skip`): a row clashing with a unique index is skipped, on both databases, and
the JSON columns read back as written."""

from __future__ import annotations

from sqlalchemy import select

from shipflow.delays import alerts
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, OutboxMessage


def _alert(runtime, brand_id: str, key: str, title: str) -> dict:
    now = runtime.clock.now()
    details = {"why": "Zoë's parcel ✓", "days": [1, 2.5], "nested": {"ok": True}}
    return alerts.alert_row(
        brand_id, now, kind="late", severity="warning", title=title, dedupe_key=key, details=details
    )


def test_an_alert_whose_key_is_open_is_skipped_and_one_resolved_is_not(runtime, brand_id):
    with unit_of_work(runtime.sessions) as session:
        alerts.insert_alerts(session, [_alert(runtime, brand_id, "a", "first")])
    with unit_of_work(runtime.sessions) as session:
        rows = [_alert(runtime, brand_id, key, "second") for key in ("a", "b")]
        alerts.insert_alerts(session, rows)  # "a" is open: skipped; "b" is new
    with unit_of_work(runtime.sessions) as session:
        first = session.scalars(select(Alert).where(Alert.dedupe_key == "a")).one()
        alerts.resolve(first, "ops@example.com", runtime.clock.now())
    with unit_of_work(runtime.sessions) as session:  # the index covers open alerts only
        alerts.insert_alerts(session, [_alert(runtime, brand_id, "a", "third")])
    with unit_of_work(runtime.sessions) as session:
        stored = session.execute(
            select(Alert.dedupe_key, Alert.title, Alert.status, Alert.details).order_by(
                Alert.dedupe_key, Alert.created_at, Alert.title
            )
        ).all()
    details = {"why": "Zoë's parcel ✓", "days": [1, 2.5], "nested": {"ok": True}}
    assert [tuple(row) for row in stored] == [
        ("a", "first", "resolved", details),
        ("a", "third", "open", details),
        ("b", "second", "open", details),
    ]


def test_an_outbox_row_whose_key_is_queued_is_skipped(runtime, brand_id):
    now = runtime.clock.now()

    def message(key: str, note: str) -> dict:
        return {
            "brand_id": brand_id,
            "topic": "ops.notification",
            "dedupe_key": key,
            "payload": {"note": note},
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }

    with unit_of_work(runtime.sessions) as session:
        alerts.insert_ignoring(session, OutboxMessage, [message("k1", "first")], ["dedupe_key"])
    with unit_of_work(runtime.sessions) as session:
        rows = [message("k1", "again"), message("k2", "new")]
        alerts.insert_ignoring(session, OutboxMessage, rows, ["dedupe_key"])
    with unit_of_work(runtime.sessions) as session:
        stored = session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.payload).order_by(
                OutboxMessage.dedupe_key
            )
        ).all()
    assert [tuple(row) for row in stored] == [("k1", {"note": "first"}), ("k2", {"note": "new"})]

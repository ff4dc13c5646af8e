"""A batch of carrier receipts processed set-based: the same outcome as one at a time (each
event stored once, the status by replay, the outbox per receipt), a bad receipt held alone,
and a constant number of queries on the events table, and for the reactions, whatever the
batch's size."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.engine.default import CACHE_HIT

from shipflow.store.db import unit_of_work
from shipflow.store.lease import claim
from shipflow.store.models import Alert, OutboxMessage, Shipment, TrackingEventRow
from shipflow.store.ops_models import DelayRiskModelRow
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking.webhooks import process_due_receipts
from tests.delays.conftest import flat_risk
from tests.statements import statements_sent
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, late_orders, post_webhook


def receipts(runtime) -> list[tuple[str, str | None]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(WebhookReceipt.status, WebhookReceipt.error).order_by(WebhookReceipt.id)
        )
        return [(status, error) for status, error in rows]


def test_a_mixed_batch_is_processed_in_one_sweep(client, runtime, tracked, make_shipment, clock):
    one = make_shipment(tracked["tb"], "TN1")
    two = make_shipment(tracked["tb"], "TN2")
    scan = payload("TN1", event("PU", "in_transit", at(clock, -3)))
    for body in (
        scan,
        scan,  # the carrier sent it twice: stored once
        b"not json",  # must not sink the others
        payload("NOPE", event("PU", "in_transit", at(clock, -2))),
        payload("TN2", event("OD", "out_for_delivery", at(clock, -1))),
    ):
        assert post_webhook(client, tracked["tb"], body).status_code == 202

    assert process_due_receipts(runtime, limit=100) == 5

    assert receipts(runtime) == [
        ("processed", None),
        ("processed", None),
        (
            "failed",
            "CarrierResponseError: unreadable webhook: "
            "JSONDecodeError('Expecting value: line 1 column 1 (char 0)')",
        ),
        ("processed", "unknown tracking numbers: NOPE"),
        ("processed", None),
    ]
    with runtime.sessions() as session:
        assert session.get_one(Shipment, one).status == "in_transit"
        assert session.get_one(Shipment, two).status == "out_for_delivery"
        stored = session.execute(
            select(TrackingEventRow.shipment_id, TrackingEventRow.raw_code)
        ).all()
    assert sorted(stored) == sorted([(one, "PU"), (two, "OD")])


@pytest.mark.parametrize(
    ("first", "second", "topics"),
    [
        (
            ("PU", "in_transit", -3),
            ("DL", "delivered", -1),
            [
                "shipment.status_changed",
                "shipment.shipped",
                "shipment.status_changed",
                "shipment.delivered",
            ],
        ),
        (
            ("DL", "delivered", -1),
            ("PU", "in_transit", -3),
            ["shipment.status_changed", "shipment.delivered"],
        ),
    ],
    ids=["in-order", "out-of-order"],
)
def test_two_receipts_for_one_shipment_in_one_batch(
    client, runtime, tracked, make_shipment, clock, first, second, topics
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    for code, status, hours in (first, second):
        post_webhook(client, tracked["tb"], payload("TN1", event(code, status, at(clock, hours))))

    assert process_due_receipts(runtime, limit=100) == 2

    with runtime.sessions() as session:
        assert session.get_one(Shipment, shipment_id).status == "delivered"
        rows = session.scalars(
            select(TrackingEventRow).order_by(TrackingEventRow.occurred_at)
        ).all()
        assert [(r.raw_code, r.applied) for r in rows] == [("PU", True), ("DL", True)]
        assert (
            session.scalars(select(OutboxMessage.topic).order_by(OutboxMessage.id)).all() == topics
        )
    assert receipts(runtime) == [("processed", None), ("processed", None)]


def test_a_batch_reads_and_writes_the_events_in_a_constant_number_of_statements(
    client, runtime, tracked, make_shipment, clock
):
    for n in range(30):
        make_shipment(tracked["tb"], f"TN{n}")
        post_webhook(
            client, tracked["tb"], payload(f"TN{n}", event("PU", "in_transit", at(clock, -2)))
        )
    with statements_sent(runtime.engine) as statements:
        assert process_due_receipts(runtime, limit=100) == 30

    on_events = [s.split()[0] for s in statements if "tracking_events" in s]
    if runtime.engine.dialect.name == "sqlite":  # the flags and the events on the snapshot,
        assert on_events == ["SELECT", "SELECT", "SELECT", "INSERT"]  # the flags under the lock
    else:  # the keys, the new ones, the replay's read
        assert on_events == ["SELECT", "INSERT", "SELECT"]
    on_receipts = [s.split()[0] for s in statements if "webhook_receipts" in s]
    assert on_receipts == ["UPDATE", "SELECT", "UPDATE"]  # claim, load, mark processed
    with runtime.sessions() as session:
        statuses = set(session.scalars(select(Shipment.status)))
    assert statuses == {"in_transit"}


def test_the_events_statements_are_compiled_once_whatever_the_batch_size(
    client, runtime, tracked, make_shipment, clock
):
    """A batch of 30 after a batch of 3 runs the events' statements SQLAlchemy compiled for
    the first (insert, replay read, `applied` flags): none is built for the batch's size."""

    def sweep(numbers: list[str], code: str, status: str, hours: float) -> list[tuple]:
        for number in numbers:
            post_webhook(
                client, tracked["tb"], payload(number, event(code, status, at(clock, hours)))
            )
        runs: list[tuple] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if "tracking_events" in statement:
                runs.append((statement.split()[0], context.cache_hit is CACHE_HIT))

        sa_event.listen(runtime.engine, "before_cursor_execute", record)
        try:
            assert process_due_receipts(runtime, limit=100) == len(numbers)
        finally:
            sa_event.remove(runtime.engine, "before_cursor_execute", record)
        return runs

    numbers = [f"TN{n}" for n in range(30)]
    for number in numbers:
        make_shipment(tracked["tb"], number)
    sweep(numbers[:3], "DL", "delivered", -3)
    # Scans after the delivery are stored but not applied: their flags are updated.
    assert sweep(numbers[:3], "IT", "in_transit", -2)[-1] == ("UPDATE", False)
    runs = sweep(numbers[:3], "OD", "out_for_delivery", -1.5) + sweep(
        numbers, "IT2", "in_transit", -1
    )
    if runtime.engine.dialect.name == "sqlite":  # read before the write lock (ingest_batch)
        assert [kind for kind, _ in runs] == ["SELECT", "SELECT", "SELECT", "INSERT", "UPDATE"] * 2
    else:
        assert [kind for kind, _ in runs] == ["SELECT", "INSERT", "SELECT", "UPDATE"] * 2
    assert all(hit for _, hit in runs)


def _statements_of_a_sweep(client, runtime, tracked, clock, numbers) -> list[str]:
    for number in numbers:
        body = payload(number, event("PU", "in_transit", at(clock, -2)))
        post_webhook(client, tracked["tb"], body)
    with statements_sent(runtime.engine) as statements:
        assert process_due_receipts(runtime, limit=100) == len(numbers)
    return statements


def _openings(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:4]) for s in statements]


def _but_the_risk_model_read(statements: list[str]) -> list[str]:
    """A process's first batch without the one read of the brand's delay risk model (here
    none yet), which the next batches take from the process's cache (`ParsedModels`)."""
    reads = [s for s in statements if "delay_risk_models" in s]
    assert len(reads) == 1
    return [s for s in statements if s not in reads]


def test_the_reactions_take_as_many_statements_for_30_shipments_as_for_3(
    client, runtime, tracked, make_shipment, clock
):
    """Prediction revised and delays detected per batch: a query per event coming back makes
    the larger batch take more statements."""
    small, large = [f"S{n}" for n in range(3)], [f"L{n}" for n in range(30)]
    late_orders(runtime, tracked, make_shipment, clock, small + large)
    first = _openings(_statements_of_a_sweep(client, runtime, tracked, clock, small))
    second = _openings(_statements_of_a_sweep(client, runtime, tracked, clock, large))
    assert second == _but_the_risk_model_read(first)
    on_alerts = [s for s in second if "alerts" in s]
    assert len(on_alerts) <= 3  # open alerts of the batch, its lane incidents, the insert
    # the shipments' orders come joined to them, not in a query of their own
    assert [s for s in second if s.startswith("SELECT orders.")] == []
    with runtime.sessions() as session:
        alerted = session.scalars(select(Alert.shipment_id).where(Alert.kind == "late")).all()
        delayed = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.topic == "shipment.delayed")
        ).all()
    assert (len(alerted), len(delayed)) == (33, 33)


def test_the_brands_delay_risk_model_is_not_read_again_each_batch(
    client, runtime, tracked, make_shipment, clock
):
    """The model changes once per learning: a process reads its row once, not per batch."""
    with unit_of_work(runtime.sessions) as session:
        model = flat_risk(1.0).to_dict()
        session.add(
            DelayRiskModelRow(brand_id=tracked["tb"].id, learned_at=clock.now(), model=model)
        )
    first, second = [f"F{n}" for n in range(3)], [f"S{n}" for n in range(3)]
    late_orders(runtime, tracked, make_shipment, clock, first + second)
    assert any("delay_risk_models" in s for s in _statements_of_a_sweep(
        client, runtime, tracked, clock, first
    ))  # fmt: skip
    later = _statements_of_a_sweep(client, runtime, tracked, clock, second)
    assert [s for s in later if "delay_risk_models" in s] == []


def test_on_postgresql_a_batch_of_30_sends_the_very_statements_of_a_batch_of_3(
    client, runtime, tracked, make_shipment, clock
):
    """The batch's ids, keys and tracking numbers are bound as one array each
    (`store.db.one_of`), so the statements' text does not depend on the batch's size: psycopg
    prepares each once and PostgreSQL plans it once. An IN list is a new statement, parsed
    and planned again, for each number of values."""
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no arrays: its IN lists bind each value")
    small, large = [f"S{n}" for n in range(3)], [f"L{n}" for n in range(30)]
    late_orders(runtime, tracked, make_shipment, clock, small + large)
    first = _statements_of_a_sweep(client, runtime, tracked, clock, small)
    second = _statements_of_a_sweep(client, runtime, tracked, clock, large)
    assert [s for s in second if re.search(r" IN \(%\(", s)] == []  # no list of placeholders
    # `varchar[]`, not `varchar(40)[]`: the length would be checked value by value each time
    assert [s for s in second if re.search(r"\(\d+\)\[\]", s)] == []
    assert second == _but_the_risk_model_read(first)


def test_a_batch_writes_its_shipments_in_one_update_per_step(
    client, runtime, tracked, make_shipment, clock
):
    """The batch's shipments are written set-based (`shipment_writes`), not by the ORM's
    flush: one UPDATE of the status fields and new predictions, after the reactions, an
    executemany over the 30 shipments; the values stored; the next polls left as they were
    (a push moves no indexed column: `shipflow.tracking.polling`). (Through the ORM each
    was an UPDATE of the columns that changed, `updated_at` first; the next polls were a third
    UPDATE, each a new version of every row; written before the reactions, the status fields
    were one UPDATE and the predictions another.) The destinations delay detection takes from
    the orders are one more, from the same kind of document (the ORM's flush sent them as an
    UPDATE per row)."""
    numbers = [f"W{n}" for n in range(30)]
    late_orders(runtime, tracked, make_shipment, clock, numbers)
    for number in numbers:
        post_webhook(
            client, tracked["tb"], payload(number, event("PU", "in_transit", at(clock, -2)))
        )
    with statements_sent(runtime.engine) as statements:
        assert process_due_receipts(runtime, limit=100) == 30
    updates = [s for s in statements if s.startswith("UPDATE shipments")]
    columns = [re.findall(r"(\w+)=", s.split(" SET ")[1].split(" WHERE ")[0]) for s in updates]
    staged = [names for names in columns if "destination_state" not in names]
    filled = [s for s in updates if "destination_state" in s]  # by delay detection
    assert len(filled) == 1
    assert " FROM " in filled[0]  # one document of rows (`update_all`), not a row each
    assert staged == [
        [
            "status",
            "status_reason",
            "predicted_date",
            "updated_at",
            "shipped_at",
            "delivered_at",
            "last_event_at",
        ],
    ]
    with runtime.sessions() as session:
        stored = session.execute(
            select(Shipment.status, Shipment.shipped_at, Shipment.predicted_date).where(
                Shipment.tracking_number.in_(numbers)
            )
        ).all()
        polls = session.scalars(
            select(Shipment.next_poll_at).where(Shipment.tracking_number.in_(numbers))
        ).all()
    assert {
        (status, shipped is not None, predicted is not None)
        for status, shipped, predicted in stored
    } == {("in_transit", True, True)}
    assert set(polls) == {clock.now()}  # as `make_shipment` set them


def receipt_rows(tracked, clock, status: str, count: int) -> list[dict]:
    body = payload("NOPE", event("PU", "in_transit", at(clock, -1)))
    row = {
        "brand_id": tracked["tb"].id,
        "carrier": "fake",
        "account": tracked["tb"].account_id,
        "headers": {},
        "body": body,
        "received_at": clock.now(),
        "available_at": clock.now(),
        "status": status,
        "attempts": 0,
    }
    return [row] * count


def test_concurrent_receipt_claims_are_disjoint(runtime, tracked, clock):
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serializes writers")
    with unit_of_work(runtime.sessions) as session:
        session.execute(insert(WebhookReceipt), receipt_rows(tracked, clock, "received", 10))
    later = clock.now() + timedelta(minutes=5)

    def lease(session) -> set[int]:
        due = [WebhookReceipt.status == "received", WebhookReceipt.available_at <= clock.now()]
        order = [WebhookReceipt.available_at, WebhookReceipt.id]
        return {
            row.id for row in claim(session, WebhookReceipt, due, order, 4, {"available_at": later})
        }

    with runtime.sessions() as one, runtime.sessions() as two:
        first = lease(one)  # transaction still open: rows locked
        second = lease(two)  # does not wait, does not overlap
        assert len(first) == len(second) == 4 and not first & second
        one.commit()
        two.commit()
    with runtime.sessions() as session:
        assert len(lease(session)) == 2


def test_the_sweep_takes_a_larger_batch_on_postgresql(client, runtime, tracked, clock):
    """Under a backlog the job's sweep claims 400 receipts on PostgreSQL (each batch's fixed
    cost shared by more events), 100 on SQLite (its batch holds the web's write lock)."""
    for n in range(150):
        post_webhook(
            client, tracked["tb"], payload(f"NOPE{n}", event("PU", "in_transit", at(clock, -1)))
        )
    batch = 100 if runtime.engine.dialect.name == "sqlite" else 150
    assert runtime.jobs["tracking.process_receipts"].fn(runtime) == batch

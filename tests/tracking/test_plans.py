"""PostgreSQL: what a tracking event's journey reads or changes, from the webhook's receipt to
the customer's e-mail, it finds by an index. A statement planned as a scan of a table that
grows with every event costs more as the table grows: an outbox batch read every shipment
for its orders' parcels until `ix_shipments_order_id` (0.65 ms a batch among 6,000
shipments, 170-190 ms among a million)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, insert, text

from shipflow.jobs.outbox import dispatch_due
from shipflow.jobs.postpurchase import deliver_messages
from shipflow.store.db import unit_of_work
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking.webhooks import _claim, process_due_receipts
from tests.statements import Execution, executions_sent
from tests.tracking.fake_carrier import event as carrier_event
from tests.tracking.fake_carrier import payload
from tests.tracking.helpers import at, post_webhook
from tests.tracking.test_receipt_batch import receipt_rows

# Tables that grow with the events (the configuration's, a few rows a brand, may be scanned).
GROWING = (
    "webhook_receipts",
    "tracking_events",
    "shipments",
    "orders",
    "prediction_revisions",
    "alerts",
    "outbox",
    "customer_messages",
    "update_subscriptions",
)


def scans(engine: Engine, sent: list[Execution]) -> list[str]:
    """The sequential scans of growing tables in the plans of `sent`'s reads and writes, as
    PostgreSQL plans them when it has an index it may use instead (`enable_seqscan` off:
    then a scan is planned only where no index serves, whatever the tables' sizes)."""
    found = []
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("SET LOCAL enable_seqscan = off")  # until the rollback
        for statement, parameters, executemany in sent:
            if executemany or not statement.lstrip().startswith(
                ("SELECT", "UPDATE", "DELETE", "INSERT")
            ):
                continue
            cursor.execute(f"EXPLAIN {statement}", parameters)
            found += [
                f"{line.strip()}  <- {statement[:80]}"
                for (line,) in cursor.fetchall()
                if "Seq Scan on" in line and line.split("Seq Scan on ")[1].startswith(GROWING)
            ]
        connection.rollback()
    return found


def test_an_event_s_statements_find_the_rows_of_growing_tables_by_index(
    client, runtime, tracked, customer_parcel, clock, inbox
):
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans")
    body = payload("TN1", carrier_event("PU", "in_transit", at(clock, -1)))
    with executions_sent(runtime.engine) as sent:
        assert post_webhook(client, tracked["tb"], body).status_code == 202
        assert process_due_receipts(runtime) == 1
        assert dispatch_due(runtime) > 0
        assert deliver_messages(runtime) == 1
    assert inbox.recipients() == ["ada@example.com"]
    assert scans(runtime.engine, sent) == []


def test_a_receipts_claim_reads_the_batch_not_the_backlog(runtime, tracked, clock):
    """Statistics taken when no receipt waited (as autovacuum takes them) and then a backlog:
    the claim's statements, as sent, plan no sort of every waiting receipt (an Append of the
    partitions under a Sort read the whole backlog at every claim: 121 ms among 30,000)."""
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans")
    with unit_of_work(runtime.sessions) as session:
        session.execute(insert(WebhookReceipt), receipt_rows(tracked, clock, "processed", 300))
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE webhook_receipts"))
        connection.execute(text("UPDATE webhook_receipts SET status = 'received'"))
    with executions_sent(runtime.engine) as sent, runtime.sessions() as session:
        claim = _claim(session, clock.now(), 60, limit=10)
    assert len(claim) == 10
    plan = []
    with runtime.engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        for statement, parameters, _ in sent:
            if statement.lstrip().startswith("UPDATE"):
                cursor.execute(f"EXPLAIN {statement}", parameters)
                plan += [line for (line,) in cursor.fetchall()]
            elif statement.lstrip().startswith("SET"):
                cursor.execute(statement, parameters)
        connection.rollback()
    assert plan and not [line for line in plan if line.strip(" ->").startswith("Sort  (")]

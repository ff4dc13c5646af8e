"""PostgreSQL: the row versions and index entries one tracking event's journey writes, webhook
to e-mail, counted by the server (`pg_stat_user_tables`). A worker's claim of a receipt, an
outbox message or a customer message is a HOT update (`shipflow.store.lease`: the lease is a
column no index holds), so it writes no index entry; when the claim moved the row's due
column, each claim wrote an entry into every index of its table."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import text

from benchmarks.row_versions import Writes, index_counts, table_writes
from shipflow.domain import WebhookRequest
from shipflow.jobs.outbox import dispatch_due
from shipflow.jobs.postpurchase import deliver_messages
from shipflow.tracking import webhooks
from shipflow.tracking.accounts import load_account
from tests.tracking.fake_carrier import event as carrier_event
from tests.tracking.fake_carrier import fake_settings, payload, sign
from tests.tracking.helpers import at

APPLICATION = f"shipflow-rows-test-{os.getpid()}"  # this process's backends, found by name
LEASED = ("webhook_receipts", "outbox", "customer_messages")


@pytest.fixture
def settings(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's counters")
    return fake_settings(f"{database_url}&application_name={APPLICATION}")


def counters(runtime) -> dict[str, Writes]:
    """The schema's table counters once every backend that wrote has handed its over: a
    backend does so when it exits, so the runtime's connections are closed first."""
    runtime.engine.dispose()
    with runtime.engine.connect() as connection:
        mine = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = :name AND pid <> pg_backend_pid()"
        )
        for _ in range(100):
            if not connection.scalar(mine, {"name": APPLICATION}):
                break
            connection.rollback()  # a transaction sees one snapshot of the activity
            time.sleep(0.05)
        connection.rollback()
        return table_writes(connection)


def test_an_event_s_claims_write_no_index_entries(runtime, tracked, customer_parcel, clock, inbox):
    before = counters(runtime)
    body = payload("TN1", carrier_event("PU", "in_transit", at(clock, -1)))
    with runtime.sessions() as session:  # as the web stores it, on a connection of the runtime's
        account = load_account(session, runtime, tracked["tb"].account_id)
        request = WebhookRequest({"X-Fake-Signature": sign(body)}, body)
        webhooks.store(session, account, request, clock.now())
        session.commit()
    assert webhooks.process_due_receipts(runtime) == 1
    assert dispatch_due(runtime) > 0
    assert deliver_messages(runtime) == 1
    assert inbox.recipients() == ["ada@example.com"]
    after = counters(runtime)
    written = {table: after[table] - before.get(table, Writes()) for table in LEASED}
    # Each row: inserted, claimed (HOT: the same index entries), settled (a new entry each).
    assert {table: (w.updated, w.hot) for table, w in written.items()} == {
        table: (2 * w.inserted, w.inserted) for table, w in written.items()
    }
    assert all(w.inserted for w in written.values())


def test_events_and_shipments_keep_no_index_another_one_serves(runtime):
    with runtime.engine.connect() as connection:
        indexes = index_counts(connection)
    # tracking_events: its key, (shipment_id, dedupe_key), none by brand (found through the
    # shipments); shipments: one index by tracking number, not one per (carrier, number) and
    # (brand, number).
    assert indexes["tracking_events"] == (2, 0)
    assert indexes["shipments"] == (6, 1)


def test_an_event_s_update_of_its_shipment_is_hot(runtime, tracked, customer_parcel, clock):
    """A pushed event's status change leaves `next_poll_at` (the poller's index) as it was, so
    its shipment's new version is heap-only: no entry in any of the shipment's indexes."""
    before = counters(runtime)
    body = payload("TN1", carrier_event("PU", "in_transit", at(clock, -1)))
    with runtime.sessions() as session:
        account = load_account(session, runtime, tracked["tb"].account_id)
        request = WebhookRequest({"X-Fake-Signature": sign(body)}, body)
        webhooks.store(session, account, request, clock.now())
        session.commit()
    assert webhooks.process_due_receipts(runtime) == 1
    written = counters(runtime)["shipments"] - before["shipments"]
    assert written.updated > 0 and written.hot == written.updated

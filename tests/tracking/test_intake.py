"""The lean webhook path: group-committed receipts are stored before the 202, a failed commit
acknowledges nothing, and the runner is woken per batch and drains a backlog at once."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy
from prometheus_client import REGISTRY
from psycopg.pq import Trace
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.event import listen
from werkzeug.test import EnvironBuilder
from werkzeug.wsgi import get_current_url

from carriers.base import WebhookRequest
from shipflow.jobs import Job
from shipflow.jobs.inprocess import InProcessRunner
from shipflow.store.db import (
    for_update,
    insert_all,
    make_engine,
    make_session_factory,
    sqlite_write_lock,
)
from shipflow.store.models import Shipment
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking.accounts import Account, load_account
from shipflow.tracking.intake import ReceiptWriter
from shipflow.tracking.webhooks import receipt_row
from shipflow.web.webhooks import WebhookIntake, current_url
from tests.tracking.fake_carrier import event, payload, sign
from tests.tracking.helpers import at, post_webhook, wait_for


def intake(app) -> WebhookIntake:
    return app.wsgi_app


def receipts(runtime) -> dict[int, bytes]:
    with runtime.sessions() as session:
        return dict(session.execute(select(WebhookReceipt.id, WebhookReceipt.body)).all())


def test_concurrent_webhooks_each_get_the_id_of_their_own_stored_body(app, runtime, tracked):
    bodies = [payload(f"TN{n}") for n in range(24)]
    acked: dict[bytes, int] = {}
    gate = threading.Barrier(len(bodies))

    def send(body: bytes) -> None:
        client = app.test_client()
        gate.wait()
        response = post_webhook(client, tracked["tb"], body)
        assert response.status_code == 202
        acked[body] = response.json["receipt_id"]

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(acked) == len(bodies)
    assert receipts(runtime) == {receipt_id: body for body, receipt_id in acked.items()}


def test_a_receipt_is_stored_exactly_as_received(client, runtime, tracked, clock):
    """Every byte of the body, header values with quotes, backslashes and non-ASCII text, and
    the time to the microsecond, through the group commit's encoding and back."""
    body = bytes(range(256)) * 4
    headers = {
        "X-Fake-Signature": sign(body),
        "X-Quoted": 'say "hi" \\ \\n back\\slash',
        "X-Name": "Zo\u00eb \u65e5\u672c",
    }

    response = client.post(tracked["tb"].webhook_url, data=body, headers=headers)

    assert response.status_code == 202
    with runtime.sessions() as session:
        stored = session.get_one(WebhookReceipt, response.json["receipt_id"])
        assert stored.body == body
        assert {name: stored.headers[name] for name in headers} == headers
        assert stored.received_at == stored.available_at == clock.now()


def test_insert_all_writes_bytes_as_the_group_commit_does(runtime, tracked, clock):
    """`insert_all` and the group commit share one JSON encoder (`json_value`): bytes go as
    bytea's hex text, every byte value kept."""
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's group commit binds its bytes; its json_each cannot carry them")
    body = bytes(range(256))
    hook = WebhookRequest(headers={}, body=body, url="", received_at=clock.now())
    with runtime.sessions() as session:
        account = load_account(session, runtime, tracked["tb"].account_id, "fake")
        insert_all(session, WebhookReceipt.__table__, [receipt_row(account, hook)])
        session.commit()
    assert list(receipts(runtime).values()) == [body]


def test_a_group_commit_is_one_round_trip_to_postgresql(runtime, tracked, clock, tmp_path):
    """The batch's INSERT is its own transaction: no BEGIN before it nor COMMIT after (three
    round trips a batch where one does), and what it returned is stored for good."""
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's group commit takes the write lock in a transaction of its own")
    engine = make_engine(runtime.engine.url.render_as_string(hide_password=False))
    traced, trace = [], (tmp_path / "protocol").open("wb")

    def _trace(dbapi_connection, _record) -> None:
        dbapi_connection.pgconn.trace(trace.fileno())  # libpq's log of each protocol message
        dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        traced.append(dbapi_connection)

    listen(engine, "connect", _trace)

    with runtime.sessions() as session:
        account = load_account(session, runtime, tracked["tb"].account_id, "fake")
    writer = ReceiptWriter(engine)
    bodies = [payload(f"TN{n}") for n in range(3)]
    hooks = [WebhookRequest(headers={}, body=b, url="", received_at=clock.now()) for b in bodies]
    ids = [writer.store(receipt_row(account, hook)) for hook in hooks]  # a batch each
    for connection in traced:
        connection.pgconn.untrace()
    trace.close()
    lines = (tmp_path / "protocol").read_text().splitlines()
    messages = [line.split("\t")[2] for line in lines]

    assert messages.count("ReadyForQuery") == len(bodies)  # one round trip a batch
    assert "Query" not in messages  # the simple protocol's: no BEGIN, no COMMIT
    assert receipts(runtime) == dict(zip(ids, bodies, strict=True))
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "http://shipflow.example/webhooks/sf/acc_1?token=a",
        "http://shipflow.example/webhooks/sf/acc_1?token=b",  # another query: another URL
        "http://other.example:8080/webhooks/sf/acc_1?token=a",
        "https://shipflow.example/webhooks/sf/acc_1",
        "https://shipflow.example/base/webhooks/sf/acc_1?token=a&x=%C3%A9",
    ],
)
def test_the_remembered_url_is_the_one_werkzeug_builds(url):
    base = "https://shipflow.example/base/" if "/base/" in url else None
    environ = EnvironBuilder(url.replace("/base", ""), base_url=base, method="POST").get_environ()
    for _ in range(2):  # built, then remembered
        assert current_url(environ) == get_current_url(environ)


def test_webhooks_are_counted_by_status_and_timed(client, tracked):
    def counted(status: int) -> float:
        labels = {"method": "POST", "endpoint": "webhooks.receive", "status": str(status)}
        return REGISTRY.get_sample_value("shipflow_http_requests_total", labels) or 0.0

    def timed() -> float:
        labels = {"endpoint": "webhooks.receive"}
        return REGISTRY.get_sample_value("shipflow_http_request_seconds_count", labels) or 0.0

    before = counted(202), counted(401), timed()
    post_webhook(client, tracked["tb"], payload("TN1"))
    post_webhook(client, tracked["tb"], payload("TN2"))
    post_webhook(client, tracked["tb"], payload("TN3"), signature="forged")

    assert (counted(202), counted(401), timed()) == (before[0] + 2, before[1] + 1, before[2] + 3)


def stored_row(brand, now) -> dict:
    """A receipt's row as the webhook endpoint hands it to the writer, less its body."""
    return {
        "brand_id": brand.id,
        "source_kind": Account.source_kind,
        "carrier": "fake",
        "account": brand.account_id,
        "headers": {},
        "received_at": now,
        "available_at": now,
        "status": "received",
        "attempts": 0,
    }


def test_the_runner_is_told_of_each_receipt_at_most_once_an_interval(runtime, tracked, clock):
    """The first batch at once; those that follow within the interval together at its end,
    with nothing owed left behind."""
    told: list[tuple[float, list[int]]] = []
    writer = ReceiptWriter(
        runtime.engine,
        on_stored=lambda ids: told.append((time.monotonic(), list(ids))),
        announce_every=1.5,
    )
    row = stored_row(tracked["tb"], clock.now())

    ids = [writer.store({**row, "body": b"%d" % n}) for n in range(4)]  # four batches

    assert wait_for(lambda: sum(len(each) for _, each in told) == len(ids))
    assert [each for _, each in told] == [ids[:1], ids[1:]]
    assert told[1][0] - told[0][0] >= 1.4


def test_on_sqlite_an_acknowledged_receipt_is_synced_to_disk_before_its_202(
    runtime, tracked, clock
):
    """The engine's connections run `synchronous=NORMAL` (WAL: safe when a process dies, not
    when the machine loses power); the writer's commit, whose 202 tells the carrier not to
    send again, runs FULL: the WAL is synced to disk before the acknowledgement."""
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's pragma; PostgreSQL's commits are synchronous by default")
    engine = make_engine(str(runtime.engine.url))
    statements: list[str] = []
    sqlalchemy.event.listen(
        engine, "connect", lambda driver, _: driver.set_trace_callback(statements.append)
    )
    with engine.connect() as other:
        assert other.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL

    ReceiptWriter(engine).store({**stored_row(tracked["tb"], clock.now()), "body": b"{}"})

    insert = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO webhook_"))
    commit = statements.index("COMMIT", insert)
    settings = [s for s in statements[:commit] if s.startswith("PRAGMA synchronous")]
    assert settings[-1] == "PRAGMA synchronous = FULL"
    engine.dispose()


def test_a_failed_commit_acknowledges_nothing(app, client, runtime, tracked, monkeypatch):
    broken = create_engine("sqlite:////nonexistent-dir/receipts.db")
    monkeypatch.setattr(intake(app), "writer", ReceiptWriter(broken))

    response = post_webhook(client, tracked["tb"], payload("TN1"))

    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "30"
    assert receipts(runtime) == {}


def test_a_webhook_that_cannot_have_sqlites_write_lock_in_time_is_503_and_not_stored(
    app, client, runtime, tracked, monkeypatch
):
    """Another process (the jobs process) holds the write lock past the writer's patience:
    a clear 503 to send again, not a hung or closed connection."""
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has row locks: an INSERT does not wait for other writers")
    monkeypatch.setattr(intake(app).writer, "lock_patience", 0.2)
    other = sqlite3.connect(runtime.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = post_webhook(client, tracked["tb"], payload("TN1"))
        waited = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "30"
    assert response.json["detail"] == "The webhook could not be stored; send it again."
    assert 0.2 <= waited < 2.0
    assert receipts(runtime) == {}
    assert post_webhook(client, tracked["tb"], payload("TN1")).status_code == 202


def lock_let_go_after_a_second(path: Path) -> list[float]:
    """Another writer takes SQLite's write lock on `path` now and lets it go in a second; the
    list gets the moment it did."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    released: list[float] = []

    def release() -> None:
        holder.execute("COMMIT")
        released.append(time.monotonic())

    threading.Timer(1.0, release).start()
    return released


def test_the_group_commit_takes_the_write_lock_as_soon_as_another_writer_lets_go(tmp_path):
    """Asked every millisecond. SQLite's own busy wait tries every 100 ms once it has waited a
    while: a lock let go at 1 s was taken 35-52 ms later by it, 0.1-0.2 ms later by this."""
    path = tmp_path / "locks.db"
    released = lock_let_go_after_a_second(path)
    waiter = sqlite3.connect(path, timeout=7.0, isolation_level=None)

    sqlite_write_lock(waiter, patience=5.0)

    assert time.monotonic() - released[0] < 0.02
    assert waiter.in_transaction
    waiter.execute("ROLLBACK")
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (7000,)  # its own, restored


def test_a_jobs_batch_takes_the_write_lock_as_soon_as_the_group_commit_lets_go(tmp_path):
    """The jobs' batches (`for_update`) ask every millisecond too: with SQLite's own busy wait
    they lost nearly every turn to the group commit, which does (38 ms late, measured)."""
    path = tmp_path / "locks.db"
    released = lock_let_go_after_a_second(path)
    with make_session_factory(make_engine(f"sqlite:///{path}"))() as session:
        for_update(session, select(Shipment.id))
        assert time.monotonic() - released[0] < 0.02
        assert session.connection().connection.driver_connection.in_transaction


def test_a_claim_takes_the_write_lock_as_soon_as_another_writer_lets_go(tmp_path):
    """A transaction's first write (the jobs' claims: one UPDATE each) asks every millisecond
    too, not through the driver's implicit BEGIN and SQLite's busy wait (28 ms late or more)."""
    path = tmp_path / "locks.db"
    sqlite3.connect(path).execute("CREATE TABLE claims (id INTEGER PRIMARY KEY)")
    released = lock_let_go_after_a_second(path)
    with make_session_factory(make_engine(f"sqlite:///{path}"))() as session:
        session.execute(text("INSERT INTO claims (id) VALUES (1)"))
        assert time.monotonic() - released[0] < 0.02
        session.commit()


def test_reads_outside_a_write_wait_for_no_write_lock(tmp_path):
    path = tmp_path / "locks.db"
    sqlite3.connect(path).execute("CREATE TABLE claims (id INTEGER PRIMARY KEY)")
    released = lock_let_go_after_a_second(path)
    with make_session_factory(make_engine(f"sqlite:///{path}"))() as session:
        assert session.scalars(text("SELECT id FROM claims")).all() == []
        assert not released
        assert not session.connection().connection.driver_connection.in_transaction


def test_a_database_outage_before_the_account_is_known_is_503(app, client, runtime, tracked):
    dead = {
        "sqlite": "sqlite:////nonexistent-dir/shipflow.db",
        "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/shipflow",  # nothing listens
    }[runtime.engine.dialect.name]
    intake(app).runtime = replace(runtime, sessions=make_session_factory(create_engine(dead)))

    response = post_webhook(client, tracked["tb"], payload("TN1"))

    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "30"


def test_an_account_id_with_a_nul_byte_is_404_without_a_query(client, tracked):
    response = client.post("/webhooks/fake/cac%00x", data=payload("TN1"))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


class ExplodingRunner:
    def wake(self, name: str) -> None:
        raise RuntimeError("runner gone")


def test_a_failure_after_the_commit_loses_no_receipt(
    app, client, runtime, jobs, tracked, make_shipment, clock
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    app.extensions["shipflow.jobs"] = ExplodingRunner()
    body = payload("TN1", event("PU", "in_transit", at(clock, -1)))

    response = post_webhook(client, tracked["tb"], body)

    assert response.status_code == 202
    assert receipts(runtime) == {response.json["receipt_id"]: body}
    assert jobs.drain() >= 1  # the sweep finds what the failed wake-up did not announce
    with runtime.sessions() as session:
        assert session.get(Shipment, shipment_id).status == "in_transit"


def test_other_requests_pass_through_to_the_app(client, tracked):
    response = client.get(tracked["tb"].webhook_url)
    assert (response.status_code, response.mimetype) == (404, "application/problem+json")
    assert client.get("/healthz").status_code == 200


def test_a_woken_job_runs_at_once_and_again_until_its_backlog_is_drained(runtime):
    backlog = [100, 100, 37]
    runs = []

    def drain_some(_runtime) -> int:
        runs.append(time.monotonic())
        return backlog.pop(0) if backlog else 0

    runtime.jobs["test.backlog"] = Job("test.backlog", drain_some, every=3600)

    runner = InProcessRunner(runtime, tick=3600).start()  # no tick within the test
    try:
        assert wait_for(lambda: len(runs) == 4)  # three runs with work, one that found none
        time.sleep(0.1)
        assert len(runs) == 4 and backlog == []  # then it sleeps
        runner.wake("test.backlog")
        assert wait_for(lambda: len(runs) == 5)
    finally:
        runner.stop()


def test_process_receipts_wakes_for_new_webhooks(
    app, client, runtime, tracked, make_shipment, clock
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    runner = InProcessRunner(runtime, tick=3600).start()
    app.extensions["shipflow.jobs"] = runner
    try:
        time.sleep(0.2)  # past the first round of periodic jobs
        post_webhook(
            client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -1)))
        )

        def status() -> str:
            with runtime.sessions() as session:
                return session.scalar(select(Shipment.status).where(Shipment.id == shipment_id))

        assert wait_for(lambda: status() == "in_transit")
    finally:
        runner.stop()
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WebhookReceipt)) == 1


def test_a_forked_worker_does_not_share_the_parents_connections(runtime):
    """A web worker or the embedded jobs process, on PostgreSQL and SQLite alike."""
    with runtime.engine.connect():
        pass
    assert runtime.engine.pool.checkedin() == 1
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a web worker, as it starts
        os.write(write, str(runtime.engine.pool.checkedin()).encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 8) == b"0"

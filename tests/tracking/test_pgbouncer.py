"""Through PgBouncer in transaction mode (each transaction on any server connection): the
webhook intake's group commit and the processing jobs work with `?prepare_threshold=none`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select

from carriers.base import WebhookRequest
from shipflow.clock import SystemClock
from shipflow.jobs.inprocess import InProcessRunner
from shipflow.runtime import Runtime
from shipflow.store.db import make_engine, make_session_factory
from shipflow.store.models import Shipment, TrackingEventRow
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking.accounts import load_account
from shipflow.tracking.intake import ReceiptWriter
from shipflow.tracking.webhooks import receipt_row
from tests.tracking.fake_carrier import event, payload, sign
from tests.tracking.processes import _port_open, free_port, needs_services, wait_until

pytestmark = [
    *needs_services,
    pytest.mark.skipif(shutil.which("pgbouncer") is None, reason="pgbouncer is not installed"),
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


@pytest.fixture
def bouncer_url(database_url):
    """A private PgBouncer (transaction pooling) whose database `shipflow` is the test schema."""
    parts = urlsplit(database_url.replace("postgresql+psycopg", "postgresql"))
    schema = unquote(parse_qs(parts.query)["options"][0]).split("=", 1)[1]
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="shipflow-pgbouncer-"))  # readable by its user
    directory.chmod(0o755)
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        f"[databases]\nshipflow = host={parts.hostname} port={parts.port or 5432} "
        f"dbname={parts.path.lstrip('/')} user={parts.username} "
        f"connect_query='SET search_path TO {schema}'\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = any\n"
        "pool_mode = transaction\nunix_socket_dir =\ndefault_pool_size = 4\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    process = subprocess.Popen([*user, "pgbouncer", str(ini)], stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: _port_open(port), timeout=10)
        yield f"postgresql+psycopg://{parts.username}@127.0.0.1:{port}/shipflow?prepare_threshold=none"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory)


def test_group_commit_and_processing_through_pgbouncer(runtime, tracked, bouncer_url):
    runtime.clock = SystemClock()
    brand = tracked["tb"]
    with runtime.sessions.begin() as session:
        session.add_all(
            Shipment(
                brand_id=brand.id, carrier="fake", carrier_account="main", tracking_number=f"TN{n}"
            )
            for n in range(200)
        )
        account = load_account(session, runtime, brand.account_id)
    engine = make_engine(bouncer_url)
    writer = ReceiptWriter(engine)
    ids: list[int] = []

    def send(start: int) -> None:
        for n in range(start, 200, 8):
            body = payload(f"TN{n}", event("PU", "in_transit", "2026-11-20T09:00:00+00:00"))
            hook = WebhookRequest(
                {"X-Fake-Signature": sign(body)}, body, received_at=SystemClock().now()
            )
            ids.append(writer.store(receipt_row(account, hook)))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 200

    through = Runtime(runtime.settings, engine, make_session_factory(engine), SystemClock())
    InProcessRunner(through).drain()
    with runtime.sessions() as session:
        assert (
            session.scalar(select(func.count()).where(WebhookReceipt.status == "processed")) == 200
        )
        assert session.scalar(select(func.count(TrackingEventRow.id))) == 200
    engine.dispose()

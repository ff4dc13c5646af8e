"""PostgreSQL restarted under load (a private instance of this test's own, not the
machine's): requests get 503 problem+json, nothing acknowledged is lost, and the service
recovers without a restart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from shipflow.brands import sync_brands
from shipflow.clock import SystemClock
from shipflow.runtime import Runtime
from shipflow.store.migrate import upgrade
from shipflow.store.models import Brand
from shipflow.store.models import CarrierAccount as CarrierAccountRow
from shipflow.store.tracking_models import WebhookReceipt
from tests.tracking.fake_carrier import fake_settings
from tests.tracking.processes import (
    free_port,
    needs_services,
    post_signed,
    serve,
    stop,
    wait_until,
    write_config,
)
from tests.tracking.test_faults import Load, add_shipments, scan

pytestmark = needs_services


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def private_postgres():
    """A PostgreSQL of this test's own (initdb in a temporary directory, a free port), so it
    can be restarted without touching the machine's; run as `postgres` when we are root."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15's initdb is not installed")
    user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    directory = Path(tempfile.mkdtemp(prefix="shipflow-pg-"))
    directory.chmod(0o755)
    data = directory / "data"
    if user:
        shutil.chown(directory, "postgres")
    port = free_port()
    subprocess.run(
        [*user, PG_BIN / "initdb", "-D", data, "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*user, PG_BIN / "pg_ctl", "-D", data, "-o", options, "-l", directory / "log", "-w"]
    subprocess.run([*pg_ctl, "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", pg_ctl
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


def test_postgres_restarted_under_load_answers_503_loses_nothing_and_recovers(
    private_postgres, tmp_path
):
    url, pg_ctl = private_postgres
    upgrade(url)
    runtime = Runtime.from_settings(fake_settings(url), clock=SystemClock())
    with runtime.sessions.begin() as session:
        sync_brands(session, runtime.settings)
    with runtime.sessions() as session:
        brand = session.scalars(select(Brand).where(Brand.code == "tb")).one()
        account_id = session.scalars(
            select(CarrierAccountRow.id).where(CarrierAccountRow.brand_id == brand.id)
        ).one()
    add_shipments(runtime, brand, 1000)
    port = free_port()
    web = serve(write_config(tmp_path, url), port)
    try:
        with Load(port, account_id, 1000) as load:
            wait_until(lambda: len(load.acknowledged()) >= 100)
            subprocess.run([*pg_ctl, "-m", "fast", "restart"], check=True, capture_output=True)
        last = post_signed(port, account_id, scan(0))  # recovered without a restart of ours
    finally:
        stop(web)
    answers = Counter(load.answers.values())
    assert set(answers) <= {202, 503} and answers[503] > 0
    assert last.status_code == 202
    runtime.engine.dispose()
    with runtime.sessions() as session:
        bodies = session.scalars(select(WebhookReceipt.body)).all()
    assert load.acknowledged() <= {json.loads(body)["tracking_number"] for body in bodies}
    runtime.engine.dispose()

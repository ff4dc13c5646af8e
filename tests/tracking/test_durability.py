"""Kill the processing worker mid-batch and restart it: no event lost, none applied twice,
no customer notified twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from carriers.base import WebhookRequest
from shipflow.clock import SystemClock
from shipflow.store.models import OutboxMessage, Shipment, TrackingEventRow
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking import webhooks
from shipflow.tracking.accounts import load_account
from tests.tracking.fake_carrier import event, payload, sign

ROOT = Path(__file__).resolve().parents[2]
SHIPMENTS = 20
pytestmark = pytest.mark.slow


def start(database_url: str, tmp_path: Path, crash_after: int | None = None) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "tests.tracking.worker_main",
        database_url,
        str(tmp_path / "sent"),
        str(tmp_path / "deliveries"),
    ]
    if crash_after:
        args.append(str(crash_after))
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.05)


def counts(runtime) -> dict[str, int]:
    with runtime.sessions() as session:

        def n(statement):
            return session.scalar(statement)

        return {
            "processed": n(select(func.count()).where(WebhookReceipt.status == "processed")),
            "events": n(select(func.count(TrackingEventRow.id))),
            "pending_outbox": n(select(func.count()).where(OutboxMessage.processed_at.is_(None))),
        }


def test_killed_worker_loses_nothing_and_repeats_nothing(runtime, tracked, database_url, tmp_path):
    runtime.clock = SystemClock()  # the worker processes run on real time
    now = runtime.clock.now()
    with runtime.sessions() as session:
        account = load_account(session, runtime, tracked["tb"].account_id)
        for n in range(SHIPMENTS):
            session.add(
                Shipment(brand_id=account.brand_id, carrier="fake", tracking_number=f"TN{n}")
            )
            body = payload(
                f"TN{n}",
                event("PU", "in_transit", "2026-11-20T09:00:00+00:00"),
                event("OFD", "out_for_delivery", "2026-11-21T08:00:00+00:00"),
            )
            webhooks.store(
                session, account, WebhookRequest({"X-Fake-Signature": sign(body)}, body), now
            )
        session.commit()

    crashed = start(database_url, tmp_path, crash_after=4)  # dies after its 4th e-mail
    assert crashed.wait(timeout=60) == -signal.SIGKILL
    killed = start(database_url, tmp_path)
    wait_until(lambda: len(lines(tmp_path / "sent")) >= 8)
    killed.send_signal(signal.SIGKILL)  # whatever it was doing
    killed.wait(timeout=10)
    midway = counts(runtime)
    assert 0 < midway["processed"] < SHIPMENTS or midway["pending_outbox"] > 0

    survivor = start(database_url, tmp_path)
    try:
        wait_until(
            lambda: (
                counts(runtime)
                == {"processed": SHIPMENTS, "events": 2 * SHIPMENTS, "pending_outbox": 0}
            )
        )
    finally:
        survivor.send_signal(signal.SIGKILL)
        survivor.wait(timeout=10)

    with runtime.sessions() as session:
        statuses = session.scalars(select(Shipment.status)).all()
        expected = set(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.topic == "shipment.status_changed"
                )
            )
        )
        per_event = session.execute(
            select(TrackingEventRow.shipment_id, func.count()).group_by(
                TrackingEventRow.shipment_id
            )
        ).all()
    assert set(statuses) == {"out_for_delivery"}
    assert {count for _, count in per_event} == {2}
    sent = lines(tmp_path / "sent")
    assert sorted(sent) == sorted(expected)  # every customer told, none twice
    redelivered = [
        key for key, times in Counter(lines(tmp_path / "deliveries")).items() if times > 1
    ]
    assert redelivered  # the crash did make the outbox deliver again; the handler deduped

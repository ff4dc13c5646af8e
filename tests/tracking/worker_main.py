"""A processing worker for the durability test, run as its own process so the test can
kill it: webhooks and the outbox in a loop, and a notifier that records what it sent.

    python -m tests.tracking.worker_main DATABASE_URL SENT_FILE DELIVERIES_FILE [CRASH_AFTER]

With CRASH_AFTER=n the process SIGKILLs itself right after its n-th notification is sent,
before the outbox message is marked: the worst moment for "notified twice".
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from shipflow.domain.events import ShipmentStatusChanged
from shipflow.jobs.outbox import dispatch_due
from shipflow.runtime import Runtime
from shipflow.tracking.webhooks import process_due_receipts
from tests.tracking.fake_carrier import fake_settings


def notifier(sent: Path, deliveries: Path, crash_after: int | None):
    count = 0

    def notify(session, message) -> None:
        nonlocal count
        with deliveries.open("a") as log:
            log.write(message.dedupe_key + "\n")
        if message.dedupe_key in (sent.read_text().split() if sent.exists() else ()):
            return  # idempotent: this customer already has this message
        time.sleep(0.01)  # the e-mail going out
        with sent.open("a") as out:
            out.write(message.dedupe_key + "\n")
        count += 1
        if crash_after is not None and count >= crash_after:
            os.kill(os.getpid(), signal.SIGKILL)

    return notify


def main(database_url: str, sent: str, deliveries: str, crash_after: str | None = None) -> None:
    runtime = Runtime.from_settings(fake_settings(database_url, lease_seconds=1))
    handler = notifier(Path(sent), Path(deliveries), int(crash_after) if crash_after else None)
    runtime.reactions.outbox[ShipmentStatusChanged.topic] = handler
    while True:
        busy = process_due_receipts(runtime, limit=5) + dispatch_due(runtime, limit=5)
        if not busy:
            time.sleep(0.05)


if __name__ == "__main__":
    main(*sys.argv[1:])

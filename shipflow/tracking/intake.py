"""Group commit for webhook receipts: concurrent requests share one INSERT and one commit.

Each request thread hands its row to the writer and waits until the transaction holding it
has committed, so a 202 still means "stored durably"; if the commit fails, every request in
that batch gets the error and nobody is acknowledged. Under load this turns N round trips,
N commits (WAL flushes) and N pool checkouts into one of each.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, insert

from shipflow.store.tracking_models import WebhookReceipt

log = logging.getLogger(__name__)

_INSERT = insert(WebhookReceipt).returning(WebhookReceipt.id, sort_by_parameter_order=True)


class _Slot:
    __slots__ = ("values", "done", "receipt_id", "error")

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.done = threading.Event()
        self.receipt_id: int | None = None
        self.error: BaseException | None = None


class ReceiptWriter:
    """One writer thread per process (started on first use, so it survives gunicorn's fork)."""

    def __init__(
        self,
        engine: Engine,
        on_stored: Callable[[Sequence[int]], None] | None = None,
        max_batch: int = 500,
    ) -> None:
        self._engine = engine
        self.on_stored = on_stored
        self._max_batch = max_batch
        self._pending: list[_Slot] = []
        self._cond = threading.Condition()
        self._pid: int | None = None

    def store(self, values: dict[str, Any]) -> int:
        """Insert one receipt row; returns its id once committed, or raises what the commit did."""
        slot = _Slot(values)
        with self._cond:
            if self._pid != os.getpid():
                self._start()
            self._pending.append(slot)
            self._cond.notify()
        slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.receipt_id

    def _start(self) -> None:
        self._pid, self._pending = os.getpid(), []
        threading.Thread(target=self._run, name="shipflow-receipt-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
            ids = self._write(batch)
            if ids and self.on_stored is not None:
                try:
                    self.on_stored(ids)
                except Exception:  # the rows are committed; the sweep will find them anyway
                    log.exception("receipt writer: notifying the job runner failed")

    def _write(self, batch: list[_Slot]) -> list[int]:
        try:
            with self._engine.begin() as connection:
                ids = list(connection.scalars(_INSERT, [slot.values for slot in batch]))
        except BaseException as exc:  # no row of the batch is stored: none is acknowledged
            log.error("receipt writer: storing %d webhooks failed: %s", len(batch), exc)
            for slot in batch:
                slot.error = exc
                slot.done.set()
            return []
        for slot, receipt_id in zip(batch, ids, strict=True):
            slot.receipt_id = receipt_id
            slot.done.set()
        return ids

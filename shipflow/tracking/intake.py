"""Group commit for webhook receipts: concurrent requests share one INSERT and one commit.

Each request thread hands its row to the writer and waits until the transaction holding it
has committed, so a 202 still means "stored durably"; if the commit fails, every request in
that batch gets the error and nobody is acknowledged. On SQLite "durably" takes the writer's
own `synchronous = FULL`: the engine's NORMAL (WAL) survives a killed process but not a power
cut, and a carrier told 202 never sends that event again. Under load this turns N round trips,
N commits (WAL flushes) and N pool checkouts into one of each.

`on_stored` (the web's wake of the receipts job: a Redis round trip with Celery) runs for the
first batch after a quiet `announce_every`, and at most once an `announce_every` under load,
for every batch committed meanwhile: the job gathers receipts for longer than that anyway
(`batching.gather_seconds`).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from typing import Any

from sqlalchemy import Engine, PoolProxiedConnection, insert

from shipflow.store.db import SQLITE_BUSY_TIMEOUT_SECONDS, json_document, sqlite_write_lock
from shipflow.store.tracking_models import WebhookReceipt

log = logging.getLogger(__name__)

_INSERT = insert(WebhookReceipt).returning(WebhookReceipt.id, sort_by_parameter_order=True)
# PostgreSQL: one prepared statement whatever the batch size, and one parameter, the batch as
# a JSON array of rows (`json_document`; ten typed arrays cost the web process more CPU to
# adapt than the rest of its commit), each row an object read once by `json_to_recordset`:
# `headers` keeps the text it was sent as, `body` comes as bytea's hex text. Ids come from the
# sequence in `ORDER BY n` order, so sorted ids line up with the batch's rows.
_COLUMNS = {
    "brand_id": "text",
    "source_kind": "text",
    "carrier": "text",
    "account": "text",
    "headers": "json",
    "body": "bytea",
    "received_at": "timestamptz",
    "available_at": "timestamptz",
    "status": "text",
    "attempts": "int",
}
_PG_INSERT = (
    f"INSERT INTO {WebhookReceipt.__tablename__} ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(_COLUMNS)} "
    "FROM ROWS FROM (json_to_recordset(%s::json) "
    f"AS ({', '.join(f'{c} {t}' for c, t in _COLUMNS.items())})) "
    f"WITH ORDINALITY AS t({', '.join(_COLUMNS)}, n) ORDER BY n RETURNING id"
)


class _Slot:
    __slots__ = ("values", "done", "receipt_id", "error")

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        # Held until the writer has this row's outcome, then released: a bare lock, where an
        # Event would build a Condition and a waiter lock for every webhook.
        self.done = threading.Lock()
        self.done.acquire()
        self.receipt_id: int | None = None
        self.error: BaseException | None = None


class ReceiptWriter:
    """One writer thread per process (started on first use, so it survives the web worker's fork)."""

    def __init__(
        self,
        engine: Engine,
        on_stored: Callable[[Sequence[int]], None] | None = None,
        max_batch: int = 500,
        lock_patience: float = SQLITE_BUSY_TIMEOUT_SECONDS,
        announce_every: float = 0.02,
    ) -> None:
        self._engine = engine
        self.on_stored = on_stored
        self.announce_every = announce_every  # seconds between two `on_stored` at least
        self._max_batch = max_batch
        self.lock_patience = lock_patience  # SQLite: seconds to wait for the write lock
        self._pending: list[_Slot] = []
        self._cond = threading.Condition()
        self._pid: int | None = None
        self._postgres = engine.dialect.name == "postgresql"
        # The writer thread's own pooled connection (PostgreSQL).
        self._raw: PoolProxiedConnection | None = None

    def store(self, values: dict[str, Any]) -> int:
        """Insert one receipt row; returns its id once committed, or raises what the commit did."""
        slot = _Slot(values)
        with self._cond:
            if self._pid != os.getpid():
                self._start()
            self._pending.append(slot)
            self._cond.notify()
        slot.done.acquire()
        if slot.error is not None:
            raise slot.error
        if slot.receipt_id is None:  # `_write` sets the id or the error before `done`
            raise RuntimeError("receipt writer released a request with neither an id nor an error")
        return slot.receipt_id

    def _start(self) -> None:
        self._pid, self._pending, self._raw = os.getpid(), [], None
        threading.Thread(target=self._run, name="shipflow-receipt-writer", daemon=True).start()

    def _run(self) -> None:
        owed: list[int] = []  # committed, not yet announced
        announced = -math.inf  # when `on_stored` last ran (time.monotonic)
        while True:
            with self._cond:
                while not self._pending:
                    due = announced + self.announce_every - time.monotonic()
                    if owed and due <= 0:
                        break
                    self._cond.wait(due if owed else None)
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
            ids = self._write(batch) if batch else []
            on_stored = self.on_stored
            if on_stored is None:
                continue
            owed += ids
            if owed and time.monotonic() >= announced + self.announce_every:
                try:
                    on_stored(owed)
                except Exception:  # the rows are committed; the sweep will find them anyway
                    log.exception("receipt writer: notifying the job runner failed")
                owed, announced = [], time.monotonic()

    def _write(self, batch: list[_Slot]) -> list[int]:
        try:
            ids = self._insert_pg(batch) if self._postgres else self._insert(batch)
        except BaseException as exc:  # no row of the batch is stored: none is acknowledged
            log.error("receipt writer: storing %d webhooks failed: %s", len(batch), exc)
            for slot in batch:
                slot.error = exc
                slot.done.release()
            return []
        for slot, receipt_id in zip(batch, ids, strict=True):
            slot.receipt_id = receipt_id
            slot.done.release()
        return ids

    def _insert(self, batch: list[_Slot]) -> list[int]:
        """SQLite: the write lock taken first, eagerly (`sqlite_write_lock`); a batch that
        cannot have it within `lock_patience` is answered 503, to be sent again."""
        with self._engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None  # a connection in use has its driver's
            driver.execute("PRAGMA synchronous = FULL")  # this pooled connection stays so
            sqlite_write_lock(driver, self.lock_patience)
            ids = list(connection.scalars(_INSERT, [slot.values for slot in batch]))
            connection.commit()
        return ids

    def _insert_pg(self, batch: list[_Slot]) -> list[int]:
        """Raw psycopg on a held connection: no pool checkout or ping, no statement building.
        The INSERT is its own transaction (autocommit): one round trip a batch, where BEGIN,
        the INSERT and COMMIT took three. PostgreSQL answers only once that transaction has
        committed (at the statement's Sync), so a batch whose INSERT returned is durable."""
        if self._raw is None:
            self._raw = self._autocommit_connection()
        rows = json_document([slot.values for slot in batch])
        try:
            with closing(self._raw.cursor()) as cursor:
                cursor.execute(_PG_INSERT, (rows,))
                ids = sorted(row[0] for row in cursor.fetchall())
        except BaseException:
            self._raw.invalidate()  # unknown state (or a dead server): start afresh next time
            self._raw = None
            raise
        return ids

    def _autocommit_connection(self) -> PoolProxiedConnection:
        """The engine's connection (its connect arguments and events), detached from the pool
        so that it never goes back there in autocommit, where it would commit every
        statement of whoever checked it out next."""
        raw = self._engine.raw_connection()
        driver = raw.driver_connection
        assert driver is not None  # a connection in use has its driver's
        driver.autocommit = True
        raw.detach()
        return raw

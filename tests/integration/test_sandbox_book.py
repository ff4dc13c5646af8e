"""The sandbox carrier's book in the database: two adapters on their own engines (as two web
processes and a worker have) see each other's instructions, cancellations and sequence."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable

from carriers.base import CarrierAccount, FailedDeliveryAction, FailedDeliveryInstruction
from carriers.sandbox import SandboxCarrier
from carriers.sandbox.carrier import COD_SEQUENCES
from shipflow.clock import FixedClock
from shipflow.domain import Address, Status
from shipflow.sandbox_book import BOOK_MODELS, DatabaseShipmentBook, book_sessions
from shipflow.store.db import make_engine
from tests.carriers.sandbox_profiles import ALWAYS_MISSED
from tests.carriers.test_sandbox import BROOKLYN, MONDAY_10AM_NY, advance_until, request


@pytest.fixture
def clock():
    return FixedClock(MONDAY_10AM_NY)


@pytest.fixture
def processes(database_url, clock):
    """Two adapters, each with its own engine on the same database."""
    engines = [make_engine(database_url) for _ in range(2)]
    account = CarrierAccount("sandbox", "test", {"webhook_secret": "s"})
    yield [
        SandboxCarrier(
            account,
            clock=clock,
            profile=ALWAYS_MISSED,
            book=DatabaseShipmentBook(book_sessions(engine)),
        )
        for engine in engines
    ]
    for engine in engines:
        engine.dispose()


def test_an_instruction_given_in_one_process_steers_the_parcel_in_the_other(processes, clock):
    web, worker = processes
    tn = web.create_label(request(BROOKLYN)).tracking_number
    advance_until(clock, web, tn, "NA")
    new_address = Address("US", "11215", "Brooklyn", "NY", "9 Fifth Ave", name="Ann")
    web.failed_delivery_action(
        FailedDeliveryInstruction(tn, FailedDeliveryAction.UPDATE_ADDRESS, address=new_address)
    )
    (instruction,) = worker.book.instructions(tn)
    assert instruction.instruction == FailedDeliveryInstruction(
        tn, FailedDeliveryAction.UPDATE_ADDRESS, address=new_address
    )
    clock.advance(timedelta(days=30))
    (update,) = worker.track([tn])
    assert [e.raw_code for e in update.events][-2:] == ["OD", "DL"]


def test_a_cancellation_in_one_process_is_seen_by_the_other(processes):
    web, worker = processes
    tn = web.create_label(request()).tracking_number
    web.cancel(tn)
    (update,) = worker.track([tn])
    assert [e.status for e in update.events] == [Status.INFO_RECEIVED, Status.CANCELLED]


def test_labels_of_both_processes_draw_distinct_sequences(processes):
    """20 labels in the same minute from two processes at once: 20 different numbers."""
    with ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(lambda i: processes[i % 2].book.next_sequence(), range(20)))
    assert sorted(numbers) == list(range(1, 21))
    assert all(0 <= n < COD_SEQUENCES for n in numbers)


def test_on_sqlite_the_book_does_not_wait_for_its_callers_write_lock(database_url, clock):
    """A label voided inside a transaction that holds the database's write lock (an order
    cancelled): the book writes to a file of its own, so it does not wait for its caller."""
    engine = make_engine(database_url)
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    carrier = SandboxCarrier(
        CarrierAccount("sandbox", "test", {"webhook_secret": "s"}),
        clock=clock,
        book=DatabaseShipmentBook(book_sessions(engine)),
    )
    tn = carrier.create_label(request()).tracking_number
    with engine.connect() as caller:
        caller.exec_driver_sql("BEGIN IMMEDIATE")  # the caller's unit of work, writing
        started = time.monotonic()
        carrier.cancel(tn)
        assert time.monotonic() - started < 1.0  # not SQLite's 5 s busy timeout
        caller.rollback()
    (update,) = carrier.track([tn])
    assert [e.status for e in update.events] == [Status.INFO_RECEIVED, Status.CANCELLED]
    engine.dispose()


def test_processes_starting_together_make_the_sqlite_book_once(tmp_path):
    """Two web processes found the book's tables missing and both created them: the second
    stopped at boot ("table already exists"). Another process makes them meanwhile here: its
    transaction holds the file's write lock until the tables are in."""
    database = tmp_path / "shipflow.db"
    other = sqlite3.connect(tmp_path / "shipflow-sandbox-book.db", isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")  # as every process's connections set it
    other.execute("BEGIN IMMEDIATE")
    for model in BOOK_MODELS:
        other.execute(str(CreateTable(model.__table__).compile(dialect=sqlite.dialect())))
    with ThreadPoolExecutor(1) as pool:
        starting = pool.submit(book_sessions, make_engine(f"sqlite:///{database}"))
        time.sleep(0.3)  # it reads the schema, finds no tables, and waits for the lock
        other.execute("COMMIT")
        sessions = starting.result(timeout=10)
    assert DatabaseShipmentBook(sessions).next_sequence() == 1

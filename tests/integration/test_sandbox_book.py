"""The sandbox carrier's book in the database: two adapters on their own engines (as two web
processes and a worker have) see each other's instructions, cancellations and sequence."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from carriers.base import CarrierAccount, FailedDeliveryAction, FailedDeliveryInstruction
from carriers.sandbox import SandboxCarrier
from carriers.sandbox.carrier import COD_SEQUENCES
from shipflow.clock import FixedClock
from shipflow.domain import Address, Status
from shipflow.sandbox_book import DatabaseShipmentBook
from shipflow.store.db import make_engine, make_session_factory
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
            book=DatabaseShipmentBook(make_session_factory(engine)),
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

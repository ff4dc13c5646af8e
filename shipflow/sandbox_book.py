"""The sandbox carrier's book in the database: what customers and shippers did to sandbox
parcels after their label, and the labels' sequence, shared by every process (the process's
own `ShipmentBook` would let a worker miss an instruction given through a web process)."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import deque
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from carriers.base import FailedDeliveryAction, FailedDeliveryInstruction
from carriers.sandbox.carrier import COD_SEQUENCES
from carriers.sandbox.network import Instruction
from shipflow.domain.model import Address
from shipflow.store.db import make_engine, make_session_factory, unit_of_work, write_lock
from shipflow.store.sandbox_models import SandboxCancellation, SandboxInstruction, SandboxSequence

LABELS = "labels"
# Label sequences taken at once: one UPDATE (a transaction of its own) per ten labels, not per
# label. A sequence only tells apart labels of the same lane and minute (`carriers.sandbox`),
# so each process's block being its own is all that matters.
SEQUENCE_BLOCK = 10

BOOK_MODELS = (SandboxInstruction, SandboxCancellation, SandboxSequence)


def book_sessions(engine: Engine) -> sessionmaker[Session]:
    """Where the book lives: in the service's database; on SQLite in a file of its own beside
    it (`<name>-sandbox-book.db`, tables made on first use). SQLite has one write lock per
    file, and a label is voided or an instruction given inside a transaction that holds it
    (an order cancelled, a failed delivery answered): the book's own short transaction on
    the same file would wait for its caller until it gave up ("database is locked"). The
    tables are made under the file's write lock: the web processes start together, and two
    that both found them missing both created them ("table already exists")."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return make_session_factory(engine)
    path = Path(database)
    book = make_engine(f"sqlite:///{path.with_name(f'{path.stem}-sandbox-book.db')}")
    sessions = make_session_factory(book)
    metadata = SandboxSequence.metadata
    with unit_of_work(sessions) as session:
        write_lock(session)
        tables = [metadata.tables[model.__tablename__] for model in BOOK_MODELS]
        metadata.create_all(session.connection(), tables=tables)
    return sessions


def _to_json(instruction: FailedDeliveryInstruction) -> dict[str, Any]:
    data = dataclasses.asdict(instruction)
    data["action"] = instruction.action.value
    data["reattempt_on"] = (
        instruction.reattempt_on.isoformat() if instruction.reattempt_on else None
    )
    return data


def _from_json(data: dict[str, Any]) -> FailedDeliveryInstruction:
    return FailedDeliveryInstruction(
        tracking_number=data["tracking_number"],
        action=FailedDeliveryAction(data["action"]),
        reattempt_on=date.fromisoformat(data["reattempt_on"]) if data["reattempt_on"] else None,
        address=Address(**data["address"]) if data["address"] else None,
        pickup_point_id=data["pickup_point_id"],
        instructions=data["instructions"],
    )


class DatabaseShipmentBook:
    """`carriers.sandbox.SandboxBook` on the service's database, one short transaction each."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._lock = threading.Lock()
        self._block: deque[int] = deque()  # the label sequences this process took, unused
        self._pid = os.getpid()

    def instructions(self, tracking_number: str) -> Sequence[Instruction]:
        with self.sessions() as session:
            rows = session.scalars(
                select(SandboxInstruction)
                .where(SandboxInstruction.tracking_number == tracking_number)
                .order_by(SandboxInstruction.id)
            )
            return tuple(Instruction(r.issued_at, _from_json(r.instruction)) for r in rows)

    def add_instruction(self, tracking_number: str, instruction: Instruction) -> None:
        with self.sessions.begin() as session:
            session.add(
                SandboxInstruction(
                    tracking_number=tracking_number,
                    issued_at=instruction.issued_at,
                    instruction=_to_json(instruction.instruction),
                )
            )

    def cancelled_at(self, tracking_number: str) -> datetime | None:
        with self.sessions() as session:
            row = session.get(SandboxCancellation, tracking_number)
            return row.cancelled_at if row else None

    def cancel(self, tracking_number: str, at: datetime) -> None:
        with self.sessions.begin() as session:
            if session.get(SandboxCancellation, tracking_number) is None:
                session.add(SandboxCancellation(tracking_number=tracking_number, cancelled_at=at))

    def next_sequence(self) -> int:
        """From a block of `SEQUENCE_BLOCK` this process took (a forked child takes its own)."""
        with self._lock:
            if not self._block or self._pid != os.getpid():
                last = self._take_block()
                self._block = deque(
                    (last - SEQUENCE_BLOCK + n) % COD_SEQUENCES
                    for n in range(1, SEQUENCE_BLOCK + 1)
                )
                self._pid = os.getpid()
            return self._block.popleft()

    def _take_block(self) -> int:
        """The block's last value. One UPDATE ... RETURNING: the row lock orders concurrent
        takers of all processes."""
        bump = (
            update(SandboxSequence)
            .where(SandboxSequence.name == LABELS)
            .values(value=(SandboxSequence.value + SEQUENCE_BLOCK) % COD_SEQUENCES)
            .returning(SandboxSequence.value)
        )
        with self.sessions.begin() as session:
            value = session.scalar(bump)
            if value is not None:
                return value
        try:  # the first label of a fresh database
            with self.sessions.begin() as session:
                session.add(SandboxSequence(name=LABELS, value=SEQUENCE_BLOCK))
            return SEQUENCE_BLOCK
        except IntegrityError:  # another process made the row first
            return self._take_block()

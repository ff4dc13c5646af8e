"""The sandbox carrier's book in the database: what customers and shippers did to sandbox
parcels after their label, and the labels' sequence, shared by every process (the process's
own `ShipmentBook` would let a worker miss an instruction given through a web process)."""

from __future__ import annotations

import dataclasses
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
from shipflow.store.db import make_engine, make_session_factory
from shipflow.store.sandbox_models import SandboxCancellation, SandboxInstruction, SandboxSequence

LABELS = "labels"
BOOK_MODELS = (SandboxInstruction, SandboxCancellation, SandboxSequence)


def book_sessions(engine: Engine) -> sessionmaker[Session]:
    """Where the book lives: in the service's database; on SQLite in a file of its own beside
    it (`<name>-sandbox-book.db`, tables made on first use). SQLite has one write lock per
    file, and a label is voided or an instruction given inside a transaction that holds it
    (an order cancelled, a failed delivery answered): the book's own short transaction on
    the same file would wait for its caller until it gave up ("database is locked")."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return make_session_factory(engine)
    path = Path(database)
    book = make_engine(f"sqlite:///{path.with_name(f'{path.stem}-sandbox-book.db')}")
    metadata = SandboxSequence.metadata
    metadata.create_all(book, tables=[metadata.tables[m.__tablename__] for m in BOOK_MODELS])
    return make_session_factory(book)


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
        """One UPDATE ... RETURNING: the row lock orders concurrent labels of all processes."""
        bump = (
            update(SandboxSequence)
            .where(SandboxSequence.name == LABELS)
            .values(value=(SandboxSequence.value + 1) % COD_SEQUENCES)
            .returning(SandboxSequence.value)
        )
        with self.sessions.begin() as session:
            value = session.scalar(bump)
            if value is not None:
                return value
        try:  # the first label of a fresh database
            with self.sessions.begin() as session:
                session.add(SandboxSequence(name=LABELS, value=1))
            return 1
        except IntegrityError:  # another process made the row first
            return self.next_sequence()

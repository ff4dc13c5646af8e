"""The sandbox carrier's state after a label (`shipflow.sandbox_book`): in the database so
every web process and worker of a deployment sees the same instructions, cancellations and
label sequence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shipflow.store.models import Base, UTCDateTime


class SandboxInstruction(Base):
    """A customer's choice after a failed attempt, as the sandbox carrier received it."""

    __tablename__ = "sandbox_instructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    instruction: Mapped[dict[str, Any]] = mapped_column(JSON)


class SandboxCancellation(Base):
    __tablename__ = "sandbox_cancellations"

    tracking_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class SandboxSequence(Base):
    """A counter moved by one UPDATE, so concurrent label purchases never share a value."""

    __tablename__ = "sandbox_sequences"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)

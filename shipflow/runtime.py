"""What a running shipflow holds: settings, the database, the clock. The web app, the CLI,
the job runners and the tests build one and pass it on, so nothing reaches for globals."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shipflow.clock import Clock, SystemClock
from shipflow.config import Settings
from shipflow.store.db import make_engine, make_session_factory, stamp_times_with


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        # Outbox handlers get a session only; through it they reach settings and the clock.
        self.sessions.configure(info={"runtime": self})
        # Rows stamped by column defaults get this runtime's time, as the services' `now` is.
        stamp_times_with(self.engine, lambda: self.clock.now())

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine), clock or SystemClock())

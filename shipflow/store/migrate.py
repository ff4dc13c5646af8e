"""Alembic driven from code: `shipflow db upgrade` and the tests use the same path."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The revisions this release's code expects the database at."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def at_head(connection: Connection) -> bool:
    """Whether the database has every migration of this release (and none newer)."""
    return frozenset(MigrationContext.configure(connection).get_current_heads()) == head_revisions()


def revision(database_url: str, message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)

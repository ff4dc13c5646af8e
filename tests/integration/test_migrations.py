"""The migrations build exactly the schema the models describe, on every backend, from one
head (so `shipflow db upgrade` never leaves a model without its table or column)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from shipflow.store.migrate import alembic_config
from shipflow.store.models import Base
from shipflow.store.partitions import include_object


def test_one_head():
    assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1


def test_migrated_schema_matches_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object(connection.dialect.name)}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()

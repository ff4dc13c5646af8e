"""The migrations build exactly the schema the models describe, on every backend, from one
head (so `shipflow db upgrade` never leaves a model without its table or column)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

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


def test_the_rows_migrations_go_down_and_up_again(database_url):
    """index_entries_rows7_1 and leases_rows7_1: down to the indexes, keys and leases before
    them, then up to the models again."""
    engine, alembic = create_engine(database_url), alembic_config(database_url)

    def schema() -> tuple[set[str], set[str], set[str], bool]:
        with engine.connect() as connection:
            found = inspect(connection)
            return (
                {i["name"] for i in found.get_indexes("shipments")},
                {i["name"] for i in found.get_indexes("tracking_events")},
                {k["referred_table"] for k in found.get_foreign_keys("tracking_events")},
                any(c["name"] == "leased_until" for c in found.get_columns("outbox")),
            )

    try:
        command.downgrade(alembic, "shipments_order_pg6_1")
        shipments, events, keys, leased = schema()
        assert {"ix_shipments_tracking", "ix_shipments_brand_tracking"} <= shipments
        assert "ix_tracking_events_shipment_id" in events
        assert keys == {"brands", "shipments"} and not leased
    finally:
        command.upgrade(alembic, "heads")
    shipments, events, keys, leased = schema()
    assert "ix_shipments_tracking_number" in shipments and "ix_shipments_tracking" not in shipments
    assert "ix_tracking_events_shipment_id" not in events
    assert keys == {"shipments"} and leased
    test_migrated_schema_matches_the_models(database_url)
    engine.dispose()


def test_the_poll8_migrations_go_down_and_up_again(database_url):
    """hot_shipments_poll8_1 and events_brand_poll8_1: down, PostgreSQL's shipments fill
    their pages (the default) and the events have their brand index again; up, the shipments
    keep half of each page for HOT versions, as the model declares, and the index is gone."""
    engine, alembic = create_engine(database_url), alembic_config(database_url)

    def schema() -> tuple[list[str] | None, bool]:
        with engine.connect() as connection:
            brand_index = any(
                i["name"] == "ix_tracking_events_brand_id"
                for i in inspect(connection).get_indexes("tracking_events")
            )
            if engine.dialect.name != "postgresql":
                return None, brand_index
            options = text("SELECT reloptions FROM pg_class WHERE oid = 'shipments'::regclass")
            return connection.scalar(options), brand_index

    try:
        command.downgrade(alembic, "backlog_calendar_lead_1")
        assert schema() == (None, True)
    finally:
        command.upgrade(alembic, "heads")
    postgres = engine.dialect.name == "postgresql"
    assert schema() == (["fillfactor=50"] if postgres else None, False)
    declared = Base.metadata.tables["shipments"].dialect_options["postgresql"]["with"]
    assert declared == {"fillfactor": 50}
    test_migrated_schema_matches_the_models(database_url)
    engine.dispose()

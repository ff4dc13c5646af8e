"""/readyz: what a load balancer asks before sending traffic: the database reachable, the
migrations at this release's head, and the Redis the process depends on answering."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shipflow.config import WebConfig
from shipflow.web import create_app


def test_ready_when_database_and_migrations_are(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "migrations": "ok"}


@pytest.fixture
def migrations_behind(runtime):
    """The schema stamped one release back, restored after (the schema outlives the test)."""
    with runtime.engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = 'merge_4'"))
    yield
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})


def test_not_ready_while_migrations_are_behind(migrations_behind, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.json["errors"] == [{"field": "migrations", "message": "not at head"}]
    assert "shipflow db upgrade" in response.json["detail"]
    assert client.get("/healthz").status_code == 200  # alive, only not ready


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_not_ready_without_its_redis(runtime):
    runtime.settings = runtime.settings.model_copy(
        update={"web": WebConfig(redis_url="redis://127.0.0.1:1/0")}  # nothing listens there
    )
    client = create_app(runtime).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["errors"] == [{"field": "redis", "message": "unreachable"}]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_prepared_statements_can_be_turned_off_for_pgbouncer(database_url):
    from shipflow.store.db import make_engine

    engine = make_engine(f"{database_url}&prepare_threshold=none")
    try:
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection.prepare_threshold is None
            for _ in range(10):  # psycopg would prepare it from the 5th time on
                conn.execute(text("SELECT 1"))
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements"))
            assert prepared.scalar() == 0
    finally:
        engine.dispose()

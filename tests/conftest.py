"""Shared fixtures: a migrated database (SQLite always, PostgreSQL when configured), the app,
a test client, a CLI runner and two brands with API keys for tenancy tests."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
from ipaddress import ip_network
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from shipflow.api_keys import create_api_key
from shipflow.clock import FixedClock
from shipflow.config import BrandConfig, NotifyConfig, load_settings
from shipflow.runtime import Runtime
from shipflow.store.db import unit_of_work
from shipflow.store.migrate import upgrade
from shipflow.store.models import Base, Brand
from shipflow.web import create_app
from tests.fakes import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
POSTGRES_URL = os.environ.get("SHIPFLOW_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SHIPFLOW_TEST_REDIS_URL")


def pytest_report_header(config):
    return [
        f"postgres: {POSTGRES_URL or 'not configured (set SHIPFLOW_TEST_POSTGRES_URL)'}",
        f"redis: {REDIS_URL or 'not configured (set SHIPFLOW_TEST_REDIS_URL)'}",
    ]


def configure_brand(runtime: Runtime, code: str, **changes) -> BrandConfig:
    """Change a brand's configuration in the running runtime, as an edited config.yaml would
    (what holds secrets, such as alert channels, is read from there, not from the database).
    A brand the configuration lacks is added as a copy of the first one."""
    brands = runtime.settings.brands
    if runtime.settings.brand(code) is None:
        brands = [*brands, brands[0].model_copy(update={"code": code})]
    brands = [b.model_copy(update=changes) if b.code == code else b for b in brands]
    runtime.settings = runtime.settings.model_copy(update={"brands": brands})
    return runtime.settings.brand(code)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrate once; each test gets a copy of the migrated file."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema_url(worker_id="master"):
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set SHIPFLOW_TEST_POSTGRES_URL to run these")
    # One schema per checkout and xdist worker, so parallel runs never share tables.
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
    schema = f"t_{tag}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    upgrade(url)
    return url


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, sqlite_template) -> str:
    """Integration tests that take this fixture run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "shipflow.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_schema_url")
    _truncate_all(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(database_url):
    environ = {"SHIPFLOW_DATABASE_URL": database_url, "SHIPFLOW_SECRET_KEY": TEST_SECRET_KEY}
    return load_settings(ROOT / "config.yaml", environ=environ)


@pytest.fixture
def runtime(settings, clock):
    rt = Runtime.from_settings(settings, clock=clock)
    yield rt
    rt.engine.dispose()


PUBLIC = "93.184.216.34"  # a public address for hosts the closed test network cannot resolve


@pytest.fixture
def dns(monkeypatch):
    """Host name -> address, as the resolver will answer (it may change between calls)."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def loopback_destinations(runtime) -> list:
    """Test receivers listen on 127.0.0.1, where shipflow only sends when its config says so."""
    allowed = [ip_network("127.0.0.0/8")]
    runtime.settings = runtime.settings.model_copy(
        update={"notify": NotifyConfig(allow_private_networks=allowed)}
    )
    return allowed


@pytest.fixture
def app(runtime):
    app = create_app(runtime)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner(env={"SHIPFLOW_SECRET_KEY": TEST_SECRET_KEY})


@pytest.fixture
def brands(runtime) -> dict[str, dict[str, str]]:
    """Two brands, `a` and `b`, each with an API key and auth headers."""
    found = {}
    with unit_of_work(runtime.sessions) as session:
        for code in ("a", "b"):
            brand = Brand(code=f"brand-{code}", name=f"Brand {code.upper()}")
            session.add(brand)
            session.flush()
            key = create_api_key(session, brand.id, "test")
            found[code] = {
                "id": brand.id,
                "key": key,
                "headers": {"Authorization": f"Bearer {key}"},
            }
    return found

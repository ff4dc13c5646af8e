"""A benchmark's own PostgreSQL schema: made afresh for each run, so runs never see each
other's rows, and reached through the connection's `search_path`."""

from __future__ import annotations

import os
from urllib.parse import urlencode

from sqlalchemy import create_engine, text


def bench_server() -> str:
    """The PostgreSQL server benchmarks make their schemas on: `SHIPFLOW_BENCH_POSTGRES_URL`,
    else this machine's."""
    return os.environ.get(
        "SHIPFLOW_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )


def schema_url(base: str, schema: str, **params: str) -> str:
    """`base` with every connection's search_path set to `schema` (and any other libpq
    parameters given)."""
    query = urlencode(params, safe="")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}" + (f"&{query}" if query else "")


def fresh_schema(base: str, schema: str, **params: str) -> str:
    """Drop `schema` with everything in it, make it again empty, and return its URL."""
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return schema_url(base, schema, **params)

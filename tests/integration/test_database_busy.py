"""Writers that wait too long for the database get 503 problem+json with Retry-After, never a
500: SQLite past its busy timeout ("database is locked"), PostgreSQL past its lock_timeout."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

LOCK_BOUND_MS = 200
ORDER = {
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "ship_to": {"line1": "1 Main St", "city": "New York", "postal_code": "10001", "country": "US"},
    "currency": "USD",
    "lines": [{"sku": "TENT-2P", "quantity": 1, "unit_price": 24900}],
}


def bounded(url: str, milliseconds: int) -> str:
    """The test database, with writers waiting at most `milliseconds` for a lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.update_query_dict({"timeout": str(milliseconds / 1000)}).render_as_string()
    options = f"{parsed.query.get('options', '')} -clock_timeout={milliseconds}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@pytest.fixture
def settings(settings, database_url):
    return settings.model_copy(update={"database_url": bounded(database_url, LOCK_BOUND_MS)})


class WriteLock:
    """Another client holding the lock every write of the orders table needs."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            self.connection = sqlite3.connect(url.database, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")  # SQLite's one write lock
            self.release = lambda: self.connection.rollback()
        else:
            engine = create_engine(database_url)
            self.connection = engine.connect()
            self.connection.execute(text("LOCK TABLE orders IN EXCLUSIVE MODE"))
            self.release = lambda: (self.connection.rollback(), engine.dispose())


def post_order(client, brand, number: str):
    headers = {**brand["headers"], "Idempotency-Key": f"order-{number}"}
    return client.post("/api/v1/orders", json={**ORDER, "order_number": number}, headers=headers)


def test_a_write_kept_waiting_past_the_bound_is_503_and_can_be_sent_again(
    app, client, brands, database_url
):
    app.testing = False  # a 500 as the server would answer it, not an exception in the test
    lock = WriteLock(database_url)
    try:
        busy = post_order(client, brands["a"], "1001")
    finally:
        lock.release()
    assert busy.status_code == 503, busy.get_data(as_text=True)
    assert busy.mimetype == "application/problem+json"
    assert busy.headers["Retry-After"] == "1"
    assert "send the request again" in busy.json["detail"]
    assert post_order(client, brands["a"], "1001").status_code == 201  # nothing was kept


def test_concurrent_writes_on_sqlite_are_created_or_503_never_500(app, brands, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer is what concurrent requests queue for")
    app.testing = False
    answers: Counter[int] = Counter()

    def shop(worker: int) -> None:
        client = app.test_client()
        for n in range(15):
            answers[post_order(client, brands["a"], f"{worker}-{n}").status_code] += 1

    threads = [threading.Thread(target=shop, args=(worker,)) for worker in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers) <= {201, 503}, answers
    assert answers[201] > 0 and sum(answers.values()) == 180

"""Rate limits and backoff: counted per window of the runtime's clock, in the process or in
Redis (shared by every web process), per client address and per order number."""

from __future__ import annotations

import ipaddress
import os
import re
import uuid
from datetime import timedelta

import pytest

from shipflow.clock import FixedClock
from shipflow.config import WebConfig
from shipflow.web import create_app
from shipflow.web.ratelimit import Backoff, Limit, Limiter, MemoryCounters, make_limiter
from shipflow.web.tracking_page.routes import LOOKUP_LIMIT, ORDER_LIMIT
from tests.webui.factories import BRAND, make_shipment

REDIS_URL = os.environ.get("SHIPFLOW_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="Redis not configured: set SHIPFLOW_TEST_REDIS_URL"
)


def test_each_subject_gets_its_own_window_of_the_runtime_clock():
    clock = FixedClock()
    limiter = Limiter(MemoryCounters(), clock)
    limit = Limit("test", attempts=2, window_s=60)
    assert limiter.allow(limit, "a") and limiter.allow(limit, "a")
    assert not limiter.allow(limit, "a")
    assert limiter.allow(limit, "b")
    clock.advance(timedelta(seconds=60))
    assert limiter.allow(limit, "a")


def test_backoff_doubles_after_the_free_failures_and_success_clears_it():
    clock = FixedClock()
    limiter = Limiter(MemoryCounters(), clock)
    backoff = Backoff("test", free=2, first_s=1, max_s=8)
    waits = []
    for _ in range(7):
        limiter.failed(backoff, "a")
        waits.append(limiter.wait_s(backoff, "a"))
    assert waits == [0, 0, 1, 2, 4, 8, 8]
    clock.advance(timedelta(seconds=8))
    assert limiter.wait_s(backoff, "a") == 0
    limiter.succeeded(backoff, "a")
    limiter.failed(backoff, "a")
    assert limiter.wait_s(backoff, "a") == 0


@pytest.mark.redis
@needs_redis
def test_redis_counters_are_shared_between_limiters(settings):
    shared = settings.model_copy(update={"web": WebConfig(redis_url=REDIS_URL)})
    clock = FixedClock()
    first, second = make_limiter(shared, clock), make_limiter(shared, clock)
    limit, subject = Limit("test", attempts=3, window_s=60), uuid.uuid4().hex
    assert [first.allow(limit, subject), second.allow(limit, subject)] == [True, True]
    assert first.allow(limit, subject) and not second.allow(limit, subject)
    backoff = Backoff("test", free=0)
    first.failed(backoff, subject)
    assert second.wait_s(backoff, subject) == 1
    second.succeeded(backoff, subject)
    assert first.wait_s(backoff, subject) == 0


def csrf(client) -> str:
    page = client.get(f"/t/{BRAND}").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def lookup(client, order_number: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    form = {"csrf_token": csrf(client), "order_number": order_number, "contact": "x@example.com"}
    return client.post(f"/t/{BRAND}", data=form, headers=headers)


def app_with(runtime, **web):
    runtime.settings = runtime.settings.model_copy(update={"web": WebConfig(**web)})
    app = create_app(runtime)
    app.config["TESTING"] = True
    return app


def test_forwarded_for_is_ignored_without_trusted_proxies(runtime):
    client = app_with(runtime).test_client()
    limit, _window = LOOKUP_LIMIT
    answers = [lookup(client, f"NW-{i}", f"203.0.113.{i}").status_code for i in range(limit + 1)]
    assert answers == [404] * limit + [429]


def test_forwarded_for_is_the_client_behind_one_trusted_proxy(runtime):
    client = app_with(runtime, trusted_proxies=1).test_client()
    limit, _window = LOOKUP_LIMIT
    for _ in range(limit):
        assert lookup(client, "NW-1", "203.0.113.1").status_code == 404
    assert lookup(client, "NW-2", "203.0.113.1").status_code == 429
    # One proxy trusted: a forged left-most entry does not make a new client.
    assert lookup(client, "NW-3", "198.51.100.7, 203.0.113.1").status_code == 429
    assert lookup(client, "NW-4", "203.0.113.2").status_code == 404


def test_rotating_addresses_cannot_keep_guessing_one_order(runtime):
    make_shipment(runtime)
    client = app_with(runtime, trusted_proxies=1).test_client()
    answers = [
        lookup(client, "#NW-1001", f"203.0.113.{i}").status_code
        for i in range(ORDER_LIMIT.attempts + 1)
    ]
    assert answers == [404] * ORDER_LIMIT.attempts + [429]
    assert lookup(client, "NW-1002", "203.0.113.99").status_code == 404


@pytest.mark.redis
@needs_redis
def test_two_app_instances_share_the_lookup_limit_in_redis(runtime):
    first = app_with(runtime, redis_url=REDIS_URL, trusted_proxies=1).test_client()
    second = app_with(runtime, redis_url=REDIS_URL, trusted_proxies=1).test_client()
    client_address = str(ipaddress.ip_address(f"2001:db8::{uuid.uuid4().hex[:4]}"))
    limit, _window = LOOKUP_LIMIT
    for i in range(limit):
        app_client = first if i % 2 else second
        assert lookup(app_client, uuid.uuid4().hex[:12], client_address).status_code == 404
    assert lookup(first, uuid.uuid4().hex[:12], client_address).status_code == 429
    assert lookup(second, uuid.uuid4().hex[:12], client_address).status_code == 429

"""Carrier-call rate limits: one bucket per account in Redis shared by every process, the
adapter's own in the embedded default, and calls still go out when Redis is down."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
import redis
import responses
from redis.backoff import NoBackoff
from redis.retry import Retry

from carriers.base import CarrierAccount
from carriers.http import RateLimiter, account_client
from shipflow.carrier_accounts import CarrierFactory
from shipflow.carrier_limits import RedisTokenBucket
from shipflow.config import WebConfig

REDIS_URL = os.environ.get("SHIPFLOW_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="Redis not configured: set SHIPFLOW_TEST_REDIS_URL"
)


def _first_account(settings) -> tuple[str, str]:
    brand = next(b for b in settings.brands if b.carriers)
    return brand.code, brand.carriers[0].code


def test_without_redis_each_adapter_keeps_its_own_bucket(settings, clock):
    brand, account = _first_account(settings)
    adapter = CarrierFactory(settings, clock).account(brand, account)
    assert adapter.account.call_limiter is None


@pytest.mark.redis
@needs_redis
def test_with_redis_the_account_gets_a_bucket_named_after_it(settings, clock):
    settings = settings.model_copy(update={"web": WebConfig(redis_url=REDIS_URL)})
    brand, account = _first_account(settings)
    limiter = CarrierFactory(settings, clock).account(brand, account).account.call_limiter
    assert isinstance(limiter, RedisTokenBucket)
    assert limiter.key == f"shipflow:carrier-calls:{brand}:{account}"


@pytest.mark.redis
@needs_redis
def test_two_clients_share_one_rate():
    """Two connections (as two processes have) drawing 40 calls from one 10/s bucket: the
    first 10 are the burst, the other 30 take at least 3 s together, not 1.5 s each alone."""
    key = f"shipflow:carrier-calls:test:{uuid.uuid4().hex}"
    buckets = [RedisTokenBucket(redis.Redis.from_url(REDIS_URL), key, 10) for _ in range(2)]

    def draw(bucket: RedisTokenBucket) -> None:
        for _ in range(20):
            bucket.acquire()

    started = time.monotonic()
    threads = [threading.Thread(target=draw, args=(b,)) for b in buckets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2.8 <= time.monotonic() - started < 4.5


def test_redis_down_falls_back_to_the_process_bucket():
    client = redis.Redis(port=1, retry=Retry(NoBackoff(), 0))  # nothing listens on port 1
    bucket = RedisTokenBucket(client, "shipflow:carrier-calls:down", 5)
    started = time.monotonic()
    for _ in range(7):
        bucket.acquire()
    assert 0.3 <= time.monotonic() - started < 1.5  # 5 at once, then 2 at 5/s
    assert bucket._redis_down_until > time.monotonic()  # not asked again for a while


def test_process_bucket_allows_the_burst_then_the_rate():
    limiter = RateLimiter(20)
    started = time.monotonic()
    for _ in range(30):
        limiter.acquire()
    assert 0.45 <= time.monotonic() - started < 1.0


def test_the_http_client_uses_the_injected_limiter_before_every_call():
    calls: list[str] = []

    class Counting:
        def acquire(self) -> None:
            calls.append("acquire")

    account = CarrierAccount("ups", "main", call_limiter=Counting())
    client = account_client("ups", account, "https://sandbox.example", "https://api.example")
    with responses.RequestsMock() as mocked:
        mocked.get("https://sandbox.example/ping", json={})
        client.request("GET", "/ping")
        client.request("GET", "/ping")
    assert calls == ["acquire", "acquire"]

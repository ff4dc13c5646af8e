"""Carrier-call rate limits shared by every process: one token bucket per carrier account in
Redis when one is configured (`Settings.shared_state_url`), so N workers and web processes
together stay under the account's calls a second; otherwise each adapter keeps its own
in-process bucket (`carriers.http.RateLimiter`), which is the whole service in the embedded
default.

The bucket lives in one Lua script (read, refill, take, write as one step) on Redis's own
clock, so processes on machines whose clocks differ still share one rate. If Redis is
unreachable the calls go through the process's own bucket (logged) for `PAUSE_S` before
Redis is asked again: carriers stay reachable and no call waits on a dead Redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from carriers.base import CallLimiter
from carriers.http import RateLimiter
from shipflow.config import Settings
from shipflow.redis_clients import fail_fast

log = logging.getLogger(__name__)
PREFIX = "shipflow:carrier-calls:"
PAUSE_S = 5.0

# (brand code, account code, calls a second) -> the account's limiter
CallLimiters = Callable[[str, str, float], CallLimiter]


class RedisTokenBucket:
    """A token bucket in a Redis hash; `acquire` sleeps as long as Redis says to."""

    TAKE = """
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""

    def __init__(self, client: redis.Redis, key: str, per_second: float) -> None:
        self.key = key
        self.per_second = per_second
        self.capacity = max(1, int(per_second))
        self._take = client.register_script(self.TAKE)
        self._fallback = RateLimiter(per_second)
        self._redis_down_until = 0.0

    def acquire(self) -> None:
        while True:
            if time.monotonic() < self._redis_down_until:
                self._fallback.acquire()
                return
            try:
                wait = float(self._take(keys=[self.key], args=[self.per_second, self.capacity]))
            except redis.RedisError as exc:
                log.error("carrier rate limit on this process only, Redis unavailable: %s", exc)
                self._redis_down_until = time.monotonic() + PAUSE_S
                continue
            if wait <= 0:
                return
            time.sleep(wait)


def call_limiters(settings: Settings) -> CallLimiters | None:
    """Shared buckets when Redis is configured; None leaves each adapter its own."""
    url = settings.shared_state_url()
    if not url:
        return None
    client = fail_fast(url)

    def bucket(brand_code: str, account_code: str, per_second: float) -> CallLimiter:
        return RedisTokenBucket(client, f"{PREFIX}{brand_code}:{account_code}", per_second)

    return bucket

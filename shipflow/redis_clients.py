"""Redis clients for state that must not hold a request up: short timeouts and no retries
(redis-py's default retries with backoff would make each call on a dead Redis wait seconds).
Callers fall back or skip on `redis.RedisError`."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

TIMEOUT_S = 0.5


def fail_fast(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
    )

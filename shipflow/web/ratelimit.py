"""Counting attempts at guessable things (order lookups, ops logins) across the web tier.

Counters live in Redis when one is configured (`web.redis_url`, else the broker with
`jobs: celery`), so every web process and machine counts into the same window; otherwise in
the process (the embedded default runs one). Windows and backoff follow the runtime's clock,
so tests and the demo can move time; the store's expiry only frees memory. Subjects are
hashed, so order numbers, e-mails and addresses do not sit in Redis in clear.

If Redis is unreachable the limits are not enforced (logged): the pages stay up.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis
from flask import current_app

from shipflow.clock import Clock
from shipflow.config import Settings
from shipflow.redis_clients import fail_fast

log = logging.getLogger(__name__)
PREFIX = "shipflow:limits:"


class Counters(Protocol):
    def increment(self, key: str, ttl_s: int) -> int: ...
    def get(self, key: str) -> float | None: ...
    def put(self, key: str, value: float, ttl_s: int) -> None: ...
    def delete(self, *keys: str) -> None: ...


class MemoryCounters:
    """This process's counters; expired ones are swept every `SWEEP_EVERY` writes."""

    SWEEP_EVERY = 1024

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._values: dict[str, tuple[float, float]] = {}  # key -> (value, expires at)
        self._writes = 0
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> float | None:
        value, expires = self._values.get(key, (None, math.inf))
        return value if expires > now else None

    def _store(self, key: str, value: float, expires: float, now: float) -> None:
        self._values[key] = (value, expires)
        self._writes += 1
        if self._writes % self.SWEEP_EVERY == 0:
            self._values = {k: v for k, v in self._values.items() if v[1] > now}

    def increment(self, key: str, ttl_s: int) -> int:
        with self._lock:
            now = self._now()
            value = self._live(key, now)
            if value is None:
                self._store(key, 1, now + ttl_s, now)
                return 1
            self._values[key] = (value + 1, self._values[key][1])
            return int(value + 1)

    def get(self, key: str) -> float | None:
        with self._lock:
            return self._live(key, self._now())

    def put(self, key: str, value: float, ttl_s: int) -> None:
        with self._lock:
            now = self._now()
            self._store(key, value, now + ttl_s, now)

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)


class RedisCounters:
    """Shared counters: INCR and its EXPIRE in one Lua script, so a crash between the two
    cannot leave a counter that never expires."""

    INCREMENT = (
        "local n = redis.call('INCR', KEYS[1]) "
        "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
    )

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._increment = client.register_script(self.INCREMENT)

    def increment(self, key: str, ttl_s: int) -> int:
        try:
            return int(self._increment(keys=[key], args=[ttl_s]))
        except redis.RedisError as exc:
            log.error("rate limit not counted, Redis unavailable: %s", exc)
            return 0

    def get(self, key: str) -> float | None:
        try:
            value = self.client.get(key)
        except redis.RedisError as exc:
            log.error("rate limit not read, Redis unavailable: %s", exc)
            return None
        return None if value is None else float(value)

    def put(self, key: str, value: float, ttl_s: int) -> None:
        try:
            self.client.set(key, repr(value), ex=ttl_s)
        except redis.RedisError as exc:
            log.error("rate limit not stored, Redis unavailable: %s", exc)

    def delete(self, *keys: str) -> None:
        try:
            self.client.delete(*keys)
        except redis.RedisError as exc:
            log.error("rate limit not reset, Redis unavailable: %s", exc)


@dataclass(frozen=True)
class Limit:
    """At most `attempts` per subject in each `window_s`-second window."""

    name: str
    attempts: int
    window_s: int


@dataclass(frozen=True)
class Backoff:
    """After `free` failures a subject waits `first_s`, doubling with each further failure up
    to `max_s`; failures are forgotten `forget_s` after the last one, or on success."""

    name: str
    free: int
    first_s: float = 1
    max_s: float = 900
    forget_s: int = 3600

    def wait_s(self, failures: int) -> float:
        if failures <= self.free:
            return 0
        return min(self.first_s * 2 ** (failures - self.free - 1), self.max_s)


class Limiter:
    def __init__(self, counters: Counters, clock: Clock) -> None:
        self.counters = counters
        self.clock = clock

    @staticmethod
    def _key(name: str, subject: str, *rest: object) -> str:
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return ":".join([PREFIX + name, digest, *map(str, rest)])

    def allow(self, limit: Limit, subject: str) -> bool:
        """Count one attempt; False once the subject has used up this window."""
        window = int(self.clock.now().timestamp() // limit.window_s)
        count = self.counters.increment(self._key(limit.name, subject, window), limit.window_s)
        return count <= limit.attempts

    def wait_s(self, backoff: Backoff, subject: str) -> float:
        """Seconds the subject must still wait before its next attempt (0: go ahead)."""
        until = self.counters.get(self._key(backoff.name, subject, "until"))
        return max(0.0, (until or 0) - self.clock.now().timestamp())

    def failed(self, backoff: Backoff, subject: str) -> None:
        failures = self.counters.increment(self._key(backoff.name, subject), backoff.forget_s)
        wait = backoff.wait_s(failures)
        if wait:
            until = self.clock.now().timestamp() + wait
            ttl = max(backoff.forget_s, math.ceil(wait))
            self.counters.put(self._key(backoff.name, subject, "until"), until, ttl)

    def succeeded(self, backoff: Backoff, subject: str) -> None:
        self.counters.delete(
            self._key(backoff.name, subject), self._key(backoff.name, subject, "until")
        )


def make_limiter(settings: Settings, clock: Clock) -> Limiter:
    url = settings.shared_state_url()
    if not url:
        return Limiter(MemoryCounters(), clock)
    client = fail_fast(url)
    return Limiter(RedisCounters(client), clock)


def limiter() -> Limiter:
    """The app's limiter (made once per app by `create_app`)."""
    return current_app.extensions["shipflow.limiter"]

"""Beat's scheduler with one send per job per tick across every beat process.

Run one beat; but a second started by mistake (a deploy that forgot to stop the old one, two
machines with the beat unit enabled) must not make each periodic job run twice as often.
Before sending a job, a beat claims the job's current tick (wall-clock time divided into
`every`-second slots) in Redis with `SET NX EX`; the beat that loses the race skips that
send. Beats started at different moments thus share one schedule: a job runs once per slot,
at worst a slot late, never twice in one.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import redis
from celery.beat import PersistentScheduler, ScheduleEntry

log = logging.getLogger(__name__)
PREFIX = "shipflow:beat:"


def claim_tick(client: redis.Redis, job: str, every_s: float, now: float) -> bool:
    """True for the first claim of `job`'s slot containing `now`, False for any other."""
    slot = int(now // every_s)
    ttl = max(1, int(every_s * 2))
    return bool(client.set(f"{PREFIX}{job}:{slot}", "1", nx=True, ex=ttl))


class OneSendPerTick(PersistentScheduler):
    """`celery beat --scheduler shipflow.jobs.beat:OneSendPerTick` (set by `configure`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._claims = redis.Redis.from_url(
            self.app.conf.broker_url, socket_timeout=2, socket_connect_timeout=2
        )

    def apply_entry(self, entry: ScheduleEntry, producer=None) -> None:
        every = getattr(entry.schedule, "run_every", None)
        if isinstance(every, timedelta):
            try:
                if not claim_tick(self._claims, entry.name, every.total_seconds(), time.time()):
                    log.info("beat: %s already sent this tick by another beat", entry.name)
                    return
            except redis.RedisError as exc:  # beat cannot send without the broker anyway
                log.error("beat: cannot claim %s's tick: %s", entry.name, exc)
                return
        super().apply_entry(entry, producer)

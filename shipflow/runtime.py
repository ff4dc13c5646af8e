"""The composition root: what a running shipflow holds, each part built once per process.

The web app, the CLI, the job runners and the tests build one (`Runtime.from_settings`) and
pass it on; services take what they need from it, and nothing else builds an adapter or a
service or keeps one in a module global. Other modules name `Runtime` for type checking
only, so this module may import them all. What reacts to which event is
`shipflow.reactions.EVENT_HANDLERS`; the background jobs are `JOBS` below.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shipflow.allocation.batches import queued_batches, run_batch
from shipflow.allocation.service import NotAllocated
from shipflow.carrier_accounts import CarrierFactory
from shipflow.channel_sync import reconcile_shops
from shipflow.clock import Clock, SystemClock
from shipflow.config import Settings
from shipflow.customer_messages import CustomerSenders, customer_senders
from shipflow.delays.jobs import alert_cycle_job
from shipflow.delays.risk_store import learn_risk_job
from shipflow.delays.stale_limits import learn_stale_limits_job
from shipflow.edd.backlog import LOOK_EVERY_SECONDS, count_backlogs
from shipflow.edd.retrain import retrain_due
from shipflow.edd.service import EddService
from shipflow.fulfilment import Fulfilment
from shipflow.jobs import Job
from shipflow.jobs.outbox import dispatch_due
from shipflow.jobs.postpurchase import (
    deliver_messages,
    follow_up_failed_deliveries,
    push_failed_delivery_choices,
    remind_day_before,
    remind_pickups,
)
from shipflow.reactions import Reactions
from shipflow.recommendations import BestSellers
from shipflow.retention import prune_job
from shipflow.sandbox_book import DatabaseShipmentBook, book_sessions
from shipflow.store.db import make_engine, make_session_factory, stamp_times_with
from shipflow.store.partitions import ensure_partitions_job
from shipflow.tracking import polling, webhooks
from shipflow.tracking.subscriptions import subscribe_due

OUTBOX, MESSAGES = "outbox.dispatch", "postpurchase.deliver_messages"
# Every background job: a name (the Celery task's too), `fn(runtime, **kwargs)`, for a
# periodic one the seconds between runs, and the jobs a run that found work wakes (tracking
# writes the outbox, whose handlers queue customer messages). A new job is one line here.
JOBS = (
    Job("tracking.poll_due", polling.poll_due, every=60, wakes=(OUTBOX,)),
    Job("tracking.subscribe_pushes", subscribe_due, every=60),  # UPS, Kuaidi100, 17TRACK
    Job("tracking.process_receipts", webhooks.process_due_receipts, every=5, wakes=(OUTBOX,)),
    Job("tracking.process_receipt", webhooks.process_receipt, wakes=(OUTBOX,)),
    Job(OUTBOX, dispatch_due, every=2, wakes=(MESSAGES,)),
    # Before the sweep, so a starting instance judges with the limits its history gives.
    Job("alerts.learn_stale_limits", learn_stale_limits_job, every=600),  # day-old limits
    Job("alerts.learn_delay_risk", learn_risk_job, every=600),  # relearn_hours-old models
    Job("alerts.cycle", alert_cycle_job, every=60),
    Job("edd.retrain", retrain_due, every=3600),  # looks hourly; trains a day-old model
    Job(
        "edd.count_backlogs", count_backlogs, every=LOOK_EVERY_SECONDS
    ),  # looks each minute; counts 10-min-old
    Job("allocation.run_batch", run_batch),
    Job("allocation.queued_batches", queued_batches, every=10),  # submissions lost
    Job(MESSAGES, deliver_messages, every=30),
    Job("postpurchase.ndr_follow_up", follow_up_failed_deliveries, every=600),
    Job("postpurchase.ndr_push_retry", push_failed_delivery_choices, every=600),  # outages
    Job("retention.prune", prune_job, every=3600),
    Job("store.partitions", ensure_partitions_job, every=6 * 3600),  # PostgreSQL's months
    Job("channels.reconcile", reconcile_shops, every=300),  # orders whose webhook never came
    Job("postpurchase.pickup_reminders", remind_pickups, every=600, wakes=(MESSAGES,)),
    Job("postpurchase.day_before", remind_day_before, every=1800, wakes=(MESSAGES,)),
)


@dataclass(frozen=True)
class Services:
    """What is built from one version of the settings."""

    settings: Settings
    carriers: CarrierFactory
    edd: EddService
    customer_senders: CustomerSenders
    fulfilments: dict[str, Fulfilment] = field(default_factory=dict)  # by brand, on first use
    best_sellers: BestSellers = field(default_factory=BestSellers)


def build_services(runtime: Runtime) -> Services:
    settings = runtime.settings
    # Every process (web, jobs; Celery workers) shares the sandbox's book through a database.
    return Services(
        settings=settings,
        carriers=CarrierFactory(
            settings,
            runtime.clock,
            sandbox_book=DatabaseShipmentBook(book_sessions(runtime.engine)),
        ),
        edd=EddService(runtime),
        customer_senders=customer_senders(settings),
    )


def settle() -> None:
    """After warm-up (postal index, calendars, models): move the long-lived objects out of
    the garbage collector's reach. Full collections over them were the requests' p99 (86 ms
    against 6 ms with them frozen, benchmarks/edd_speed.py) and 0.7 ms of a job worker's
    CPU per tracking event (benchmarks/processing.py); frozen before a fork, the children
    also share their pages."""
    gc.collect()
    gc.freeze()


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    jobs: dict[str, Job] = field(default_factory=lambda: {job.name: job for job in JOBS})
    poll_gates: polling.CarrierGates = field(default_factory=polling.CarrierGates)
    reactions: Reactions = field(init=False, repr=False)
    _services: Services | None = field(default=None, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.reactions = Reactions(self)
        # Rows stamped by column defaults get this runtime's time, as the services' `now` is.
        stamp_times_with(self.engine, lambda: self.clock.now())

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine), clock or SystemClock())

    @property
    def services(self) -> Services:
        """Built on first use, and again when the settings are replaced (an edited
        configuration, a test): adapters and caches never outlive the settings they came from."""
        services = self._services
        if services is not None and services.settings is self.settings:
            return services
        with self._lock:
            if self._services is None or self._services.settings is not self.settings:
                self._services = build_services(self)
            return self._services

    @property
    def carriers(self) -> CarrierFactory:
        return self.services.carriers

    @property
    def edd(self) -> EddService:
        return self.services.edd

    @property
    def customer_senders(self) -> CustomerSenders:
        return self.services.customer_senders

    def fulfilment(self, brand_code: str) -> Fulfilment:
        """The brand's fulfilment (adapters, setup, quote cache), built once."""
        services = self.services
        with self._lock:
            found = services.fulfilments.get(brand_code)
            if found is None:
                brand = services.settings.brand(brand_code)
                if brand is None:
                    raise NotAllocated(f"unknown brand {brand_code!r}")
                found = services.fulfilments[brand_code] = Fulfilment(self, brand)
            return found

"""The in-process runner: webhooks processed on a background thread, periodic jobs run."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from shipflow.jobs import Job, periodic
from shipflow.jobs.inprocess import InProcessRunner
from shipflow.store.models import Shipment
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, post_webhook, wait_for


def test_webhook_is_processed_in_the_background(
    app, client, runtime, tracked, make_shipment, clock
):
    shipment_id = make_shipment(tracked["tb"], "TN1")
    runner = InProcessRunner(runtime, tick=0.05)
    app.extensions["shipflow.jobs"] = runner
    try:
        post_webhook(
            client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -1)))
        )

        def shipped():
            with runtime.sessions() as session:
                return session.scalar(select(Shipment.status).where(Shipment.id == shipment_id))

        assert wait_for(lambda: shipped() == "in_transit")
    finally:
        runner.stop()


def test_periodic_jobs_of_the_runtime_run(runtime):
    calls = []

    def delay_scan(rt):
        calls.append(rt)
        return 0

    runtime.jobs["test.delay_scan"] = Job("test.delay_scan", delay_scan, every=0.05)
    runner = InProcessRunner(runtime, tick=0.01).start()
    try:
        assert wait_for(lambda: len(calls) >= 2)
    finally:
        runner.stop()
    assert calls[0] is runtime


def test_the_server_picks_the_runner_of_its_settings(app, runtime):
    from shipflow.jobs.celery_app import CeleryRunner
    from shipflow.jobs.celery_app import app as celery
    from shipflow.jobs.process import JobsClient, JobsProcess
    from shipflow.server import start_jobs

    start_jobs(app, runtime, JobsProcess(runtime))
    assert isinstance(app.extensions["shipflow.jobs"], JobsClient)
    celery_runtime = dataclasses.replace(
        runtime, settings=runtime.settings.model_copy(update={"jobs": "celery"})
    )
    start_jobs(app, celery_runtime, None)
    assert isinstance(app.extensions["shipflow.jobs"], CeleryRunner)
    assert celery.conf.broker_url == runtime.settings.broker_url


def test_beat_schedules_every_periodic_job(runtime):
    from shipflow.jobs.celery_app import app as celery

    schedule = {name: entry["schedule"] for name, entry in celery.conf.beat_schedule.items()}
    assert schedule == {job.name: job.every for job in periodic(runtime.jobs.values())}
    assert {"tracking.poll_due", "outbox.dispatch", "alerts.cycle", "edd.retrain"} <= set(schedule)
    assert {"postpurchase.deliver_messages", "postpurchase.ndr_follow_up"} <= set(schedule)


def test_a_worker_collects_its_young_objects_less_often(runtime):
    """A Celery worker's runtime, built on its first job, raises the young generation's
    threshold (`celery_app.YOUNG_OBJECTS`); the older generations' stay Python's."""
    import gc

    from shipflow.jobs import celery_app

    before = gc.get_threshold()
    celery_app.configure(settings=runtime.settings)
    try:
        worker_runtime = celery_app.current_runtime()
        assert gc.get_threshold() == (celery_app.YOUNG_OBJECTS, *before[1:])
        worker_runtime.engine.dispose()
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
        celery_app._runtime = None


def test_beat_ticks_store_no_result(runtime):
    """Nobody reads a tick's result; each stored one was a Redis write per run beat sent."""
    from shipflow.jobs.celery_app import app as celery

    options = [entry.get("options", {}) for entry in celery.conf.beat_schedule.values()]
    assert options and all(option.get("ignore_result") for option in options)


def test_each_job_and_each_reaction_in_it_counts_its_cpu_time(
    client, runtime, tracked, make_shipment, clock
):
    """`shipflow_stage_cpu_seconds`: where the workers' time goes, stage by stage."""
    from prometheus_client import REGISTRY

    from shipflow.jobs import run

    def runs(stage: str) -> float:
        value = REGISTRY.get_sample_value("shipflow_stage_cpu_seconds_count", {"stage": stage})
        return value or 0.0

    stages = ("tracking.process_receipts", "reaction:revise_delivery_date", "outbox.dispatch")
    before = {stage: runs(stage) for stage in stages}
    make_shipment(tracked["tb"], "TN1")
    post_webhook(client, tracked["tb"], payload("TN1", event("PU", "in_transit", at(clock, -1))))

    assert run(runtime, "tracking.process_receipts") == 1
    assert run(runtime, "outbox.dispatch") >= 1

    assert {stage: runs(stage) - before[stage] for stage in stages} == {
        "tracking.process_receipts": 1,
        "reaction:revise_delivery_date": 1,
        "outbox.dispatch": 1,
    }


def test_a_stage_that_raises_is_counted_and_its_error_goes_on():
    from prometheus_client import REGISTRY

    from shipflow.jobs.stages import timed

    def count() -> float:
        labels = {"stage": "test.raising"}
        return REGISTRY.get_sample_value("shipflow_stage_cpu_seconds_count", labels) or 0.0

    before = count()
    with pytest.raises(ValueError, match="boom"), timed("test.raising"):
        raise ValueError("boom")
    with timed("test.raising"):
        pass
    assert count() == before + 2

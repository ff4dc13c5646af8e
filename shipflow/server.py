"""Runs the web app under gunicorn. With in-process jobs (the embedded default) there is one
web worker and, beside it, the jobs process that gunicorn's arbiter forks and keeps running
(`shipflow.jobs.process`); with Celery the web scales out and the jobs run elsewhere."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from shipflow.clock import AcceleratedClock
from shipflow.config import Settings
from shipflow.jobs.process import JobsProcess
from shipflow.runtime import Runtime, settle
from shipflow.web import create_app
from shipflow.web.access_log import GunicornLogger


class _Arbiter(Arbiter):
    """gunicorn's arbiter, which also keeps the embedded default's jobs process running."""

    def manage_workers(self) -> None:
        super().manage_workers()
        if self.app.jobs is not None:
            self.app.jobs.keep_running(self.LISTENERS)


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict, jobs: JobsProcess | None = None) -> None:
        self.application = app
        self.options = options
        self.jobs = jobs
        super().__init__()

    def run(self) -> None:
        _Arbiter(self).run()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def start_jobs(app, runtime: Runtime, jobs: JobsProcess | None) -> None:
    """The web worker hands its jobs to the jobs process (embedded) or to Celery."""
    if jobs is not None:
        app.extensions["shipflow.jobs"] = jobs.client()
    else:
        from shipflow.jobs.celery_app import CeleryRunner, configure

        configure(runtime.settings)
        app.extensions["shipflow.jobs"] = CeleryRunner()


def stop_demo(app) -> None:
    """On SIGTERM gunicorn stops accepting, lets the requests in flight finish (their group
    commit included: each waits for its batch's commit) within `graceful_timeout`, then
    exits the worker: the demo's traffic first finishes its tick. The arbiter then stops the
    jobs process (`on_exit`), which finishes the jobs it is running."""
    traffic = app.extensions.get("shipflow.demo_traffic")
    if traffic is not None:
        traffic.stop(wait=True)


def mount_demo_shop(app, runtime: Runtime, base: str):
    """The simulated Shopify store at `/demo/shopify/<domain>` (standing for its https
    address) and its orders' page, `/demo/shop`."""
    from shipflow.demo.shop_traffic import DemoShop

    shop = DemoShop(runtime.settings.brands[0], base, runtime.settings.demo.seed)
    app.register_blueprint(shop.store.blueprint("demo_shopify"), url_prefix=shop.prefix)
    app.extensions["shipflow.demo_shop"] = shop.store
    return shop


def start_demo(
    app, runtime: Runtime, brand_codes: list[str], base: str, ecpay: list, shop=None
) -> None:
    """Simulated shoppers (part of the first brand's in the simulated Shopify store), carrier
    scans and the simulated ECPay's pushes: periodic jobs on a runner of this web worker, since
    the simulated store and ECPay live in its memory. They are its only jobs: the service's
    own run in the jobs process."""
    from shipflow.demo.traffic import DemoTraffic
    from shipflow.jobs import Job
    from shipflow.jobs.inprocess import InProcessRunner

    runtime.jobs = {}
    for code in brand_codes:
        traffic = DemoTraffic(runtime, code, base, shop if code == brand_codes[0] else None)
        runtime.jobs[f"demo.tick.{code}"] = Job(f"demo.tick.{code}", traffic.tick, 1.0)
    runtime.jobs["demo.ecpay"] = Job(
        "demo.ecpay", lambda _runtime: sum(s.run_once() for s in ecpay), 1.0
    )
    app.extensions["shipflow.demo_traffic"] = InProcessRunner(runtime).start()


def serve(settings: Settings, host: str, port: int, demo: bool = False) -> None:
    clock = None
    if demo:
        clock = AcceleratedClock(start=datetime.now(UTC), speed=settings.demo.clock_speed)
    runtime = Runtime.from_settings(settings, clock=clock)
    codes = [b.code for b in settings.brands]
    names = {b.code: b.name for b in settings.brands}
    if demo:  # before the app, whose widget warms up on the brand's newest model
        from shipflow.demo.traffic import prepare
        from shipflow.instance import DEMO_API_KEY

        brand = codes[0]
        access = prepare(runtime, brand)
        others = {c: prepare(runtime, c, key_name=f"{DEMO_API_KEY}.{c}") for c in codes[1:]}
    app = create_app(runtime)
    inprocess = settings.jobs == "inprocess"
    workers = 1 if inprocess else int(os.environ.get("WEB_CONCURRENCY", "2"))
    jobs = JobsProcess(runtime) if inprocess else None
    base = f"http://{host}:{port}"
    ecpay = []
    if demo:  # the simulated ECPay answers at its accounts' base URLs (docs/carriers.md)
        from shipflow.demo.traffic import simulated_ecpay

        for index, (path, simulator) in enumerate(simulated_ecpay(runtime, base).items()):
            app.register_blueprint(simulator.blueprint(f"ecpay_{index}"), url_prefix=path)
            ecpay.append(simulator)
    shop = mount_demo_shop(app, runtime, base) if demo and inprocess else None
    settle()
    print(f"shipflow on {base}  (health: /healthz, API: /api/v1/openapi.json)")

    def after_fork(_worker) -> None:
        """Threads do not survive gunicorn's fork: the worker starts its own."""
        start_jobs(app, runtime, jobs)
        if demo and inprocess:
            start_demo(app, runtime, codes, base, ecpay, shop)

    if demo:
        print(
            f"""
  Demo brand '{brand}' on a simulated clock ({settings.demo.clock_speed:g}x: a day in about
  {86400 / settings.demo.clock_speed:.0f} s), {settings.demo.orders_per_minute:g} orders a minute.
  Open:
    {base}/demo/                 the shop, with the delivery-date widget
    {base}/ops                   ops alerts (login {access.ops_email} / {access.ops_password})
    {base}/t/{brand}             tracking lookup; `shipflow tracking-link SHIPMENT_ID` prints a link
    {base}/returns/{brand}       the returns portal
    {base}/demo/shop             the simulated Shopify store's orders and what shipflow wrote back
  API key (demo): {access.api_key}
    curl -H "Authorization: Bearer {access.api_key}" {base}/api/v1/shipments
"""
        )
        for code, other in others.items():
            print(
                f"""  Demo brand '{code}' ({names[code]}; its parcels go through the
  simulated ECPay, see docs/carriers.md):
    {base}/t/{code}             tracking lookup (zh-Hant)
    {base}/returns/{code}       the returns portal
    {base}/ops                  ops alerts (login {other.ops_email} / {other.ops_password})
  API key: {other.api_key}
"""
            )
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            # Threads: one slow client holds one of 8, not the process (/healthz still
            # answers); a buffering proxy in front keeps slow bodies away (docs/deploy.md).
            "worker_class": "gthread",
            "threads": 8,
            "timeout": 30,
            "accesslog": "-",
            "logger_class": GunicornLogger,  # the access log without customers' link tokens
            "post_worker_init": after_fork,
            "graceful_timeout": 30,  # SIGTERM: seconds for the requests in flight
            "worker_exit": lambda _server, _worker: stop_demo(app),
            "on_exit": lambda _arbiter: jobs.stop() if jobs is not None else None,
        },
        jobs,
    ).run()

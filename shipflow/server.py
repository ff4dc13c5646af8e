"""Runs the web app under granian (HTTP in Rust, the WSGI app on its blocking threads). With
in-process jobs (the embedded default) there is one web worker and, beside it, the jobs
process that the server's main process forks and keeps running (`shipflow.jobs.process`);
with Celery the web scales out and the jobs run elsewhere."""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.mp import MPServer

from shipflow.clock import AcceleratedClock
from shipflow.config import Settings
from shipflow.jobs.process import JobsProcess
from shipflow.runtime import Runtime, settle
from shipflow.web import create_app
from shipflow.web.access_log import AccessLog

# Threads per web worker: one slow client holds one of 8, not the process (/healthz still
# answers); a buffering proxy in front keeps slow bodies away (docs/deploy.md).
THREADS = 8
GRACE_S = 30  # SIGTERM: seconds for the requests in flight, then the worker is killed
HUNG_S = 30  # a web worker whose Python stops running this long is ended and started again


def web_server(host: str, port: int, workers: int, threads: int = THREADS) -> MPServer:
    """granian as `shipflow serve` runs it: WSGI, `workers` processes forked from this one
    (they share its settled runtime), a dead worker started again."""
    # granian starts workers by the default method: fork, so the app and `run`'s loader
    # cross into them as they are, never pickled
    multiprocessing.set_start_method("fork", force=True)
    return MPServer(
        "shipflow",  # granian's name for the app; `run` hands it the app itself
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,  # the app's threads in each worker
        respawn_failed_workers=True,  # a worker that exits is started again
        workers_kill_timeout=GRACE_S,  # SIGTERM: drained within it, else killed
        websockets=False,
        log_level=LogLevels.info,
        log_access=False,  # `AccessLog` writes it, without link tokens
    )


def run(server: MPServer, load: Callable, on_exit: Callable[[], None] = lambda: None) -> None:
    """Serve until SIGTERM or SIGINT. `load` runs in each web worker after the fork (threads
    do not survive it: the worker starts its own there) and returns the WSGI app; `on_exit`
    runs in the worker once it has answered the requests in flight (their group commit
    included: each waits for its batch's commit)."""

    def worker(*args) -> None:
        watch_worker()
        try:
            MPServer._spawn_wsgi_worker(*args)  # granian's own WSGI worker, returns when drained
        finally:
            on_exit()

    server.serve(spawn_target=worker, target_loader=load, wrap_loader=False)


def watch_worker() -> None:
    """What gunicorn's arbiter watched, from a thread of each web worker, every second: a
    worker none of whose threads has run Python for `HUNG_S` (one holds the GIL) prints
    every thread's stack and exits, and granian starts another (faulthandler's timer runs
    without the GIL; this thread re-arms it); a worker whose main process is gone (killed)
    stops as on SIGTERM, finishing its requests in flight."""
    parent = os.getppid()

    def watch() -> None:
        orphaned = False
        while True:
            faulthandler.dump_traceback_later(HUNG_S, exit=True)
            if not orphaned and os.getppid() != parent:
                orphaned = True
                os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1.0)

    threading.Thread(target=watch, name="shipflow-watchdog", daemon=True).start()


def request_only(app: Callable) -> Callable:
    """granian starts every WSGI environ from a copy of the process's environment
    (`dict(os.environ) | scope`), so a variable named like a header, such as HTTP_PROXY (our
    outgoing calls' proxy, credentials included), would read as a header of every request
    and be stored with every webhook receipt. Such variables are taken out again, unless the
    request sent that header itself (its value then replaced the variable's)."""
    leaked = {
        key: value
        for key, value in os.environ.items()
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
    }
    if not leaked:
        return app

    def wsgi(environ, start_response):
        for key, value in leaked.items():
            if environ.get(key) == value:
                del environ[key]
        return app(environ, start_response)

    return wsgi


def start_jobs(app, runtime: Runtime, jobs: JobsProcess | None) -> None:
    """The web worker hands its jobs to the jobs process (embedded) or to Celery."""
    if jobs is not None:
        app.extensions["shipflow.jobs"] = jobs.client()
    else:
        from shipflow.jobs.celery_app import CeleryRunner, configure

        configure(runtime.settings)
        app.extensions["shipflow.jobs"] = CeleryRunner()


def stop_demo(app) -> None:
    """On SIGTERM granian stops accepting and lets the requests in flight finish (their group
    commit included: each waits for its batch's commit) within `GRACE_S`; then the web
    worker's demo traffic finishes its tick, and the worker exits. The main process then
    stops the jobs process, which finishes the jobs it is running."""
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

    def load():
        start_jobs(app, runtime, jobs)
        if demo and inprocess:
            start_demo(app, runtime, codes, base, ecpay, shop)
        return request_only(AccessLog(app))

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
    server = web_server(host, port, workers)
    if jobs is not None:  # started before the web worker, stopped after it
        server.on_startup(jobs.supervise)
        server.on_shutdown(jobs.stop)
    run(server, load, on_exit=lambda: stop_demo(app))

"""Runs the web app under gunicorn. With in-process jobs there is one worker process (the
jobs live in it, on threads); with Celery the web scales out and the jobs run elsewhere."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication

from shipflow.config import Settings
from shipflow.runtime import Runtime
from shipflow.web import create_app


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def start_jobs(app, runtime: Runtime) -> None:
    """In-process: the worker runs the jobs on threads; Celery: it only submits them."""
    if runtime.settings.jobs == "inprocess":
        from shipflow.jobs.inprocess import InProcessRunner

        app.extensions["shipflow.jobs"] = InProcessRunner(runtime).start()
    else:
        from shipflow.jobs.celery_app import CeleryRunner, configure

        configure(runtime.settings)
        app.extensions["shipflow.jobs"] = CeleryRunner()


def serve(settings: Settings, host: str, port: int, demo: bool = False) -> None:
    runtime = Runtime.from_settings(settings)
    app = create_app(runtime)
    inprocess = settings.jobs == "inprocess"
    workers = 1 if inprocess else int(os.environ.get("WEB_CONCURRENCY", "2"))
    print(f"shipflow on http://{host}:{port}  (health: /healthz, API: /api/v1/openapi.json)")
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": 8,
            "accesslog": "-",
            # Threads do not survive gunicorn's fork: start the job runner in the worker.
            "post_worker_init": lambda _worker: start_jobs(app, runtime),
        },
    ).run()

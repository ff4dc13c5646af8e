"""/healthz (liveness: the process answers and reaches the database), /readyz (readiness:
database, Redis and migrations; a load balancer sends traffic only while it is 200) and
/metrics (Prometheus text format)."""

from __future__ import annotations

import os
import time

import redis
from flask import Blueprint, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shipflow.redis_clients import fail_fast
from shipflow.store.migrate import at_head
from shipflow.web.problems import FieldError, Problem, problem_response

bp = Blueprint("health", __name__)

REQUESTS = Counter(
    "shipflow_http_requests_total", "HTTP requests", ["method", "endpoint", "status"]
)
LATENCY = Histogram("shipflow_http_request_seconds", "HTTP request latency", ["endpoint"])


@bp.get("/healthz")
def healthz():
    try:
        g.db.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        current_app.logger.error("health check: database unreachable: %s", exc)
        return problem_response(
            Problem(title="Unhealthy", status=503, detail="The database is unreachable.")
        )
    return {"status": "ok", "database": "ok"}


def _redis_url() -> str:
    """The Redis this web process depends on: the broker it submits jobs to, else the shared
    limits' store; empty when it needs none (the embedded default)."""
    settings = current_app.extensions["shipflow"].settings
    if settings.jobs == "celery":
        return settings.broker_url
    return settings.shared_state_url()


def _checks() -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        checks["migrations"] = "ok" if at_head(g.db.connection()) else "not at head"
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        current_app.logger.error("readiness: database unreachable: %s", exc)
        checks["database"] = "unreachable"
    url = _redis_url()
    if url:
        try:
            fail_fast(url).ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            current_app.logger.error("readiness: Redis unreachable: %s", exc)
            checks["redis"] = "unreachable"
    return checks


@bp.get("/readyz")
def readyz():
    checks = _checks()
    failing = [
        FieldError(field=name, message=state) for name, state in checks.items() if state != "ok"
    ]
    if failing:
        problem = Problem(
            title="Not ready",
            status=503,
            detail="Not ready to take traffic: "
            + "; ".join(f"{f.field} {f.message}" for f in failing)
            + ". Run `shipflow db upgrade` if migrations are behind.",
            errors=failing,
        )
        return problem_response(problem, headers={"Retry-After": "5"})
    return {"status": "ok", **checks}


@bp.get("/metrics")
def metrics():
    """This process's metrics; with PROMETHEUS_MULTIPROC_DIR set (docs/deploy.md), those of
    every process on the machine that writes there (each web and Celery worker), summed."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def start_timer() -> None:
    g.started = time.perf_counter()


def record(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(request.method, endpoint, response.status_code).inc()
    if "started" in g:
        LATENCY.labels(endpoint).observe(time.perf_counter() - g.started)
    return response

"""/healthz (checks the database) and /metrics (Prometheus text format)."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shipflow.web.problems import Problem, problem_response

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


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def start_timer() -> None:
    g.started = time.perf_counter()


def record(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(request.method, endpoint, response.status_code).inc()
    if "started" in g:
        LATENCY.labels(endpoint).observe(time.perf_counter() - g.started)
    return response

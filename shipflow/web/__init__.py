"""The Flask app factory: one blueprint per feature, one runtime shared by all."""

from __future__ import annotations

from flask import g
from flask_openapi3 import Info, OpenAPI
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import shipflow
from shipflow.runtime import Runtime
from shipflow.web import (
    access_log,
    demo,
    headers,
    health,
    inputs,
    limits,
    ndr_page,
    pages,
    returns_portal,
    sessions,
    webhooks,
    widget,
)
from shipflow.web.api import register_api
from shipflow.web.api.idempotency import PARAMETER as IDEMPOTENCY_PARAMETER
from shipflow.web.ops import bp as ops_pages
from shipflow.web.problems import (
    ApiProblem,
    database_busy,
    http_problem,
    problem_response,
    validation_problem,
)
from shipflow.web.ratelimit import make_limiter
from shipflow.web.tracking_page import views as tracking_page

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "A brand API key"}
}


def openapi_with_idempotency(document: dict) -> dict:
    """Every POST accepts an Idempotency-Key header; say so once here, not per route."""
    for operations in document.get("paths", {}).values():
        post = operations.get("post")
        if post is not None:
            post.setdefault("parameters", [])
            if IDEMPOTENCY_PARAMETER not in post["parameters"]:
                post["parameters"].append(IDEMPOTENCY_PARAMETER)
    return document


def create_app(runtime: Runtime) -> OpenAPI:
    app = OpenAPI(
        __name__,
        info=Info(title="shipflow API", version=shipflow.__version__),
        security_schemes=SECURITY_SCHEMES,
        validation_error_status=422,
        validation_error_callback=validation_problem,
        doc_ui=False,
    )
    sessions.init_app(app, runtime.settings)
    access_log.init_app(app)
    app.json = inputs.JSONProvider(app)
    app.extensions["shipflow"] = runtime
    app.extensions["shipflow.limiter"] = make_limiter(runtime.settings, runtime.clock)
    limits.init_app(app)
    headers.init_app(app)

    @app.before_request
    def _open_session() -> None:
        health.start_timer()
        g.runtime = runtime
        g.db = runtime.sessions()

    app.before_request(inputs.refuse_nul_bytes)

    @app.teardown_request
    def _close_session(_exc) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    app.after_request(health.record)
    app.register_error_handler(ApiProblem, lambda e: problem_response(e.problem, e.headers))
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(OperationalError, database_busy)

    register_api(app)
    app.register_blueprint(health.bp)
    pages.init_app(app)
    app.register_blueprint(tracking_page.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(demo.bp)
    app.register_blueprint(ops_pages)
    app.register_blueprint(ndr_page.bp)
    app.register_blueprint(returns_portal.bp)

    @app.get("/api/v1/openapi.json", doc_ui=False)
    def openapi_document():
        return openapi_with_idempotency(app.api_doc)

    proxies = runtime.settings.web.trusted_proxies
    if proxies:  # the client is the address the outermost of our proxies saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=0)
    app.wsgi_app = webhooks.WebhookIntake(app.wsgi_app, runtime, app.extensions)
    return app

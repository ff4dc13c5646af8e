"""The Flask app factory: the API and one blueprint per feature (`<feature>/routes.py`
defining `bp`), one runtime shared by all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, g
from flask.ctx import _AppCtxGlobals
from flask_openapi3 import Info, OpenAPI
from flask_openapi3.types import SecuritySchemesDict
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import shipflow
from shipflow.web import access_log, headers, inputs, limits, pages, sessions, webhooks
from shipflow.web.api import routes as api
from shipflow.web.api.idempotency import PARAMETER as IDEMPOTENCY_PARAMETER
from shipflow.web.demo import routes as demo
from shipflow.web.health import routes as health
from shipflow.web.ndr_page import routes as ndr_page
from shipflow.web.ops import routes as ops
from shipflow.web.problems import (
    ApiProblem,
    database_busy,
    http_problem,
    problem_response,
    validation_problem,
)
from shipflow.web.ratelimit import make_limiter
from shipflow.web.returns_portal import routes as returns_portal
from shipflow.web.shopify_app import routes as shopify_app
from shipflow.web.store_map import routes as store_map
from shipflow.web.tracking_page import routes as tracking_page
from shipflow.web.widget import routes as widget

# Each feature package's `routes.bp`, registered in this order.
FEATURES = (
    health,
    tracking_page,
    widget,
    demo,
    ops,
    ndr_page,
    returns_portal,
    store_map,
    shopify_app,
)

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

SECURITY_SCHEMES: SecuritySchemesDict = {
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


class Globals(_AppCtxGlobals):
    """Flask's `g`, whose database session `g.db` is opened when first used: a request that
    reads nothing from the database (a widget answer from the cache) opens none."""

    def __getattr__(self, name: str):
        if name != "db":
            return super().__getattr__(name)
        self.db = current_app.extensions["shipflow"].sessions()
        return self.db


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
    app.app_ctx_globals_class = Globals
    app.extensions["shipflow.limiter"] = make_limiter(runtime.settings, runtime.clock)
    limits.init_app(app)
    headers.init_app(app)

    @app.before_request
    def _request_started() -> None:
        health.start_timer()
        g.runtime = runtime

    app.before_request(inputs.refuse_nul_bytes)

    @app.teardown_appcontext
    def _close_session(_exc) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    app.after_request(health.record)
    app.register_error_handler(ApiProblem, lambda e: problem_response(e.problem, e.headers))
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(OperationalError, database_busy)

    app.register_api(api.bp)  # an APIBlueprint: its routes go into the OpenAPI document
    pages.init_app(app)
    for feature in FEATURES:
        app.register_blueprint(feature.bp)

    @app.get("/api/v1/openapi.json", doc_ui=False)
    def openapi_document():
        return openapi_with_idempotency(app.api_doc)

    # Flask's documented way to wrap the app in WSGI middleware; its annotations make
    # `wsgi_app` a method, which mypy will not let be reassigned.
    proxies = runtime.settings.web.trusted_proxies
    if proxies:  # the client is the address the outermost of our proxies saw, the scheme
        # the one the nearest says the request came with (HTTPS: `Secure` session cookies)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=1)  # type: ignore[method-assign]
    app.wsgi_app = webhooks.WebhookIntake(app.wsgi_app, runtime, app.extensions)  # type: ignore[method-assign]
    return app

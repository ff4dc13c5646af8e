"""The JSON API under /api/v1: brand API keys, problem+json errors, OpenAPI 3.1."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint

from shipflow.web.auth import authenticate
from shipflow.web.problems import Problem

ERRORS = {401: Problem, 404: Problem, 409: Problem, 422: Problem}

api = APIBlueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    abp_security=[{"bearer": []}],
    abp_responses=ERRORS,
)


@api.before_request
def _require_api_key() -> None:
    g.brand_id = authenticate()


def register_api(app) -> None:
    from shipflow.web.api import (  # noqa: F401  (routes register on import)
        alerts,
        allocations,
        api_keys,
        feedback,
        ndr,
        orders,
        returns,
        shipments,
        webhook_receipts,
    )

    app.register_api(api)

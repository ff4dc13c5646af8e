"""The JSON API's blueprint under /api/v1: brand API keys, problem+json errors, OpenAPI 3.1.
Each resource module of this package registers its routes on `bp`."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint

from shipflow.web.auth import authenticate
from shipflow.web.problems import Problem

ERRORS = {401: Problem, 404: Problem, 409: Problem, 422: Problem}

bp = APIBlueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    abp_security=[{"bearer": []}],
    abp_responses=ERRORS,
)


@bp.before_request
def _require_api_key() -> None:
    g.brand_id = authenticate()

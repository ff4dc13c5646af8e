"""The JSON API's blueprint under /api/v1: brand API keys, problem+json errors, OpenAPI 3.1.
Each resource module of this package registers its routes on `bp`."""

from __future__ import annotations

import inspect
from functools import cache

from flask import current_app, g, request
from flask_openapi3 import APIBlueprint
from flask_openapi3.types import ResponseDict

from shipflow.api_keys import active_key
from shipflow.web.problems import ApiProblem, FieldError, Problem

ERRORS: ResponseDict = {401: Problem, 404: Problem, 409: Problem, 422: Problem}

bp = APIBlueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    abp_security=[{"bearer": []}],
    abp_responses=ERRORS,
)


@bp.before_request
def _require_api_key() -> None:
    """The request's brand is its API key's; no key, or an unknown one, is a 401 problem."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiProblem(
            401,
            "Unauthorized",
            "Send your brand's API key as 'Authorization: Bearer <key>' "
            "(create one with `shipflow api-key create --brand CODE`).",
        )
    row = active_key(g.db, key.strip())
    if row is None:
        raise ApiProblem(401, "Unauthorized", "This API key is unknown or revoked.")
    g.brand_id = row.brand_id


@bp.before_request
def _refuse_query_the_route_ignores() -> None:
    """A route that takes no query parameters refuses any, as the lists refuse those they do
    not know: a filter the route would ignore (`/ndr-metrics?carrier=ups`) answers all."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not request.args or view is None or _takes_query(view):
        return
    message = "is not a query parameter of this address; remove it"
    errors = [FieldError(field=name, message=message) for name in request.args]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    raise ApiProblem(422, "Invalid request", detail, errors)


@cache
def _takes_query(view) -> bool:
    """Whether the view declares query parameters; read once per view, since
    `inspect.signature` takes 40-65 µs (docs/benchmarks.md)."""
    return "query" in inspect.signature(view).parameters

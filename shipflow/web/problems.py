"""RFC 9457 problem details: every API error says what went wrong, which field, and the fix."""

from __future__ import annotations

from json import JSONDecodeError
from typing import Any

from flask import Response, json, request
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from shipflow.store.db import is_contention

PROBLEM_JSON = "application/problem+json"
RETRY_BUSY_SECONDS = 1


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.problem = Problem(status=status, title=title, detail=detail, errors=errors or [])
        self.headers = headers


def field_problem(field: str, message: str, status: int = 422) -> ApiProblem:
    return ApiProblem(
        status, "Invalid request", f"{field}: {message}", [FieldError(field=field, message=message)]
    )


def not_found(what: str) -> ApiProblem:
    return ApiProblem(404, "Not found", f"No {what} with this id exists for your brand.")


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(problem.model_dump()),
        status=problem.status,
        mimetype=PROBLEM_JSON,
        headers=headers,
    )


def validation_problem(exc: Any) -> Response:
    """flask-openapi3's hook for pydantic validation errors on body, query, path or headers."""
    if any(not error["loc"] for error in exc.errors()):  # the body as a whole, not a field
        return body_problem()
    errors = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"] if not str(p).startswith("function-")]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        elif error["type"] == "extra_forbidden":
            message = "is not a known field; remove it"
        errors.append(FieldError(field=".".join(loc) or "body", message=message))
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "The request is not valid."
    return problem_response(
        Problem(title="Invalid request", status=422, detail=detail, errors=errors)
    )


JSON_KINDS = {
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def body_problem() -> Response:
    """Why the body is no JSON object, and the fix (flask-openapi3 reads a body it cannot
    parse, or of another media type, as none; pydantic then names the model it expected)."""
    body = request.get_data()
    advice = "send one JSON object with the header 'Content-Type: application/json'"
    if not body.strip():
        return _body_problem(422, "Invalid request", f"body: is required; {advice}.")
    if not request.is_json:
        sent = request.mimetype or "none"
        detail = f"The body's Content-Type is {sent!r}; {advice}."
        return _body_problem(415, "Unsupported Media Type", detail)
    try:
        value = json.loads(body)
    except UnicodeDecodeError:
        return _body_problem(400, "Malformed JSON", f"The body is not UTF-8 text; {advice}.")
    except JSONDecodeError as exc:
        detail = (
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; "
            f"{advice}."
        )
        return _body_problem(400, "Malformed JSON", detail)
    kind = "null" if value is None else JSON_KINDS.get(type(value), type(value).__name__)
    return _body_problem(422, "Invalid request", f"body: is {kind}, not a JSON object; {advice}.")


def _body_problem(status: int, title: str, detail: str) -> Response:
    message = detail.removeprefix("body: ")
    error = FieldError(field="body", message=message)
    return problem_response(Problem(title=title, status=status, detail=detail, errors=[error]))


def http_problem(exc: HTTPException) -> Response:
    """Turn Flask/werkzeug errors (404 route, 405, 415 ...) into problem+json too."""
    status = exc.code or 500
    detail = exc.description or exc.name
    if isinstance(exc, MethodNotAllowed):
        detail = f"{detail} Allowed: {', '.join(exc.valid_methods or [])}."
    elif status == 413:
        limit = request.max_content_length
        detail = (
            f"The request body is larger than the {limit} bytes this address accepts; send less."
        )
    return problem_response(Problem(title=exc.name, status=status, detail=detail))


def database_busy(exc: OperationalError) -> Response:
    """Writers wait for each other within a bound (SQLite's busy timeout, PostgreSQL's
    `lock_timeout`); past it the client is told to come back, not that the server broke.
    Any other database error stays a 500."""
    if not is_contention(exc):
        raise exc
    problem = Problem(
        title="Database busy",
        status=503,
        detail="The database is busy with other writes and nothing was changed; send the "
        f"request again in {RETRY_BUSY_SECONDS} s (with the same Idempotency-Key, if any).",
    )
    return problem_response(problem, headers={"Retry-After": str(RETRY_BUSY_SECONDS)})

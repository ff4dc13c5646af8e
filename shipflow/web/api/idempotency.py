"""`Idempotency-Key` on POST: a retried create returns the original response, never a
duplicate; the same key with a different body is a 422.

The key is claimed before the view runs (its row, without a response yet, committed on its
own), so of concurrent requests with one key only the first does the work; the others get
a 409 saying to retry, and the retry gets the stored response. The view's changes and that
response commit in one transaction; a view that fails releases the claim."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from flask import after_this_request, current_app, g, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from shipflow.store.models import IdempotencyRecord
from shipflow.web.problems import ApiProblem, field_problem

HEADER = "Idempotency-Key"
PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Any unique string (e.g. a UUID). Retrying with the same key returns the "
    "original response instead of creating a duplicate; while the first request with the key "
    "is still running, a retry gets a 409 and should try again shortly.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
# A claim this old without a response was left by a worker that died mid-request; a retry
# may take it over. Longer than any request runs (label purchases with carrier retries).
RETRY_IN_PROGRESS_SECONDS = 1
CLAIM_TIMEOUT = timedelta(minutes=5)


def _key() -> str | None:
    sent = request.headers.get(HEADER)
    if sent is None:
        return None
    key = sent.strip()
    if not key:
        raise field_problem(
            HEADER, "is empty; send a unique string (e.g. a UUID) or leave the header out"
        )
    if len(key) > 255:
        raise field_problem(HEADER, "at most 255 characters")
    return key


def _request_hash() -> str:
    try:
        body = json.dumps(request.get_json(silent=False), sort_keys=True)
    except Exception:
        body = request.get_data(as_text=True)
    return hashlib.sha256(f"{request.method} {request.path} {body}".encode()).hexdigest()


def _claim(key: str, digest: str) -> tuple[IdempotencyRecord | None, bool]:
    """(the key's record, whether this request now holds it). The claim commits on its own,
    so a concurrent request with the key sees it; None if the holder just released it."""
    claim = IdempotencyRecord(
        brand_id=g.brand_id, key=key, method=request.method, path=request.path, request_hash=digest
    )
    g.db.add(claim)
    try:
        g.db.commit()
        return claim, True
    except IntegrityError:
        g.db.rollback()
    held = g.db.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.brand_id == g.brand_id, IdempotencyRecord.key == key
        )
    )
    now = g.runtime.clock.now()
    abandoned = (
        held is not None
        and held.response_status is None
        and held.request_hash == digest
        and held.created_at < now - CLAIM_TIMEOUT
    )
    if not abandoned:
        return held, False
    taken = g.db.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == held.id,
            IdempotencyRecord.response_status.is_(None),
            IdempotencyRecord.created_at < now - CLAIM_TIMEOUT,
        )
        .values(created_at=now)
    )
    g.db.commit()
    return held, taken.rowcount == 1


def _replay(record: IdempotencyRecord | None, digest: str):
    if record is not None and record.request_hash != digest:
        raise ApiProblem(
            422,
            "Idempotency key reused",
            f"The {HEADER} was already used with a different request; "
            "send a new key for a new request.",
        )
    if record is None or record.response_status is None:
        raise ApiProblem(
            409,
            "Request in progress",
            f"A request with this {HEADER} is still being processed; retry in "
            f"{RETRY_IN_PROGRESS_SECONDS} s to get its response.",
            headers={"Retry-After": str(RETRY_IN_PROGRESS_SECONDS)},
        )
    return record.response_body, record.response_status, {"Idempotent-Replayed": "true"}


def idempotent(view):
    """Wrap a POST view that returns (body, status) and leaves its changes uncommitted:
    the changes and the stored response commit in one transaction."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = _key()
        if key is None:
            body, status = view(*args, **kwargs)
            g.db.commit()
            return body, status
        digest = _request_hash()
        record, mine = _claim(key, digest)
        if not mine:
            return _replay(record, digest)
        assert record is not None  # the claim this request holds is its row
        try:
            body, status = view(*args, **kwargs)
            record.response_status, record.response_body = status, body
            g.db.commit()
        except BaseException:
            g.db.rollback()
            g.db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
            g.db.commit()
            raise
        return body, status

    return wrapper


def submit_after_commit(job: str, **kwargs) -> None:
    """Start a background job on the rows an @idempotent view adds, once they are committed
    (with the stored response); a request that fails starts nothing. Without a job runner
    here, the runner's periodic sweep finds the rows."""
    runner = current_app.extensions.get("shipflow.jobs")
    if runner is None:
        return

    @after_this_request
    def submit(response):
        if response.status_code < 300:
            runner.submit(job, **kwargs)
        return response

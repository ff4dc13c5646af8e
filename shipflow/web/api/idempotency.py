"""`Idempotency-Key` on POST: a retried create returns the original response, never a
duplicate; the same key with a different body is a 422."""

from __future__ import annotations

import functools
import hashlib
import json

from flask import g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shipflow.store.models import IdempotencyRecord
from shipflow.web.problems import ApiProblem

HEADER = "Idempotency-Key"
PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Any unique string (e.g. a UUID). Retrying with the same key returns the "
    "original response instead of creating a duplicate.",
    "schema": {"type": "string", "maxLength": 255},
}


def _request_hash() -> str:
    try:
        body = json.dumps(request.get_json(silent=False), sort_keys=True)
    except Exception:
        body = request.get_data(as_text=True)
    return hashlib.sha256(f"{request.method} {request.path} {body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, digest: str):
    if record.request_hash != digest:
        raise ApiProblem(
            422,
            "Idempotency key reused",
            f"The {HEADER} was already used with a different request; "
            "send a new key for a new request.",
        )
    return record.response_body, record.response_status, {"Idempotent-Replayed": "true"}


def idempotent(view):
    """Wrap a POST view that returns (body, status) and leaves its changes uncommitted:
    the changes and the stored response commit in one transaction."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            body, status = view(*args, **kwargs)
            g.db.commit()
            return body, status
        if len(key) > 255:
            raise ApiProblem(422, "Invalid request", f"{HEADER}: at most 255 characters")
        digest = _request_hash()
        lookup = select(IdempotencyRecord).where(
            IdempotencyRecord.brand_id == g.brand_id, IdempotencyRecord.key == key
        )
        existing = g.db.scalar(lookup)
        if existing is not None:
            return _replay(existing, digest)
        body, status = view(*args, **kwargs)
        if status < 300:
            g.db.add(
                IdempotencyRecord(
                    brand_id=g.brand_id,
                    key=key,
                    method=request.method,
                    path=request.path,
                    request_hash=digest,
                    response_status=status,
                    response_body=body,
                )
            )
            try:
                g.db.commit()
            except IntegrityError:  # a concurrent retry won the race: answer with its result
                g.db.rollback()
                return _replay(g.db.scalar(lookup), digest)
        return body, status

    return wrapper

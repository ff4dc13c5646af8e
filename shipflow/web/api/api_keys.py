"""The brand's API keys: list them (a prefix to recognise each, never the secret) and revoke
one, e.g. after a leak. Creating keys stays on the command line, with the brand's owner."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import g
from flask_openapi3 import Tag
from pydantic import BaseModel, Field
from sqlalchemy import select

from shipflow.api_keys import revoke_api_key
from shipflow.store.models import ApiKey
from shipflow.web.api.pagination import page, paginate
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import Input, Output, PageQuery
from shipflow.web.problems import not_found

TAG = Tag(name="api keys")


class ApiKeyPath(Input):
    id: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


class ApiKeyOut(Output):
    id: str
    name: str = Field(description="the label given at creation")
    prefix: str = Field(description="the key's first characters, to recognise it")
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyPage(BaseModel):
    data: list[ApiKeyOut]
    next_cursor: str | None


def key_json(key: ApiKey) -> dict:
    return ApiKeyOut.model_validate(key).model_dump(mode="json")


@bp.get("/api-keys", tags=[TAG], responses={200: ApiKeyPage})
def list_api_keys(query: PageQuery):
    """The brand's keys, revoked ones too, newest first."""
    statement = select(ApiKey).where(ApiKey.brand_id == g.brand_id)
    rows, cursor = page(list(g.db.scalars(paginate(statement, ApiKey, query))), query.limit)
    return {"data": [key_json(k) for k in rows], "next_cursor": cursor}


@bp.delete("/api-keys/<id>", tags=[TAG], responses={200: ApiKeyOut})
def revoke_key(path: ApiKeyPath):
    """Revoke a key: it is refused from the next request on. Revoking twice is harmless."""
    key = revoke_api_key(g.db, path.id, g.runtime.clock.now(), g.brand_id)
    if key is None:
        raise not_found("API key")
    g.db.commit()
    return key_json(key)

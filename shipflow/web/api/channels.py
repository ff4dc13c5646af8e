"""The brand's shops: connect one (its credentials stored encrypted, never shown again),
list them, disconnect one. Another brand's key sees none of them (404)."""

from __future__ import annotations

from typing import Annotated

from flask import g
from flask_openapi3 import Tag
from pydantic import BaseModel, Field
from sqlalchemy import select

from channels.base import ChannelError
from channels.registry import available_channels
from shipflow.channel_accounts import (
    CodeTaken,
    ShopTaken,
    brand_accounts,
    connect_account,
    disable_account,
    subscribe,
    webhook_address,
)
from shipflow.secrets_at_rest import SecretsKeyError
from shipflow.store.models import ChannelAccount
from shipflow.web.api.routes import bp
from shipflow.web.api.schemas import Input, Output
from shipflow.web.problems import ApiProblem, field_problem, not_found

TAG = Tag(name="channels")
Name = Annotated[str, Field(min_length=1, max_length=255)]


class ChannelIn(Input):
    channel: Annotated[str, Field(min_length=1, max_length=32, description="e.g. shopify")]
    shop: Annotated[Name, Field(description="the shop at its platform, e.g. acme.myshopify.com")]
    credentials: Annotated[
        dict[Name, Annotated[str, Field(max_length=4096)]],
        Field(max_length=20, description="stored encrypted; never returned"),
    ] = {}
    code: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None


class ChannelPath(Input):
    id: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


class ChannelOut(Output):
    id: str
    code: str
    channel: str
    shop: str
    enabled: bool
    webhook_url: str = Field(description="where the shop sends its webhooks")


class ConnectedOut(ChannelOut):
    subscriptions: list[str] = Field(description="webhook subscriptions made at the platform")
    subscription_error: str | None = Field(description="why the platform refused them, if so")


class ChannelList(BaseModel):
    data: list[ChannelOut]


def channel_json(row: ChannelAccount, **extra) -> dict:
    data = {
        "id": row.id,
        "code": row.code,
        "channel": row.channel,
        "shop": row.shop,
        "enabled": row.enabled,
        "webhook_url": webhook_address(g.runtime.settings, row),
        **extra,
    }
    return (ConnectedOut if extra else ChannelOut).model_validate(data).model_dump(mode="json")


def brand_account(account_id: str) -> ChannelAccount:
    row = g.db.scalar(
        select(ChannelAccount).where(
            ChannelAccount.id == account_id, ChannelAccount.brand_id == g.brand_id
        )
    )
    if row is None:
        raise not_found("channel account")
    return row


@bp.post("/channels", tags=[TAG], responses={201: ConnectedOut})
def connect_channel(body: ChannelIn):
    """Connect a shop, or reconnect it with new credentials; the platform's webhooks are
    subscribed where its API allows."""
    if body.channel not in available_channels():
        raise field_problem(
            "channel", f"unknown; known channels: {', '.join(available_channels())}"
        )
    try:
        row = connect_account(
            g.db,
            g.runtime,
            g.brand_id,
            channel=body.channel,
            shop=body.shop,
            credentials=body.credentials,
            code=body.code,
        )
    except ShopTaken:
        raise ApiProblem(
            409, "Conflict", f"{body.channel} shop {body.shop} is connected to another brand."
        ) from None
    except CodeTaken as exc:
        raise field_problem("code", f"{exc}; give another code", 409) from None
    except SecretsKeyError as exc:
        raise ApiProblem(503, "Unavailable", f"Credentials cannot be stored: {exc}") from None
    g.db.commit()
    try:
        subscriptions, error = subscribe(g.db, g.runtime, row), None
    except ChannelError as exc:
        subscriptions, error = [], str(exc)
    return channel_json(row, subscriptions=subscriptions, subscription_error=error), 201


@bp.get("/channels", tags=[TAG], responses={200: ChannelList})
def list_channels():
    """The brand's shops, disconnected ones too."""
    return {"data": [channel_json(row) for row in brand_accounts(g.db, g.brand_id)]}


@bp.get("/channels/<id>", tags=[TAG], responses={200: ChannelOut})
def get_channel(path: ChannelPath):
    return channel_json(brand_account(path.id))


@bp.delete("/channels/<id>", tags=[TAG], responses={200: ChannelOut})
def disconnect_channel(path: ChannelPath):
    """Stop taking the shop's webhooks and syncing it; its orders stay. Connect it again to
    resume."""
    row = brand_account(path.id)
    disable_account(g.db, row.id)
    g.db.commit()
    return channel_json(row)

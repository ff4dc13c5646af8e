"""Order sources for a brand's shops. The `ChannelAccount` row says which shop and brand
(webhook URLs carry its id, since codes repeat across brands). Credentials come from
config.yaml's `brands[].channels[]`, or, for a shop connected through the API, the CLI or an
app install, from the row, encrypted (`shipflow.secrets_at_rest`); stored ones win.

A shop belongs to exactly one brand: connecting it to a second one raises `ShopTaken`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.base import (
    Capability,
    NotSupported,
    OrderSource,
    WebhookRequest,
    WebhookSignatureError,
)
from channels.base import ChannelAccount as SourceAccount
from channels.registry import get_source_class
from shipflow.brands import account_and_brand_code
from shipflow.domain import ServiceLevel
from shipflow.secrets_at_rest import seal, unseal
from shipflow.store.models import Brand, ChannelAccount, Order

if TYPE_CHECKING:
    from shipflow.config import ChannelAccountConfig, Settings
    from shipflow.runtime import Runtime


class UnknownChannelAccount(LookupError):
    pass


class ShopTaken(Exception):
    """The shop is connected to another brand; a shop belongs to exactly one."""


class CodeTaken(Exception):
    """Another of the brand's shops has the account code asked for."""


@dataclass(frozen=True)
class Shop:
    """A brand's shop as the webhook intake, the receipt processor and the jobs see it."""

    source_kind: ClassVar[str] = "channel"
    webhook_reply: ClassVar[None] = None  # shops take our 202 (carriers may document theirs)

    id: str
    brand_id: str
    code: str
    channel: str
    source: OrderSource
    enabled: bool = True
    rules: ShopRules = field(default_factory=lambda: ShopRules())

    @property
    def name(self) -> str:
        return self.channel

    def verify_webhook(self, request: WebhookRequest) -> None:
        if not self.enabled:  # disconnected or uninstalled: nothing from it is stored
            raise WebhookSignatureError(
                f"channel account {self.id} is disabled", channel=self.channel
            )
        self.source.verify_webhook(request)


@dataclass(frozen=True)
class ShopRules:
    """The account's rules from `brands[].channels[]` (none for a shop only connected
    through the API): see `shipflow.config.ChannelAccountConfig`."""

    allocate_unpaid: frozenset[str] = frozenset()
    refunds: bool = False
    shipping_methods: Mapping[str, ServiceLevel] = field(default_factory=dict)
    locations: Mapping[str, str] = field(default_factory=dict)


def account_config(settings: Settings, brand_code: str, code: str) -> ChannelAccountConfig | None:
    brand = settings.brand(brand_code)
    return next((a for a in brand.channels if a.code == code), None) if brand else None


def shop_of(row: ChannelAccount, brand_code: str, settings: Settings) -> Shop:
    config = account_config(settings, brand_code, row.code)
    credentials = {**(config.credentials if config else {})}
    if row.credentials:
        credentials.update(unseal(row.credentials))
    if config is None and not row.credentials:
        raise UnknownChannelAccount(f"brand {brand_code!r} has no channel account {row.code!r}")
    source = get_source_class(row.channel)(
        SourceAccount(row.channel, row.code, row.shop, credentials)
    )
    rules = (
        ShopRules(
            frozenset(config.allocate_unpaid),
            config.refunds,
            dict(config.shipping_methods),
            dict(config.locations),
        )
        if config
        else ShopRules()
    )
    return Shop(row.id, row.brand_id, row.code, row.channel, source, row.enabled, rules)


def load_shop(
    session: Session, runtime: Runtime, account_id: str, channel: str | None = None
) -> Shop:
    """By the ChannelAccount id; `channel` (from a webhook URL) must match the account's."""
    found = account_and_brand_code(session, ChannelAccount, account_id)
    if found is None or (channel is not None and found[0].channel != channel):
        raise UnknownChannelAccount(f"no {channel or 'channel'} account {account_id!r}")
    row, brand_code = found
    return shop_of(row, brand_code, runtime.settings)


def code_for(shop: str) -> str:
    """An account code from the shop's identity (`acme.myshopify.com` -> `acme-myshopify-com`)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", shop).strip("-")[:64] or "shop"


def connect_account(
    session: Session,
    runtime: Runtime,
    brand_id: str,
    *,
    channel: str,
    shop: str,
    credentials: dict[str, str],
    code: str | None = None,
) -> ChannelAccount:
    """Connect a brand's shop (not committed): a new account, or for the same shop again its
    credentials replaced and the account enabled. Raises `ShopTaken` if another brand has it,
    `CodeTaken` if the brand has another shop of that code, KeyError for an unknown channel,
    `SecretsKeyError` without an encryption key."""
    get_source_class(channel)
    sealed = seal(credentials)
    row = session.scalar(
        select(ChannelAccount).where(ChannelAccount.channel == channel, ChannelAccount.shop == shop)
    )
    if row is not None and row.brand_id != brand_id:
        raise ShopTaken(f"{channel} shop {shop!r} is connected to another brand")
    if row is None:
        code = code or code_for(shop)
        if session.scalar(
            select(ChannelAccount.id).where(
                ChannelAccount.brand_id == brand_id, ChannelAccount.code == code
            )
        ):
            raise CodeTaken(f"the brand already has a channel account coded {code!r}")
        row = ChannelAccount(brand_id=brand_id, code=code, channel=channel, shop=shop)
        try:
            with session.begin_nested():  # another request may connect the shop meanwhile
                session.add(row)
        except IntegrityError:
            raise ShopTaken(f"{channel} shop {shop!r} was connected meanwhile") from None
    row.credentials, row.enabled = sealed, True
    session.flush()
    return row


def disable_account(session: Session, account_id: str) -> ChannelAccount | None:
    """Stop taking the shop's webhooks and syncing it (disconnected, or the app uninstalled);
    its orders stay. Not committed."""
    row = session.get(ChannelAccount, account_id)
    if row is not None:
        row.enabled = False
    return row


def brand_accounts(session: Session, brand_id: str) -> list[ChannelAccount]:
    return list(
        session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.brand_id == brand_id)
            .order_by(ChannelAccount.code)
        )
    )


def webhook_address(settings: Settings, row: ChannelAccount) -> str:
    """Where the shop sends its webhooks: the account's id names it (codes repeat)."""
    return f"{settings.base_url.rstrip('/')}/webhooks/channels/{row.channel}/{row.id}"


def subscribe(session: Session, runtime: Runtime, row: ChannelAccount) -> list[str]:
    """Have the platform send the topics we read to us, if it is done through its API
    (returns the subscription ids; none where the shop's owner sets webhooks up by hand).
    Raises `ChannelError` when the platform refuses."""
    shop = load_shop(session, runtime, row.id)
    if not shop.source.supports(Capability.WEBHOOK_SUBSCRIPTIONS):
        return []
    try:
        return shop.source.subscribe_webhooks(webhook_address(runtime.settings, row))
    except NotSupported:
        return []


def shop_origins(session: Session, brand_code: str) -> set[str]:
    """The web origins of the brand's connected shops (`https://<shop>`): their pages may
    call the widget as soon as they are connected, beside `brands[].allowed_origins`."""
    shops = session.scalars(
        select(ChannelAccount.shop)
        .join(Brand, Brand.id == ChannelAccount.brand_id)
        .where(Brand.code == brand_code, ChannelAccount.enabled.is_(True))
    )
    return {f"https://{shop}" for shop in shops}


def refunds_in_shop(session: Session, order: Order, settings: Settings) -> bool:
    """Whether a received return of `order` is refunded through its shop: the order came
    from a connected shop whose account opts in (`brands[].channels[].refunds`) and whose
    platform can refund (else the signed store webhook tells the brand's own system)."""
    if order.source_account is None:
        return False
    found = account_and_brand_code(session, ChannelAccount, order.source_account)
    if found is None or not found[0].enabled:
        return False
    config = account_config(settings, found[1], found[0].code)
    return (
        config is not None
        and config.refunds
        and Capability.REFUNDS in get_source_class(found[0].channel).capabilities
    )

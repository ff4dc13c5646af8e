"""Order sources for a brand's shops: the `ChannelAccount` row says which shop and brand
(webhook URLs carry its id, since codes repeat across brands), config.yaml holds the
credentials (never the database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.base import ChannelAccount as SourceAccount
from channels.base import OrderSource, WebhookRequest
from channels.registry import get_source_class
from shipflow.brands import account_and_brand_code
from shipflow.store.models import ChannelAccount

if TYPE_CHECKING:
    from shipflow.config import Settings
    from shipflow.runtime import Runtime


class UnknownChannelAccount(LookupError):
    pass


@dataclass(frozen=True)
class Shop:
    """A brand's shop as the webhook intake and the receipt processor see it."""

    source_kind: ClassVar[str] = "channel"

    id: str
    brand_id: str
    code: str
    channel: str
    source: OrderSource

    @property
    def name(self) -> str:
        return self.channel

    def verify_webhook(self, request: WebhookRequest) -> None:
        self.source.verify_webhook(request)


def source_for(settings: Settings, brand_code: str, account_code: str) -> OrderSource:
    """The order source of one brand's configured shop."""
    brand = settings.brand(brand_code)
    account = next((a for a in brand.channels if a.code == account_code), None) if brand else None
    if account is None:
        raise UnknownChannelAccount(f"brand {brand_code!r} has no channel account {account_code!r}")
    return get_source_class(account.channel)(
        SourceAccount(account.channel, account.code, account.shop, dict(account.credentials))
    )


def load_shop(
    session: Session, runtime: Runtime, account_id: str, channel: str | None = None
) -> Shop:
    """By the ChannelAccount id; `channel` (from a webhook URL) must match the account's."""
    found = account_and_brand_code(session, ChannelAccount, account_id)
    if found is None or (channel is not None and found[0].channel != channel):
        raise UnknownChannelAccount(f"no {channel or 'channel'} account {account_id!r}")
    row, brand_code = found
    source = source_for(runtime.settings, brand_code, row.code)
    return Shop(row.id, row.brand_id, row.code, row.channel, source)


class ShopTaken(Exception):
    """The shop is connected to another brand; a shop belongs to exactly one."""


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
    """Provisional (channel-core owns it): the brand's account for the shop, created if new.
    The real one stores `credentials` encrypted and re-enables the account."""
    row = session.scalar(
        select(ChannelAccount).where(ChannelAccount.channel == channel, ChannelAccount.shop == shop)
    )
    if row is not None and row.brand_id != brand_id:
        raise ShopTaken(f"{channel} shop {shop!r} is connected to another brand")
    if row is None:
        row = ChannelAccount(brand_id=brand_id, code=code or shop, channel=channel, shop=shop)
        session.add(row)
        session.flush()
    return row


def disable_account(session: Session, account_id: str) -> ChannelAccount | None:
    """Provisional (channel-core owns it)."""
    return session.get(ChannelAccount, account_id)

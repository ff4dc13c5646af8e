"""Carrier adapters for a brand's carrier account: the row says which account and brand,
config.yaml holds its credentials (never the database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from carriers import base
from shipflow.brands import account_and_brand_code
from shipflow.store.models import CarrierAccount

if TYPE_CHECKING:
    from shipflow.runtime import Runtime


class UnknownAccount(LookupError):
    pass


@dataclass(frozen=True)
class Account:
    source_kind: ClassVar[str] = "carrier"  # the webhook intake also takes shops'

    id: str
    brand_id: str
    code: str
    carrier: str
    adapter: base.Carrier

    @property
    def name(self) -> str:
        return self.carrier

    @property
    def webhook_reply(self) -> base.WebhookReply | None:
        return self.adapter.webhook_reply

    def verify_webhook(self, request: base.WebhookRequest) -> None:
        self.adapter.verify_webhook(request)


def load_account(
    session: Session, runtime: Runtime, account_id: str, carrier: str | None = None
) -> Account:
    """By the CarrierAccount id (webhook URLs carry it: account codes repeat across brands)."""
    found = account_and_brand_code(session, CarrierAccount, account_id)
    if found is None or (carrier is not None and found[0].carrier != carrier):
        raise UnknownAccount(f"no {carrier or 'carrier'} account {account_id!r}")
    row, brand_code = found
    adapter = runtime.carriers.account(brand_code, row.code)
    return Account(row.id, row.brand_id, row.code, row.carrier, adapter)


def account_for_shipment(
    session: Session, runtime: Runtime, brand_id: str, carrier: str, code: str
) -> Account:
    """A shipment names its account by code; without one, the brand's first of that carrier."""
    statement = select(CarrierAccount.id).where(
        CarrierAccount.brand_id == brand_id, CarrierAccount.carrier == carrier
    )
    if code:
        statement = statement.where(CarrierAccount.code == code)
    account_id = session.scalar(statement.order_by(CarrierAccount.code).limit(1))
    if account_id is None:
        raise UnknownAccount(f"brand {brand_id} has no {carrier} account {code!r}")
    return load_account(session, runtime, account_id)

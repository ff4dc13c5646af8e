"""Carrier adapters for a brand's carrier account: the row says which account and brand,
config.yaml holds its credentials (never the database)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carriers import base
from carriers.registry import get_carrier_class
from shipflow.config import Settings
from shipflow.store.models import Brand, CarrierAccount

# The registry scans installed entry points on every lookup; carriers do not change at runtime.
carrier_class = functools.lru_cache(maxsize=None)(get_carrier_class)


class UnknownAccount(LookupError):
    pass


@dataclass(frozen=True)
class Account:
    id: str
    brand_id: str
    code: str
    carrier: str
    adapter: base.Carrier


def _adapter(settings: Settings, brand_code: str, row: CarrierAccount) -> base.Carrier:
    brand = settings.brand(brand_code)
    configured = next((c for c in brand.carriers if c.code == row.code), None) if brand else None
    credentials = dict(configured.credentials) if configured else {}
    account = base.CarrierAccount(
        carrier=row.carrier, account_id=row.code, credentials=credentials, sandbox=row.sandbox
    )
    return carrier_class(row.carrier)(account)


def load_account(
    session: Session, settings: Settings, account_id: str, carrier: str | None = None
) -> Account:
    """By the CarrierAccount id (webhook URLs carry it: account codes repeat across brands)."""
    found = session.execute(
        select(CarrierAccount, Brand.code)
        .join(Brand, Brand.id == CarrierAccount.brand_id)
        .where(CarrierAccount.id == account_id)
    ).first()
    if found is None or (carrier is not None and found[0].carrier != carrier):
        raise UnknownAccount(f"no {carrier or 'carrier'} account {account_id!r}")
    row, brand_code = found
    return Account(row.id, row.brand_id, row.code, row.carrier, _adapter(settings, brand_code, row))


def account_for_shipment(
    session: Session, settings: Settings, brand_id: str, carrier: str, code: str
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
    return load_account(session, settings, account_id)

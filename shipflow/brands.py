"""Brands, warehouses, carrier and channel accounts come from configuration; this writes their ids,
codes and names to the database (idempotently) so every query can be scoped by brand.

Nothing else of the configuration is copied: code reads a brand's typed configuration
(`brand_config`) when it uses it, so the database holds no second, stale or secret copy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.store.db import per_transaction
from shipflow.store.models import Brand, CarrierAccount, ChannelAccount, Warehouse

if TYPE_CHECKING:
    from shipflow.config import BrandConfig, Settings


def _upsert(session: Session, model, where: dict, values: dict):
    row = session.scalar(select(model).filter_by(**where))
    if row is None:
        row = model(**where)
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    return row


def account_and_brand_code(session: Session, model, account_id: str):
    """An account row (`CarrierAccount` or `ChannelAccount`, by its id: webhook URLs carry
    it, since codes repeat across brands) and its brand's code; None if there is none."""
    found = session.execute(
        select(model, Brand.code)
        .join(Brand, Brand.id == model.brand_id)
        .where(model.id == account_id)
    ).first()
    return tuple(found) if found else None


def brand_config(session: Session, brand_id: str, settings: Settings) -> BrandConfig | None:
    """The typed configuration of a brand row; None for a row the configuration does not (or
    no longer) name. The one way to read a brand's settings."""
    code = per_transaction(
        session,
        ("brand.code", brand_id),
        lambda: session.scalar(select(Brand.code).where(Brand.id == brand_id)),
    )
    return settings.brand(code) if code else None


def sync_brand(session: Session, brand: BrandConfig) -> Brand:
    row = _upsert(
        session,
        Brand,
        {"code": brand.code},
        {"name": brand.name, "currency": brand.currency},
    )
    session.flush()
    for warehouse in brand.warehouses:
        _upsert(
            session,
            Warehouse,
            {"brand_id": row.id, "code": warehouse.code},
            {
                "name": warehouse.name,
                "country": warehouse.country,
                "postal_code": warehouse.postal_code,
                "latitude": warehouse.latitude,
                "longitude": warehouse.longitude,
                "timezone": warehouse.timezone,
                "stock": dict(warehouse.stock),
            },
        )
    for account in brand.carriers:
        _upsert(
            session,
            CarrierAccount,
            {"brand_id": row.id, "code": account.code},
            {"carrier": account.carrier, "sandbox": account.sandbox},
        )
    for shop in brand.channels:
        _upsert(
            session,
            ChannelAccount,
            {"brand_id": row.id, "code": shop.code},
            {"channel": shop.channel, "shop": shop.shop},
        )
    return row


def sync_brands(session: Session, settings: Settings) -> list[Brand]:
    return [sync_brand(session, brand) for brand in settings.brands]


def brand_by_code(session: Session, code: str) -> Brand | None:
    return session.scalar(select(Brand).where(Brand.code == code))

"""Brands, warehouses and carrier accounts come from configuration; this writes them to the
database (idempotently) so every query can be scoped by brand.

No secret is written: carrier credentials, alert channels (Slack URLs, webhook signing keys)
and the store webhook's URL and secret stay in config.yaml, and code that needs them reads
the typed configuration (`brand_config`) when it uses them."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipflow.config import BrandConfig, Settings
from shipflow.store.models import Brand, CarrierAccount, Warehouse


def _upsert(session: Session, model, where: dict, values: dict):
    row = session.scalar(select(model).filter_by(**where))
    if row is None:
        row = model(**where)
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    return row


def without_secrets(settings: dict[str, Any]) -> dict[str, Any]:
    """A brand's settings as its row may keep them (also used to scrub rows written before)."""
    kept = copy.deepcopy(settings)
    for account in kept.get("carriers") or []:
        account.pop("credentials", None)
    for section, keys in (
        ("returns", ("store_webhook_url", "store_webhook_secret")),
        ("alerts", ("channels",)),
        ("customer_channels", ("providers",)),
    ):
        for key in keys:
            (kept.get(section) or {}).pop(key, None)
    return kept


def brand_config(session: Session, brand_id: str) -> BrandConfig | None:
    """The typed configuration of a brand row, from the runtime behind the session; None for
    a row the configuration does not (or no longer) name."""
    code = session.scalar(select(Brand.code).where(Brand.id == brand_id))
    return session.info["runtime"].settings.brand(code) if code else None


def sync_brand(session: Session, brand: BrandConfig) -> Brand:
    row = _upsert(
        session,
        Brand,
        {"code": brand.code},
        {
            "name": brand.name,
            "currency": brand.currency,
            "settings": without_secrets(brand.model_dump(mode="json")),
        },
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
                "settings": warehouse.model_dump(mode="json", exclude={"stock"}),
                "stock": dict(warehouse.stock),
            },
        )
    for account in brand.carriers:
        _upsert(
            session,
            CarrierAccount,
            {"brand_id": row.id, "code": account.code},
            {
                "carrier": account.carrier,
                "sandbox": account.sandbox,
                "settings": account.model_dump(mode="json", exclude={"credentials"}),
            },
        )
    return row


def sync_brands(session: Session, settings: Settings) -> list[Brand]:
    return [sync_brand(session, brand) for brand in settings.brands]


def brand_by_code(session: Session, code: str) -> Brand | None:
    return session.scalar(select(Brand).where(Brand.code == code))

"""Updates a tracking-page visitor asked for: an e-mail address or phone number stored per
shipment, to which every later milestone of that shipment is sent as well. The visitor may
know only the tracking number, so nothing here ever reads a contact back to a page."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shipflow.notify.config import CustomerChannelsConfig
from shipflow.notify.transports import CUSTOMER_CHANNELS
from shipflow.store.db import one_of, per_transaction
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import UpdateSubscriptionRow

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,63}")
PHONE = re.compile(r"\+?[0-9]{6,15}")
_HELD = "update subscribers read ahead"  # per transaction: shipment id -> its subscribers


class InvalidContact(ValueError):
    """The address does not fit the channel (kept apart from a refused channel)."""


def offered_channels(channels: CustomerChannelsConfig) -> list[str]:
    """E-mail always; SMS, WhatsApp, LINE ... where the brand has a provider for them."""
    return ["email", *(name for name in channels.providers if name != "email")]


def normal_contact(channel: str, value: str) -> str:
    """The contact as stored, or InvalidContact: e-mail lower-cased, phones digits only."""
    value = value.strip()
    if CUSTOMER_CHANNELS.get(channel) == "email":
        if not EMAIL.fullmatch(value):
            raise InvalidContact(channel)
        return value.casefold()
    digits = re.sub(r"[\s().-]", "", value)
    if not PHONE.fullmatch(digits):
        raise InvalidContact(channel)
    return digits


def subscribe(
    session: Session, shipment: Shipment, channel: str, recipient: str, language: str, now: datetime
) -> None:
    """Once per shipment, channel and contact; asking again changes nothing."""
    known = select(UpdateSubscriptionRow.id).where(
        UpdateSubscriptionRow.shipment_id == shipment.id,
        UpdateSubscriptionRow.channel == channel,
        UpdateSubscriptionRow.recipient == recipient,
    )
    if session.scalar(known) is None:
        session.add(
            UpdateSubscriptionRow(
                brand_id=shipment.brand_id,
                shipment_id=shipment.id,
                channel=channel,
                recipient=recipient,
                language=language,
                created_at=now,
            )
        )


def read_ahead(session: Session, shipment_ids: Collection[str]) -> None:
    """The subscribers of a batch's shipments in one query, held for the transaction:
    `subscribers` then answers for them without a query each."""
    held: dict[str, list[UpdateSubscriptionRow]] = per_transaction(session, _HELD, dict)
    held.update({sid: [] for sid in shipment_ids})
    for row in session.scalars(
        _ordered().where(one_of(session, UpdateSubscriptionRow.shipment_id, shipment_ids))
    ):
        held[row.shipment_id].append(row)


def subscribers(session: Session, shipment_id: str) -> list[UpdateSubscriptionRow]:
    held: dict[str, list[UpdateSubscriptionRow]] = per_transaction(session, _HELD, dict)
    if shipment_id in held:
        return held[shipment_id]
    return list(session.scalars(_ordered().where(UpdateSubscriptionRow.shipment_id == shipment_id)))


def _ordered() -> Select[UpdateSubscriptionRow]:
    return select(UpdateSubscriptionRow).order_by(
        UpdateSubscriptionRow.created_at, UpdateSubscriptionRow.id
    )

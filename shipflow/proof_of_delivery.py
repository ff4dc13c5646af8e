"""The carrier's proof of delivery, kept from its updates: who signed, where the parcel was
left, and a photo. The words go in `shipments.details` (the tracking page and ops read them
with the shipment); a photo the carrier sent as an image goes in its own table, served only
through the customer's signed link and the ops page: a picture of a door is personal data."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipflow.domain import ProofOfDelivery, TrackingUpdate
from shipflow.store.claim_models import DeliveryPhoto
from shipflow.store.models import Shipment, table_of
from shipflow.store.shipment_writes import TrackedShipment, stage

KEY = "proof_of_delivery"
MAX_PHOTO_BYTES = 512 * 1024  # a larger "photo" is not kept: the words still are
MEDIA_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}
_PHOTOS = table_of(DeliveryPhoto)
PhotoRow = dict[str, Any]


def media_type(data: bytes) -> str | None:
    """What the bytes are, by their signature; None for anything but PNG, JPEG or GIF."""
    return next((kind for magic, kind in MEDIA_TYPES.items() if data.startswith(magic)), None)


def _photo(encoded: str) -> tuple[bytes, str] | None:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    kind = media_type(data)
    return (data, kind) if kind and len(data) <= MAX_PHOTO_BYTES else None


def record(
    session: Session, shipment: TrackedShipment, update: TrackingUpdate, now: datetime
) -> PhotoRow | None:
    """Keep what the carrier last said about the delivery in the shipment's details; its
    photo's row is returned for `keep_photos`, which writes a batch's photos together."""
    pod: ProofOfDelivery | None = update.proof_of_delivery
    if pod is None:
        return None
    photo = _photo(pod.photo) if pod.photo else None
    words = {"signed_by": pod.signed_by, "left_at": pod.left_at, "photo_url": pod.photo_url}
    kept = {k: v.strip()[:200] for k, v in words.items() if v and v.strip()}
    details = {**(shipment.details or {}), KEY: {**kept, "photo": photo is not None}}
    stage(session, shipment, details=details)
    if photo is None:
        return None
    return {
        "shipment_id": shipment.id,
        "media_type": photo[1],
        "data": photo[0],
        "received_at": now,
    }


def keep_photos(session: Session, photos: list[PhotoRow]) -> None:
    """Store a batch's photos, each replacing its shipment's older one, by one upsert (an
    executemany, in the batch's order: a shipment's last photo wins; SQLite's JSON cannot
    carry the bytes `insert_all` would send), where an ORM merge read each photo's row, then
    wrote it through the flush."""
    if photos:
        session.execute(_upsert(session.get_bind().dialect.name), photos)


@cache
def _upsert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_PHOTOS)
    replaced = {name: insert.excluded[name] for name in ("media_type", "data", "received_at")}
    return insert.on_conflict_do_update(index_elements=[_PHOTOS.c.shipment_id], set_=replaced)


def proof_of(shipment: Shipment) -> dict:
    """The words kept for a shipment (`signed_by`, `left_at`, `photo_url`, `photo`: bool)."""
    return dict((shipment.details or {}).get(KEY) or {})


def photo_of(session: Session, shipment_id: str) -> DeliveryPhoto | None:
    return session.get(DeliveryPhoto, shipment_id)

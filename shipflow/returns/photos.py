"""Photos customers attach to a return: images only (checked by their first bytes, not by
what the browser claims), a few per item, a few megabytes each."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from shipflow.store.postpurchase_models import ReturnPhotoRow

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_ITEM = 3
SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


class PhotoRefused(ValueError):
    pass


def image_type(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def store_photos(session: Session, brand_id: str, photos: Sequence[bytes]) -> list[str]:
    """Save the images of one item; returns their ids. A photo read as `MAX_BYTES + 1`
    bytes is too large."""
    if len(photos) > MAX_PER_ITEM:
        raise PhotoRefused(f"at most {MAX_PER_ITEM} photos per item")
    ids = []
    for data in photos:
        kind = image_type(data)
        if len(data) > MAX_BYTES or kind is None:
            raise PhotoRefused("photos must be JPEG, PNG or WebP images under 5 MB")
        row = ReturnPhotoRow(brand_id=brand_id, content_type=kind, data=data)
        session.add(row)
        session.flush()
        ids.append(row.id)
    return ids

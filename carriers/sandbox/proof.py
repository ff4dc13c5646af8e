"""The sandbox carrier's proof of delivery, like a real carrier's: for some parcels a
signature, for others where the driver left it and a photo of the spot. Decided by the
tracking number alone, so polls and webhooks always tell the same; the photo is a small
PNG drawn here (a door and a parcel), so the demo needs no image from anywhere else."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from typing import Any

SIGNERS = ("A. MORGAN", "J. LEE", "S. PATEL", "M. GARCIA", "R. KIM", "L. NGUYEN")
SPOTS = ("Front door", "Back porch", "Mailroom", "Side door")
DOORS = ((122, 46, 42), (31, 78, 121), (46, 94, 62), (90, 90, 90))
WALL, PARCEL, TAPE = (222, 214, 196), (176, 128, 78), (232, 214, 170)
WIDTH, HEIGHT = 96, 72


def proof_payload(tracking_number: str) -> dict[str, Any] | None:
    """The delivery scan's `proof_of_delivery`: a signature (a third of parcels), a spot and
    a photo (another third), or nothing."""
    digest = hashlib.sha256(f"pod:{tracking_number}".encode()).digest()
    match digest[0] % 3:
        case 0:
            return {"signed_by": SIGNERS[digest[1] % len(SIGNERS)]}
        case 1:
            spot = digest[1] % len(SPOTS)
            photo = door_photo(DOORS[digest[2] % len(DOORS)], 20 + digest[3] % 40)
            return {"left_at": SPOTS[spot], "photo": base64.b64encode(photo).decode()}
    return None


def door_photo(door: tuple[int, int, int], parcel_x: int) -> bytes:
    """A WIDTH x HEIGHT PNG: a wall, a door and a parcel in front of it at `parcel_x`."""

    def colour(x: int, y: int) -> tuple[int, int, int]:
        if parcel_x <= x < parcel_x + 26 and 50 <= y < 68:
            return TAPE if parcel_x + 11 <= x < parcel_x + 15 else PARCEL
        if 30 <= x < 66 and 8 <= y < 68:
            return door
        return WALL

    rows = b"".join(
        b"\x00" + bytes(c for x in range(WIDTH) for c in colour(x, y)) for y in range(HEIGHT)
    )
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        (
            _chunk(b"IHDR", struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)),
            _chunk(b"IDAT", zlib.compress(rows, 9)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

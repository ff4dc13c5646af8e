"""Cursor pagination over (created_at, id), newest first: stable while rows are added."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy import Select, and_, or_

from shipflow.web.problems import field_problem


def encode_cursor(created_at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        stamp, row_id = text.split("|", 1)
        return datetime.fromisoformat(stamp), row_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise field_problem(
            "cursor", "is not a cursor this API issued; pass next_cursor from the previous page"
        ) from None


def paginate(statement: Select, model, query) -> Select:
    """Apply the created range, the cursor and the limit (+1 row to know if more follow)."""
    if query.created_from:
        statement = statement.where(model.created_at >= query.created_from)
    if query.created_to:
        statement = statement.where(model.created_at < query.created_to)
    if query.cursor:
        created_at, row_id = decode_cursor(query.cursor)
        statement = statement.where(
            or_(
                model.created_at < created_at,
                and_(model.created_at == created_at, model.id < row_id),
            )
        )
    return statement.order_by(model.created_at.desc(), model.id.desc()).limit(query.limit + 1)


def page(rows: list, limit: int) -> tuple[list, str | None]:
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id)

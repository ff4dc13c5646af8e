"""Cursor pagination over (created_at, id), newest first: stable while rows are added.

The one place where a list's cursor and `created_from`/`created_to` become database values:
a cursor someone edited (a naive time, an id that is no id) or an instant whose UTC falls
outside the years 1-9999 is a 400 naming the parameter, never a 500 from the driver."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime

from sqlalchemy import Select, and_, or_

from shipflow.web.problems import field_problem

ROW_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def encode_cursor(created_at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode()


def _utc(moment: datetime) -> datetime | None:
    """`moment` in UTC; None if it is naive or its UTC is outside the years 1-9999."""
    if moment.utcoffset() is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        stamp, row_id = text.split("|", 1)
        created_at = _utc(datetime.fromisoformat(stamp))
        if created_at is None or not ROW_ID.fullmatch(row_id):
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise field_problem(
            "cursor",
            "is not a cursor this API issued; pass next_cursor from the previous page",
            400,
        ) from None
    return created_at, row_id


def instant(name: str, moment: datetime) -> datetime:
    """A date-time filter in UTC, or a 400 naming the parameter."""
    utc = _utc(moment)
    if utc is None:
        raise field_problem(
            name, "must be a date-time with offset within the years 1-9999 in UTC", 400
        )
    return utc


def paginate(statement: Select, model, query) -> Select:
    """Apply the created range, the cursor and the limit (+1 row to know if more follow)."""
    if query.created_from:
        statement = statement.where(model.created_at >= instant("created_from", query.created_from))
    if query.created_to:
        statement = statement.where(model.created_at < instant("created_to", query.created_to))
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

"""The reconciliation cursor of platforms that list orders by modification time: the last
time read and the ids read at that time, so a second listing neither re-reads them nor
skips another order changed in the same second."""

from __future__ import annotations

from datetime import UTC, datetime


def read_cursor(cursor: str | None) -> tuple[datetime | None, set[str]]:
    """ "2024-05-01T10:00:00+00:00|12,13" -> (that time, {"12", "13"})."""
    if not cursor:
        return None, set()
    moment, _, ids = cursor.partition("|")
    return datetime.fromisoformat(moment), {i for i in ids.split(",") if i}


def write_cursor(since: datetime | None, seen: set[str]) -> str:
    if since is None:
        return ""
    return f"{since.astimezone(UTC).isoformat()}|{','.join(sorted(seen))}"


def is_new(modified: datetime, order_id: str, since: datetime | None, seen: set[str]) -> bool:
    """Changed after the cursor: later than its time, or at its time and not read yet."""
    return since is None or modified > since or (modified == since and order_id not in seen)

"""Delivered-order history: the CSV shape of `shipflow history import`, parsed without crashing.

Every bad row becomes a `RowError` (line, column, what is wrong); good rows become records.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO
from zoneinfo import ZoneInfo

REQUIRED = (
    "order_id",
    "ordered_at",
    "shipper_id",
    "origin_postal_code",
    "origin_country",
    "destination_postal_code",
    "destination_country",
    "carrier",
    "service",
)
OPTIONAL_TIMES = ("handed_to_carrier_at", "delivered_at")


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One past order. Times are tz-aware; missing milestones are None.

    Real histories have clock quirks (handed over before ordered, delivered before handed over);
    they are kept, and the model clamps negative durations to zero.
    """

    order_id: str
    ordered_at: datetime
    shipper_id: str
    origin_postal_code: str
    origin_country: str
    destination_postal_code: str
    destination_country: str
    carrier: str
    service: str
    handed_to_carrier_at: datetime | None = None
    delivered_at: datetime | None = None
    promised_date: date | None = None
    origin_state: str = ""
    destination_state: str = ""
    items: int = 1

    @property
    def service_key(self) -> str:
        return f"{self.carrier}:{self.service}"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.problem}"


class _BadValue(Exception):
    def __init__(self, column: str, problem: str) -> None:
        super().__init__(problem)
        self.column, self.problem = column, problem


def read_history(
    file: IO[str] | Iterable[str], zone: str = "UTC"
) -> tuple[list[HistoryRecord], list[RowError]]:
    """Parse a history CSV; naive times are taken as wall-clock time in `zone`."""
    tz = ZoneInfo(zone)
    reader = csv.DictReader(file)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowError(1, c, "missing column") for c in missing]
    records, errors = [], []
    for row in reader:
        line = reader.line_num
        try:
            records.append(_record(row, tz))
        except _BadValue as bad:
            errors.append(RowError(line, bad.column, bad.problem))
    return records, errors


def _record(row: dict[str, str | None], tz: ZoneInfo) -> HistoryRecord:
    def text(column: str, required: bool = False) -> str:
        value = (row.get(column) or "").strip()
        if required and not value:
            raise _BadValue(column, "is empty")
        return value

    def moment(column: str, required: bool = False) -> datetime | None:
        value = text(column, required)
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _BadValue(column, f"not a date-time: {value!r}") from None
        return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed

    for column in REQUIRED:
        text(column, required=True)
    ordered_at = moment("ordered_at", required=True)
    handed, delivered = (moment(c) for c in OPTIONAL_TIMES)
    if delivered and delivered < ordered_at:  # type: ignore[operator]
        raise _BadValue("delivered_at", "is before ordered_at")
    promised = text("promised_date")
    try:
        promised_date = date.fromisoformat(promised[:10]) if promised else None
    except ValueError:
        raise _BadValue("promised_date", f"not a date: {promised!r}") from None
    items = text("items") or "1"
    if not items.isdigit():
        raise _BadValue("items", f"not a whole number: {items!r}")
    return HistoryRecord(
        order_id=text("order_id"),
        ordered_at=ordered_at,  # type: ignore[arg-type]
        shipper_id=text("shipper_id"),
        origin_postal_code=text("origin_postal_code"),
        origin_country=text("origin_country").upper(),
        destination_postal_code=text("destination_postal_code"),
        destination_country=text("destination_country").upper(),
        carrier=text("carrier"),
        service=text("service"),
        handed_to_carrier_at=handed,
        delivered_at=delivered,
        promised_date=promised_date,
        origin_state=text("origin_state").upper(),
        destination_state=text("destination_state").upper(),
        items=int(items),
    )

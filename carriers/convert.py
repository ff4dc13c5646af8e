"""Conversions every adapter needs: shipflow keeps grams, millimetres and integer minor units;
carriers speak decimals in kg/cm or lb/oz/in and major currency units. Also: timestamps (read
in the scan location's zone when the carrier gives no offset), turning a payload of the wrong
shape into `CarrierResponseError` instead of a stray KeyError, and skipping (but keeping and
counting) the one item of a payload that cannot be read."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from prometheus_client import Counter

from carriers.base import CarrierResponseError
from carriers.zones import zone_at
from shipflow.domain import Money, Parcel, Reason, Status, TrackingEvent, UnreadableItem

logger = logging.getLogger(__name__)
T = TypeVar("T")

# What a payload of an unexpected shape raises when read as its documentation says.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)

UNREADABLE = Counter(
    "shipflow_carrier_unreadable",
    "Items of a carrier payload (events, shipments) that could not be read and were skipped",
    ["carrier", "what"],
)

GRAMS_PER = {"KG": 1000.0, "KGS": 1000.0, "LB": 453.59237, "LBS": 453.59237}
MM_PER = {"CM": 10.0, "IN": 25.4}
GRAMS_PER_POUND = Decimal("453.59237")
GRAMS_PER_OUNCE = Decimal("28.349523125")
MM_PER_INCH = Decimal("25.4")
IMPERIAL_COUNTRIES = frozenset({"US", "PR"})  # carriers reject metric units from these origins


def imperial(country: str) -> bool:
    return country.upper() in IMPERIAL_COUNTRIES


def money(amount: str | float | int, currency: str = "USD") -> Money:
    """A carrier's decimal amount ("12.30") as Money in minor units (1230); ValueError for one
    that is no number (null, "", "N/A"), like every other unreadable field."""
    try:
        minor = (Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    return Money(int(minor), currency.upper())


def _tenths_up(value: float) -> str:
    """Rounded up to a tenth: carriers bill on the next tenth, never declare less."""
    return f"{max(math.ceil(round(value * 10, 6)), 1) / 10:.1f}"


def weight(parcel: Parcel, unit: str) -> str:
    return _tenths_up(parcel.weight_g / GRAMS_PER[unit])


def length(millimetres: int, unit: str) -> str:
    return _tenths_up(millimetres / MM_PER[unit])


def has_dimensions(parcel: Parcel) -> bool:
    return bool(parcel.length_mm and parcel.width_mm and parcel.height_mm)


def _ceil_hundredths(value: Decimal) -> float:
    """Round up to 0.01 for carriers that take numbers, never declaring less than it is."""
    return float(max(Decimal("0.01"), value.quantize(Decimal("0.01"), rounding=ROUND_UP)))


def grams_to_pounds(grams: int) -> float:
    return _ceil_hundredths(Decimal(grams) / GRAMS_PER_POUND)


def grams_to_ounces(grams: int) -> float:
    return _ceil_hundredths(Decimal(grams) / GRAMS_PER_OUNCE)


def mm_to_inches(mm: int) -> float:
    return _ceil_hundredths(Decimal(mm) / MM_PER_INCH)


Place = tuple[str, str, str]  # (country code, state code, postal code); any may be blank


def local_zone(place: Place) -> tzinfo:
    """The zone of a scan location (see `carriers.zones`), UTC when it does not decide."""
    return zone_at(*place) or UTC


def domestic_country(origin: str, destination: str) -> str:
    """The country a shipment stays in ("" when it crosses a border or one end is unknown):
    where its events that name no place happened, for reading their times."""
    return origin if origin == destination else ""


def parse_timestamp(value: str, place: Place = ("", "", "")) -> datetime:
    """An ISO-8601 time, with or without seconds; one without an offset is read in the zone
    of `place` (the scan location), else as UTC."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=local_zone(place))


def utc_offset(text: str) -> timezone:
    """A UTC offset written "-05:00", "-04.00" (UPS Track Alert), "-0500" or "-5"."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if ":" in digits or "." in digits:
        hours, minutes = digits.replace(".", ":").split(":")
    else:
        hours, minutes = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def clock_time(text: str) -> time:
    """A time of day written "HHMMSS", "HHMM", "HH:MM:SS" or "HH:MM"; a dropped leading zero
    ("74700" for 07:47:00) is restored."""
    text = text.strip()
    if ":" in text:
        hours, minutes, *seconds = text.split(":")
        return time(int(hours), int(minutes), int(seconds[0]) if seconds else 0)
    digits = text.zfill(6) if len(text) > 4 else text.zfill(4)
    return time(int(digits[:2]), int(digits[2:4]), int(digits[4:6] or 0))


def compact_date(text: str) -> date:
    """A date written "YYYYMMDD" (or ISO "YYYY-MM-DD")."""
    return (
        date.fromisoformat(text.strip())
        if "-" in text
        else datetime.strptime(text.strip(), "%Y%m%d").date()
    )


def read_each(
    carrier: str, what: str, items: Iterable[Any], read: Callable[[Any], T]
) -> tuple[list[T], tuple[UnreadableItem, ...]]:
    """`read` applied to each item; an item it cannot read is skipped instead of sinking the
    rest of the payload: logged with its raw payload, counted in
    `shipflow_carrier_unreadable_total{carrier,what}` and returned raw beside the others."""
    read_items: list[T] = []
    skipped: list[UnreadableItem] = []
    for item in items:
        try:
            read_items.append(read(item))
        except SHAPE_ERRORS as exc:
            raw = json.dumps(item, default=str, sort_keys=True)
            UNREADABLE.labels(carrier=carrier, what=what).inc()
            logger.warning("skipped an unreadable %s %s (%r): %s", carrier, what, exc, raw)
            skipped.append(UnreadableItem(what=what, raw=raw, error=repr(exc)))
    return read_items, tuple(skipped)


def objects(items: Any) -> list[dict]:
    """The JSON objects of a list (one object alone read as a list of it): a null or a stray
    value among them carries nothing to read and costs only itself, not the list."""
    if isinstance(items, dict):
        return [items]
    return [item for item in items or () if isinstance(item, dict)]


def read_optional(carrier: str, what: str, value: Any, read: Callable[[Any], T]) -> T | None:
    """`read(value)` for a field the carrier may leave out or fill in its own way (an
    estimated delivery, a label's price): None when absent (null, empty), and when unreadable
    too, logged and counted like a skipped item, so that the rest of the payload is still read."""
    if value is None or value in ("", [], {}):
        return None
    try:
        return read(value)
    except SHAPE_ERRORS as exc:
        UNREADABLE.labels(carrier=carrier, what=what).inc()
        logger.warning("skipped an unreadable %s %s (%r): %r", carrier, what, exc, value)
        return None


@contextmanager
def reading(carrier: str, what: str) -> Iterator[None]:
    """Report a payload that lacks what its documentation promises as `CarrierResponseError`."""
    try:
        yield
    except SHAPE_ERRORS as exc:
        raise CarrierResponseError(
            f"{carrier} {what} has an unexpected shape: {exc!r}", carrier=carrier
        ) from exc


def located_event(
    status: Status,
    reason: Reason | None,
    occurred_at: datetime,
    raw_code: str,
    raw_text: str,
    place: tuple[str, str, str, str],
) -> TrackingEvent:
    """An event at (city, state, postal code, country), shown as "city, state, postal, country"
    (blanks left out), the way UPS and FedEx scans read."""
    city, state, postal, country = place
    return TrackingEvent(
        status=status,
        reason=reason,
        occurred_at=occurred_at,
        raw_code=raw_code,
        raw_text=raw_text,
        location=", ".join(p for p in place if p),
        city=city,
        state=state,
        postal_code=postal,
        country=country,
    )

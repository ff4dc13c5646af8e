"""Conversions every adapter needs: shipflow keeps grams, millimetres and integer minor units;
carriers speak decimals in kg/cm or lb/oz/in and major currency units. Also: timestamps, and
turning a payload of the wrong shape into `CarrierResponseError` instead of a stray KeyError."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

from carriers.base import CarrierResponseError
from shipflow.domain import Money, Parcel, Reason, Status, TrackingEvent

GRAMS_PER = {"KG": 1000.0, "KGS": 1000.0, "LB": 453.59237, "LBS": 453.59237}
MM_PER = {"CM": 10.0, "IN": 25.4}
GRAMS_PER_POUND = Decimal("453.59237")
GRAMS_PER_OUNCE = Decimal("28.349523125")
MM_PER_INCH = Decimal("25.4")
IMPERIAL_COUNTRIES = frozenset({"US", "PR"})  # carriers reject metric units from these origins


def imperial(country: str) -> bool:
    return country.upper() in IMPERIAL_COUNTRIES


def money(amount: str | float | int, currency: str = "USD") -> Money:
    """A carrier's decimal amount ("12.30") as Money in minor units (1230)."""
    minor = (Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
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


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 time; one without an offset is taken as UTC (the carrier gave no zone)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@contextmanager
def reading(carrier: str, what: str) -> Iterator[None]:
    """Report a payload that lacks what its documentation promises as `CarrierResponseError`."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
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

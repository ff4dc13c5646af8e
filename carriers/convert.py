"""Small conversions every adapter needs: money, units, timestamps, and turning a payload
of the wrong shape into `CarrierResponseError` instead of a stray KeyError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

from carriers.base import CarrierResponseError
from shipflow.domain import Money

GRAMS_PER_POUND = Decimal("453.59237")
GRAMS_PER_OUNCE = Decimal("28.349523125")
MM_PER_INCH = Decimal("25.4")


def to_money(amount: float | str | int, currency: str = "USD") -> Money:
    """A carrier's decimal amount ("7.58", 7.58) as integer minor units."""
    cents = (Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(int(cents), currency.upper())


def _ceil_hundredths(value: Decimal) -> float:
    """Round up to 0.01 so a parcel is never declared lighter or smaller than it is."""
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

"""Money as platforms write it (decimal strings in major units) and as shipflow keeps it
(integer minor units of the currency)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO-4217 currencies shops sell in without a minor unit (TWD: shops price in whole dollars).
ZERO_DECIMAL = frozenset({"JPY", "KRW", "TWD", "VND", "CLP", "ISK"})


def digits(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def minor_units(price: str | int | float, currency: str) -> int:
    """ "19.99" USD -> 1999; "1200.00" TWD -> 1200. A price with more digits than the
    currency has is refused rather than rounded."""
    try:
        amount = Decimal(str(price)).scaleb(digits(currency))
    except InvalidOperation:
        raise ValueError(f"price {price!r} is not a decimal number") from None
    if amount != amount.to_integral_value():
        raise ValueError(f"price {price!r} has more decimals than {currency} allows")
    return int(amount)


def major_units(amount: int, currency: str) -> str:
    """1999 USD -> "19.99"; 1200 TWD -> "1200": what platforms take in request bodies."""
    places = digits(currency)
    return f"{Decimal(amount).scaleb(-places):.{places}f}"

"""Money as platforms write it (decimal strings in major units) and as shipflow keeps it
(integer minor units of the currency)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision


def digits(currency: str) -> int:
    """The currency's minor-unit digits as CLDR has them (JPY 0, TWD 2, IRR 0), the same
    table shipflow formats money with."""
    return get_currency_precision(currency.upper())


def minor_units(price: str | int | float, currency: str, *, rounded: bool = False) -> int:
    """ "19.99" USD -> 1999; "1200" JPY -> 1200. A price with more digits than the
    currency has is refused rather than rounded, unless it is `rounded`: a price the
    platform worked out by division (WooCommerce's line `price` is total / quantity,
    10.00 / 3 = 3.3333333333333335), rounded half up as the platform shows it."""
    try:
        amount = Decimal(str(price)).scaleb(digits(currency))
    except InvalidOperation:
        raise ValueError(f"price {price!r} is not a decimal number") from None
    if amount != amount.to_integral_value() and not rounded:
        raise ValueError(f"price {price!r} has more decimals than {currency} allows")
    return int(amount.to_integral_value(ROUND_HALF_UP))


def major_units(amount: int, currency: str) -> str:
    """1999 USD -> "19.99"; 1200 JPY -> "1200": what platforms take in request bodies."""
    places = digits(currency)
    return f"{Decimal(amount).scaleb(-places):.{places}f}"


def take_from(amount: int, available: list[int]) -> list[int]:
    """How much of `amount` to take from each source in turn, each at most what it has
    (a refund spread over the order's payments): [2000, 500] for 2500 from [2000, 1000].
    Raises ValueError when the sources do not cover it."""
    taken, remaining = [], amount
    for have in available:
        take = min(remaining, have)
        if take <= 0:
            break
        taken.append(take)
        remaining -= take
    if remaining > 0:
        raise ValueError(f"the order's payments cover {amount - remaining} of {amount} minor units")
    return taken

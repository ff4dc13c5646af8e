"""The sandbox shop's codes in shipflow's terms: its webhook topics, and prices written as
decimal strings in major units, like most platforms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from channels.base import Topic

TOPICS = {
    "orders/create": Topic.ORDER_CREATED,
    "orders/paid": Topic.ORDER_PAID,
    "orders/updated": Topic.ORDER_UPDATED,
    "orders/cancelled": Topic.ORDER_CANCELLED,
    "app/uninstalled": Topic.UNINSTALLED,
}

# ISO-4217 currencies without a minor unit; every other one the shop sells in has cents.
ZERO_DECIMAL = frozenset({"JPY", "KRW", "TWD", "VND", "CLP", "ISK"})


def minor_units(price: str, currency: str) -> int:
    """ "19.99" USD -> 1999; "1200" JPY -> 1200. A price with more digits than the currency
    has is refused rather than rounded."""
    digits = 0 if currency.upper() in ZERO_DECIMAL else 2
    try:
        amount = Decimal(price).scaleb(digits)
    except InvalidOperation:
        raise ValueError(f"price {price!r} is not a decimal number") from None
    if amount != amount.to_integral_value():
        raise ValueError(f"price {price!r} has more decimals than {currency} allows")
    return int(amount)

"""Reading a platform's order the lenient way (see `InboundOrder`): a field that is missing
or unreadable is named in `problems` and read as empty, so the order is kept for ops; an
order that cannot be read at all (no id, not an object) is skipped from its listing page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from channels.base import InboundOrder, UnreadableOrder
from channels.money import minor_units

log = logging.getLogger(__name__)

# What a mapping raises on an order it cannot read at all.
ORDER_ERRORS = (ValueError, KeyError, TypeError, AttributeError)


def read_orders(
    raws: Iterable[Any], read: Callable[[Any], InboundOrder]
) -> tuple[list[InboundOrder], list[UnreadableOrder]]:
    """Each listed order through `read`; one that raises is logged and returned apart."""
    orders: list[InboundOrder] = []
    unreadable: list[UnreadableOrder] = []
    for raw in raws:
        try:
            orders.append(read(raw))
        except ORDER_ERRORS as exc:
            order_id = str(raw.get("id") or "") if isinstance(raw, dict) else ""
            log.warning("skipped an unreadable listed order %r (%r): %.2000r", order_id, exc, raw)
            unreadable.append(UnreadableOrder(order_id, repr(exc)))
    return orders, unreadable


def amount(value: Any, currency: str, where: str, problems: list[str]) -> int:
    """Minor units of a price written as a string or a number ("12.50", 12); 0 if unreadable."""
    if value in (None, ""):
        problems.append(f"{where} missing")
        return 0
    try:
        return minor_units(value, currency)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return 0


def sku_and_quantity(item: dict[str, Any], where: str, problems: list[str]) -> tuple[str, int]:
    sku = item.get("sku") or ""
    if not sku:
        problems.append(f"{where}.sku missing")
    try:
        quantity = int(item["quantity"])
    except (KeyError, TypeError, ValueError):
        problems.append(f"{where}.quantity missing or not a number")
        quantity = 0
    return sku, quantity

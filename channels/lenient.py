"""Reading a platform's order the lenient way (see `InboundOrder`): a field that is missing
or unreadable is named in `problems` and read as empty, so the order is kept for ops; an
order that cannot be read at all (no id, not an object) is skipped from its listing page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from channels.base import ChannelResponseError, InboundLine, InboundOrder, UnreadableOrder
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


@contextmanager
def reading_webhook(channel: str) -> Iterator[None]:
    """A webhook body read inside this block that is not JSON or no order (what `read_orders`
    skips in a listing) is refused as the shop's unreadable order, whichever the shop."""
    try:
        yield
    except ORDER_ERRORS as exc:
        raise ChannelResponseError(f"unreadable order: {exc!r}", channel=channel) from exc


def order_id(raw: Any, platform: str, key: str = "id") -> str:
    """The platform's id of an order: the one field an order cannot be kept without (a null or
    empty id would be stored as an order "None" or "")."""
    value = raw.get(key) if isinstance(raw, dict) else None
    if value is None or value == "":
        raise ValueError(f"not a {platform} order: no {key!r}")
    return str(value)


def objects(items: Any) -> list[dict[str, Any]]:
    """The JSON objects of a list of them (shipping lines, line items): a null or a stray
    value among them carries nothing to read and costs only itself."""
    return [item for item in items or () if isinstance(item, dict)]


def line_items(items: Any, where: str, problems: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, item) of each line item that is an object; any other is named in `problems`."""
    for index, item in enumerate(items or ()):
        if isinstance(item, dict):
            yield index, item
        else:
            problems.append(f"{where}[{index}] is not a line item: {item!r}")


def needs_no_shipping(item: Any) -> bool:
    """A line item that says so (`requires_shipping` false: a gift card, digital goods)."""
    return isinstance(item, dict) and item.get("requires_shipping") is False


def nothing_ships(items: Any) -> bool:
    """Line items that are there and every one of them needs no shipping."""
    return isinstance(items, list) and bool(items) and all(map(needs_no_shipping, items))


def amount(
    value: Any, currency: str, where: str, problems: list[str], *, rounded: bool = False
) -> int:
    """Minor units of a price written as a string or a number ("12.50", 12); 0 if unreadable.
    `rounded`: a price the platform divided out (`money.minor_units`)."""
    if value in (None, ""):
        problems.append(f"{where} missing")
        return 0
    try:
        return minor_units(value, currency, rounded=rounded)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return 0


def _sku_and_quantity(item: dict[str, Any], where: str, problems: list[str]) -> tuple[str, int]:
    sku = item.get("sku") or ""
    if not sku:
        problems.append(f"{where}.sku missing")
    try:
        quantity = int(item["quantity"])
    except (KeyError, TypeError, ValueError):
        problems.append(f"{where}.quantity missing or not a number")
        quantity = 0
    return sku, quantity


def currency(raw: dict[str, Any], problems: list[str]) -> str:
    """The order's `currency` (both REST platforms name it so)."""
    code = str(raw.get("currency") or "")
    if not code:
        problems.append("currency missing")
    return code


def lines(
    items: Any,
    currency: str,
    problems: list[str],
    name: Callable[[dict[str, Any]], str],
    weight_g: Callable[[dict[str, Any]], int | None] = lambda item: None,
    *,
    divided_price: bool = False,
) -> list[InboundLine]:
    """An order's `line_items` as the REST platforms write them (`sku`, `quantity`, `price`,
    `id`), but those that need no shipping; `name` and `weight_g` read what each platform
    writes its own way;
    `divided_price`: the platform works `price` out as total / quantity, unrounded."""
    if not items:
        problems.append("line_items missing")
        return []
    read = []
    for index, item in line_items(items, "line_items", problems):
        if needs_no_shipping(item):
            continue
        where = f"line_items[{index}]"
        sku, quantity = _sku_and_quantity(item, where, problems)
        read.append(
            InboundLine(
                sku=sku,
                quantity=quantity,
                unit_price=amount(
                    item.get("price"), currency, f"{where}.price", problems, rounded=divided_price
                ),
                name=name(item),
                weight_g=weight_g(item),
                source_line_id=str(item.get("id") or ""),
            )
        )
    return read

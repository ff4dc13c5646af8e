"""Reading a platform's order the lenient way (see `InboundOrder`): a field that is missing
or unreadable is named in `problems` and read as empty, so the order is kept for ops."""

from __future__ import annotations

from typing import Any

from channels.money import minor_units


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

"""Every shop's order mapping is fed its golden order mutated at each place, one place at a
time, the ways real answers differ from the documents' examples (`tests.mutations`). The order
is kept, what could not be read named in its `problems` for ops, unless what was mutated is
what identifies it; then it is refused with one of the errors a listing skips and a webhook
answers as an unreadable order (`channels.lenient.ORDER_ERRORS`), and nothing else escapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from channels.base import InboundOrder
from channels.lenient import ORDER_ERRORS
from channels.shopify import mapping as shopify
from channels.shopline import mapping as shopline
from channels.woocommerce import mapping as woocommerce
from tests.channels import shopify_fixtures, woo_helpers
from tests.channels.test_shopline import fixture as shopline_fixture
from tests.mutations import mutations

# shop, golden order, its mapping
MAPPINGS: list[tuple[str, Callable[[], Any], Callable[[Any], InboundOrder]]] = [
    ("shopify", lambda: shopify_fixtures.fixture("order_webhook"), shopify.order_from_webhook),
    (
        "shopify-graphql",
        lambda: shopify_fixtures.fixture("orders_page_1")["data"]["orders"]["nodes"][0],
        shopify.order_from_graphql,
    ),
    ("shopline", lambda: shopline_fixture("order.json"), shopline.inbound_order),
    ("woocommerce", lambda: woo_helpers.fixture("order.json"), woocommerce.inbound_order),
    ("woocommerce-deleted", lambda: {"id": 727}, woocommerce.deleted_order),
]
IDENTITY = ("id",)  # the one place whose loss leaves no order to keep


@pytest.mark.parametrize(("shop", "golden", "read"), MAPPINGS, ids=[m[0] for m in MAPPINGS])
def test_a_mutated_order_is_kept_with_its_problems_unless_it_loses_its_identity(shop, golden, read):
    original = read(golden())
    wrong = []
    for mutation in mutations(golden()):
        try:
            order = read(mutation.document)
        except ORDER_ERRORS as exc:
            if mutation.path != IDENTITY:
                wrong.append(f"{mutation.where}: refused, {exc!r}")
            continue
        except Exception as exc:  # noqa: BLE001 - every other escape is the failure reported
            wrong.append(f"{mutation.where}: {exc!r}")
            continue
        if order.source_order_id != original.source_order_id and mutation.path != IDENTITY:
            wrong.append(f"{mutation.where}: read as order {order.source_order_id!r}")
    assert wrong == []


@pytest.mark.parametrize(
    ("golden", "read", "skus"),
    [
        (
            lambda: shopify_fixtures.fixture("order_webhook"),
            shopify.order_from_webhook,
            ["LENS-PROTECT-2YR", "CASE-LEATHER-PREM", "SKU2006-020", "SKU2006-035"],
        ),
        (lambda: woo_helpers.fixture("order.json"), woocommerce.inbound_order, ["Bar3"]),
    ],
    ids=["shopify", "woocommerce"],
)
def test_a_line_item_that_is_not_an_object_is_a_problem_and_the_other_lines_kept(
    golden, read, skus
):
    raw = golden()
    raw["line_items"][0] = None
    order = read(raw)
    assert [line.sku for line in order.lines] == skus
    assert "line_items[0] is not a line item: None" in order.problems

"""Shopify orders -> `InboundOrder`, golden: the webhook's REST Order resource and the
GraphQL Order node, each case with its whole expected result written out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from channels.base import InboundLine, InboundOrder
from channels.shopify import mapping
from shipflow.domain import Address, PickupPoint
from tests.channels.shopify_fixtures import fixture

EST = timezone(timedelta(hours=-5))
STEVE = Address(
    country="US",
    postal_code="40003",
    city="Shippington",
    state="KY",
    line1="123 Shipping Street",
    name="Steve Shipper",
    company="Shipping Company",
    phone="555-555-SHIP",
)
DOC_LINES = (
    InboundLine("SKU2006-001", 1, 8999, "Aviator sunglasses", 100, "487817672276298554"),
    InboundLine(
        "LENS-PROTECT-2YR", 1, 1999, "Lens Protection Plan (2 Year)", None, "789012345678901234"
    ),
    InboundLine("CASE-LEATHER-PREM", 1, 2499, "Premium Leather Case", None, "890123456789012345"),
    InboundLine("SKU2006-020", 1, 15999, "Mid-century lounger", 1000, "976318377106520349"),
    InboundLine("SKU2006-035", 1, 11999, "Coffee table", 500, "315789986012684393"),
)


def doc_order(**changes):
    order = fixture("order_webhook")
    order.update(changes)
    return order


def cod_order():
    """Cash on delivery, Shopify's manual payment method: pending until the driver collects."""
    return doc_order(
        cancelled_at=None,
        cancel_reason=None,
        financial_status="pending",
        payment_gateway_names=["Cash on Delivery (COD)"],
    )


def paid_order_with_code_and_location():
    order = doc_order(
        cancelled_at=None, financial_status="paid", location_id=905684977, customer_locale="fr-CA"
    )
    order["shipping_lines"][0]["code"] = "Standard"
    return order


def order_without_address_sku_or_dates():
    order = doc_order(shipping_address=None, created_at=None, updated_at=None)
    order["line_items"] = order["line_items"][:1]
    order["line_items"][0]["sku"] = None
    return order


def order_with_bad_fields():
    order = doc_order(financial_status="mystery", created_at="2021-12-31T19:00:00")
    order["line_items"] = order["line_items"][:2]
    order["line_items"][0]["price_set"]["shop_money"]["amount"] = "89.999"
    order["line_items"][1]["requires_shipping"] = False  # a protection plan: nothing to ship
    order["shipping_address"]["zip"] = None
    return order


def order_edited_down():
    """An order edit removed the lounger (orders/updated): current_quantity 0."""
    order = doc_order(cancelled_at=None, financial_status="paid")
    order["line_items"][3]["current_quantity"] = 0
    return order


def sold_at_the_counter():
    """A point-of-sale sale (`source_name` "pos"): paid, fulfilled at the till, no shipping
    address; each line `fulfillable_quantity` 0 and `fulfillment_status` "fulfilled"."""
    order = doc_order(cancelled_at=None, financial_status="paid", shipping_address=None)
    order.update(fulfillment_status="fulfilled", source_name="pos", location_id=905684977)
    order["shipping_lines"] = []
    for item in order["line_items"]:
        item.update(fulfillable_quantity=0, fulfillment_status="fulfilled")
    return order


def a_gift_card_only():
    """A gift card: `gift_card` true, `requires_shipping` false, no shipping address."""
    order = doc_order(cancelled_at=None, financial_status="paid", shipping_address=None)
    order["line_items"] = order["line_items"][:1]
    order["line_items"][0].update(gift_card=True, requires_shipping=False, sku=None, grams=0)
    return order


def partly_fulfilled():
    """The sunglasses fulfilled by hand (`fulfillment_status` "partial" on the order)."""
    order = doc_order(cancelled_at=None, financial_status="paid", fulfillment_status="partial")
    order["line_items"][0].update(fulfillable_quantity=0, fulfillment_status="fulfilled")
    return order


# The documented order paid and not cancelled, as the cases below change it.
PAID_DOC_ORDER = InboundOrder(
    source_order_id="820982911946154508",
    order_number="#9999",
    currency="USD",
    ship_to=STEVE,
    lines=DOC_LINES,
    placed_at=datetime(2021, 12, 31, 19, 0, tzinfo=EST),
    updated_at=datetime(2021, 12, 31, 19, 0, tzinfo=EST),
    customer_name="John Smith",
    customer_email="jon@example.com",
    language="en",
    paid=True,
    shipping_method="Generic Shipping",
)

WEBHOOK_CASES = {
    "documented example (cancelled, voided)": (
        doc_order,
        replace(PAID_DOC_ORDER, paid=False, cancelled=True),
    ),
    "cash on delivery": (
        cod_order,
        replace(PAID_DOC_ORDER, paid=False, cash_on_delivery=41495),
    ),
    "paid, shipping line code, POS location": (
        paid_order_with_code_and_location,
        replace(
            PAID_DOC_ORDER, language="fr-CA", shipping_method="Standard", location_id="905684977"
        ),
    ),
    "missing address, sku and dates": (
        order_without_address_sku_or_dates,
        InboundOrder(
            source_order_id="820982911946154508",
            order_number="#9999",
            currency="USD",
            ship_to=Address(country=""),
            lines=(InboundLine("", 1, 8999, "Aviator sunglasses", 100, "487817672276298554"),),
            customer_name="John Smith",
            customer_email="jon@example.com",
            language="en",
            paid=False,
            cancelled=True,
            shipping_method="Generic Shipping",
            problems=(
                "line_items[0].sku missing",
                "shipping_address missing",
                "created_at missing",
            ),
        ),
    ),
    "unreadable price, unknown status, time without offset, no zip": (
        order_with_bad_fields,
        InboundOrder(
            source_order_id="820982911946154508",
            order_number="#9999",
            currency="USD",
            ship_to=Address(
                country="US",
                city="Shippington",
                state="KY",
                line1="123 Shipping Street",
                name="Steve Shipper",
                company="Shipping Company",
                phone="555-555-SHIP",
            ),
            lines=(
                InboundLine("SKU2006-001", 1, 0, "Aviator sunglasses", 100, "487817672276298554"),
            ),
            updated_at=datetime(2021, 12, 31, 19, 0, tzinfo=EST),
            customer_name="John Smith",
            customer_email="jon@example.com",
            language="en",
            paid=False,
            cancelled=True,
            shipping_method="Generic Shipping",
            problems=(
                "line_items[0].price unreadable: price '89.999' has more decimals than USD allows",
                "financial status 'mystery' unknown",
                "shipping_address.zip missing",
                "created_at has no UTC offset",
            ),
        ),
    ),
    "line removed by an order edit": (
        order_edited_down,
        replace(PAID_DOC_ORDER, lines=(DOC_LINES[0], DOC_LINES[1], DOC_LINES[2], DOC_LINES[4])),
    ),
    "sold at the shop's counter: nothing to ship": (
        sold_at_the_counter,
        replace(
            PAID_DOC_ORDER,
            ship_to=Address(country=""),
            shipping_method="",
            location_id="905684977",
            nothing_to_ship=True,
        ),
    ),
    "a gift card only: nothing to ship": (
        a_gift_card_only,
        replace(PAID_DOC_ORDER, ship_to=Address(country=""), lines=(), nothing_to_ship=True),
    ),
    "one line fulfilled in the shop, the others to ship": (
        partly_fulfilled,
        replace(PAID_DOC_ORDER, problems=("line_items[0]: 1 of 1 fulfilled in the shop already",)),
    ),
}


@pytest.mark.parametrize("build, expected", WEBHOOK_CASES.values(), ids=WEBHOOK_CASES.keys())
def test_webhook_order(build, expected):
    assert mapping.order_from_webhook(build()) == expected


MEI = Address(
    country="TW",
    postal_code="110",
    city="Taipei City",
    state="TPE",
    line1="No. 7, Section 5, Xinyi Road",
    line2="12F",
    name="Lin Mei",
    phone="+886912345678",
)
OOLONG = InboundLine("TEA-OOLONG-150", 2, 64000, "Oolong tea 150 g", 200, "15012345678901")


def graphql_node(index: int, **changes):
    node = fixture("orders_page_1")["data"]["orders"]["nodes"][index]
    node.update(changes)
    return node


PAID_1001 = InboundOrder(
    source_order_id="5301234567001",
    order_number="#1001",
    currency="TWD",
    ship_to=MEI,
    lines=(OOLONG,),
    placed_at=datetime(2025, 11, 3, 8, 12, 40, tzinfo=UTC),
    updated_at=datetime(2025, 11, 3, 8, 15, tzinfo=UTC),
    customer_name="Lin Mei",
    customer_email="mei@example.com",
    customer_phone="+886912345678",
    language="zh-TW",
    paid=True,
    shipping_method="HOME_DELIVERY",
)


def with_unfulfilled(units: int):
    """Order #1001 with `unfulfilledQuantity` of its one line (2 ordered) at `units`."""
    node = graphql_node(0)
    node["lineItems"]["nodes"][0]["unfulfilledQuantity"] = units
    return node


GRAPHQL_CASES = {
    "paid order": (lambda: graphql_node(0), PAID_1001),
    "cash on delivery": (
        lambda: graphql_node(1),
        replace(
            PAID_1001,
            source_order_id="5301234567002",
            order_number="#1002",
            updated_at=datetime(2025, 11, 3, 9, 20, 11, tzinfo=UTC),
            paid=False,
            cash_on_delivery=128000,
        ),
    ),
    "cancelled, retail location, weight in pounds, no shipping line": (
        lambda: {
            **graphql_node(0, cancelledAt="2025-11-04T01:00:00Z", shippingLine=None),
            "retailLocation": {"id": "gid://shopify/Location/905684977"},
            "lineItems": {
                "nodes": [
                    {
                        **graphql_node(0)["lineItems"]["nodes"][0],
                        "variant": {
                            "inventoryItem": {
                                "measurement": {"weight": {"unit": "POUNDS", "value": 1.5}}
                            }
                        },
                    }
                ]
            },
        },
        replace(
            PAID_1001,
            lines=(
                InboundLine("TEA-OOLONG-150", 2, 64000, "Oolong tea 150 g", 680, "15012345678901"),
            ),
            cancelled=True,
            shipping_method="",
            location_id="905684977",
        ),
    ),
    "missing currency, address country and line sku": (
        lambda: {
            **graphql_node(0, currencyCode=None),
            "shippingAddress": {**graphql_node(0)["shippingAddress"], "countryCodeV2": None},
            "lineItems": {"nodes": [{**graphql_node(0)["lineItems"]["nodes"][0], "sku": ""}]},
        },
        replace(
            PAID_1001,
            currency="",
            ship_to=Address(
                country="",
                postal_code="110",
                city="Taipei City",
                state="TPE",
                line1="No. 7, Section 5, Xinyi Road",
                line2="12F",
                name="Lin Mei",
                phone="+886912345678",
            ),
            lines=(InboundLine("", 2, 0, "Oolong tea 150 g", 200, "15012345678901"),),
            problems=(
                "currencyCode missing",
                "lineItems[0].sku missing",
                "shippingAddress.countryCodeV2 missing",
            ),
        ),
    ),
    "fulfilled in the shop: nothing to ship": (
        lambda: with_unfulfilled(0),
        replace(PAID_1001, nothing_to_ship=True),
    ),
    "one of two units fulfilled in the shop": (
        lambda: with_unfulfilled(1),
        replace(PAID_1001, problems=("lineItems[0]: 1 of 2 fulfilled in the shop already",)),
    ),
}


@pytest.mark.parametrize("build, expected", GRAPHQL_CASES.values(), ids=GRAPHQL_CASES.keys())
def test_graphql_order(build, expected):
    assert mapping.order_from_graphql(build()) == expected


def test_webhook_and_listing_of_one_order_share_its_id():
    assert mapping.legacy_id("gid://shopify/Order/820982911946154508") == "820982911946154508"
    assert mapping.legacy_id(820982911946154508) == "820982911946154508"


@pytest.mark.parametrize("payload", [[], {"name": "#1"}, {"id": None}, "order"])
def test_a_payload_without_an_order_id_is_not_an_order(payload):
    with pytest.raises(ValueError, match="not a Shopify order"):
        mapping.order_from_webhook(payload)


def with_delivery(method: dict, destination: dict, shipping_line: dict | None = None):
    """Order #1001 with its fulfillment order's `deliveryMethod` and `destination` as the
    GraphQL Admin API 2025-10 documents them (objects DeliveryMethod,
    FulfillmentOrderDestination; enum DeliveryMethodType)."""
    node = graphql_node(0)
    node["fulfillmentOrders"]["nodes"][0].update(deliveryMethod=method, destination=destination)
    if shipping_line is not None:
        node["shippingLine"] = shipping_line
    return node


LOCKER_DESTINATION = {
    "address1": "No. 100, Section 5, Xinyi Road",
    "address2": None,
    "city": "Taipei City",
    "province": "Taipei City",
    "zip": "110",
    "countryCode": "TW",
    "location": None,
}


def test_a_pickup_point_chosen_at_checkout():
    node = with_delivery(
        {
            "methodType": "PICKUP_POINT",
            "presentedName": "7-ELEVEN 信義門市",
            "serviceCode": "131386",
        },
        LOCKER_DESTINATION,
        {"code": "131386", "title": "7-ELEVEN 信義門市", "source": "tw-cvs-pickup"},
    )
    assert mapping.order_from_graphql(node).pickup_point == PickupPoint(
        id="131386",
        name="7-ELEVEN 信義門市",
        network="tw-cvs-pickup",
        address=Address(
            country="TW",
            postal_code="110",
            city="Taipei City",
            state="Taipei City",
            line1="No. 100, Section 5, Xinyi Road",
            residential=False,
        ),
    )


def test_a_pickup_point_without_a_service_code_is_named_by_the_shipping_line_code():
    node = with_delivery(
        {"methodType": "PICKUP_POINT", "presentedName": None, "serviceCode": None},
        LOCKER_DESTINATION,
        {"code": "PUDO-4410", "title": "Locker Xinyi", "source": "pudo"},
    )
    point = mapping.order_from_graphql(node).pickup_point
    assert (point.id, point.name, point.network) == ("PUDO-4410", "Locker Xinyi", "pudo")


def test_a_pick_up_at_the_shops_own_location():
    node = with_delivery(
        {"methodType": "PICK_UP", "presentedName": "Pickup at Daan store", "serviceCode": None},
        {
            **LOCKER_DESTINATION,
            "location": {"id": "gid://shopify/Location/905684977", "name": "Daan store"},
        },
    )
    point = mapping.order_from_graphql(node).pickup_point
    assert (point.id, point.name, point.network) == ("905684977", "Daan store", "shop location")


@pytest.mark.parametrize("method_type", ["SHIPPING", "LOCAL", "NONE"])
def test_other_delivery_methods_have_no_pickup_point(method_type):
    node = with_delivery({"methodType": method_type}, LOCKER_DESTINATION)
    assert mapping.order_from_graphql(node).pickup_point is None

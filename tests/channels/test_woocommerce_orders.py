"""WooCommerce orders and webhooks in: signatures, the site, topics and the order mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.base import (
    ChannelAccount,
    ChannelResponseError,
    InboundLine,
    InboundOrder,
    Topic,
    WebhookPing,
    WebhookRequest,
    WebhookSignatureError,
)
from channels.registry import get_source_class
from channels.woocommerce import WooCommerceOrderSource
from shipflow.domain import Address, PickupPoint
from tests.channels.woo_helpers import delivery, fixture, source


def test_registered() -> None:
    assert get_source_class("woocommerce") is WooCommerceOrderSource


# --- verification -----------------------------------------------------------------------


def test_good_signature_from_the_accounts_site_passes() -> None:
    source().verify_webhook(delivery(fixture("order.json")))


@pytest.mark.parametrize(
    "site",
    ["https://shop.example/", "https://SHOP.example", "shop.example/", "http://shop.example/"],
)
def test_the_site_is_compared_without_scheme_case_or_trailing_slash(site: str) -> None:
    source().verify_webhook(delivery(fixture("order.json"), site=site))


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(WebhookSignatureError, match="signature wrong"):
        source().verify_webhook(delivery(fixture("order.json"), secret="guess"))


def test_a_signature_with_a_non_ascii_character_is_refused() -> None:
    hook = delivery(fixture("order.json"))
    headers = hook.headers | {"x-wc-webhook-signature": "sïgnature"}
    with pytest.raises(WebhookSignatureError, match="signature wrong"):
        source().verify_webhook(WebhookRequest(headers, hook.body))


def test_a_changed_body_is_refused() -> None:
    hook = delivery(fixture("order.json"))
    tampered = WebhookRequest(hook.headers, hook.body.replace(b'"29.35"', b'"0.01"'))
    with pytest.raises(WebhookSignatureError, match="signature wrong"):
        source().verify_webhook(tampered)


def test_unsigned_is_refused() -> None:
    hook = delivery(fixture("order.json"))
    headers = {k: v for k, v in hook.headers.items() if k != "x-wc-webhook-signature"}
    with pytest.raises(WebhookSignatureError, match="signature wrong"):
        source().verify_webhook(WebhookRequest(headers, hook.body))


def test_another_site_is_refused_even_when_signed() -> None:
    with pytest.raises(WebhookSignatureError, match="other-shop.example"):
        source().verify_webhook(delivery(fixture("order.json"), site="https://other-shop.example/"))


def test_a_site_below_ours_is_another_site() -> None:
    with pytest.raises(WebhookSignatureError):
        source().verify_webhook(delivery(fixture("order.json"), site="https://shop.example/b/"))


def test_no_secret_configured_refuses_everything() -> None:
    account = ChannelAccount("woocommerce", "web", "https://shop.example", {})
    with pytest.raises(WebhookSignatureError, match="webhook_secret"):
        WooCommerceOrderSource(account).verify_webhook(delivery(fixture("order.json"), secret=""))


def test_the_creation_ping_is_a_ping_not_an_event() -> None:
    """`WC_Webhook::deliver_ping`: form body `webhook_id=<id>`, no X-WC headers; it wants 200."""
    ping = WebhookRequest(
        {"content-type": "application/x-www-form-urlencoded", "user-agent": "WooCommerce/8.6"},
        b"webhook_id=142",
    )
    with pytest.raises(WebhookPing) as caught:
        source().verify_webhook(ping)
    assert isinstance(caught.value, WebhookSignatureError)  # an intake unaware of pings: 401


def test_a_signed_form_body_is_not_taken_for_a_ping() -> None:
    hook = delivery(fixture("order.json"))
    forged = WebhookRequest({**hook.headers, "x-wc-webhook-signature": "bad"}, b"webhook_id=142")
    with pytest.raises(WebhookSignatureError, match="signature wrong") as caught:
        source().verify_webhook(forged)
    assert not isinstance(caught.value, WebhookPing)


# --- topics -----------------------------------------------------------------------------


def order_with(**fields) -> dict:
    order = fixture("order.json")
    order.update(fields)
    return order


PAID_NOW = {"date_paid_gmt": "2017-03-22T19:28:08", "date_modified_gmt": "2017-03-22T19:28:08"}
PAID_EARLIER = {"date_paid_gmt": "2017-03-22T19:28:08", "date_modified_gmt": "2017-03-23T08:00:00"}
UNPAID = {"date_paid_gmt": None, "date_paid": None}


@pytest.mark.parametrize(
    ("topic", "fields", "expected"),
    [
        ("order.created", {"status": "pending", **UNPAID}, Topic.ORDER_CREATED),
        ("order.created", {"status": "processing", **PAID_NOW}, Topic.ORDER_CREATED),
        ("order.updated", {"status": "processing", **PAID_NOW}, Topic.ORDER_PAID),
        ("order.updated", {"status": "completed", **PAID_NOW}, Topic.ORDER_PAID),
        ("order.updated", {"status": "processing", **PAID_EARLIER}, Topic.ORDER_UPDATED),
        ("order.updated", {"status": "on-hold", **UNPAID}, Topic.ORDER_UPDATED),
        ("order.updated", {"status": "pending", **UNPAID}, Topic.ORDER_UPDATED),
        ("order.updated", {"status": "failed", **UNPAID}, Topic.ORDER_UPDATED),
        ("order.updated", {"status": "cancelled", **UNPAID}, Topic.ORDER_CANCELLED),
        ("order.updated", {"status": "refunded", **PAID_EARLIER}, Topic.ORDER_CANCELLED),
        ("order.updated", {"status": "trash", **UNPAID}, Topic.ORDER_CANCELLED),
        (
            "order.updated",
            {"status": "processing", "payment_method": "cod", **PAID_NOW},
            Topic.ORDER_PAID,
        ),
    ],
)
def test_topic_rows(topic: str, fields: dict, expected: Topic) -> None:
    notice = source().parse_webhook(delivery(order_with(**fields), topic))
    assert notice.topic is expected


def test_the_delivery_id_is_the_headers_and_a_replay_keeps_it() -> None:
    hook = delivery(fixture("order.json"), delivery_id="e3b0c44298fc1c14")
    first, replay = source().parse_webhook(hook), source().parse_webhook(hook)
    assert (first.delivery_id, replay.delivery_id) == ("e3b0c44298fc1c14", "e3b0c44298fc1c14")
    assert first == replay


def test_a_deleted_order_cancels_by_id() -> None:
    notice = source().parse_webhook(delivery({"id": 727}, "order.deleted"))
    assert notice.topic is Topic.ORDER_CANCELLED
    assert notice.order == InboundOrder(
        source_order_id="727",
        order_number="727",
        currency="",
        ship_to=Address(country=""),
        lines=(),
        cancelled=True,
        problems=("order deleted in the shop: only its id was sent",),
    )


@pytest.mark.parametrize("topic", ["product.updated", "coupon.created", "", "action.woocommerce_x"])
def test_topics_we_do_not_read_are_refused(topic: str) -> None:
    with pytest.raises(ChannelResponseError, match="not a topic"):
        source().parse_webhook(delivery(fixture("order.json"), topic))


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"number": "1"}'])
def test_a_body_that_is_no_order_is_refused(body: bytes) -> None:
    hook = delivery({}, "order.created")
    with pytest.raises(ChannelResponseError, match="unreadable order"):
        source().parse_webhook(WebhookRequest(hook.headers, body))


# --- mapping ----------------------------------------------------------------------------


def test_the_documented_order_maps_whole() -> None:
    notice = source().parse_webhook(delivery(fixture("order.json")))
    assert notice.order == InboundOrder(
        source_order_id="727",
        order_number="727",
        currency="USD",
        ship_to=Address(
            country="US",
            postal_code="94103",
            city="San Francisco",
            state="CA",
            line1="969 Market",
            line2="",
            name="John Doe",
            company="",
            phone="(555) 555-5555",
            email="john.doe@example.com",
            residential=True,
        ),
        lines=(
            InboundLine(
                sku="", quantity=2, unit_price=300, name="Woo Single #1", source_line_id="315"
            ),
            InboundLine(
                sku="Bar3",
                quantity=1,
                unit_price=1200,
                name="Ship Your Idea &ndash; Color: Black, Size: M Test",
                weight_g=None,
                source_line_id="316",
            ),
        ),
        placed_at=datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC),
        updated_at=datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC),
        customer_name="John Doe",
        customer_email="john.doe@example.com",
        customer_phone="(555) 555-5555",
        language="en",
        paid=True,
        cash_on_delivery=0,
        cancelled=False,
        shipping_method="flat_rate",
        problems=("line_items[0].sku missing",),
    )


def test_a_line_price_divided_out_by_woocommerce_is_rounded_not_refused() -> None:
    """The v3 order controller sends a line's `price` as `get_total() / max(1, quantity)`,
    an unrounded PHP float: 3 tents for 10.00 are 3.3333333333333335 each, 2 mugs
    discounted to 8.99 are 4.495 each."""
    order = order_with()
    order["line_items"] = [
        {**order["line_items"][1], "id": 401, "sku": "TENT", "name": "Tent", "quantity": 3,
         "subtotal": "10.00", "total": "10.00", "price": 3.3333333333333335},
        {**order["line_items"][1], "id": 402, "sku": "MUG", "name": "Mug", "quantity": 2,
         "subtotal": "10.00", "total": "8.99", "price": 4.495},
    ]  # fmt: skip
    mapped = source().parse_webhook(delivery(order)).order
    assert mapped.lines == (
        InboundLine(sku="TENT", quantity=3, unit_price=333, name="Tent", source_line_id="401"),
        InboundLine(sku="MUG", quantity=2, unit_price=450, name="Mug", source_line_id="402"),
    )
    assert mapped.problems == ()


def test_times_are_read_from_the_gmt_fields_not_the_sites_local_ones() -> None:
    order = order_with(date_created="2017-03-22T23:28:02", date_modified="2017-03-23T01:00:00")
    mapped = source().parse_webhook(delivery(order)).order
    assert (mapped.placed_at, mapped.updated_at) == (
        datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC),
        datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC),
    )


def test_a_taiwan_cash_on_delivery_order() -> None:
    order = order_with(
        currency="TWD",
        total="1290.00",
        payment_method="cod",
        payment_method_title="貨到付款",
        shipping={
            "first_name": "小明",
            "last_name": "王",
            "company": "",
            "address_1": "信義路五段7號",
            "address_2": "89樓",
            "city": "台北市",
            "state": "",
            "postcode": "110",
            "country": "TW",
        },
        shipping_lines=[
            {
                "id": 9,
                "method_title": "宅配",
                "method_id": "flat_rate",
                "instance_id": "3",
                "total": "100.00",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            }
        ],
        meta_data=[{"id": 1, "key": "wpml_language", "value": "zh-hant"}],
    )
    order["line_items"][0].update(sku="TEA-1", price="595.00")
    order["line_items"][1].update(price="0.00")
    mapped = source().parse_webhook(delivery(order)).order
    assert (mapped.currency, mapped.paid, mapped.cash_on_delivery) == (
        "TWD",
        False,
        129000,
    )  # minor units, as CLDR counts TWD
    assert [line.unit_price for line in mapped.lines] == [59500, 0]
    assert mapped.shipping_method == "flat_rate:3"
    assert mapped.language == "zh-hant"
    assert mapped.ship_to == Address(
        country="TW",
        postal_code="110",
        city="台北市",
        line1="信義路五段7號",
        line2="89樓",
        name="小明 王",
        phone="(555) 555-5555",
        email="john.doe@example.com",
    )
    assert mapped.problems == ()


@pytest.mark.parametrize(
    ("status", "paid", "cancelled"),
    [
        ("pending", False, False),
        ("on-hold", False, False),
        ("processing", True, False),
        ("completed", True, False),
        ("cancelled", False, True),
        ("refunded", True, True),
        ("failed", False, False),
        ("trash", False, True),
        ("checkout-draft", False, False),
    ],
)
def test_status_rows(status: str, paid: bool, cancelled: bool) -> None:
    mapped = source().parse_webhook(delivery(order_with(status=status))).order
    assert (mapped.paid, mapped.cancelled, mapped.problems) == (
        paid,
        cancelled,
        ("line_items[0].sku missing",),
    )


@pytest.mark.parametrize(
    ("status", "nothing_to_ship"),
    [
        ("processing", False),
        ("completed", True),
        ("on-hold", False),
        ("partial-shipped", False),
        ("checkout-draft", True),
    ],
)
def test_a_completed_order_or_a_checkout_draft_has_nothing_to_ship(
    status: str, nothing_to_ship: bool
) -> None:
    """WooCommerce's `completed` ("order fulfilled and complete") was shipped by the shop
    itself, or by us; the Checkout block's `checkout-draft` is a checkout in progress."""
    mapped = source().parse_webhook(delivery(order_with(status=status))).order
    assert mapped.nothing_to_ship is nothing_to_ship


@pytest.mark.parametrize(("date_paid_gmt", "paid"), [("2017-03-22T19:28:08", True), (None, False)])
def test_a_plugins_status_is_kept_and_read_by_its_payment(date_paid_gmt, paid: bool) -> None:
    mapped = (
        source()
        .parse_webhook(delivery(order_with(status="partial-shipped", date_paid_gmt=date_paid_gmt)))
        .order
    )
    assert (mapped.paid, mapped.cancelled) == (paid, False)
    assert "status 'partial-shipped' is not a WooCommerce status we know" in mapped.problems


def test_an_empty_shipping_address_falls_back_to_billing() -> None:
    empty = {k: "" for k in fixture("order.json")["shipping"]}
    billing = {**fixture("order.json")["billing"], "address_1": "1 Billing Rd", "postcode": "10001"}
    mapped = source().parse_webhook(delivery(order_with(shipping=empty, billing=billing))).order
    assert (mapped.ship_to.line1, mapped.ship_to.postal_code) == ("1 Billing Rd", "10001")


def test_missing_fields_are_named_and_the_order_kept() -> None:
    order = order_with(
        currency=None,
        date_created_gmt="yesterday",
        shipping={"first_name": "", "country": "US", "address_1": "969 Market"},
        billing={},
        shipping_lines=[{"id": 1, "method_id": "", "method_title": ""}],
    )
    order["line_items"] = [
        {"id": 5, "name": "Tent", "quantity": "two", "sku": "TENT", "price": "twelve"},
        {"id": 6, "name": "Pegs", "quantity": 1, "sku": "PEG"},
    ]
    mapped = source().parse_webhook(delivery(order)).order
    assert mapped.source_order_id == "727"
    assert mapped.problems == (
        "currency missing",
        "shipping.city missing",
        "shipping.postcode missing",
        "line_items[0].quantity missing or not a number",
        "line_items[0].price: price 'twelve' is not a decimal number",
        "line_items[1].price missing",
        "date_created_gmt 'yesterday' is not an ISO 8601 time",
        "shipping_lines[0].method_id missing",
    )


def test_an_order_without_line_items_says_so() -> None:
    mapped = source().parse_webhook(delivery(order_with(line_items=[]))).order
    assert mapped.problems == ("line_items missing",)


# --- pickup at the shop's own place -------------------------------------------------------


def local_pickup_block_line() -> dict:
    """A shipping line of WooCommerce core's "Local pickup" (Checkout block, method
    `pickup_location`, instance = the location's index), its `meta_data` as
    Automattic\\WooCommerce\\Blocks\\Shipping\\PickupLocation::calculate_shipping writes it
    (`pickup_location`, `pickup_address`, `pickup_details`) and the v3 order schema's
    shipping line meta shape (`id`, `key`, `value`, `display_key`, `display_value`)."""
    return {
        "id": 318,
        "method_title": "Local pickup (Main Street store)",
        "method_id": "pickup_location",
        "instance_id": "0",
        "total": "0.00",
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": [
            {
                "id": 2410,
                "key": "pickup_location",
                "value": "Main Street store",
                "display_key": "Pickup location",
                "display_value": "Main Street store",
            },
            {
                "id": 2411,
                "key": "pickup_address",
                "value": "969 Market, San Francisco, CA 94103",
                "display_key": "Pickup address",
                "display_value": "969 Market, San Francisco, CA 94103",
            },
            {
                "id": 2412,
                "key": "pickup_details",
                "value": "Ask at the counter",
                "display_key": "Pickup details",
                "display_value": "Ask at the counter",
            },
        ],
    }


def test_the_checkout_blocks_local_pickup_location_is_the_pickup_point() -> None:
    raw = order_with(shipping_lines=[local_pickup_block_line()])
    order = source().parse_webhook(delivery(raw)).order
    assert order.pickup_point == PickupPoint(
        id="pickup_location:0",
        name="Main Street store",
        network="shop location",
        address=Address(
            country="US", line1="969 Market, San Francisco, CA 94103", residential=False
        ),
    )
    assert order.shipping_method == "pickup_location:0"


def test_the_classic_local_pickup_is_the_shop_itself() -> None:
    line = {**fixture("order.json")["shipping_lines"][0]}
    line.update(method_id="local_pickup", method_title="Local pickup", instance_id="2")
    order = source().parse_webhook(delivery(order_with(shipping_lines=[line]))).order
    assert order.pickup_point == PickupPoint(
        id="local_pickup:2", name="Local pickup", network="shop location"
    )


def test_a_shipped_method_has_no_pickup_point() -> None:
    assert source().parse_webhook(delivery(fixture("order.json"))).order.pickup_point is None

"""SHOPLINE: webhooks verified and read, the order mapping, listing through `link` pages,
subscriptions, write-back and errors (HTTP mocked with `responses`)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import responses
from responses import matchers

from channels.base import (
    Capability,
    ChannelAccount,
    ChannelAuthError,
    ChannelRateLimited,
    ChannelResponseError,
    Fulfilment,
    FulfilmentEvent,
    InboundLine,
    InboundOrder,
    Refund,
    Topic,
    UnreadableOrder,
    WebhookRequest,
    WebhookSignatureError,
)
from channels.registry import get_source_class
from channels.shopline import ShoplineOrderSource
from shipflow.domain import Address, PickupPoint, Status

FIXTURES = Path(__file__).parent / "fixtures" / "shopline"
SHOP = "acme.myshopline.com"
API = f"https://{SHOP}/admin/openapi/v20251201"
SECRET = "app-secret"
ACCOUNT = ChannelAccount("shopline", "tw", SHOP, {"access_token": "tok-1", "app_secret": SECRET})


def fixture(name: str):
    return copy.deepcopy(json.loads((FIXTURES / name).read_text())["response"])


def source() -> ShoplineOrderSource:
    return ShoplineOrderSource(ACCOUNT)


def digest(body: bytes, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def delivery(payload, topic="orders/create", *, shop=SHOP, signature=None, webhook_id="b545"):
    body = json.dumps(payload).encode()
    return WebhookRequest(
        headers={
            "content-type": "application/json",
            "x-shopline-topic": topic,
            "x-shopline-hmac-sha256": signature or digest(body).hex(),
            "x-shopline-shop-domain": shop,
            "x-shopline-shop-id": "1610418123456",
            "x-shopline-merchant-id": "2000001234",
            "x-shopline-api-version": "v20251201",
            "x-shopline-webhook-id": webhook_id,
        },
        body=body,
    )


def test_registered() -> None:
    assert get_source_class("shopline") is ShoplineOrderSource


# --- verification -----------------------------------------------------------------------


def test_hex_signature_passes() -> None:
    source().verify_webhook(delivery(fixture("order.json")))


def test_base64_signature_passes() -> None:
    body = json.dumps(fixture("order.json")).encode()
    signed = base64.b64encode(digest(body)).decode()
    source().verify_webhook(delivery(fixture("order.json"), signature=signed))


@pytest.mark.parametrize("secret", ["wrong", ""])
def test_wrong_signature_is_refused(secret: str) -> None:
    body = json.dumps(fixture("order.json")).encode()
    hook = delivery(fixture("order.json"), signature=digest(body, secret or "x").hex())
    with pytest.raises(WebhookSignatureError, match="signature wrong"):
        source().verify_webhook(hook)


def test_another_shop_is_refused_even_when_signed() -> None:
    with pytest.raises(WebhookSignatureError, match="other.myshopline.com"):
        source().verify_webhook(delivery(fixture("order.json"), shop="other.myshopline.com"))


def test_no_app_secret_refuses_everything() -> None:
    bare = ShoplineOrderSource(ChannelAccount("shopline", "tw", SHOP, {"access_token": "t"}))
    with pytest.raises(WebhookSignatureError, match="app_secret"):
        bare.verify_webhook(delivery(fixture("order.json")))


# --- topics -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "fields", "expected"),
    [
        ("orders/create", {}, Topic.ORDER_CREATED),
        ("orders/paid", {}, Topic.ORDER_PAID),
        ("orders/updated", {}, Topic.ORDER_UPDATED),
        ("orders/edited", {}, Topic.ORDER_UPDATED),
        ("orders/updated", {"cancelled_at": "2021-08-17T08:00:00+00:00"}, Topic.ORDER_CANCELLED),
        ("orders/cancelled", {"cancelled_at": "2021-08-17T08:00:00+00:00"}, Topic.ORDER_CANCELLED),
        ("orders/delete", {}, Topic.ORDER_CANCELLED),  # deleted in the admin: ours is cancelled
    ],
)
def test_order_topic_rows(topic: str, fields: dict, expected: Topic) -> None:
    notice = source().parse_webhook(delivery({**fixture("order.json"), **fields}, topic))
    assert (notice.topic, notice.delivery_id) == (expected, "b545")
    assert notice.order is not None


def test_uninstall() -> None:
    payload = {"operate": "UNINSTALL", "handle": "acme", "store_id": "1610418123456"}
    notice = source().parse_webhook(delivery(payload, "apps/installed_uninstalled"))
    assert (notice.topic, notice.order) == (Topic.UNINSTALLED, None)


def test_an_install_notice_is_not_an_uninstall() -> None:
    payload = {"operate": "INSTALL", "handle": "acme"}
    with pytest.raises(ChannelResponseError, match="'INSTALL' notice"):
        source().parse_webhook(delivery(payload, "apps/installed_uninstalled"))


@pytest.mark.parametrize("topic", ["products/create", "orders/fulfilled", ""])
def test_topics_we_do_not_read_are_refused(topic: str) -> None:
    with pytest.raises(ChannelResponseError, match="not a topic"):
        source().parse_webhook(delivery(fixture("order.json"), topic))


def test_a_replayed_delivery_keeps_its_id() -> None:
    hook = delivery(fixture("order.json"), webhook_id="b54557e48a5fbf7d70bcd043")
    assert source().parse_webhook(hook) == source().parse_webhook(hook)
    assert source().parse_webhook(hook).delivery_id == "b54557e48a5fbf7d70bcd043"


# --- mapping ----------------------------------------------------------------------------


def test_the_documented_order_maps_whole() -> None:
    assert source().parse_webhook(delivery(fixture("order.json"))).order == InboundOrder(
        source_order_id="21050224312121887324667162",
        order_number="test1001",
        currency="USD",
        ship_to=Address(
            country="US",
            postal_code="521000",
            city="City",
            state="510000",
            line1="Address 1",
            line2="Address 2",
            name="Tom.Washington",
            company="Company Name",
            phone="13100000000",
            email="hok@shoplineapp.com",
            residential=False,
        ),
        lines=(
            InboundLine(
                sku="18056761559987524812644011",
                quantity=1,
                unit_price=800,
                name="beautiful skirt",
                weight_g=100,
                source_line_id="417",
            ),
        ),
        placed_at=datetime(2021, 8, 16, 8, 27, 57, tzinfo=UTC),
        updated_at=datetime(2021, 8, 16, 8, 27, 57, tzinfo=UTC),
        customer_name="Tom Washington",
        customer_email="hok@shoplineapp.com",
        customer_phone="18978789878",
        language="en",
        paid=True,
        cash_on_delivery=0,
        cancelled=False,
        shipping_method="Local delivery",
        pickup_point=PickupPoint(id="1001", name="Store name"),
        location_id="5327026538935748524",
        problems=(),
    )


def gift_card_line(line_id: str) -> dict:
    """A line item as "Get orders" documents it, of a gift card (`requires_shipping` false)."""
    line = fixture("order.json")["line_items"][0]
    line.update(id=line_id, title="Gift card", sku="", grams=0, requires_shipping=False)
    return line


def test_a_line_that_needs_no_shipping_is_left_out() -> None:
    raw = fixture("order.json")
    raw["line_items"].append(gift_card_line("418"))
    order = source().parse_webhook(delivery(raw)).order
    assert (order.lines, order.nothing_to_ship, order.problems) == (
        (
            InboundLine(
                sku="18056761559987524812644011",
                quantity=1,
                unit_price=800,
                name="beautiful skirt",
                weight_g=100,
                source_line_id="417",
            ),
        ),
        False,
        (),
    )


def test_an_order_of_gift_cards_only_has_nothing_to_ship_and_needs_no_address() -> None:
    raw = {**fixture("order.json"), "line_items": [gift_card_line("418")], "shipping_address": {}}
    order = source().parse_webhook(delivery(raw)).order
    assert (order.lines, order.nothing_to_ship, order.problems) == ((), True, ())


def taiwan_store_pickup_cod() -> dict:
    order = fixture("order.json")
    order.update(
        currency="TWD",
        current_total_price="1290.00",
        payment_gateway_names=["COD"],
        financial_status="unpaid",
        customer_locale="zh-TW",
        updated_at="2024-05-01T18:00:00+08:00",
        shipping_lines=[{"title": "7-11 超商取貨付款", "price": "60.00"}],
        shipping_address={
            "name": "王小明",
            "phone": "0912345678",
            "country_code": "TW",
            "delivery_store_code": "131386",
            "delivery_store_name": "7-ELEVEN 鑫台北門市",
        },
    )
    order["line_items"][0].update(price="1230.00", grams=0)
    return order


def test_a_taiwan_store_pickup_cash_on_delivery_order() -> None:
    order = source().parse_webhook(delivery(taiwan_store_pickup_cod())).order
    assert order.pickup_point == PickupPoint(
        id="131386", name="7-ELEVEN 鑫台北門市", network="7-ELEVEN", chain="UNIMART"
    )
    assert order.ship_to == Address(
        country="TW", name="王小明", phone="0912345678", email="hok@shoplineapp.com"
    )
    assert (order.paid, order.cash_on_delivery, order.currency) == (
        False,
        129000,
        "TWD",
    )  # minor units: CLDR gives TWD two digits
    assert (order.lines[0].unit_price, order.lines[0].weight_g) == (123000, None)
    assert (order.language, order.shipping_method) == ("zh-Hant", "7-11 超商取貨付款")
    assert order.updated_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert order.updated_at.utcoffset() == timedelta(hours=8)
    assert order.problems == ()


@pytest.mark.parametrize(
    ("method", "network", "chain"),
    [
        ("7-11 超商取貨付款", "7-ELEVEN", "UNIMART"),
        ("7-ELEVEN Store Pickup", "7-ELEVEN", "UNIMART"),
        ("全家 FamilyMart 取貨", "FamilyMart", "FAMI"),
        ("萊爾富取貨", "Hi-Life", "HILIFE"),
        ("OK超商取貨", "OK mart", "OKMARTC2C"),
        ("Store pickup", "", ""),  # a chain the shipping method does not name: the store only
    ],
)
def test_the_store_chain_comes_from_the_shipping_method(
    method: str, network: str, chain: str
) -> None:
    raw = taiwan_store_pickup_cod()
    raw["shipping_lines"][0].update(code=method, title=method)
    point = source().parse_webhook(delivery(raw)).order.pickup_point
    assert (point.network, point.chain) == (network, chain)


def test_hong_kong_dollars_keep_cents() -> None:
    raw = fixture("order.json")
    raw.update(currency="HKD", customer_locale="zh-hant-hk")
    raw["line_items"][0]["price"] = "388.50"
    order = source().parse_webhook(delivery(raw)).order
    assert (order.lines[0].unit_price, order.language) == (38850, "zh-Hant")


@pytest.mark.parametrize(
    ("status", "paid", "cancelled"),
    [
        ("unpaid", False, False),
        ("pending", False, False),
        ("partially_paid", False, False),
        ("authorized", True, False),
        ("paid", True, False),
        ("partially_refunded", True, False),
        ("refunded", True, True),
    ],
)
def test_financial_status_rows(status: str, paid: bool, cancelled: bool) -> None:
    raw = {**fixture("order.json"), "financial_status": status}
    order = source().parse_webhook(delivery(raw)).order
    assert (order.paid, order.cancelled, order.problems) == (paid, cancelled, ())


@pytest.mark.parametrize(
    ("status", "nothing_to_ship", "problems"),
    [  # "Get orders" documents fulfillment_status unshipped, partial, shipped
        ("unshipped", False, ()),
        (None, False, ()),
        ("shipped", True, ()),
        ("partial", False, ("fulfillment_status 'partial': part of it shipped in the store already",)),
        ("returned", False, ("fulfillment_status 'returned' is not a SHOPLINE status we know",)),
    ],
)  # fmt: skip
def test_fulfillment_status_rows(status, nothing_to_ship: bool, problems: tuple) -> None:
    raw = {**fixture("order.json"), "fulfillment_status": status}
    order = source().parse_webhook(delivery(raw)).order
    assert (order.nothing_to_ship, order.problems) == (nothing_to_ship, problems)


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("enCA", "en"),
        ("zh-TW", "zh-Hant"),
        ("zhHK", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("ja", "ja"),
        (None, "en"),
    ],
)
def test_customer_locale_rows(locale, language: str) -> None:
    raw = {**fixture("order.json"), "customer_locale": locale}
    assert source().parse_webhook(delivery(raw)).order.language == language


def test_missing_fields_are_named_and_the_order_kept() -> None:
    raw = fixture("order.json")
    raw.update(
        currency="",
        financial_status="voided",
        updated_at="2021-08-16T08:27:57",
        shipping_address={"name": "Tom", "country_code": "US"},
    )
    raw["line_items"] = [{"id": "1", "title": "skirt", "quantity": None, "price": "8.005"}]
    order = source().parse_webhook(delivery(raw)).order
    assert order.source_order_id == "21050224312121887324667162"
    assert order.updated_at == datetime(2021, 8, 16, 8, 27, 57, tzinfo=UTC)
    assert order.problems == (
        "currency missing",
        "financial_status 'voided' is not a SHOPLINE status we know",
        "line_items[0].sku missing",
        "line_items[0].quantity missing or not a number",
        "line_items[0].price: price '8.005' has more decimals than  allows",
        "shipping_address.address1 missing",
        "shipping_address.city missing",
        "shipping_address.zip missing",
        "updated_at '2021-08-16T08:27:57' has no UTC offset; read as UTC",
    )


@pytest.mark.parametrize("payload", [{"name": "#1"}, [], {"id": None}])
def test_a_body_that_is_no_order_is_refused(payload) -> None:
    with pytest.raises(ChannelResponseError, match="unreadable order"):
        source().parse_webhook(delivery(payload))


# --- listing ----------------------------------------------------------------------------


def listed(order_id: str, updated: str) -> dict:
    return {**fixture("order.json"), "id": order_id, "updated_at": updated}


@responses.activate
def test_orders_since_reads_every_link_page_and_keeps_a_cursor() -> None:
    page2 = f"{API}/orders.json?limit=2&page_info=eyJzaW5jZUlkIjoiMiJ9"
    page3 = f"{API}/orders.json?limit=2&page_info=eyJzaW5jZUlkIjoiNCJ9"
    responses.get(
        f"{API}/orders.json",
        json={
            "orders": [
                listed("1", "2024-05-01T10:00:05+08:00"),
                listed("2", "2024-05-01T02:00:00+00:00"),
            ]
        },
        headers={"link": f'<{page2}>; rel="next"'},
        match=[
            matchers.query_param_matcher(
                {"status": "any", "limit": "2", "updated_at_min": "2024-05-01T01:00:00+00:00"}
            ),
            matchers.header_matcher({"Authorization": "Bearer tok-1"}),
        ],
    )
    responses.get(
        page2,
        json={
            "orders": [
                listed("3", "2024-05-01T02:00:05+00:00"),
                listed("4", "2024-05-01T01:00:00+00:00"),
            ]
        },
        headers={"link": f'<{page3}>; rel="next", <{page2}>; rel="previous"'},
    )
    responses.get(
        page3,
        json={"orders": [listed("9", "2024-05-01T01:30:00+00:00")]},
        headers={"link": f'<{page2}>; rel="previous"'},
    )
    page = source().orders_since("2024-05-01T01:00:00+00:00|4", limit=2)
    assert [o.source_order_id for o in page.orders] == ["9", "2", "1", "3"]
    assert page.cursor == "2024-05-01T02:00:05+00:00|1,3"
    assert len(responses.calls) == 3


@responses.activate
def test_a_listed_order_that_cannot_be_read_is_set_apart_and_the_others_listed() -> None:
    broken = listed("2", "2024-05-01T02:00:00+00:00")
    broken["id"] = None
    responses.get(
        f"{API}/orders.json",
        json={"orders": [listed("1", "2024-05-01T01:30:00+00:00"), broken]},
    )
    page = source().orders_since(None)
    assert [o.source_order_id for o in page.orders] == ["1"]
    assert page.unreadable == [UnreadableOrder("", "ValueError(\"not a SHOPLINE order: no 'id'\")")]


@responses.activate
def test_orders_since_the_start_asks_without_a_time() -> None:
    responses.get(
        f"{API}/orders.json",
        json={"orders": []},
        match=[matchers.query_param_matcher({"status": "any", "limit": "50"})],
    )
    assert source().orders_since(None).cursor == ""


@responses.activate
def test_429_is_rate_limited() -> None:
    responses.get(
        f"{API}/orders.json", status=429, json=fixture("error.json"), headers={"Retry-After": "2"}
    )
    with pytest.raises(ChannelRateLimited, match="Too many request") as caught:
        source().orders_since(None)
    assert caught.value.retry_after == 2.0


@responses.activate
def test_429_without_retry_after_leaves_the_wait_to_the_job() -> None:
    responses.get(f"{API}/orders.json", status=429, json=fixture("error.json"))
    with pytest.raises(ChannelRateLimited) as caught:
        source().orders_since(None)
    assert caught.value.retry_after is None


@responses.activate
def test_a_revoked_token_is_an_auth_error() -> None:
    responses.get(f"{API}/orders.json", status=401, json={"errors": "Invalid access token"})
    with pytest.raises(ChannelAuthError, match="Invalid access token"):
        source().orders_since(None)


@responses.activate
def test_a_4xx_names_each_error() -> None:
    responses.post(
        f"{API}/orders/21050224312121887324667162/fulfillments.json",
        status=422,
        json={"errors": {"tracking_number": ["can't be blank"]}},
    )
    responses.get(
        f"{API}/orders/21050224312121887324667162/fulfillments.json", json={"fulfillments": []}
    )
    with pytest.raises(
        ChannelResponseError, match="shopline HTTP 422: tracking_number: can't be blank"
    ):
        source().write_fulfilment(FULFILMENT)


# --- subscriptions and write-back --------------------------------------------------------


@responses.activate
def test_subscribe_creates_each_topic_once() -> None:
    address = "https://shipflow.example/webhooks/channels/shopline/3"
    kept = {
        **fixture("webhook.json")["webhook"],
        "id": 7,
        "topic": "orders/paid",
        "address": address,
    }
    responses.get(f"{API}/webhooks.json", json={"webhooks": [kept]})
    created = []
    for n, topic in enumerate(
        [
            "orders/create",
            "orders/updated",
            "orders/edited",
            "orders/cancelled",
            "orders/delete",
            "apps/installed_uninstalled",
        ]
    ):
        created.append(
            responses.post(
                f"{API}/webhooks.json",
                json={
                    "webhook": {**fixture("webhook.json")["webhook"], "id": 100 + n, "topic": topic}
                },
                match=[
                    matchers.json_params_matcher(
                        {
                            "webhook": {
                                "address": address,
                                "topic": topic,
                                "api_version": "v20251201",
                            }
                        }
                    )
                ],
            )
        )
    assert source().subscribe_webhooks(address) == ["100", "7", "101", "102", "103", "104", "105"]
    assert [r.call_count for r in created] == [1, 1, 1, 1, 1, 1]


FULFILMENT = Fulfilment(
    source_order_id="21050224312121887324667162",
    carrier="tcat",
    service="home",
    tracking_number="905123456789",
    idempotency_key="shipment-8-shipped",
    tracking_url="https://track.example/t/xyz",
    carrier_name="Black Cat",
)
ORDER_API = f"{API}/orders/21050224312121887324667162"


@responses.activate
def test_write_fulfilment_posts_the_tracking() -> None:
    responses.get(f"{ORDER_API}/fulfillments.json", json={"fulfillments": []})
    post = responses.post(f"{ORDER_API}/fulfillments.json", json=fixture("fulfillment.json"))
    assert source().write_fulfilment(FULFILMENT) == "22046737798141702810214336"
    assert json.loads(post.calls[0].request.body) == {
        "fulfillment": {
            "tracking_info_list": [
                {
                    "tracking_company": "Black Cat",
                    "tracking_number": "905123456789",
                    "tracking_url": "https://track.example/t/xyz",
                }
            ],
            "notify_customer": True,
        }
    }


@pytest.mark.parametrize("field", ["tracking_number", "tracking_info_list"])
@responses.activate
def test_write_fulfilment_repeated_finds_the_first(field: str) -> None:
    made = fixture("fulfillment.json")["fulfillment"]
    if field == "tracking_number":  # the deprecated field
        made["tracking_number"] = "905123456789"
    else:
        made["tracking_info_list"].append({"tracking_number": "905123456789"})
    responses.get(f"{ORDER_API}/fulfillments.json", json={"fulfillments": [made]})
    assert source().write_fulfilment(FULFILMENT) == "22046737798141702810214336"
    assert len(responses.calls) == 1


def event(status: Status, ref: str = "22046737798141702810214336") -> FulfilmentEvent:
    return FulfilmentEvent(
        source_order_id="21050224312121887324667162",
        tracking_number="905123456789",
        status=status,
        occurred_at=datetime(2024, 5, 2, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        idempotency_key="e-1",
        fulfilment_ref=ref,
        city="Taipei",
        country="TW",
        estimated_delivery=datetime(2024, 5, 2, 18, tzinfo=timezone(timedelta(hours=8))),
    )


# "Create fulfillment shipping logistics event": POST /fulfillments/:order_id/:fulfillment_id/
# events/create.json (developer.shopline.com, order/shipping-and-fulfillment/create-
# fulfillment-shipping-logistics-event).
EVENT_API = (
    f"{API}/fulfillments/21050224312121887324667162/22046737798141702810214336/events/create.json"
)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (Status.INFO_RECEIVED, "confirmed"),
        (Status.IN_TRANSIT, "in_transit"),
        (Status.OUT_FOR_DELIVERY, "out_for_delivery"),
        (Status.ATTEMPT_FAILED, "attempted_delivery"),
        (Status.AVAILABLE_FOR_PICKUP, "ready_for_pickup"),
        (Status.DELIVERED, "delivered"),
        (Status.EXCEPTION, "failure"),
        (Status.RETURNING_TO_SENDER, "failure"),
        (Status.RETURNED_TO_SENDER, "failure"),
    ],
)
@responses.activate
def test_write_tracking_event_rows(status: Status, code: str) -> None:
    post = responses.post(EVENT_API, json={"fulfillment_event": {"id": "4206234611998187371524"}})
    source().write_tracking_event(event(status))
    assert json.loads(post.calls[0].request.body) == {
        "status": code,
        "happened_at": "2024-05-02T09:30:00+08:00",
        "city": "Taipei",
        "country": "TW",
        "message": "",
        "estimated_delivery_at": "2024-05-02T18:00:00+08:00",
    }


@pytest.mark.parametrize("status", [Status.PENDING, Status.EXPIRED, Status.CANCELLED])
@responses.activate
def test_milestones_without_a_shopline_status_are_not_written(status: Status) -> None:
    source().write_tracking_event(event(status))
    assert len(responses.calls) == 0


@responses.activate
def test_an_event_without_a_ref_finds_the_fulfillment_by_tracking_number() -> None:
    made = {**fixture("fulfillment.json")["fulfillment"], "tracking_number": "905123456789"}
    responses.get(f"{ORDER_API}/fulfillments.json", json={"fulfillments": [made]})
    post = responses.post(EVENT_API, json={"fulfillment_event": {"id": "1"}})
    source().write_tracking_event(event(Status.DELIVERED, ref=""))
    assert post.call_count == 1


@responses.activate
def test_an_event_before_its_fulfillment_says_so() -> None:
    responses.get(f"{ORDER_API}/fulfillments.json", json={"fulfillments": []})
    with pytest.raises(ChannelResponseError, match="write the fulfilment first"):
        source().write_tracking_event(event(Status.DELIVERED, ref=""))


# --- refunds ------------------------------------------------------------------------------

REFUND = Refund(
    source_order_id="21050224312121887324667162",
    amount=129000,
    currency="TWD",
    idempotency_key="shop-refund-r-1",
    lines=(("417", 1),),
    note="Return r-1 received",
)


@responses.activate
def test_write_refund_takes_the_amount_from_the_suggested_payments() -> None:
    responses.get(f"{ORDER_API}/refunds.json", json={"refunds": []})
    trial = responses.post(f"{ORDER_API}/refunds/calculate.json", json=fixture("refund_trial.json"))
    post = responses.post(f"{API}/order/refund.json", json=fixture("refund.json"))
    assert source().write_refund(REFUND) == "5144142"
    assert json.loads(trial.calls[0].request.body) == {
        "currency": "TWD",
        "refund_line_items": [{"line_item_id": "417", "quantity": 1, "type": "Returned"}],
    }
    assert json.loads(post.calls[0].request.body) == {
        "order_id": "21050224312121887324667162",
        "currency": "TWD",
        "note": "Return r-1 received [shipflow shop-refund-r-1]",
        "notify": True,
        "refund_line_items": [{"line_item_id": 417, "quantity": 1, "type": "Returned"}],
        "transactions": [
            {
                "id": "26056836827909126061559008",
                "gateway": "bogus",
                "kind": "refund",
                "type": True,
                "amount": "1000.00",
                "currency": "TWD",
            },
            {
                "id": "26056836827909126061559009",
                "gateway": "SLpayments",
                "kind": "refund",
                "type": True,
                "amount": "290.00",
                "currency": "TWD",
            },
        ],
    }


@responses.activate
def test_a_refund_the_payments_cannot_cover_is_refused_before_posting() -> None:
    trial = fixture("refund_trial.json")
    del trial["refund"]["transactons"][1]
    responses.get(f"{ORDER_API}/refunds.json", json={"refunds": []})
    responses.post(f"{ORDER_API}/refunds/calculate.json", json=trial)
    with pytest.raises(ChannelResponseError, match="cover 100000 of 129000"):
        source().write_refund(REFUND)
    assert [c.request.method for c in responses.calls] == ["GET", "POST"]


@responses.activate
def test_write_refund_repeated_finds_the_first() -> None:
    made = fixture("refund.json")["data"]
    responses.get(f"{ORDER_API}/refunds.json", json={"refunds": [made]})
    assert source().write_refund(REFUND) == "5144142"
    assert len(responses.calls) == 1


def test_shopline_declares_refunds() -> None:
    assert source().supports(Capability.REFUNDS)

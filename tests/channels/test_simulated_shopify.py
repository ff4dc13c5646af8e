"""The demo's simulated Shopify store answers as Shopify documents it: signed webhooks, the
OAuth grant, calculated query cost with the leaky bucket, cursor pages, write-back mutations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from flask import Flask

from channels.base import ChannelAccount
from channels.shopify.source import ShopifyOrderSource
from shipflow.demo.shopify_shop import LeakyBucket, SimulatedShopify, query_hmac
from tests.channels.shopify_fixtures import GRAPHQL, SHOP

SECRET = "app-secret"
ORDERS = """query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { id name updatedAt lineItems(first: 10) { nodes { sku quantity } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def rest_order(sku: str = "MUG-1") -> dict:
    return {
        "currency": "USD",
        "line_items": [
            {"id": 866550311766439020, "sku": sku, "quantity": 1, "price": "12.50", "grams": 400}
        ],
        "shipping_address": {"zip": "11201", "country_code": "US", "city": "Brooklyn"},
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def shop(clock) -> SimulatedShopify:
    delivered: list = []
    store = SimulatedShopify(
        "demo.myshopify.com",
        "client-id",
        SECRET,
        deliver=lambda url, headers, body: delivered.append((url, headers, body)),
        bucket=LeakyBucket(maximum=1000, restore_rate=100, clock=clock, available=1000),
    )
    store.delivered = delivered  # type: ignore[attr-defined]
    return store


def test_a_paid_order_is_announced_twice_signed_with_the_app_secret(shop):
    shop.graphql(
        "mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: $s) { userErrors { message } } }",
        {"s": {"callbackUrl": "http://x/create"}},
    )
    shop.graphql(
        "mutation M($s: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: ORDERS_PAID, webhookSubscription: $s) { userErrors { message } } }",
        {"s": {"callbackUrl": "http://x/paid"}},
    )
    order = shop.place(rest_order())
    assert [(url, h["X-Shopify-Topic"]) for url, h, _ in shop.delivered] == [
        ("http://x/create", "orders/create"),
        ("http://x/paid", "orders/paid"),
    ]
    _, headers, body = shop.delivered[0]
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected
    assert headers["X-Shopify-Shop-Domain"] == "demo.myshopify.com"
    assert json.loads(body)["id"] == order["id"] and order["financial_status"] == "paid"


def test_pages_follow_the_cursor_to_the_last_page(shop):
    for sku in "ABCDE":
        shop.place(rest_order(sku))
    seen, after = [], None
    while True:
        answer = shop.graphql(ORDERS, {"first": 2, "after": after})
        page = answer["data"]["orders"]
        seen += [e["node"]["lineItems"]["nodes"][0]["sku"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list("ABCDE")


def test_cost_is_calculated_and_a_drained_bucket_is_throttled_until_it_refills(shop, clock):
    shop.place(rest_order())
    # orders(first: 40) of lineItems(first: 10): 2 + 40 * (1 + 2 + 10 * 1) = 522 points
    answer = shop.graphql(ORDERS, {"first": 40})
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 522
    assert cost["actualQueryCost"] == 6  # the same count over one order with one line
    assert cost["throttleStatus"] == {
        "maximumAvailable": 1000,
        "currentlyAvailable": 994.0,
        "restoreRate": 100,
    }
    shop.bucket.available = 100
    throttled = shop.graphql(ORDERS, {"first": 40})
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "data" not in throttled
    clock.now += 5  # 500 points restored
    assert "data" in shop.graphql(ORDERS, {"first": 40})
    too_big = shop.graphql(ORDERS, {"first": 250})
    assert too_big["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_fulfilment_and_its_events_land_on_the_order_timeline(shop):
    order = shop.place(rest_order())
    node = shop.graphql(
        "query O($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id } } } }",
        {"id": order["admin_graphql_api_id"]},
    )["data"]["order"]
    fulfillment_order = node["fulfillmentOrders"]["nodes"][0]["id"]
    created = shop.graphql(
        "mutation F($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id } userErrors { message } } }",
        {
            "f": {
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order}],
                "trackingInfo": {"company": "Sandbox Post", "number": "SB1", "url": "https://t/1"},
            }
        },
    )["data"]["fulfillmentCreate"]
    assert created["userErrors"] == []
    event = shop.graphql(
        "mutation E($e: FulfillmentEventInput!) { fulfillmentEventCreate(fulfillmentEvent: $e) { userErrors { message } } }",
        {"e": {"fulfillmentId": created["fulfillment"]["id"], "status": "IN_TRANSIT"}},
    )["data"]["fulfillmentEventCreate"]
    assert event["userErrors"] == []
    assert [entry.get("status") for entry in shop.timeline(order["id"])] == [
        "SUCCESS",
        "IN_TRANSIT",
    ]
    wrong = shop.graphql(
        "mutation E($e: FulfillmentEventInput!) { fulfillmentEventCreate(fulfillmentEvent: $e) { userErrors { message } } }",
        {"e": {"fulfillmentId": created["fulfillment"]["id"], "status": "TELEPORTED"}},
    )["data"]["fulfillmentEventCreate"]
    assert wrong["userErrors"][0]["message"] == "Status is invalid"


def test_the_oauth_grant_signs_its_redirect_and_trades_the_code_for_a_token(shop):
    app = Flask(__name__)
    app.register_blueprint(shop.blueprint(), url_prefix="/shop")
    client = app.test_client()
    answer = client.get(
        "/shop/admin/oauth/authorize?client_id=client-id&state=n1&redirect_uri=http://app/cb"
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    assert params["state"] == "n1" and params["shop"] == "demo.myshopify.com"
    assert params["hmac"] == query_hmac(SECRET, params)
    token = client.post(
        "/shop/admin/oauth/access_token",
        json={"client_id": "client-id", "client_secret": SECRET, "code": params["code"]},
    ).get_json()["access_token"]
    assert token == shop.access_token
    refused = client.post("/shop/admin/api/2025-10/graphql.json", json={"query": ORDERS})
    assert refused.status_code == 401
    ok = client.post(
        "/shop/admin/api/2025-10/graphql.json",
        json={"query": ORDERS, "variables": {"first": 5}},
        headers={"X-Shopify-Access-Token": token},
    )
    assert ok.get_json()["data"]["orders"]["edges"] == []


def test_a_second_parcel_joins_the_fulfillments_tracking_numbers(shop):
    order = shop.place(rest_order())
    first = shop.graphql(
        "mutation F($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id } } }",
        {
            "f": {
                "lineItemsByFulfillmentOrder": [
                    {"fulfillmentOrderId": f"gid://shopify/FulfillmentOrder/{order['id']}"}
                ],
                "trackingInfo": {"company": "Sandbox Post", "number": "SB1", "url": "https://t/1"},
            }
        },
    )["data"]["fulfillmentCreate"]["fulfillment"]["id"]
    updated = shop.graphql(
        "mutation U($id: ID!, $t: FulfillmentTrackingInput!) { fulfillmentTrackingInfoUpdate("
        "fulfillmentId: $id, trackingInfoInput: $t) { fulfillment { id } userErrors { message } } }",
        {
            "id": first,
            "t": {
                "company": "Sandbox Post",
                "numbers": ["SB1", "SB2"],
                "urls": ["https://t/1", "https://t/2"],
            },
        },
    )["data"]["fulfillmentTrackingInfoUpdate"]
    assert updated["userErrors"] == []
    assert [t["number"] for t in shop.fulfillments[first]["trackingInfo"]] == ["SB1", "SB2"]


def listed_through_the_source(store: SimulatedShopify, cursor: str | None) -> tuple[list, str]:
    """Every page the real Shopify source lists from `cursor` until it stops moving."""
    account = ChannelAccount("shopify", "chn_1", SHOP, {"access_token": store.access_token})
    source, ids = ShopifyOrderSource(account), []
    with responses.RequestsMock() as mock:
        mock.add_callback(
            responses.POST,
            GRAPHQL,
            callback=lambda request: (
                200,
                {},
                json.dumps(store.graphql(**json.loads(request.body))),
            ),
        )
        while True:
            page = source.orders_since(cursor, limit=6)
            ids += [o.source_order_id for o in page.orders]
            if page.cursor == cursor:
                return ids, cursor or ""
            cursor = page.cursor


def test_orders_sharing_seconds_are_listed_once_across_pages_and_listings():
    """5 orders in one second, 50 in the next (more than a page and than a cursor's ids),
    4 in a third; then another in that last second: each listed exactly once."""
    store = SimulatedShopify(SHOP, "app", SECRET, bucket=LeakyBucket(maximum=1e6, available=1e6))
    seconds = ["2026-11-01T10:00:00+00:00"] * 5 + ["2026-11-01T10:00:01+00:00"] * 50
    seconds += ["2026-11-01T10:00:02+00:00"] * 4
    for at in seconds:
        store.place(rest_order(), paid=False)["updated_at"] = at
    store._sorted = None

    first, cursor = listed_through_the_source(store, None)
    late = store.place(rest_order(), paid=False)
    late["updated_at"] = "2026-11-01T10:00:02+00:00"
    store._sorted = None
    second, _ = listed_through_the_source(store, cursor)

    assert sorted(first) == sorted(str(n) for n in store.orders if n != late["id"])
    assert len(first) == len(set(first)) == 59
    assert second == [str(late["id"])]


def test_the_actual_cost_counts_what_was_returned():
    """A page of 2 orders of one line, asked with first: 6 and lineItems(first: 10)."""
    store = SimulatedShopify(SHOP, "app", SECRET)
    for _ in range(2):
        store.place(rest_order(), paid=False)
    answer = store.graphql(ORDERS, {"first": 6})
    # requested: 2 + 6 x (edges 1 + lineItems (2 + 10 x nodes 1)) = 80
    # actual: 2 + 2 x (edges 1 + lineItems (2 + 1 x nodes 1)) = 10
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 80
    assert answer["extensions"]["cost"]["actualQueryCost"] == 10


def test_a_restarted_store_numbers_its_orders_after_the_ones_the_brand_holds(shop):
    """The demo's store lives in memory; after a restart it goes on from the orders the
    brand already imported (their ids and names), where it numbered them again."""
    first = shop.place(rest_order())
    shop.resume(last_id=450789500, last_name=1040)
    after = shop.place(rest_order())
    shop.resume(last_id=1, last_name=1)  # never backwards
    last = shop.place(rest_order())
    assert [(o["id"], o["name"]) for o in (first, after, last)] == [
        (450789469, "#1001"),
        (450789501, "#1041"),
        (450789502, "#1042"),
    ]

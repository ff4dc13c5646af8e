"""The GraphQL Admin API calls of the Shopify source, through `responses`: listing orders to
the last page, throttling, errors, webhook subscriptions and every write-back, each request
asserted on its JSON body."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
import responses

from channels.base import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelResponseError,
    Fulfilment,
    FulfilmentEvent,
    Refund,
    UnreadableOrder,
)
from channels.shopify import queries
from shipflow.domain import Status
from tests.channels.shopify_fixtures import GRAPHQL, TOKEN, fixture, source

ORDER_GID = "gid://shopify/Order/820982911946154508"
FULFILLMENT_GID = "gid://shopify/Fulfillment/255858046"


def answer(data, cost=10):
    return {
        "data": data,
        "extensions": {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": cost,
                "throttleStatus": {
                    "maximumAvailable": 2000.0,
                    "currentlyAvailable": 1990,
                    "restoreRate": 100.0,
                },
            }
        },
    }


def refused(mutation, result, field, message):
    """A mutation Shopify refused: no result, one user error."""
    return answer({mutation: {result: None, "userErrors": [{"field": field, "message": message}]}})


def sent(index=0):
    """The JSON body of the index-th request."""
    call = responses.calls[index]
    assert call.request.headers["X-Shopify-Access-Token"] == TOKEN
    return json.loads(call.request.body)


@responses.activate
def test_orders_are_listed_to_the_last_page_and_the_cursor_continues():
    responses.post(GRAPHQL, json=fixture("orders_page_1"))
    responses.post(GRAPHQL, json=fixture("orders_page_2"))
    responses.post(
        GRAPHQL,
        json=answer(
            {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}}
        ),
    )
    shop = source()

    first = shop.orders_since(None, limit=2)
    second = shop.orders_since(first.cursor, limit=2)
    third = shop.orders_since(second.cursor, limit=2)

    assert [o.source_order_id for o in first.orders] == ["5301234567001", "5301234567002"]
    assert first.cursor == (
        "1970-01-01T00:00:00Z|eyJsYXN0X2lkIjo1MzAxMjM0NTY3MDAyfQ==||2|2025-11-03T09:20:11Z"
    )
    assert [o.source_order_id for o in second.orders] == ["5301234567003"]
    # last page: start again from the newest change, with the order read in that second
    assert second.cursor == "2025-11-03T10:02:59Z||5301234567003|0|"
    assert (third.orders, third.cursor) == ([], "2025-11-03T10:02:59Z||5301234567003|0|")
    assert [sent(i)["variables"] for i in range(3)] == [
        {"first": 2, "after": None, "query": "updated_at:>='1970-01-01T00:00:00Z'"},
        {
            "first": 2,
            "after": "eyJsYXN0X2lkIjo1MzAxMjM0NTY3MDAyfQ==",
            "query": "updated_at:>='1970-01-01T00:00:00Z'",
        },
        {"first": 2, "after": None, "query": "updated_at:>='2025-11-03T10:02:59Z'"},
    ]
    assert sent(0)["query"] == queries.ORDERS
    assert shop.client.throttle_status == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 1990,
        "restoreRate": 100.0,
    }


@responses.activate
def test_orders_sharing_the_cursors_second_are_listed_once_and_a_later_one_is_not_missed():
    """The search is by the second: the order read at 10:02:59 comes again and is dropped;
    another changed in that same second after the listing is listed."""
    again = fixture("orders_page_2")
    read = again["data"]["orders"]["nodes"][0]
    later = {**read, "id": "gid://shopify/Order/5301234567004", "name": "#1004"}
    again["data"]["orders"]["nodes"] = [read, later]
    responses.post(GRAPHQL, json=again)
    cursor = "2025-11-03T10:02:59Z||5301234567003|0|"

    page = source().orders_since(cursor, limit=2)

    assert [o.source_order_id for o in page.orders] == ["5301234567004"]
    assert page.cursor == "2025-11-03T10:02:59Z||5301234567003,5301234567004|0|"
    assert sent(0)["variables"]["query"] == "updated_at:>='2025-11-03T10:02:59Z'"


@responses.activate
def test_a_listed_order_without_its_id_is_set_apart_and_the_others_listed():
    page = fixture("orders_page_2")
    read = page["data"]["orders"]["nodes"][0]
    page["data"]["orders"]["nodes"] = [{**read, "id": None}, read]
    responses.post(GRAPHQL, json=page)

    listed = source().orders_since("1970-01-01T00:00:00Z|eyJsYXN0X2lkIjo1MzAxMjM0NTY3MDAyfQ==")

    assert [o.source_order_id for o in listed.orders] == ["5301234567003"]
    assert listed.unreadable == [
        UnreadableOrder("", "ValueError(\"not a Shopify order: no 'id'\")")
    ]


@responses.activate
def test_a_cursor_of_the_earlier_form_goes_on_from_its_page():
    responses.post(GRAPHQL, json=fixture("orders_page_2"))
    page = source().orders_since("1970-01-01T00:00:00Z|eyJsYXN0X2lkIjo1MzAxMjM0NTY3MDAyfQ==")
    assert [o.source_order_id for o in page.orders] == ["5301234567003"]
    assert sent(0)["variables"]["after"] == "eyJsYXN0X2lkIjo1MzAxMjM0NTY3MDAyfQ=="


@responses.activate
def test_the_throttled_error_says_how_long_to_wait():
    """752 requested, 252 available, 100 restored a second: 5 seconds."""
    responses.post(GRAPHQL, json=fixture("throttled"))
    with pytest.raises(ChannelRateLimited) as caught:
        source().orders_since(None)
    assert caught.value.retry_after == 5.0 and caught.value.retryable


@responses.activate
def test_http_429_honours_retry_after():
    responses.post(
        GRAPHQL,
        status=429,
        headers={"Retry-After": "2.0"},
        json={
            "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
        },
    )
    with pytest.raises(ChannelRateLimited) as caught:
        source().orders_since(None)
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize(
    "reply, error, retryable",
    [
        (
            dict(
                status=401,
                json={
                    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
                },
            ),
            ChannelAuthError,
            False,
        ),
        (
            dict(
                status=403,
                json={
                    "errors": "[API] This action requires merchant approval for read_orders scope."
                },
            ),
            ChannelAuthError,
            False,
        ),
        (dict(status=503, body="Service Unavailable"), ChannelError, True),
        (dict(body=requests.ConnectTimeout("timed out")), ChannelError, True),
        (dict(status=200, body="<html>maintenance</html>"), ChannelResponseError, False),
        (
            dict(
                status=200,
                json={
                    "errors": [
                        {
                            "message": "Field 'nope' doesn't exist on type 'Order'",
                            "locations": [{"line": 3, "column": 5}],
                        }
                    ]
                },
            ),
            ChannelResponseError,
            False,
        ),
    ],
    ids=["401", "403", "503", "timeout", "not JSON", "query error"],
)
@responses.activate
def test_errors(reply, error, retryable):
    responses.post(GRAPHQL, **reply)
    with pytest.raises(error) as caught:
        source().orders_since(None)
    assert type(caught.value) is error and caught.value.retryable is retryable


def test_no_access_token_is_an_auth_error_before_any_call():
    shop = source()
    shop.client.access_token = ""
    with pytest.raises(ChannelAuthError, match="install the app"):
        shop.orders_since(None)


@responses.activate
def test_subscriptions_are_created_for_the_missing_topics_only():
    address = "https://ship.example/webhooks/channels/shopify/chn_1"
    responses.post(
        GRAPHQL,
        json=answer(
            {
                "webhookSubscriptions": {
                    "nodes": [
                        {
                            "id": "gid://shopify/WebhookSubscription/1",
                            "topic": "ORDERS_CREATE",
                            "uri": address,
                        },
                        {
                            "id": "gid://shopify/WebhookSubscription/2",
                            "topic": "ORDERS_PAID",
                            "uri": "https://old.example/hook",
                        },
                    ]
                }
            }
        ),
    )
    for n, topic in enumerate(
        ["ORDERS_PAID", "ORDERS_UPDATED", "ORDERS_CANCELLED", "APP_UNINSTALLED"], 10
    ):
        responses.post(
            GRAPHQL,
            json=answer(
                {
                    "webhookSubscriptionCreate": {
                        "webhookSubscription": {
                            "id": f"gid://shopify/WebhookSubscription/{n}",
                            "topic": topic,
                            "uri": address,
                        },
                        "userErrors": [],
                    }
                }
            ),
        )

    ids = source().subscribe_webhooks(address)

    assert ids == [f"gid://shopify/WebhookSubscription/{n}" for n in (1, 10, 11, 12, 13)]
    assert sent(0)["variables"] == {
        "topics": [
            "ORDERS_CREATE",
            "ORDERS_PAID",
            "ORDERS_UPDATED",
            "ORDERS_CANCELLED",
            "APP_UNINSTALLED",
        ]
    }
    assert [sent(i)["variables"] for i in range(1, 5)] == [
        {"topic": topic, "webhookSubscription": {"uri": address, "format": "JSON"}}
        for topic in ["ORDERS_PAID", "ORDERS_UPDATED", "ORDERS_CANCELLED", "APP_UNINSTALLED"]
    ]
    assert sent(1)["query"] == queries.WEBHOOK_SUBSCRIPTION_CREATE


FULFILMENT = Fulfilment(
    source_order_id="820982911946154508",
    carrier="ups",
    service="ground",
    tracking_number="1Z001985X0291929",
    idempotency_key="shipment.shipped:shp_1",
    tracking_url="https://ship.example/t/acme/1Z001985X0291929",
    carrier_name="UPS",
)


def order_fulfilment(fulfillments=(), statuses=("OPEN", "CLOSED", "IN_PROGRESS")):
    return answer(
        {
            "order": {
                "fulfillments": list(fulfillments),
                "fulfillmentOrders": {
                    "nodes": [
                        {"id": f"gid://shopify/FulfillmentOrder/{1046000780 + i}", "status": s}
                        for i, s in enumerate(statuses)
                    ]
                },
            }
        }
    )


@responses.activate
def test_fulfilment_fulfils_the_open_fulfillment_orders_with_tracking():
    responses.post(GRAPHQL, json=order_fulfilment())
    responses.post(
        GRAPHQL,
        json=answer(
            {
                "fulfillmentCreate": {
                    "fulfillment": {"id": FULFILLMENT_GID, "status": "SUCCESS"},
                    "userErrors": [],
                }
            }
        ),
    )

    assert source().write_fulfilment(FULFILMENT) == FULFILLMENT_GID
    assert sent(0)["variables"] == {"id": ORDER_GID}
    assert sent(1) == {
        "query": queries.FULFILLMENT_CREATE,
        "variables": {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1046000780"},
                    {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1046000782"},
                ],
                "trackingInfo": {
                    "company": "UPS",
                    "number": "1Z001985X0291929",
                    "url": "https://ship.example/t/acme/1Z001985X0291929",
                },
                "notifyCustomer": True,
            }
        },
    }


@responses.activate
def test_a_repeated_fulfilment_returns_the_one_already_made():
    responses.post(
        GRAPHQL,
        json=order_fulfilment(
            [{"id": FULFILLMENT_GID, "trackingInfo": [{"number": "1Z001985X0291929"}]}], ("CLOSED",)
        ),
    )
    assert source().write_fulfilment(FULFILMENT) == FULFILLMENT_GID
    assert len(responses.calls) == 1


@responses.activate
def test_a_later_parcel_of_a_fulfilled_order_joins_its_fulfillments_tracking():
    first = {
        "id": FULFILLMENT_GID,
        "trackingInfo": [
            {"company": "UPS", "number": "1ZFIRST", "url": "https://ship.example/t/1"}
        ],
    }
    responses.post(GRAPHQL, json=order_fulfilment([first], ("CLOSED",)))
    responses.post(
        GRAPHQL,
        json=answer(
            {
                "fulfillmentTrackingInfoUpdate": {
                    "fulfillment": {"id": FULFILLMENT_GID},
                    "userErrors": [],
                }
            }
        ),
    )
    assert source().write_fulfilment(FULFILMENT) == FULFILLMENT_GID
    assert sent(1) == {
        "query": queries.FULFILLMENT_TRACKING_UPDATE,
        "variables": {
            "fulfillmentId": FULFILLMENT_GID,
            "trackingInfoInput": {
                "company": "UPS",
                "numbers": ["1ZFIRST", "1Z001985X0291929"],
                "urls": [
                    "https://ship.example/t/1",
                    "https://ship.example/t/acme/1Z001985X0291929",
                ],
            },
        },
    }


@responses.activate
def test_no_open_fulfillment_order_is_a_response_error():
    responses.post(GRAPHQL, json=order_fulfilment(statuses=("CLOSED", "CANCELLED")))
    with pytest.raises(ChannelResponseError, match="no open fulfillment order"):
        source().write_fulfilment(FULFILMENT)


def event(**changes):
    fields = dict(
        source_order_id="820982911946154508",
        tracking_number="1Z001985X0291929",
        status=Status.OUT_FOR_DELIVERY,
        occurred_at=datetime(2025, 11, 5, 7, 42, tzinfo=UTC),
        idempotency_key="shipment.out_for_delivery:shp_1",
        fulfilment_ref=FULFILLMENT_GID,
        estimated_delivery=datetime(2025, 11, 5, 18, 0, tzinfo=UTC),
        city="Louisville",
        country="US",
        message="On vehicle for delivery",
    )
    return FulfilmentEvent(**{**fields, **changes})


def events_so_far(*nodes):
    return answer({"fulfillment": {"events": {"nodes": list(nodes)}}})


@responses.activate
def test_a_milestone_becomes_a_fulfillment_event():
    responses.post(GRAPHQL, json=events_so_far())
    responses.post(
        GRAPHQL,
        json=answer(
            {
                "fulfillmentEventCreate": {
                    "fulfillmentEvent": {
                        "id": "gid://shopify/FulfillmentEvent/944956395",
                        "status": "OUT_FOR_DELIVERY",
                    },
                    "userErrors": [],
                }
            }
        ),
    )

    source().write_tracking_event(event())

    assert sent(0)["variables"] == {"id": FULFILLMENT_GID}
    assert sent(1) == {
        "query": queries.FULFILLMENT_EVENT_CREATE,
        "variables": {
            "fulfillmentEvent": {
                "fulfillmentId": FULFILLMENT_GID,
                "status": "OUT_FOR_DELIVERY",
                "happenedAt": "2025-11-05T07:42:00+00:00",
                "estimatedDeliveryAt": "2025-11-05T18:00:00+00:00",
                "city": "Louisville",
                "country": "US",
                "message": "On vehicle for delivery",
            }
        },
    }


@responses.activate
def test_a_late_parcel_in_transit_is_delayed_and_found_by_its_tracking_number():
    responses.post(
        GRAPHQL,
        json=order_fulfilment(
            [{"id": FULFILLMENT_GID, "trackingInfo": [{"number": "1Z001985X0291929"}]}]
        ),
    )
    responses.post(GRAPHQL, json=events_so_far())
    responses.post(
        GRAPHQL,
        json=answer(
            {
                "fulfillmentEventCreate": {
                    "fulfillmentEvent": {
                        "id": "gid://shopify/FulfillmentEvent/1",
                        "status": "DELAYED",
                    },
                    "userErrors": [],
                }
            }
        ),
    )

    source().write_tracking_event(
        event(
            status=Status.IN_TRANSIT,
            delayed=True,
            fulfilment_ref="",
            estimated_delivery=None,
            city="",
            country="",
            message="",
        )
    )

    assert sent(2)["variables"] == {
        "fulfillmentEvent": {
            "fulfillmentId": FULFILLMENT_GID,
            "status": "DELAYED",
            "happenedAt": "2025-11-05T07:42:00+00:00",
        }
    }


@responses.activate
def test_an_event_already_on_the_timeline_is_not_written_again():
    responses.post(
        GRAPHQL,
        json=events_so_far({"status": "OUT_FOR_DELIVERY", "happenedAt": "2025-11-05T07:42:00Z"}),
    )
    source().write_tracking_event(event())
    assert len(responses.calls) == 1


@responses.activate
def test_statuses_shopify_has_no_event_for_are_not_written():
    source().write_tracking_event(event(status=Status.EXPIRED))
    assert len(responses.calls) == 0


REFUND = Refund(
    source_order_id="820982911946154508",
    amount=8999,
    currency="USD",
    idempotency_key="return.received:ret_9",
    lines=(("487817672276298554", 1),),
    note="Return RMA-9 received",
)


def suggested(refunds=(), amounts=("50.00", "89.99")):
    return answer(
        {
            "order": {
                "refunds": list(refunds),
                "suggestedRefund": {
                    "suggestedTransactions": [
                        {
                            "gateway": "shopify_payments",
                            "parentTransaction": {
                                "id": f"gid://shopify/OrderTransaction/{389404469 + i}"
                            },
                            "amountSet": {"shopMoney": {"amount": amount, "currencyCode": "USD"}},
                        }
                        for i, amount in enumerate(amounts)
                    ]
                },
            }
        }
    )


@responses.activate
def test_refund_takes_shopifys_suggested_transactions():
    responses.post(GRAPHQL, json=suggested())
    responses.post(
        GRAPHQL,
        json=answer(
            {"refundCreate": {"refund": {"id": "gid://shopify/Refund/929361465"}, "userErrors": []}}
        ),
    )

    assert source().write_refund(REFUND) == "gid://shopify/Refund/929361465"
    line_items = [
        {
            "lineItemId": "gid://shopify/LineItem/487817672276298554",
            "quantity": 1,
            "restockType": "NO_RESTOCK",
        }
    ]
    assert sent(0)["variables"] == {"id": ORDER_GID, "refundLineItems": line_items}
    assert sent(1) == {
        "query": queries.REFUND_CREATE,
        "variables": {
            "input": {
                "orderId": ORDER_GID,
                "note": "Return RMA-9 received [shipflow return.received:ret_9]",
                "notify": True,
                "refundLineItems": line_items,
                "transactions": [
                    {
                        "orderId": ORDER_GID,
                        "parentId": "gid://shopify/OrderTransaction/389404469",
                        "gateway": "shopify_payments",
                        "kind": "REFUND",
                        "amount": "50.00",
                    },
                    {
                        "orderId": ORDER_GID,
                        "parentId": "gid://shopify/OrderTransaction/389404470",
                        "gateway": "shopify_payments",
                        "kind": "REFUND",
                        "amount": "39.99",
                    },
                ],
            }
        },
    }


@responses.activate
def test_a_repeated_refund_finds_the_first():
    responses.post(
        GRAPHQL,
        json=suggested(
            [
                {
                    "id": "gid://shopify/Refund/1",
                    "note": "Return RMA-9 received [shipflow return.received:ret_9]",
                }
            ]
        ),
    )
    assert source().write_refund(REFUND) == "gid://shopify/Refund/1"
    assert len(responses.calls) == 1


@responses.activate
def test_a_refund_larger_than_the_payments_is_refused_before_any_mutation():
    responses.post(GRAPHQL, json=suggested(amounts=("20.00",)))
    with pytest.raises(ChannelResponseError, match="cover 2000 of 8999"):
        source().write_refund(REFUND)
    assert len(responses.calls) == 1


# -- what Shopify refuses: its userErrors are a response error, not retried ---------------


@responses.activate
@pytest.mark.parametrize(
    ("found", "refusal", "message", "call"),
    [
        pytest.param(
            answer({"webhookSubscriptions": {"nodes": []}}),
            refused(
                "webhookSubscriptionCreate",
                "webhookSubscription",
                ["webhookSubscription", "callbackUrl"],
                "Address is invalid",
            ),
            "webhookSubscription.callbackUrl: Address is invalid",
            lambda s: s.subscribe_webhooks("http://localhost/hook"),
            id="subscription",
        ),
        pytest.param(
            order_fulfilment(),
            refused(
                "fulfillmentCreate",
                "fulfillment",
                ["fulfillment"],
                "Fulfillment order 1046000780 has an unfulfillable status= closed.",
            ),
            "unfulfillable status",
            lambda s: s.write_fulfilment(FULFILMENT),
            id="fulfilment",
        ),
        pytest.param(
            events_so_far(),
            refused(
                "fulfillmentEventCreate",
                "fulfillmentEvent",
                ["fulfillmentEvent", "fulfillmentId"],
                "Fulfillment does not exist.",
            ),
            "fulfillmentId: Fulfillment does not exist.",
            lambda s: s.write_tracking_event(event()),
            id="event",
        ),
        pytest.param(
            suggested(),
            refused(
                "refundCreate",
                "refund",
                ["input", "transactions"],
                "Amount cannot exceed the refundable amount.",
            ),
            "Amount cannot exceed",
            lambda s: s.write_refund(REFUND),
            id="refund",
        ),
    ],
)
def test_user_errors_are_response_errors_not_retried(found, refusal, message, call):
    responses.post(GRAPHQL, json=found)
    responses.post(GRAPHQL, json=refusal)
    with pytest.raises(ChannelResponseError, match=message) as caught:
        call(source())
    assert not caught.value.retryable

"""WooCommerce REST API v3 calls: listing orders, webhook subscriptions, write-back and
errors, with the requests' bodies asserted (HTTP mocked with `responses`)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

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
from channels.woocommerce import WooCommerceOrderSource
from channels.woocommerce.mapping import tracking_item
from shipflow.domain import Status
from tests.channels.woo_helpers import ACCOUNT, API, SECRET, fixture, source

BASIC = "Basic Y2tfMTpjc18x"  # ck_1:cs_1


def order(order_id: int, modified: str) -> dict:
    raw = fixture("order.json")
    raw.update(id=order_id, number=str(order_id), date_modified_gmt=modified)
    return raw


def page(orders: list, total_pages: int, *, params: dict) -> None:
    responses.get(
        f"{API}/orders",
        json=orders,
        headers={"X-WP-Total": str(len(orders) * total_pages), "X-WP-TotalPages": str(total_pages)},
        match=[matchers.query_param_matcher(params)],
    )


LIST = {"orderby": "modified", "order": "asc", "per_page": "100", "dates_are_gmt": "true"}


@responses.activate
def test_orders_since_reads_to_the_last_page_and_moves_past_ties() -> None:
    page(
        [order(1, "2024-05-01T10:00:00"), order(2, "2024-05-01T10:00:05")],
        3,
        params=LIST,
    )
    page(
        [order(3, "2024-05-01T10:00:05"), order(4, "2024-05-01T10:00:07")],
        2,
        params={**LIST, "modified_after": "2024-05-01T10:00:04", "exclude": "2"},
    )
    page(
        [order(5, "2024-05-01T10:00:07")],
        1,
        params={**LIST, "modified_after": "2024-05-01T10:00:06", "exclude": "4"},
    )
    result = source().orders_since(None, limit=500)
    assert [o.source_order_id for o in result.orders] == ["1", "2", "3", "4", "5"]
    assert result.cursor == "2024-05-01T10:00:07+00:00|4,5"
    assert responses.calls[0].request.headers["Authorization"] == BASIC


@responses.activate
def test_orders_since_a_cursor_skips_what_it_read() -> None:
    page(
        [order(4, "2024-05-01T10:00:07"), order(6, "2024-05-01T10:00:09")],
        1,
        params={**LIST, "modified_after": "2024-05-01T10:00:06", "exclude": "4,5"},
    )
    result = source().orders_since("2024-05-01T10:00:07+00:00|4,5", limit=50)
    assert [o.source_order_id for o in result.orders] == ["6"]
    assert result.cursor == "2024-05-01T10:00:09+00:00|6"


@responses.activate
def test_a_listed_order_without_its_id_is_set_apart_and_the_others_listed() -> None:
    broken = order(5, "2024-05-01T10:00:08")
    del broken["id"]
    page(
        [order(4, "2024-05-01T10:00:07"), broken, order(6, "2024-05-01T10:00:09")],
        1,
        params={**LIST, "modified_after": "2024-05-01T10:00:06"},
    )
    result = source().orders_since("2024-05-01T10:00:07+00:00|", limit=50)
    assert [o.source_order_id for o in result.orders] == ["4", "6"]
    assert result.unreadable == [
        UnreadableOrder("", "ValueError(\"not a WooCommerce order: no 'id'\")")
    ]
    assert result.cursor == "2024-05-01T10:00:09+00:00|6"


@responses.activate
def test_orders_since_stops_at_the_limit() -> None:
    page([order(1, "2024-05-01T10:00:00")], 9, params=LIST)
    result = source().orders_since(None, limit=1)
    assert [o.source_order_id for o in result.orders] == ["1"]
    assert len(responses.calls) == 1


@responses.activate
def test_no_orders_keeps_the_cursor() -> None:
    page([], 0, params={**LIST, "modified_after": "2024-05-01T10:00:06", "exclude": "4"})
    assert source().orders_since("2024-05-01T10:00:07+00:00|4").cursor == (
        "2024-05-01T10:00:07+00:00|4"
    )


@responses.activate
def test_429_is_rate_limited_with_retry_after() -> None:
    responses.get(
        f"{API}/orders",
        status=429,
        json={"code": "too_many_requests", "message": "Too many requests", "data": {}},
        headers={"Retry-After": "17"},
    )
    with pytest.raises(ChannelRateLimited) as caught:
        source().orders_since(None)
    assert (caught.value.retry_after, caught.value.retryable) == (17.0, True)
    assert len(responses.calls) == 1  # not retried inside: the job waits


@responses.activate
def test_401_is_an_auth_error() -> None:
    responses.get(
        f"{API}/orders",
        status=401,
        json={
            "code": "woocommerce_rest_cannot_view",
            "message": "Sorry, you cannot list resources.",
            "data": {"status": 401},
        },
    )
    with pytest.raises(ChannelAuthError, match="Sorry, you cannot list resources"):
        source().orders_since(None)


@responses.activate
def test_a_4xx_carries_woocommerces_message() -> None:
    responses.get(f"{API}/orders/727", status=404, json=fixture("error.json"))
    with pytest.raises(ChannelResponseError) as caught:
        source().client.order("727")
    assert str(caught.value) == (
        "woocommerce HTTP 404: Resource doesn't exist. (woocommerce_rest_term_invalid)"
    )
    assert caught.value.retryable is False


@responses.activate
def test_5xx_is_retried_then_retryable(monkeypatch) -> None:
    monkeypatch.setattr("urllib3.util.retry.Retry.sleep", lambda *a, **k: None)
    responses.get(f"{API}/orders/727", status=503, body="busy")
    with pytest.raises(ChannelError) as caught:
        source().client.order("727")
    assert caught.value.retryable is True
    assert len(responses.calls) == 4  # the first try and 3 retries


@responses.activate
def test_a_timeout_is_retryable() -> None:
    responses.get(f"{API}/orders/727", body=requests.ConnectTimeout("slow"))
    with pytest.raises(ChannelError) as caught:
        source().client.order("727")
    assert caught.value.retryable is True


@responses.activate
def test_malformed_json_is_a_response_error() -> None:
    responses.get(f"{API}/orders/727", body="<html>maintenance</html>")
    with pytest.raises(ChannelResponseError, match="malformed JSON"):
        source().client.order("727")


# --- webhook subscriptions ------------------------------------------------------------


@responses.activate
def test_subscribe_creates_each_topic_once_and_keeps_existing() -> None:
    address = "https://shipflow.example/webhooks/channels/woocommerce/7"
    existing = fixture("webhooks.json")
    existing[1]["delivery_url"] = address  # order.updated is already ours
    responses.get(f"{API}/webhooks", json=existing)
    for hook_id, topic in ((201, "order.created"), (202, "order.deleted")):
        responses.post(
            f"{API}/webhooks",
            json={**fixture("webhook.json"), "id": hook_id, "topic": topic},
            match=[
                matchers.json_params_matcher(
                    {
                        "name": f"shipflow {topic}",
                        "topic": topic,
                        "delivery_url": address,
                        "secret": SECRET,
                    }
                )
            ],
        )
    assert source().subscribe_webhooks(address) == ["201", "142", "202"]


@responses.activate
def test_subscribe_without_our_webhook_secret_makes_no_webhook() -> None:
    """POST /webhooks without `secret` has WooCommerce make one up: deliveries signed with
    a secret we do not know would all be refused. Nothing is asked of the store."""
    account = dataclasses.replace(ACCOUNT, credentials={"consumer_key": "ck_1"})
    with pytest.raises(ChannelError, match=r"credentials\.webhook_secret"):
        WooCommerceOrderSource(account).subscribe_webhooks("https://shipflow.example/hook")
    assert len(responses.calls) == 0


@responses.activate
def test_subscribe_reactivates_a_webhook_woocommerce_disabled() -> None:
    address = "https://shipflow.example/hook"
    hooks = [
        {**fixture("webhook.json"), "id": n, "topic": t, "delivery_url": address}
        for n, t in ((1, "order.created"), (2, "order.updated"), (3, "order.deleted"))
    ]
    hooks[2]["status"] = "disabled"
    responses.get(f"{API}/webhooks", json=hooks)
    responses.put(
        f"{API}/webhooks/3",
        json={**hooks[2], "status": "active"},
        match=[matchers.json_params_matcher({"status": "active"})],
    )
    assert source().subscribe_webhooks(address) == ["1", "2", "3"]


# --- write-back ------------------------------------------------------------------------

FULFILMENT = Fulfilment(
    source_order_id="727",
    carrier="sandbox",
    service="ground",
    tracking_number="SB123456789",
    idempotency_key="shipment-41-shipped",
    tracking_url="https://track.example/t/abc",
    carrier_name="Black Cat",
)
NOTE = (
    "Your order has shipped with Black Cat, tracking number SB123456789. "
    "Track it: https://track.example/t/abc"
)


@responses.activate
def test_write_fulfilment_completes_the_order_with_tracking_meta_and_a_customer_note(
    monkeypatch,
) -> None:
    monkeypatch.setattr(
        "channels.woocommerce.source.datetime",
        type("Clock", (), {"now": staticmethod(lambda tz: datetime(2024, 5, 2, 8, tzinfo=UTC))}),
    )
    responses.get(f"{API}/orders/727", json=fixture("order.json"))
    put = responses.put(f"{API}/orders/727", json=fixture("order.json"))
    responses.get(f"{API}/orders/727/notes", json=fixture("notes.json"))
    note = responses.post(f"{API}/orders/727/notes", json=fixture("note.json"))

    ref = source().write_fulfilment(FULFILMENT)

    item = {
        "tracking_provider": "",
        "custom_tracking_provider": "Black Cat",
        "custom_tracking_link": "https://track.example/t/abc",
        "tracking_number": "SB123456789",
        "date_shipped": "1714636800",
        "tracking_id": ref,
    }
    assert json.loads(put.calls[0].request.body) == {
        "status": "completed",
        "meta_data": [{"key": "_wc_shipment_tracking_items", "value": [item]}],
    }
    assert json.loads(note.calls[0].request.body) == {"note": NOTE, "customer_note": True}
    assert len(ref) == 32


@responses.activate
def test_write_fulfilment_repeated_writes_nothing_twice() -> None:
    done = fixture("order.json")
    item = tracking_item(FULFILMENT, datetime(2024, 5, 2, 8, tzinfo=UTC))
    done["meta_data"].append({"id": 9, "key": "_wc_shipment_tracking_items", "value": [item]})
    notes = [{**fixture("note.json"), "note": NOTE, "customer_note": True}]
    responses.get(f"{API}/orders/727", json=done)
    responses.get(f"{API}/orders/727/notes", json=notes)
    assert source().write_fulfilment(FULFILMENT) == item["tracking_id"]
    assert [c.request.method for c in responses.calls] == ["GET", "GET"]


@responses.activate
def test_write_fulfilment_keeps_other_tracking_items() -> None:
    other = {"tracking_provider": "ups", "tracking_number": "1Z999", "date_shipped": "1"}
    raw = fixture("order.json")
    raw["meta_data"].append({"id": 9, "key": "_wc_shipment_tracking_items", "value": [other]})
    responses.get(f"{API}/orders/727", json=raw)
    put = responses.put(f"{API}/orders/727", json=raw)
    responses.get(f"{API}/orders/727/notes", json=[])
    responses.post(f"{API}/orders/727/notes", json=fixture("note.json"))
    source().write_fulfilment(FULFILMENT)
    items = json.loads(put.calls[0].request.body)["meta_data"][0]["value"]
    assert [i["tracking_number"] for i in items] == ["1Z999", "SB123456789"]


EVENT = FulfilmentEvent(
    source_order_id="727",
    tracking_number="SB123456789",
    status=Status.OUT_FOR_DELIVERY,
    occurred_at=datetime(2024, 5, 3, 1, 15, tzinfo=UTC),
    idempotency_key="event-9",
    city="Taipei",
    country="TW",
    estimated_delivery=datetime(2024, 5, 3, 10, tzinfo=UTC),
)


@responses.activate
def test_write_tracking_event_adds_a_private_note() -> None:
    responses.get(f"{API}/orders/727/notes", json=fixture("notes.json"))
    note = responses.post(f"{API}/orders/727/notes", json=fixture("note.json"))
    source().write_tracking_event(EVENT)
    assert json.loads(note.calls[0].request.body) == {
        "note": (
            "Parcel SB123456789: out for delivery at Taipei, TW, 2024-05-03 01:15 UTC. "
            "Estimated delivery 2024-05-03."
        ),
        "customer_note": False,
    }


@responses.activate
def test_write_tracking_event_repeated_adds_no_second_note() -> None:
    text = (
        "Parcel SB123456789: out for delivery at Taipei, TW, 2024-05-03 01:15 UTC. "
        "Estimated delivery 2024-05-03."
    )
    responses.get(f"{API}/orders/727/notes", json=[{**fixture("note.json"), "note": text}])
    source().write_tracking_event(EVENT)
    assert len(responses.calls) == 1


REFUND = Refund(
    source_order_id="727",
    amount=1835,
    currency="USD",
    idempotency_key="return-5-refund",
    lines=(("315", 2), ("316", 1)),
    note="Return RMA-5 received",
)


@responses.activate
def test_write_refund_posts_the_documented_refund() -> None:
    responses.get(f"{API}/orders/727/refunds", json=fixture("refunds.json"))
    post = responses.post(f"{API}/orders/727/refunds", json=fixture("refund.json"))
    assert source().write_refund(REFUND) == "726"
    assert json.loads(post.calls[0].request.body) == {
        "amount": "18.35",
        "reason": "Return RMA-5 received",
        "api_refund": True,
        "line_items": [{"id": "315", "quantity": 2}, {"id": "316", "quantity": 1}],
        "meta_data": [{"key": "_shipflow_idempotency_key", "value": "return-5-refund"}],
    }


@responses.activate
def test_write_refund_repeated_finds_the_first() -> None:
    refunds = fixture("refunds.json")
    refunds[1]["meta_data"] = [
        {"id": 3, "key": "_shipflow_idempotency_key", "value": "return-5-refund"}
    ]
    responses.get(f"{API}/orders/727/refunds", json=refunds)
    assert source().write_refund(REFUND) == "724"
    assert len(responses.calls) == 1


@responses.activate
def test_a_twd_refund_is_written_in_major_units() -> None:
    responses.get(f"{API}/orders/727/refunds", json=[])
    post = responses.post(f"{API}/orders/727/refunds", json=fixture("refund.json"))
    source().write_refund(Refund("727", 129000, "TWD", "r-1"))
    body = json.loads(post.calls[0].request.body)
    assert (body["amount"], body["reason"], body["line_items"]) == (
        "1290.00",
        "Return received",
        [],
    )


@responses.activate
def test_a_refused_refund_says_why() -> None:
    responses.get(f"{API}/orders/727/refunds", json=[])
    responses.post(
        f"{API}/orders/727/refunds",
        status=500,
        json={
            "code": "woocommerce_rest_cannot_create_order_refund",
            "message": "The payment gateway for this order does not support automatic refunds.",
            "data": {"status": 500},
        },
    )
    with pytest.raises(ChannelError, match="does not support automatic refunds") as caught:
        source().write_refund(REFUND)
    assert len([c for c in responses.calls if c.request.method == "POST"]) == 1
    assert caught.value.retryable is True

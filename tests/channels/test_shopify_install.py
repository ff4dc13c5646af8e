"""Installing our Shopify app: the brand's install link, Shopify's signed requests, the
signed expiring state, the code exchange, the account connected and webhooks subscribed."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sqlalchemy import select

from channels.shopify.oauth import query_hmac, signed_by_shopify, valid_shop
from shipflow import shopify_install
from shipflow.store.db import unit_of_work
from shipflow.store.models import ChannelAccount
from tests.channels.conftest import CLIENT_ID, CLIENT_SECRET
from tests.channels.shopify_fixtures import GRAPHQL, SHOP

TOKEN_URL = f"https://{SHOP}/admin/oauth/access_token"
TOKEN = "shpat_offline-token"
TOPICS = ["ORDERS_CREATE", "ORDERS_PAID", "ORDERS_UPDATED", "ORDERS_CANCELLED", "APP_UNINSTALLED"]


def test_the_documented_hmac_example():
    """shopify.dev: authorization code grant, "Verify the installation request"."""
    params = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "hmac": "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
        "shop": "some-shop.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }
    assert query_hmac(params, "hush") == params["hmac"]
    assert signed_by_shopify(params, "hush")
    assert not signed_by_shopify({**params, "shop": "evil.myshopify.com"}, "hush")
    assert not signed_by_shopify(params, "")


@pytest.mark.parametrize(
    "shop, valid",
    [
        ("jsmith.myshopify.com", True),
        ("my-store-2.myshopify.com", True),
        ("jsmith.myshopify.com.evil.example", False),
        ("evil.example/jsmith.myshopify.com", False),
        ("-x.myshopify.com", False),
        ("myshopify.com", False),
        ("", False),
    ],
)
def test_shop_hostnames(shop, valid):
    assert valid_shop(shop) is valid


@pytest.fixture
def connected(monkeypatch):
    """What connect_account was given (its encryption is channel-core's to test)."""
    calls = []
    real = shopify_install.connect_account

    def spy(session, runtime, brand_id, **kwargs):
        calls.append({"brand_id": brand_id, **kwargs})
        return real(session, runtime, brand_id, **kwargs)

    monkeypatch.setattr(shopify_install, "connect_account", spy)
    return calls


def install_link(client, brand, shop=SHOP):
    return client.post(
        "/api/v1/channels/shopify/install-links", json={"shop": shop}, headers=brand["headers"]
    )


def signed(**params):
    return {**params, "hmac": query_hmac(params, CLIENT_SECRET)}


def callback_params(state, shop=SHOP, code="0907a61c0c8d55e99db179b68161bc00"):
    return signed(
        code=code,
        host="YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvanNtaXRo",
        shop=shop,
        state=state,
        timestamp="1762157561",
    )


def state_of(url):
    return parse_qs(urlsplit(url).query)["state"][0]


def mock_shopify():
    responses.post(TOKEN_URL, json={"access_token": TOKEN, "scope": "write_orders,read_orders"})
    responses.post(GRAPHQL, json={"data": {"webhookSubscriptions": {"nodes": []}}})
    for n, topic in enumerate(TOPICS):
        responses.post(
            GRAPHQL,
            json={
                "data": {
                    "webhookSubscriptionCreate": {
                        "webhookSubscription": {
                            "id": f"gid://shopify/WebhookSubscription/{n}",
                            "topic": topic,
                        },
                        "userErrors": [],
                    }
                }
            },
        )


def test_a_brand_gets_an_install_link_for_its_shop(client, brands, app_configured):
    response = install_link(client, brands["a"])
    assert response.status_code == 201
    url = urlsplit(response.json["url"])
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", SHOP, "/admin/oauth/authorize")
    assert {k: v for k, v in query.items() if k != "state"} == {
        "client_id": [CLIENT_ID],
        "scope": [
            "read_orders,write_orders,read_merchant_managed_fulfillment_orders,"
            "write_merchant_managed_fulfillment_orders,read_fulfillments,write_fulfillments,"
            "read_returns,write_returns"
        ],
        "redirect_uri": ["https://ship.example/shopify/callback"],
    }
    assert response.json["expires_in"] == 1800


@pytest.mark.parametrize("shop", ["acme.example", "acme.myshopify.com.evil.example"])
def test_an_install_link_only_for_a_myshopify_domain(client, brands, app_configured, shop):
    response = install_link(client, brands["a"], shop)
    assert response.status_code == 422
    assert "myshopify.com domain" in response.json["detail"]


def test_no_install_link_without_the_app_configured(client, brands):
    response = install_link(client, brands["a"])
    assert response.status_code == 404
    assert "shopify.client_id" in response.json["detail"]


def test_no_install_link_without_an_api_key(client, app_configured):
    assert (
        client.post("/api/v1/channels/shopify/install-links", json={"shop": SHOP}).status_code
        == 401
    )


@responses.activate
def test_the_callback_connects_the_shop_and_subscribes_its_webhooks(
    client, brands, app_configured, connected
):
    mock_shopify()
    state = state_of(install_link(client, brands["a"]).json["url"])

    response = client.get("/shopify/callback", query_string=callback_params(state))

    assert response.status_code == 302
    assert response.headers["Location"] == f"https://{SHOP}/admin/apps"
    with unit_of_work(app_configured.sessions) as session:
        account = session.scalars(select(ChannelAccount).where(ChannelAccount.shop == SHOP)).one()
        assert (account.brand_id, account.channel) == (brands["a"]["id"], "shopify")
    assert connected == [
        {
            "brand_id": brands["a"]["id"],
            "channel": "shopify",
            "shop": SHOP,
            "credentials": {
                "access_token": TOKEN,
                "scope": "write_orders,read_orders",
                "client_secret": CLIENT_SECRET,
            },
        }
    ]
    assert json.loads(responses.calls[0].request.body) == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": "0907a61c0c8d55e99db179b68161bc00",
    }
    address = f"https://ship.example/webhooks/channels/shopify/{account.id}"
    assert [json.loads(c.request.body)["variables"] for c in responses.calls[2:]] == [
        {"topic": topic, "webhookSubscription": {"uri": address, "format": "JSON"}}
        for topic in TOPICS
    ]


def refused(client, params, status, words):
    response = client.get("/shopify/callback", query_string=params)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert words in response.json["detail"]


@responses.activate
def test_a_callback_not_signed_by_shopify_is_refused(client, brands, app_configured):
    state = state_of(install_link(client, brands["a"]).json["url"])
    params = {**callback_params(state), "hmac": "0" * 64}
    refused(client, params, 401, "not signed by Shopify")
    assert len(responses.calls) == 0


@responses.activate
def test_an_expired_state_is_refused(client, brands, app_configured, clock):
    state = state_of(install_link(client, brands["a"]).json["url"])
    clock.advance(timedelta(minutes=31))
    refused(client, callback_params(state), 403, "expired")
    assert len(responses.calls) == 0


@responses.activate
def test_a_tampered_state_is_refused(client, brands, app_configured):
    state = state_of(install_link(client, brands["a"]).json["url"])
    # a full character of the signature changed (the last one carries only padding bits too)
    at = len(state) - 5
    tampered = state[:at] + ("B" if state[at] == "A" else "A") + state[at + 1 :]
    refused(client, callback_params(tampered), 403, "not ours or was altered")
    assert len(responses.calls) == 0


@responses.activate
def test_a_state_made_for_another_shop_is_refused(client, brands, app_configured):
    state = state_of(install_link(client, brands["a"], "other.myshopify.com").json["url"])
    refused(client, callback_params(state), 403, "made for other.myshopify.com")
    assert len(responses.calls) == 0


@responses.activate
def test_a_shop_another_brand_holds_is_refused(client, brands, app_configured):
    mock_shopify()
    state_a = state_of(install_link(client, brands["a"]).json["url"])
    assert client.get("/shopify/callback", query_string=callback_params(state_a)).status_code == 302
    mock_shopify()
    state_b = state_of(install_link(client, brands["b"]).json["url"])
    refused(client, callback_params(state_b), 409, "connected to another brand")


@responses.activate
def test_a_refused_code_exchange_stores_nothing(client, brands, app_configured):
    responses.post(
        TOKEN_URL,
        status=400,
        json={
            "error": "invalid_request",
            "error_description": "The authorization code was not found or was already used",
        },
    )
    state = state_of(install_link(client, brands["a"]).json["url"])
    refused(client, callback_params(state), 502, "did not complete the install")
    with unit_of_work(app_configured.sessions) as session:
        assert (
            session.scalars(select(ChannelAccount).where(ChannelAccount.shop == SHOP)).all() == []
        )


@responses.activate
def test_shopify_opening_the_app_for_a_connected_shop_reauthorizes_its_brand(
    client, brands, app_configured
):
    mock_shopify()
    state = state_of(install_link(client, brands["a"]).json["url"])
    client.get("/shopify/callback", query_string=callback_params(state))
    params = signed(
        host="YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvanNtaXRo", shop=SHOP, timestamp="1762157561"
    )

    response = client.get("/shopify/install", query_string=params)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.netloc, location.path) == (SHOP, "/admin/oauth/authorize")
    mock_shopify()
    again = client.get(
        "/shopify/callback", query_string=callback_params(state_of(response.headers["Location"]))
    )
    assert again.status_code == 302


@pytest.mark.parametrize(
    "params, status, words",
    [
        (
            signed(shop="new-shop.myshopify.com", timestamp="1762157561"),
            403,
            "no brand has connected",
        ),
        ({"shop": SHOP, "timestamp": "1762157561", "hmac": "f" * 64}, 401, "not signed by Shopify"),
        (signed(shop="evil.example", timestamp="1762157561"), 400, "not a Shopify shop"),
    ],
    ids=["unknown shop", "bad hmac", "not myshopify"],
)
def test_install_requests_refused(client, app_configured, params, status, words):
    response = client.get("/shopify/install", query_string=params)
    assert response.status_code == status
    assert words in response.json["detail"]

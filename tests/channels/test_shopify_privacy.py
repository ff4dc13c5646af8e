"""Shopify's mandatory compliance webhooks at `/shopify/compliance`: verified like any
Shopify webhook (401 problem+json otherwise), each an alert to the brand holding the shop.

Payloads: shopify.dev, "Privacy law compliance", the example bodies of customers/data_request,
customers/redact and shop/redact (https://shopify.dev/docs/apps/build/compliance/
privacy-law-compliance)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from channels.webhook_auth import webhook_signature
from shipflow.channel_accounts import connect_account
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert
from tests.channels.conftest import CLIENT_SECRET
from tests.channels.shopify_fixtures import SHOP

DATA_REQUEST = {
    "shop_id": 954889,
    "shop_domain": SHOP,
    "orders_requested": [299938, 280263, 220458],
    "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
    "data_request": {"id": 9999},
}
CUSTOMER_REDACT = {
    "shop_id": 954889,
    "shop_domain": SHOP,
    "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
    "orders_to_redact": [299938, 280263, 220458],
}
SHOP_REDACT = {"shop_id": 954889, "shop_domain": SHOP}


def post(client, topic: str, payload: dict, *, secret: str = CLIENT_SECRET):
    body = json.dumps(payload).encode()
    return client.post(
        "/shopify/compliance",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": webhook_signature(secret, body),
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        },
    )


@pytest.fixture
def shop_of_brand_a(app_configured, brands):
    with unit_of_work(app_configured.sessions) as session:
        connect_account(
            session,
            app_configured,
            brands["a"]["id"],
            channel="shopify",
            shop=SHOP,
            credentials={"access_token": "shpat_1", "client_secret": CLIENT_SECRET},
        )
    return brands["a"]["id"]


def alerts(runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        return [(a.brand_id, a.title) for a in session.scalars(select(Alert))]


@pytest.mark.parametrize(
    ("topic", "payload", "title"),
    [
        (
            "customers/data_request",
            DATA_REQUEST,
            "Shopify privacy request from jsmith.myshopify.com: send the shop what shipflow "
            "holds of customer john@example.com (orders 299938, 280263, 220458) within 30 days",
        ),
        (
            "customers/redact",
            CUSTOMER_REDACT,
            "Shopify privacy request from jsmith.myshopify.com: erase what shipflow holds of "
            "customer john@example.com (orders 299938, 280263, 220458) within 30 days",
        ),
        (
            "shop/redact",
            SHOP_REDACT,
            "Shopify privacy request from jsmith.myshopify.com: erase what shipflow holds of "
            "the shop's customers (uninstalled 48 h ago) within 30 days",
        ),
    ],
)
def test_a_compliance_request_is_answered_200_and_its_brands_ops_told(
    client, app_configured, shop_of_brand_a, topic, payload, title
):
    response = post(client, topic, payload)
    assert (response.status_code, response.json) == (
        200,
        {"done": f"{topic} for jsmith.myshopify.com: ops alerted"},
    )
    assert alerts(app_configured) == [(shop_of_brand_a, title)]


@pytest.mark.parametrize("secret", ["another app's secret", ""])
def test_a_request_not_signed_with_the_apps_secret_is_401(
    client, app_configured, shop_of_brand_a, secret
):
    response = post(client, "customers/redact", CUSTOMER_REDACT, secret=secret)
    assert (response.status_code, response.mimetype) == (401, "application/problem+json")
    assert "not signed by Shopify" in response.json["detail"]
    assert alerts(app_configured) == []


def test_a_shop_no_brand_holds_has_nothing_kept(client, app_configured, brands):
    response = post(client, "shop/redact", SHOP_REDACT)
    assert (response.status_code, response.json) == (
        200,
        {"done": "shop/redact for jsmith.myshopify.com: no brand holds the shop, nothing is kept"},
    )
    assert alerts(app_configured) == []


def test_another_topic_is_not_a_compliance_request(client, app_configured, shop_of_brand_a):
    response = post(client, "orders/create", CUSTOMER_REDACT)
    assert (response.status_code, response.mimetype) == (400, "application/problem+json")
    assert alerts(app_configured) == []

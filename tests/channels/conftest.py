"""Channel fixtures: the tracking test brands `tb` and `tc`, each also selling through a
sandbox shop of its own, and those shops open on the sandbox network."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from channels.sandbox import DEFAULT_NETWORK, SandboxShop
from shipflow.config import ShopifyAppConfig, parse_settings
from shipflow.secrets_at_rest import KEY_VARIABLE, new_key
from shipflow.store.models import Brand, ChannelAccount
from tests.tracking.conftest import brand_accounts, fake_network, jobs, make_shipment, tracked  # noqa: F401
from tests.tracking.fake_carrier import fake_config

SECRETS = {"tb": "tb-shop-webhook-secret", "tc": "tc-shop-webhook-secret"}


@pytest.fixture(autouse=True)
def credentials_key(monkeypatch) -> str:
    """Shops connected through the API, the CLI or an app install keep their tokens sealed
    under this key (tests that check a missing key unset it)."""
    key = new_key()
    monkeypatch.setenv(KEY_VARIABLE, key)
    return key


def shop_domain(brand_code: str) -> str:
    return f"{brand_code}-shop.example"


def channel_config(database_url: str) -> dict:
    """The raw configuration: `tb` and `tc` each with a sandbox shop coded `web`."""
    raw = fake_config(database_url)
    for brand in raw["brands"]:
        if brand["code"] in SECRETS:
            brand["channels"] = [
                {
                    "code": "web",
                    "channel": "sandbox",
                    "shop": shop_domain(brand["code"]),
                    "credentials": {"webhook_secret": SECRETS[brand["code"]]},
                }
            ]
    return raw


def brand_of(raw: dict, code: str) -> dict:
    return next(b for b in raw["brands"] if b["code"] == code)


@pytest.fixture
def settings(database_url):
    return parse_settings(channel_config(database_url), "test config", environ={})


@dataclass
class SellingBrand:
    id: str
    code: str
    account_id: str  # the ChannelAccount row
    shop: SandboxShop

    @property
    def webhook_url(self) -> str:
        return f"/webhooks/channels/sandbox/{self.account_id}"


@pytest.fixture
def selling(runtime) -> dict[str, SellingBrand]:
    """`tb` and `tc` in the database with their shop accounts, and the shops open."""
    rows = brand_accounts(runtime, ChannelAccount, Brand.code.in_(SECRETS))  # not the demo's
    found = {
        code: SellingBrand(
            brand_id, code, account_id, DEFAULT_NETWORK.open(shop_domain(code), SECRETS[code])
        )
        for brand_id, code, account_id in rows
    }
    yield found
    for code in found:
        DEFAULT_NETWORK.close(shop_domain(code))


def shop_order(order_id: str = "820982911946154508", number: str = "#1001") -> dict:
    """Shaped like the sandbox shop's order webhook (itself modelled on Shopify's Order
    resource: `name`, `shipping_address`, `line_items` with decimal-string prices)."""
    return {
        "id": order_id,
        "name": number,
        "currency": "USD",
        "created_at": "2026-11-24T09:15:00-05:00",
        "updated_at": "2026-11-24T09:15:00-05:00",
        "locale": "en",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": ""},
        "shipping_address": {
            "name": "Ada Lovelace",
            "address1": "1 Main St",
            "city": "Brooklyn",
            "province_code": "NY",
            "zip": "11201",
            "country_code": "US",
        },
        "line_items": [
            {"sku": "MUG-1", "title": "Mug", "quantity": 2, "price": "12.50"},
            {"sku": "TEE-1", "title": "Tee", "quantity": 1, "price": "20.00"},
        ],
    }


def post_order(client, brand: SellingBrand, order: dict, headers: dict | None = None, **kw):
    """Send the shop's signed webhook for `order` (or the given headers) to `brand`'s URL."""
    signed, body = brand.shop.place(order, **kw)
    return client.post(brand.webhook_url, data=body, headers=headers or signed)


# Our Shopify app, as config.yaml's `shopify` section names it.
CLIENT_ID = "5f3c0d2e1b4a49f7c3e8a1d2b6f90c44"
CLIENT_SECRET = "shpss_app-client-secret"


@pytest.fixture
def app_configured(runtime):
    runtime.settings = runtime.settings.model_copy(
        update={
            "shopify": ShopifyAppConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
            "base_url": "https://ship.example",
        }
    )
    return runtime

"""Connecting a shop through the API: its credentials stored encrypted and never shown, the
shop one brand's only, invisible to another brand's key, refused once disconnected, and its
domain let into the widget."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from shipflow.secrets_at_rest import KEY_VARIABLE, SecretsKeyError, new_key, reseal, seal, unseal
from shipflow.store.models import ChannelAccount
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.web import webhooks
from shipflow.web.widget import routes as widget_routes
from tests.channels.test_order_webhooks import api_headers
from tests.statements import statements_sent

TOKEN = "shpat_0123456789abcdef0123456789abcdef"


@pytest.fixture
def key(monkeypatch) -> str:
    value = new_key()
    monkeypatch.setenv(KEY_VARIABLE, value)
    return value


def connect(client, headers, shop="tb-store.example", **extra):
    body = {"channel": "sandbox", "shop": shop, "credentials": {"webhook_secret": TOKEN}, **extra}
    return client.post("/api/v1/channels", json=body, headers=headers)


def test_a_connected_shop_keeps_its_credentials_encrypted_and_never_shows_them(
    client, runtime, selling, key
):
    headers = api_headers(runtime, selling["tb"].id)
    response = connect(client, headers)

    assert response.status_code == 201
    account = response.json
    assert (account["channel"], account["shop"], account["code"], account["enabled"]) == (
        "sandbox",
        "tb-store.example",
        "tb-store-example",
        True,
    )
    assert account["webhook_url"].endswith(f"/webhooks/channels/sandbox/{account['id']}")
    listed = client.get("/api/v1/channels", headers=headers)
    for body in (response.get_data(as_text=True), listed.get_data(as_text=True)):
        assert TOKEN not in body and "credentials" not in body
    assert sorted(a["shop"] for a in listed.json["data"]) == ["tb-shop.example", "tb-store.example"]
    with runtime.engine.connect() as connection:
        raw = connection.execute(
            text("SELECT credentials FROM channel_accounts WHERE id = :id"), {"id": account["id"]}
        ).scalar_one()
    assert TOKEN not in raw
    assert unseal(raw) == {"webhook_secret": TOKEN}


def test_another_brands_key_cannot_see_or_change_the_shop(client, runtime, selling, key):
    account_id = connect(client, api_headers(runtime, selling["tb"].id)).json["id"]
    other = api_headers(runtime, selling["tc"].id)

    assert client.get(f"/api/v1/channels/{account_id}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/channels/{account_id}", headers=other).status_code == 404
    assert [a["id"] for a in client.get("/api/v1/channels", headers=other).json["data"]] == [
        selling["tc"].account_id
    ]
    taken = connect(client, other)
    assert (taken.status_code, taken.mimetype) == (409, "application/problem+json")
    with runtime.sessions() as session:
        row = session.get_one(ChannelAccount, account_id)
        assert (row.brand_id, row.enabled) == (selling["tb"].id, True)


def test_a_disconnected_shops_webhooks_are_refused_and_stored_nowhere(
    client, runtime, selling, key, monkeypatch
):
    brand = selling["tb"]
    headers = api_headers(runtime, brand.id)
    gone = client.delete(f"/api/v1/channels/{brand.account_id}", headers=headers)
    assert (gone.status_code, gone.json["enabled"]) == (200, False)

    monkeypatch.setattr(webhooks, "SHOP_TTL", 0.0)
    signed, body = brand.shop.webhook({"id": 1})
    assert client.post(brand.webhook_url, data=body, headers=signed).status_code == 401
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WebhookReceipt)) == 0

    again = connect(client, headers, shop=brand.shop.domain)  # reconnecting enables it
    assert (again.status_code, again.json["id"], again.json["enabled"]) == (
        201,
        brand.account_id,
        True,
    )


def test_an_unknown_channel_is_a_problem_naming_the_field(client, runtime, selling, key):
    response = connect(client, api_headers(runtime, selling["tb"].id), channel="myspace")
    assert response.status_code == 422
    assert response.json["detail"].startswith("channel: unknown; known channels:")


def test_without_a_key_nothing_is_stored_and_the_variable_is_named(
    client, runtime, selling, monkeypatch
):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    response = connect(client, api_headers(runtime, selling["tb"].id))
    assert response.status_code == 503
    assert KEY_VARIABLE in response.json["detail"]
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ChannelAccount)) == 2


def test_keys_rotate_old_tokens_open_until_resealed(monkeypatch):
    old, new = new_key(), new_key()
    monkeypatch.setenv(KEY_VARIABLE, old)
    token = seal({"access_token": TOKEN})
    monkeypatch.setenv(KEY_VARIABLE, f"{new},{old}")
    assert unseal(token) == {"access_token": TOKEN}
    rotated = reseal(token)
    assert (
        Fernet(new.encode()).decrypt(rotated.encode())
        == b'{"access_token": "' + TOKEN.encode() + b'"}'
    )
    monkeypatch.setenv(KEY_VARIABLE, new)
    with pytest.raises(SecretsKeyError, match=KEY_VARIABLE):
        unseal(token)
    assert unseal(rotated) == {"access_token": TOKEN}


def test_the_widget_answers_a_connected_shops_origin(client, runtime, selling, key, monkeypatch):
    moment = [100.0]
    monkeypatch.setattr(widget_routes, "monotonic", lambda: moment[0])
    query = "/widget/v1/edd?brand=tb&sku=LANTERN&postal_code=11201&country=US"
    shop_origin = "https://tb-store.example"
    with statements_sent(runtime.engine) as sent:
        for n in range(50):  # pages of origins no shop has: the shops are read once
            origin = {"Origin": f"https://stranger-{n}.example"}
            assert "Access-Control-Allow-Origin" not in client.get(query, headers=origin).headers
    assert len([s for s in sent if "channel_accounts" in s]) == 1

    connect(client, api_headers(runtime, selling["tb"].id))
    moment[0] += 1.0  # the shops are read again for an origin not among them
    allowed = client.get(query, headers={"Origin": shop_origin})
    assert allowed.headers["Access-Control-Allow-Origin"] == shop_origin
    stranger = client.get(query, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_a_disconnected_shops_origin_is_shut_out_within_the_refresh(
    client, runtime, selling, key, monkeypatch
):
    query = "/widget/v1/edd?brand=tb&sku=LANTERN&postal_code=11201&country=US"
    shop_origin = {"Origin": "https://tb-store.example"}
    headers = api_headers(runtime, selling["tb"].id)
    account_id = connect(client, headers).json["id"]
    assert client.get(query, headers=shop_origin).headers["Access-Control-Allow-Origin"]
    assert client.delete(f"/api/v1/channels/{account_id}", headers=headers).status_code == 200
    # the connected shops' origins were read a moment ago: not again on every request
    assert client.get(query, headers=shop_origin).headers["Access-Control-Allow-Origin"]
    monkeypatch.setattr(widget_routes, "SHOP_ORIGINS_SECONDS", 0.0)  # the refresh is due
    assert "Access-Control-Allow-Origin" not in client.get(query, headers=shop_origin).headers


def test_the_cli_connects_lists_and_disconnects(runner, runtime, selling, key, tmp_path):
    import yaml

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(runtime.settings.model_dump(mode="json")))
    from shipflow.cli import main

    connected = runner.invoke(
        main,
        [
            "--config",
            str(config),
            "channel",
            "connect",
            "tb",
            "sandbox",
            "cli.example",
            "--credential",
            f"webhook_secret={TOKEN}",
        ],
    )
    assert connected.exit_code == 0, connected.output
    account_id = connected.output.split()[0]
    listed = runner.invoke(main, ["--config", str(config), "channel", "list", "tb"])
    assert f"{account_id}  cli-example  sandbox  cli.example  enabled" in listed.output
    assert TOKEN not in listed.output
    gone = runner.invoke(main, ["--config", str(config), "channel", "disconnect", "tc", account_id])
    assert gone.exit_code == 2  # tc's owner cannot disconnect tb's shop
    gone = runner.invoke(main, ["--config", str(config), "channel", "disconnect", "tb", account_id])
    assert gone.exit_code == 0, gone.output
    with runtime.sessions() as session:
        assert session.get_one(ChannelAccount, account_id).enabled is False


def test_a_code_the_brand_already_uses_is_a_conflict_naming_the_field(
    client, runtime, selling, key
):
    response = connect(client, api_headers(runtime, selling["tb"].id), code="web")
    assert response.status_code == 409
    assert response.json["detail"] == (
        "code: the brand already has a channel account coded 'web'; give another code"
    )

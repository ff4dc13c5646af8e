"""No published secret anywhere: a short or missing secret key stops start-up, the session
and link keys are derived apart, and the demo generates its secrets (secret key, sandbox
webhook secret) once into instance/ and reuses them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from flask import Flask
from itsdangerous import BadSignature
from sqlalchemy import select

from carriers.sandbox import signing
from shipflow import links, shipment_links
from shipflow.api_keys import create_api_key
from shipflow.brands import sync_brands
from shipflow.cli import main
from shipflow.config import ConfigError, load_settings
from shipflow.instance import with_instance_secrets
from shipflow.ops_users import create_ops_user
from shipflow.runtime import Runtime
from shipflow.store.db import unit_of_work
from shipflow.store.models import CarrierAccount
from shipflow.web import create_app
from tests.fakes import TEST_SECRET_KEY
from tests.integration.test_api import make_order, make_shipment

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = "dev-secret-change-me"  # the key config.yaml used to ship: anyone could sign with it
OLD_SANDBOX_SECRET = "sandbox-webhook-secret"  # the sandbox's former fallback, as public


def _config(tmp_path: Path, name: str, **changes) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    data.update(changes)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("secret", [PUBLISHED, "x" * 31])
def test_a_short_or_published_secret_key_stops_start_up(tmp_path, secret):
    in_file = _config(tmp_path, "in-file.yaml", secret_key=secret)
    without = _config(tmp_path, "without.yaml")
    for path, environ in ((in_file, {}), (without, {"SHIPFLOW_SECRET_KEY": secret})):
        with pytest.raises(ConfigError) as info:
            load_settings(path, environ=environ)
        message = str(info.value)
        assert str(path) in message and "secret_key" in message
        assert "SHIPFLOW_SECRET_KEY" in message and "32 bytes" in message


def test_without_a_secret_key_the_app_refuses_to_start():
    path = ROOT / "config.yaml"
    settings = load_settings(path, environ={"SHIPFLOW_DATABASE_URL": "sqlite://"})
    with pytest.raises(ConfigError) as info:
        create_app(Runtime.from_settings(settings))
    message = str(info.value)
    assert str(path) in message and "secret_key is not set" in message
    assert "SHIPFLOW_SECRET_KEY" in message


def test_serve_without_a_secret_key_stops_with_the_fix(runner, tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr("shipflow.server.serve", lambda *a, **k: started.append(a))
    monkeypatch.chdir(tmp_path)  # no instance/ here
    result = runner.invoke(main, ["serve"], env={"SHIPFLOW_SECRET_KEY": ""})
    assert result.exit_code == 2 and not started
    assert "secret_key is not set" in result.output and "SHIPFLOW_SECRET_KEY" in result.output


def test_a_session_signature_is_no_link_and_a_link_signature_no_session(app, runtime):
    grant = {"b": "northwind", "s": "shp_1"}
    signed_as_session = links.make_token(
        app.secret_key, shipment_links.TRACKING, grant, runtime.clock
    )
    with pytest.raises(links.LinkInvalid):
        shipment_links.read_token(runtime, shipment_links.TRACKING, "northwind", signed_as_session)

    link_signer = Flask(__name__)
    link_signer.secret_key = runtime.settings.signing_key("links")
    cookie = link_signer.session_interface.get_signing_serializer(link_signer).dumps(
        {"ops_user_id": "opu_1"}
    )
    with pytest.raises(BadSignature):
        app.session_interface.get_signing_serializer(app).loads(cookie)


def test_each_secret_signs_with_keys_of_its_own(runtime):
    """The derived keys are kept per process: a second secret (another instance's settings
    in one process, a rotated one) still gets its own, never the first's."""
    other = runtime.settings.model_copy(update={"secret_key": TEST_SECRET_KEY[::-1]})
    keys = {s.signing_key(use) for s in (runtime.settings, other) for use in ("links", "session")}
    assert len(keys) == 4
    assert other.signing_key("links") == other.model_copy().signing_key("links")


def test_the_demo_generates_its_secrets_once_and_reuses_them(tmp_path):
    settings = load_settings(ROOT / "config.yaml", environ={})
    instance = tmp_path / "instance"
    first = with_instance_secrets(settings, instance, generate=True)
    again = with_instance_secrets(settings, instance, generate=True)
    webhook_secret = first.brands[0].carriers[0].credentials["webhook_secret"]
    assert len(first.secret_key) >= 32 and again.secret_key == first.secret_key
    assert len(webhook_secret) >= 32 and webhook_secret not in (
        first.secret_key,
        OLD_SANDBOX_SECRET,
    )
    assert again.brands[0].carriers[0].credentials["webhook_secret"] == webhook_secret
    assert {p.stat().st_mode & 0o777 for p in instance.iterdir()} == {0o600}
    # Later commands in the checkout (`shipflow tracking-link`) read them, never generate.
    assert with_instance_secrets(settings, instance).secret_key == first.secret_key
    assert with_instance_secrets(settings, tmp_path / "elsewhere").secret_key == ""
    other_checkout = with_instance_secrets(settings, tmp_path / "other", generate=True)
    assert other_checkout.secret_key != first.secret_key
    configured = settings.model_copy(update={"secret_key": "k" * 40})
    assert with_instance_secrets(configured, instance).secret_key == "k" * 40


def test_serve_demo_generates_the_secret_into_instance_and_reuses_it(runner, tmp_path, monkeypatch):
    served = []
    monkeypatch.setattr("shipflow.server.serve", lambda settings, **_: served.append(settings))
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        result = runner.invoke(main, ["serve", "--demo"], env={"SHIPFLOW_SECRET_KEY": ""})
        assert result.exit_code == 0, result.output
    stored = (tmp_path / "instance" / "secret_key").read_text().strip()
    assert served[0].secret_key == served[1].secret_key == stored


def _sandbox_webhook(client, runtime, secret: str) -> int:
    with unit_of_work(runtime.sessions) as session:
        sync_brands(session, runtime.settings)
    with runtime.sessions() as session:
        account_id = session.scalar(
            select(CarrierAccount.id).where(CarrierAccount.code == "sandbox-main")
        )
    body = b'{"tracking_number": "SBXG0881794103000000000000", "events": []}'
    headers = signing.sign(secret, body, datetime.now(UTC))  # signatures are on real time
    return client.post(f"/webhooks/sandbox/{account_id}", data=body, headers=headers).status_code


def test_a_sandbox_webhook_signed_with_the_old_constant_is_refused(client, runtime):
    assert _sandbox_webhook(client, runtime, OLD_SANDBOX_SECRET) == 401
    assert _sandbox_webhook(client, runtime, "") == 401


def test_the_demo_sandbox_accepts_webhooks_signed_with_its_generated_secret(
    runtime, clock, tmp_path
):
    settings = with_instance_secrets(runtime.settings, tmp_path, generate=True)
    demo = Runtime.from_settings(settings, clock)
    client = create_app(demo).test_client()
    secret = settings.brands[0].carriers[0].credentials["webhook_secret"]
    assert _sandbox_webhook(client, demo, OLD_SANDBOX_SECRET) == 401
    assert _sandbox_webhook(client, demo, secret) == 202
    demo.engine.dispose()


CONFIGURED_SECRETS = {
    "SANDBOX_WEBHOOK_SECRET": "whsec-sandbox-4f1c9e",
    "STORE_WEBHOOK_SECRET": "store-signing-8d2b71",
    "OPS_SLACK_URL": "https://hooks.slack.com/services/T0/B0/slack-secret-5a6e",
    "ERP_WEBHOOK_SECRET": "erp-signing-0c3f44",
}
ARGUMENTS = {"brand_code": "northwind", "sku": "MUG"}  # also `id`, `tracking_number` below
WIDGET_QUERY = {"brand": "northwind", "sku": "MUG", "postal_code": "10001"}


def test_no_page_or_json_response_carries_a_configured_secret(tmp_path, database_url, clock):
    """Secrets given as `${NAME}` references reach the typed configuration, and no response
    of the API (the OpenAPI document included), the ops pages or the public pages shows one."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    brand = data["brands"][0]
    brand["carriers"][0]["credentials"] = {"webhook_secret": "${SANDBOX_WEBHOOK_SECRET}"}
    brand["returns"] |= {
        "store_webhook_url": "https://store.example/returns",
        "store_webhook_secret": "${STORE_WEBHOOK_SECRET}",
    }
    brand["alerts"]["channels"] = {
        "ops-slack": {"type": "slack", "url": "${OPS_SLACK_URL}"},
        "erp": {
            "type": "webhook",
            "url": "https://erp.example/hooks",
            "secret": "${ERP_WEBHOOK_SECRET}",
        },
    }
    brand["alerts"]["routes"] = [{"kinds": ["exception"], "channels": ["ops-slack", "erp"]}]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    environ = {
        **CONFIGURED_SECRETS,
        "SHIPFLOW_DATABASE_URL": database_url,
        "SHIPFLOW_SECRET_KEY": TEST_SECRET_KEY,
    }
    runtime = Runtime.from_settings(load_settings(path, environ=environ), clock=clock)
    configured = runtime.settings.brands[0]
    assert configured.returns.store_webhook_secret == CONFIGURED_SECRETS["STORE_WEBHOOK_SECRET"]
    assert configured.alerts.channels["ops-slack"].url == CONFIGURED_SECRETS["OPS_SLACK_URL"]
    app = create_app(runtime)
    app.config["TESTING"] = True
    client = app.test_client()
    with unit_of_work(runtime.sessions) as session:
        brand_id = sync_brands(session, runtime.settings)[0].id
        headers = {"Authorization": f"Bearer {create_api_key(session, brand_id, 'scan')}"}
        password = create_ops_user(session, brand_id, "ops@northwind.example")
    client.get("/ops/login")
    with client.session_transaction() as cookie:
        csrf = cookie["csrf_token"]
    login = {"brand": "northwind", "email": "ops@northwind.example", "password": password}
    assert client.post("/ops/login", data={**login, "csrf_token": csrf}).status_code == 302
    order = make_order(client, headers)
    shipment = make_shipment(client, headers, order_id=order["id"])

    seen = {}
    for rule in app.url_map.iter_rules():
        values = {**ARGUMENTS, "tracking_number": shipment["tracking_number"]}
        values["id"] = order["id"] if "/orders/" in rule.rule else shipment["id"]
        if "GET" not in rule.methods or not set(rule.arguments) <= set(values):
            continue  # signed-link pages need a token; static files hold no configuration
        url = rule.build(values, append_unknown=False)[1]
        query = WIDGET_QUERY if url.startswith("/widget/") else {}
        response = client.get(url, headers=headers, query_string=query)
        assert response.status_code < 500, url
        seen[url] = response.get_data(as_text=True)
    for name, secret in CONFIGURED_SECRETS.items():
        assert not [url for url, body in seen.items() if secret in body], name
    assert order["id"] in seen["/api/v1/orders"] and "Northwind" in seen["/ops/alerts"]
    assert "/api/v1/openapi.json" in seen and "/api/v1/allocation-rules" in seen

"""Configured URLs reach public addresses only: checked when the config loads and again at
each send, redirects never followed, and nothing of a receiver's answer kept but its status."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
import responses
import yaml

from shipflow.config import ConfigError, parse_settings
from shipflow.notify.config import ChannelConfig
from shipflow.notify.outbound import DestinationRefused, check_destination
from shipflow.notify.transports import (
    Message,
    SendError,
    TransportSettings,
    ops_transport,
    post_signed,
)
from tests.conftest import PUBLIC, ROOT

NOTICE = Message(
    "k1",
    "1 late parcel",
    "1 late parcel\n- SBX1 is late",
    lines=["SBX1 is late"],
    link="https://x/ops",
)


def send(channel: ChannelConfig, notice: Message) -> None:
    ops_transport(channel, TransportSettings()).send(notice)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://240.0.0.1/hook", "reserved"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://100.64.0.1/hook", "non-public"),
    ],
)
def test_non_public_destinations_are_refused(url, kind):
    with pytest.raises(DestinationRefused, match=f"an? {kind} address"):
        check_destination(url)


def test_allowed_networks_and_public_addresses_pass():
    check_destination(f"https://{PUBLIC}/hook")
    check_destination("http://127.0.0.1:8000/hook", [ip_network("127.0.0.0/8")])
    with pytest.raises(DestinationRefused, match="not an http"):
        check_destination("file:///etc/passwd")


def _raw_config(url: str) -> dict:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["brands"][0]["alerts"]["channels"] = {"ops": {"type": "slack", "url": url}}
    return raw


def test_config_with_a_private_destination_names_the_key_and_the_file(dns):
    with pytest.raises(ConfigError) as refused:
        parse_settings(_raw_config("http://169.254.169.254/hook"), "deploy.yaml", {})
    message = str(refused.value)
    assert message.startswith("deploy.yaml is invalid")
    assert "brands[0].alerts.channels.ops.url" in message and "link-local" in message
    raw = _raw_config("http://169.254.169.254/hook") | {
        "notify": {"allow_private_networks": ["169.254.169.254/32"]}
    }
    assert parse_settings(raw, "deploy.yaml", {}).notify.allow_private_networks
    raw = _raw_config("https://hooks.example/x")
    raw["brands"][0]["returns"] |= {
        "store_webhook_url": "http://db.internal/",
        "store_webhook_secret": "s",
    }
    dns.update({"hooks.example": PUBLIC, "db.internal": "10.0.0.7"})
    with pytest.raises(ConfigError, match=r"brands\[0\]\.returns\.store_webhook_url"):
        parse_settings(raw, "deploy.yaml", {})


@responses.activate
def test_a_host_that_turns_private_after_loading_is_refused_at_send(dns):
    dns["hooks.example"] = PUBLIC
    parse_settings(_raw_config("https://hooks.example/x"), "deploy.yaml", {})
    dns["hooks.example"] = "10.0.0.7"
    with pytest.raises(SendError, match="10.0.0.7, a private address"):
        send(ChannelConfig(type="slack", url="https://hooks.example/x"), NOTICE)
    with pytest.raises(SendError, match="a private address"):
        post_signed("https://hooks.example/returns", "secret", {"event": "return.received"})
    assert len(responses.calls) == 0


@responses.activate
def test_redirects_are_not_followed():
    url = f"https://{PUBLIC}/hook"
    responses.post(url, status=307, headers={"Location": "http://169.254.169.254/latest"})
    responses.post("http://169.254.169.254/latest", status=200)
    with pytest.raises(SendError, match="307"):
        send(ChannelConfig(type="slack", url=url), NOTICE)
    with pytest.raises(SendError, match="307"):
        post_signed(url, "secret", {"event": "return.received"})
    assert [call.request.url for call in responses.calls] == [url, url]


@responses.activate
def test_only_the_status_line_of_a_failed_call_is_kept():
    url = f"https://{PUBLIC}/hook"
    responses.post(url, status=500, body="root:x:0:0 internal stack trace")
    with pytest.raises(SendError) as failed:
        send(ChannelConfig(type="webhook", url=url, secret="s"), NOTICE)
    assert str(failed.value) == f"POST to {PUBLIC} answered HTTP 500 Internal Server Error"
    with pytest.raises(SendError) as failed:
        post_signed(url, "secret", {"event": "return.received"})
    assert "root:x" not in str(failed.value) and "HTTP 500" in str(failed.value)


def test_customer_channel_providers_and_the_smtp_url_are_checked_at_load(dns):
    raw = _raw_config("https://hooks.example/x")
    dns.update({"hooks.example": PUBLIC, "sms.internal": "10.0.0.8"})
    raw["brands"][0]["customer_channels"] = {
        "prefer": ["sms", "email"],
        "providers": {"sms": {"url": "https://sms.internal/send", "secret": "s"}},
    }
    with pytest.raises(ConfigError, match=r"brands\[0\]\.customer_channels\.providers\.sms\.url"):
        parse_settings(raw, "deploy.yaml", {})
    with pytest.raises(ConfigError, match="smtp_url.*smtp://host:port"):
        parse_settings(
            _raw_config("https://hooks.example/x"),
            "deploy.yaml",
            {"SHIPFLOW_SMTP_URL": "mail.example:25"},
        )

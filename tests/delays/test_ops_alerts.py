"""Ops alerts end to end: routing rules, digests, escalation on a fixed clock, and the real
wire formats (Slack and a signed webhook to a local HTTP server, e-mail to a local SMTP
server) through the outbox."""

from __future__ import annotations

import email
import json
import re
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from shipflow.delays import alerts, routing
from shipflow.delays.detectors import LaneIncident
from shipflow.notify import transports
from shipflow.store.db import unit_of_work
from shipflow.store.models import Alert, OutboxMessage
from tests.delays.conftest import set_alerts

SECRET = "whsec-test"


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_sink():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.received, server.statuses = [], []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class _Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    mailbox = _Mailbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it is up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{port}"
    yield mailbox
    controller.stop()


@pytest.fixture
def ops_brand(runtime, brand_id, http_sink, smtp_server, loopback_destinations):
    base = f"http://127.0.0.1:{http_sink.server_port}"
    runtime.settings = runtime.settings.model_copy(update={"smtp_url": smtp_server.url})
    with unit_of_work(runtime.sessions) as session:
        set_alerts(
            runtime,
            session,
            brand_id,
            {
                "channels": {
                    "slack": {"type": "slack", "url": f"{base}/slack"},
                    "hook": {"type": "webhook", "url": f"{base}/hook", "secret": SECRET},
                    "mail": {"type": "email", "to": ["ops@northwind.example"]},
                },
                "routes": [
                    {"kinds": ["lane_incident"], "channels": ["hook"]},
                    {
                        "kinds": ["late", "exception"],
                        "channels": ["slack"],
                        "escalate_after_minutes": 30,
                        "escalate_to": ["mail"],
                    },
                    {"severities": ["critical"], "carriers": ["fedex"], "channels": ["mail"]},
                ],
                "digest_threshold": 5,
            },
        )
    return brand_id


def _raise(runtime, brand_id, now, kind, n=1, severity="warning", carrier="ups"):
    with unit_of_work(runtime.sessions) as session:
        for i in range(n):
            alerts.raise_alert(
                session,
                brand_id,
                now,
                kind=kind,
                severity=severity,
                title=f"{kind} {i}",
                dedupe_key=f"{kind}:{carrier}:{i}",
                carrier=carrier,
                region="CA",
            )


def _dispatch_and_deliver(runtime, brand_id) -> int:
    with unit_of_work(runtime.sessions) as session:
        routing.dispatch(session, brand_id, runtime.clock.now(), runtime.settings)
    return routing.deliver_due(runtime)


def _by_path(http_sink, path):
    return [(h, b) for p, h, b in http_sink.received if p == path]


def test_routes_by_kind_severity_and_carrier(runtime, ops_brand, http_sink, smtp_server):
    now = runtime.clock.now()
    _raise(runtime, ops_brand, now, "late")
    _raise(runtime, ops_brand, now, "lane_incident", severity="critical")
    _raise(runtime, ops_brand, now, "stale", severity="critical", carrier="fedex")
    _raise(runtime, ops_brand, now, "stale", severity="warning", carrier="dhl")  # no route
    assert _dispatch_and_deliver(runtime, ops_brand) == 3
    ((slack_headers, slack_body),) = _by_path(http_sink, "/slack")
    slack = json.loads(slack_body)
    assert slack["text"] == "shipflow warning: late 0"
    assert slack["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "shipflow warning: late 0"},
    }
    assert slack["blocks"][1]["text"]["text"] == "[warning] late 0 (ups · CA)"
    assert "/ops/alerts?id=alr_" in slack["blocks"][-1]["elements"][0]["text"]
    ((hook_headers, hook_body),) = _by_path(http_sink, "/hook")
    assert json.loads(hook_body)["alerts"][0]["kind"] == "lane_incident"
    ((recipients, mail),) = smtp_server.messages
    assert recipients == ["ops@northwind.example"]
    assert mail["Subject"] == "shipflow critical: stale 0"
    assert "[critical] stale 0 (fedex · CA)" in mail.get_payload()


def test_webhook_is_signed_with_hmac_sha256(runtime, ops_brand, http_sink):
    _raise(runtime, ops_brand, runtime.clock.now(), "lane_incident", severity="critical")
    _dispatch_and_deliver(runtime, ops_brand)
    ((headers, body),) = _by_path(http_sink, "/hook")
    signature = headers[transports.SIGNATURE_HEADER]
    timestamp = int(signature.split(",")[0].removeprefix("t="))
    assert abs(timestamp - time.time()) < 60
    assert transports.verify(SECRET, body, signature, time.time())
    assert not transports.verify("another-secret", body, signature, time.time())
    assert not transports.verify(SECRET, body + b" ", signature, time.time())
    assert not transports.verify(SECRET, body, signature, time.time() + 3600)  # replayed late
    assert headers[transports.DELIVERY_HEADER].startswith("ops.alert:new:hook:alr_")


def test_many_alerts_of_a_kind_arrive_as_one_digest(runtime, ops_brand, http_sink):
    now = runtime.clock.now()
    _raise(runtime, ops_brand, now, "late", n=7)
    _raise(runtime, ops_brand, now, "exception", n=2)
    assert _dispatch_and_deliver(runtime, ops_brand) == 3
    bodies = [json.loads(b) for _, b in _by_path(http_sink, "/slack")]
    digest = next(b for b in bodies if b["text"].startswith("shipflow: 7"))
    assert digest["text"] == "shipflow: 7 late alerts (warning)"
    assert len(digest["blocks"]) == 1 + 7 + 1  # header, one section per alert, footer
    assert sorted(b["text"] for b in bodies if b is not digest) == [
        "shipflow warning: exception 0",
        "shipflow warning: exception 1",
    ]


def test_a_big_digest_names_a_sample_and_counts_them_all(runtime, ops_brand, http_sink):
    _raise(runtime, ops_brand, runtime.clock.now(), "late", n=routing.DIGEST_SAMPLE + 5)
    assert _dispatch_and_deliver(runtime, ops_brand) == 1
    ((_, body),) = _by_path(http_sink, "/slack")
    slack = json.loads(body)
    assert slack["text"] == f"shipflow: {routing.DIGEST_SAMPLE + 5} late alerts (warning)"
    footer = slack["blocks"][-1]["elements"][0]["text"]
    assert footer.endswith(f"· {routing.DIGEST_SAMPLE + 5 - transports.SLACK_SECTIONS} more")


def test_notifications_are_deduplicated(runtime, ops_brand, http_sink):
    now = runtime.clock.now()
    _raise(runtime, ops_brand, now, "late")
    _raise(runtime, ops_brand, now, "late")  # same dedupe key while open: no second alert
    assert _dispatch_and_deliver(runtime, ops_brand) == 1
    assert _dispatch_and_deliver(runtime, ops_brand) == 0
    with unit_of_work(runtime.sessions) as session:  # a replayed outbox row is one row
        message = session.scalars(select(OutboxMessage)).one()
        again = routing._message(
            ops_brand, "slack", routing.NEW, [session.scalars(select(Alert.id)).one()], now
        )
        alerts.insert_ignoring(session, OutboxMessage, [again], ["dedupe_key"])
        assert again["dedupe_key"] == message.dedupe_key
    assert routing.deliver_due(runtime) == 0
    assert len(http_sink.received) == 1


def test_unacknowledged_alerts_escalate_to_the_second_route(
    runtime, ops_brand, http_sink, smtp_server, clock
):
    now = clock.now()
    _raise(runtime, ops_brand, now, "late", n=2)
    _dispatch_and_deliver(runtime, ops_brand)
    with unit_of_work(runtime.sessions) as session:
        first = session.scalars(select(Alert).where(Alert.title == "late 0")).one()
        alerts.acknowledge(first, "ana@northwind.example", now)
    clock.advance(timedelta(minutes=29))
    _dispatch_and_deliver(runtime, ops_brand)
    assert smtp_server.messages == []
    clock.advance(timedelta(minutes=2))
    assert _dispatch_and_deliver(runtime, ops_brand) == 1
    ((recipients, mail),) = smtp_server.messages
    assert mail["Subject"] == "ESCALATED, not acknowledged: shipflow warning: late 1"
    clock.advance(timedelta(hours=5))
    assert _dispatch_and_deliver(runtime, ops_brand) == 0  # escalated once


def test_an_alert_acknowledged_before_its_escalation_is_sent_is_skipped(
    runtime, ops_brand, smtp_server, clock
):
    _raise(runtime, ops_brand, clock.now(), "late")
    _dispatch_and_deliver(runtime, ops_brand)
    clock.advance(timedelta(minutes=31))
    with unit_of_work(runtime.sessions) as session:
        routing.dispatch(session, ops_brand, clock.now(), runtime.settings)  # queued, not yet sent
        alerts.acknowledge(session.scalars(select(Alert)).one(), "ana", clock.now())
    routing.deliver_due(runtime)
    assert smtp_server.messages == []


def test_failed_sends_are_retried_with_backoff(runtime, ops_brand, http_sink, clock):
    http_sink.statuses = [500, 503]
    _raise(runtime, ops_brand, clock.now(), "late")
    assert _dispatch_and_deliver(runtime, ops_brand) == 0
    with runtime.sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert (message.attempts, message.processed_at) == (1, None)
        assert "500" in message.last_error
    assert routing.deliver_due(runtime) == 0  # not due before its backoff
    clock.advance(timedelta(minutes=1))
    assert routing.deliver_due(runtime) == 0
    clock.advance(timedelta(minutes=2))
    assert routing.deliver_due(runtime) == 1
    assert len(http_sink.received) == 3
    assert len({body for _, _, body in http_sink.received}) == 1  # the same message, retried


def test_slack_payload_caps_sections_and_says_how_many_more():
    lines = [f"line {i}" for i in range(14)]
    notice = transports.Message("k", "subject", "", lines=lines, link="http://x/ops/")
    payload = transports.slack_payload(notice)
    assert len(payload["blocks"]) == 1 + transports.SLACK_SECTIONS + 1
    assert (
        payload["blocks"][-1]["elements"][0]["text"] == "<http://x/ops/|Open the ops page> · 4 more"
    )


def test_alerts_config_rejects_routes_to_unknown_channels():
    from pydantic import ValidationError

    from shipflow.delays.config import AlertsConfig

    with pytest.raises(ValidationError, match="unknown channel 'pager'"):
        AlertsConfig.model_validate({"routes": [{"channels": ["pager"]}]})
    with pytest.raises(ValidationError, match="webhook channel needs a secret"):
        AlertsConfig.model_validate({"channels": {"h": {"type": "webhook", "url": "http://x"}}})


def test_a_generic_outbox_runner_can_send_through_the_handler(runtime, ops_brand, http_sink):

    _raise(runtime, ops_brand, runtime.clock.now(), "late")
    with unit_of_work(runtime.sessions) as session:
        routing.dispatch(session, ops_brand, runtime.clock.now(), runtime.settings)
    handler = runtime.reactions.outbox[routing.TOPIC]
    with unit_of_work(runtime.sessions) as session:
        handler(session, session.scalars(select(OutboxMessage)).one())
    assert [path for path, _, _ in http_sink.received] == ["/slack"]


def test_shopper_text_stays_text_in_email_and_webhook(runtime, ops_brand, http_sink, smtp_server):
    """A ship-to state with a line break (older data; the API refuses it now) must not add
    headers to the e-mail, nor stop the delivery; the webhook carries it verbatim as JSON."""
    region = "CA\r\nBcc: victim@evil.example"
    incident = LaneIncident("fedex", region, 12, 20, 0.6, 0.05)
    with unit_of_work(runtime.sessions) as session:
        alerts.raise_alert(
            session,
            ops_brand,
            runtime.clock.now(),
            kind="lane_incident",
            severity="critical",  # fedex + critical: mail; lane_incident: hook
            title=incident.title,
            dedupe_key=incident.dedupe_key,
            carrier="fedex",
            region=region,
        )
    assert _dispatch_and_deliver(runtime, ops_brand) == 2
    ((recipients, mail),) = smtp_server.messages
    assert recipients == ["ops@northwind.example"] and mail["Bcc"] is None
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", mail["Subject"])  # RFC 5322 folding
    assert unfolded == (
        "shipflow critical: fedex lane incident to CA  Bcc: victim@evil.example: "
        "12 of 20 shipments late (60%, usually 5%)"
    )
    ((_, body),) = _by_path(http_sink, "/hook")
    assert json.loads(body)["alerts"][0]["region"] == region

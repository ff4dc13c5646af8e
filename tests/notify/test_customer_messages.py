"""Customer messages end to end on a real database and a real local SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from shipflow.notify.customer import deliver_due, queue
from shipflow.notify.senders import (
    SIGNATURE_HEADER,
    OutgoingMessage,
    ProviderWebhookSender,
    SendError,
    SmtpSender,
    verify,
)
from shipflow.notify.templates import Milestone
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow

NOON_NY = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; the test reads what arrived."""
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd checks readiness on a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}?from=hello@northwind.example"
    controller.stop()


@pytest.fixture
def order(runtime, brands):
    with runtime.sessions() as session:
        brand = session.get(Brand, brands["a"]["id"])
        brand.settings = {"languages": ["en", "ja"]}
        row = Order(
            brand_id=brand.id,
            order_number="1001",
            customer_email="ada@example.com",
            customer_phone="+15555550100",
            currency="USD",
            language="ja",
        )
        session.add(row)
        session.flush()
        session.add(Shipment(id="shp_1", brand_id=brand.id, order_id=row.id, carrier="sandbox"))
        session.commit()
        return row.id


def _queue(session, order_id, milestone=Milestone.SHIPPED, now=NOON_NY, **kw):
    order = session.get(Order, order_id)
    brand = session.get(Brand, order.brand_id)
    context = {"delivery_date": "11/26", "link": "https://t/x"}
    return queue(
        session,
        brand=brand,
        order=order,
        milestone=milestone,
        context=context,
        now=now,
        customer_zone="America/New_York",
        shipment_id="shp_1",
        **kw,
    )


def test_message_sent_once_in_customers_language(runtime, order, smtp_server):
    inbox, url = smtp_server
    with runtime.sessions() as session:
        assert _queue(session, order) is not None
        assert _queue(session, order) is None  # the same milestone again: not queued
        session.commit()
        assert deliver_due(session, NOON_NY, {"email": SmtpSender(url)}) == 1
        session.commit()
        assert deliver_due(session, NOON_NY, {"email": SmtpSender(url)}) == 0
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "ada@example.com"
    assert "発送しました" in str(make_header(decode_header(mail["Subject"])))


def test_quiet_hours_hold_the_message(runtime, order, smtp_server):
    inbox, url = smtp_server
    late_evening = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 in New York
    with runtime.sessions() as session:
        row = _queue(session, order, now=late_evening)
        session.commit()
        assert row.send_after == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
        assert deliver_due(session, late_evening, {"email": SmtpSender(url)}) == 0
        assert deliver_due(session, row.send_after, {"email": SmtpSender(url)}) == 1
        session.commit()
    assert len(inbox.messages) == 1


def test_unreachable_smtp_retries_then_fails(runtime, order):
    sender = SmtpSender("smtp://127.0.0.1:9", timeout=0.5)
    now = NOON_NY
    with runtime.sessions() as session:
        _queue(session, order)
        session.commit()
        for _ in range(5):
            deliver_due(session, now, {"email": sender})
            session.commit()
            now += timedelta(hours=1)
        row = session.scalar(select(CustomerMessageRow))
        assert row.status == "failed" and row.attempts == 5 and "127.0.0.1:9" in row.error


def test_sms_through_signed_provider_webhook(runtime, order, loopback_destinations):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers[SIGNATURE_HEADER]))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/sms"
    try:
        with runtime.sessions() as session:
            _queue(session, order, channel="sms")
            session.commit()
            sender = ProviderWebhookSender(url, "provider-secret", "sms", loopback_destinations)
            assert deliver_due(session, NOON_NY, {"sms": sender}) == 1
    finally:
        server.shutdown()
    body, signature = received[0]
    assert verify("provider-secret", body, signature)
    assert not verify("wrong-secret", body, signature)
    assert json.loads(body)["to"] == "+15555550100"


def test_bad_smtp_url_is_rejected():
    with pytest.raises(ValueError, match="smtp://host:port"):
        SmtpSender("http://mail")
    with pytest.raises(SendError):
        SmtpSender("smtp://127.0.0.1:9", timeout=0.2).send(OutgoingMessage("a@b.c", "s", "b"))

"""`smtp_url` with `?starttls=true` upgrades the connection for ops alerts and customer
messages alike: a real aiosmtpd that refuses mail before STARTTLS (RFC 3207) receives both."""

from __future__ import annotations

import email
import socket
import ssl
import subprocess
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from shipflow.brands import sync_brand
from shipflow.customer_messages import customer_senders, deliver_due, queue
from shipflow.delays import alerts, routing
from shipflow.delays.config import AlertsConfig
from shipflow.notify.templates import Milestone
from shipflow.store.db import unit_of_work
from shipflow.store.models import Brand, Order
from tests.conftest import configure_brand

NOON_NY = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


class _Mailbox:
    def __init__(self):
        self.received = []  # (recipients, message, whether the session was encrypted)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        message = email.message_from_bytes(envelope.content)
        self.received.append((envelope.rcpt_tos, message, session.ssl is not None))
        return "250 OK"


@pytest.fixture
def tls_context(tmp_path) -> ssl.SSLContext:
    """A server context with a self-signed certificate made for this test."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def starttls_server(runtime, tls_context):
    """aiosmtpd requiring STARTTLS; the runtime's `smtp_url` points at it with starttls=true."""
    mailbox = _Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks readiness on a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls_context,
        require_starttls=True,
    )
    controller.start()
    url = f"smtp://127.0.0.1:{port}?starttls=true&from=hello@northwind.example"
    runtime.settings = runtime.settings.model_copy(update={"smtp_url": url})
    yield mailbox
    controller.stop()


def test_customer_mail_is_upgraded_to_tls(runtime, starttls_server):
    with unit_of_work(runtime.sessions) as session:
        brand = session.get(Brand, sync_brand(session, runtime.settings.brands[0]).id)
        order = Order(
            brand_id=brand.id, order_number="1001", customer_email="ada@example.com", currency="USD"
        )
        session.add(order)
        session.flush()
        queue(
            session,
            brand=brand,
            order=order,
            milestone=Milestone.RETURN_RECEIVED,
            context={},
            now=NOON_NY,
            customer_zone="America/New_York",
            settings=runtime.settings,
        )
    with runtime.sessions() as session:
        assert deliver_due(session, NOON_NY, customer_senders(runtime.settings)) == 1
    ((recipients, mail, encrypted),) = starttls_server.received
    assert recipients == ["ada@example.com"] and encrypted
    assert mail["From"] == f"{runtime.settings.brands[0].name} <hello@northwind.example>"


def test_ops_mail_is_upgraded_to_tls(runtime, starttls_server):
    code = runtime.settings.brands[0].code
    channels = {"mail": {"type": "email", "to": ["ops@northwind.example"]}}
    configure_brand(
        runtime,
        code,
        alerts=AlertsConfig.model_validate(
            {"channels": channels, "routes": [{"channels": ["mail"]}]}
        ),
    )
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        brand_id = sync_brand(session, runtime.settings.brand(code)).id
        alerts.raise_alert(
            session, brand_id, now, kind="late", severity="warning", title="late", dedupe_key="k"
        )
        routing.dispatch(session, brand_id, now, runtime.settings)
    assert routing.deliver_due(runtime) == 1
    ((recipients, mail, encrypted),) = starttls_server.received
    assert recipients == ["ops@northwind.example"] and encrypted
    assert mail["Subject"] == "shipflow warning: late"

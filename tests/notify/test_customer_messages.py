"""Customer messages end to end on a real database and a real local SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, time, timedelta
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from pydantic import ValidationError
from sqlalchemy import select

from shipflow import customer_messages as customer
from shipflow.config import NotificationsConfig, QuietHoursConfig
from shipflow.customer_messages import CustomerSenders, deliver_due, queue
from shipflow.notify import transports
from shipflow.notify.config import CustomerChannelsConfig
from shipflow.notify.templates import Milestone, Template
from shipflow.notify.transports import (
    SIGNATURE_HEADER,
    ProviderTransport,
    SendError,
    SmtpTransport,
    verify,
)
from shipflow.store.models import Brand, Order, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow
from tests.conftest import configure_brand
from tests.notify.test_smtp_pipelining import PipeliningServer
from tests.statements import statements_sent

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
    controller = Controller(inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}?from=hello@northwind.example"
    controller.stop()


@pytest.fixture
def order(runtime, brands):
    configure_brand(runtime, "brand-a", languages=["en", "ja"])
    with runtime.sessions() as session:
        brand = session.get(Brand, brands["a"]["id"])
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


def _queue(session, settings, order_id, milestone=Milestone.SHIPPED, now=NOON_NY, **kw):
    order = session.get(Order, order_id)
    brand = session.get(Brand, order.brand_id)
    context = {"delivery_date": "11/26", "link": "https://t/x"}
    message_id = queue(
        session,
        brand=brand,
        order=order,
        milestone=milestone,
        context=context,
        now=now,
        customer_zone="America/New_York",
        settings=settings,
        shipment_id="shp_1",
        **kw,
    )
    return message_id and session.get_one(CustomerMessageRow, message_id)


def test_message_sent_once_in_customers_language(runtime, order, smtp_server):
    inbox, url = smtp_server
    with runtime.sessions() as session:
        assert _queue(session, runtime.settings, order) is not None
        assert (
            _queue(session, runtime.settings, order) is None
        )  # the same milestone again: not queued
        session.commit()
        assert deliver_due(session, NOON_NY, CustomerSenders(SmtpTransport(url))) == 1
        session.commit()
        assert deliver_due(session, NOON_NY, CustomerSenders(SmtpTransport(url))) == 0
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "ada@example.com"
    assert "発送しました" in str(make_header(decode_header(mail["Subject"])))


def test_quiet_hours_hold_the_message(runtime, order, smtp_server):
    inbox, url = smtp_server
    late_evening = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 in New York
    with runtime.sessions() as session:
        row = _queue(session, runtime.settings, order, now=late_evening)
        session.commit()
        assert row.send_after == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
        assert deliver_due(session, late_evening, CustomerSenders(SmtpTransport(url))) == 0
        assert deliver_due(session, row.send_after, CustomerSenders(SmtpTransport(url))) == 1
        session.commit()
    assert len(inbox.messages) == 1


def test_brand_wording_and_quiet_hours_come_from_its_configuration(runtime, order):
    late_evening = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 in New York
    wording = {Milestone.SHIPPED: {"ja": Template("{{ brand }}: {{ order_number }}", "{{ link }}")}}
    quiet = QuietHoursConfig(start=time(23, 0), end=time(6, 30))
    notifications = NotificationsConfig(quiet_hours=quiet, templates=wording)
    configure_brand(runtime, "brand-a", notifications=notifications)
    with runtime.sessions() as session:
        row = _queue(session, runtime.settings, order, now=late_evening)
        assert (row.subject, row.body) == ("Brand A: 1001", "https://t/x")
        assert row.send_after == late_evening  # before 23:00 there: sent now
        later = _queue(
            session,
            runtime.settings,
            order,
            Milestone.DELAYED,
            now=late_evening + timedelta(hours=2),
        )
        assert later.send_after == datetime(2026, 11, 24, 11, 30, tzinfo=UTC)  # 06:30 there


def test_unreachable_smtp_retries_then_fails(runtime, order):
    sender = CustomerSenders(SmtpTransport("smtp://127.0.0.1:9", timeout=0.5))
    now = NOON_NY
    with runtime.sessions() as session:
        _queue(session, runtime.settings, order)
        session.commit()
        for _ in range(5):
            deliver_due(session, now, sender)
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
            _queue(session, runtime.settings, order, channel="sms")
            session.commit()
            sms = ProviderTransport(url, "provider-secret", "sms", loopback_destinations)
            senders = CustomerSenders(transports.LogTransport(), {("brand-a", "sms"): sms})
            assert deliver_due(session, NOON_NY, senders) == 1
    finally:
        server.shutdown()
    body, signature = received[0]
    assert verify("provider-secret", body, signature)
    assert not verify("wrong-secret", body, signature)
    assert json.loads(body)["to"] == "+15555550100"


def test_an_address_beyond_ascii_goes_out_with_smtputf8(smtp_server):
    inbox, url = smtp_server
    transport = SmtpTransport(url)
    transport.send(transports.Message("k", "Shipped", "Hello", "ada@example.com", "Northwind"))
    transport.send(transports.Message("k2", "Shipped", "Hello", "用户@例子.广告", "Northwind"))
    assert [m["X-RcptTo"] for m in inbox.messages] == ["ada@example.com", "用户@例子.广告"]
    assert [m["X-MailFrom"] for m in inbox.messages] == ["hello@northwind.example"] * 2


def test_bad_smtp_url_is_rejected():
    with pytest.raises(ValueError, match="smtp://host:port"):
        SmtpTransport("http://mail")
    with pytest.raises(SendError):
        SmtpTransport("smtp://127.0.0.1:9", timeout=0.2).send(
            transports.Message("k", "s", "b", "a@b.c")
        )


POISONED = "1002\r\nBcc: victim@evil.example"


def _orders_with_messages(runtime, brand_id, numbers) -> list[str]:
    """One order, shipment and queued message per number, due one minute apart (in order),
    inserted directly as older data would be, past any API validation."""
    ids = []
    with runtime.sessions() as session:
        brand = session.get(Brand, brand_id)
        for i, number in enumerate(numbers):
            order = Order(
                brand_id=brand_id,
                order_number=number,
                customer_email=f"c{i}@example.com",
                currency="USD",
            )
            session.add(order)
            session.flush()
            session.add(
                Shipment(id=f"shp_{i}", brand_id=brand_id, order_id=order.id, carrier="ups")
            )
            message_id = queue(
                session,
                brand=brand,
                order=order,
                milestone=Milestone.SHIPPED,
                context={"delivery_date": "11/26", "link": "https://t/x"},
                now=NOON_NY - timedelta(minutes=len(numbers) - i),
                customer_zone="America/New_York",
                settings=runtime.settings,
                shipment_id=f"shp_{i}",
            )
            session.flush()
            ids.append(message_id)
        session.commit()
    return ids


def _rows(runtime, ids) -> list[CustomerMessageRow]:
    with runtime.sessions() as session:
        return [session.get(CustomerMessageRow, i) for i in ids]


def test_unbuildable_message_fails_alone_and_the_rest_go_out_once(runtime, brands, smtp_server):
    inbox, url = smtp_server
    ids = _orders_with_messages(runtime, brands["a"]["id"], ["1001", POISONED, "1003"])
    sender = CustomerSenders(SmtpTransport(url))
    with runtime.sessions() as session:
        assert deliver_due(session, NOON_NY, sender) == 2
    with runtime.sessions() as session:
        assert deliver_due(session, NOON_NY + timedelta(hours=1), sender) == 0
    assert sorted(m["To"] for m in inbox.messages) == ["c0@example.com", "c2@example.com"]
    assert all(m["Bcc"] is None for m in inbox.messages)
    first, poisoned, last = _rows(runtime, ids)
    assert (first.status, last.status) == ("sent", "sent")
    assert poisoned.status == "failed" and poisoned.sent_at is None
    assert poisoned.error == (
        "Subject header must not contain control characters (found U+000D); "
        "remove line breaks, tabs and other invisible characters"
    )


def test_a_connection_dropped_mid_batch_keeps_the_unanswered_message_queued(runtime, brands):
    """The second message's end went unanswered: it stays queued, retried later; the first
    and third (the third's envelope, written with the second's end, sent again on a new
    connection) are sent once."""
    server = PipeliningServer(drop_at=2)
    ids = _orders_with_messages(runtime, brands["a"]["id"], ["1001", "1002", "1003"])
    sender = CustomerSenders(SmtpTransport(f"smtp://127.0.0.1:{server.port}", timeout=3))
    with runtime.sessions() as session:
        assert deliver_due(session, NOON_NY, sender) == 2
    first, second, third = _rows(runtime, ids)
    assert (first.status, third.status) == ("sent", "sent")
    assert (second.status, second.attempts) == ("scheduled", 1)
    assert second.send_after == NOON_NY + timedelta(minutes=2) and "127.0.0.1" in second.error
    with runtime.sessions() as session:
        assert deliver_due(session, NOON_NY + timedelta(minutes=2), sender) == 1
    assert _rows(runtime, ids)[1].status == "sent"
    arrived = [line for line in server.lines if line.startswith(b"To: ")]
    assert arrived == [b"To: c%d@example.com\r\n" % n for n in (0, 1, 2, 1)]
    server.listener.close()


class CrashOnSecond:
    """A sender that breaks unexpectedly on its second message (a bug, a lost worker)."""

    def __init__(self):
        self.sent = []

    def send(self, message: transports.Message) -> None:
        if len(self.sent) == 1:
            self.sent.append(None)
            raise RuntimeError("worker lost")
        self.sent.append(message.recipient)


def test_a_crash_later_in_the_batch_cannot_undo_or_repeat_earlier_sends(runtime, brands):
    ids = _orders_with_messages(runtime, brands["a"]["id"], ["1001", "1002", "1003"])
    crashing = CrashOnSecond()
    with runtime.sessions() as session, pytest.raises(RuntimeError):
        deliver_due(session, NOON_NY, CustomerSenders(crashing))
    assert [row.status for row in _rows(runtime, ids)] == ["sent", "scheduled", "scheduled"]

    healthy = CrashOnSecond()
    healthy.sent = [None, None]  # past its crash
    with runtime.sessions() as session:
        assert deliver_due(session, NOON_NY, CustomerSenders(healthy)) == 1  # the crashed one waits
    with runtime.sessions() as session:
        later = NOON_NY + customer.CLAIM_LEASE
        assert deliver_due(session, later, CustomerSenders(healthy)) == 1  # its lease lapsed
        assert deliver_due(session, later, CustomerSenders(healthy)) == 0
    assert crashing.sent == ["c0@example.com", None]
    assert healthy.sent[2:] == ["c2@example.com", "c1@example.com"]
    assert [row.status for row in _rows(runtime, ids)] == ["sent"] * 3


def test_the_channel_is_the_brands_first_the_customer_can_be_reached_on():
    sms = {"url": "https://sms.example/send", "secret": "s"}
    channels = CustomerChannelsConfig.model_validate(
        {"prefer": ["sms", "email"], "providers": {"sms": sms}}
    )
    with_phone = Order(customer_email="ada@example.com", customer_phone="+15555550100")
    without_phone = Order(customer_email="ada@example.com", customer_phone="")
    assert customer.choose_channel(channels, with_phone) == "sms"
    assert customer.choose_channel(channels, without_phone) == "email"
    assert customer.choose_channel(CustomerChannelsConfig(), with_phone) == "email"
    only_sms = channels.model_copy(update={"prefer": ["sms"]})
    assert customer.choose_channel(only_sms, without_phone) is None


def test_customer_channels_need_a_known_name_and_a_provider():
    with pytest.raises(ValidationError, match="unknown customer channel 'pigeon'"):
        CustomerChannelsConfig.model_validate({"prefer": ["pigeon"]})
    with pytest.raises(ValidationError, match=r"'whatsapp' needs providers\.whatsapp"):
        CustomerChannelsConfig.model_validate({"prefer": ["whatsapp", "email"]})


class Recording:
    def __init__(self):
        self.sent = []

    def send(self, message: transports.Message) -> None:
        self.sent.append(message.recipient)


def test_a_sent_batch_is_settled_in_one_statement(runtime, brands):
    ids = _orders_with_messages(runtime, brands["a"]["id"], ["1001", "1002", "1003", "1004"])
    sender = Recording()
    with statements_sent(runtime.engine) as statements, runtime.sessions() as session:
        assert deliver_due(session, NOON_NY, CustomerSenders(sender)) == 4
    writes = [s.split()[0] for s in statements if s.split()[0] in ("UPDATE", "INSERT")]
    assert writes == ["UPDATE", "UPDATE"]  # the claim, the settling
    reads = [s for s in statements if s.split()[0] == "SELECT"]
    assert len(reads) == 2  # their order and the brands: the claim returns what is sent
    assert sender.sent == ["c0@example.com", "c1@example.com", "c2@example.com", "c3@example.com"]
    rows = _rows(runtime, ids)
    assert [(row.status, row.attempts, row.sent_at) for row in rows] == [("sent", 1, NOON_NY)] * 4


def test_a_batch_goes_out_over_several_connections_each_customers_in_order(
    runtime, brands, smtp_server
):
    inbox, url = smtp_server
    brand_id = brands["a"]["id"]
    _orders_with_messages(runtime, brand_id, [str(1001 + i) for i in range(8)])
    with runtime.sessions() as session:  # then each customer's parcel is out for delivery
        brand = session.get(Brand, brand_id)
        orders = session.scalars(select(Order).where(Order.brand_id == brand_id))
        for order in sorted(orders, key=lambda o: o.order_number):
            queue(
                session,
                brand=brand,
                order=order,
                milestone=Milestone.OUT_FOR_DELIVERY,
                context={"link": "https://t/x"},
                now=NOON_NY - timedelta(seconds=30),
                customer_zone="America/New_York",
                settings=runtime.settings,
                shipment_id=f"shp_{int(order.order_number) - 1001}",
            )
        session.commit()
    senders = CustomerSenders(SmtpTransport(url), connections=4)
    with runtime.sessions() as session:
        assert deliver_due(session, NOON_NY, senders) == 16
    by_customer: dict[str, list[tuple[str, str]]] = {}
    for message in inbox.messages:
        by_customer.setdefault(message["To"], []).append((message["X-Peer"], message["Subject"]))
    assert len({peer for peer, _ in sum(by_customer.values(), [])}) == 4  # four connections
    for sent in by_customer.values():
        assert sent[0][0] == sent[1][0]  # one customer's on one connection
        assert [subject.rsplit(" ", 2)[1:] for _, subject in sent] == [
            ["its", "way"],
            ["arrives", "today"],
        ]

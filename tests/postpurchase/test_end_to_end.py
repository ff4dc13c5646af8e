"""The post-purchase flows end to end on the sandbox carrier: its simulated network scans the
parcel, tracking ingests the scans, the outbox runs the post-purchase handlers, the customer
acts on the pages, the sandbox takes the instruction and the store hears about returns."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from carriers.base import CarrierAccount, ShipmentRequest
from carriers.sandbox import SandboxCarrier
from carriers.sandbox.carrier import ShipmentBook
from shipflow.carrier_accounts import CarrierFactory
from shipflow.domain import Address, Parcel
from shipflow.domain.events import StoreWebhook
from shipflow.jobs.outbox import dispatch_due
from shipflow.jobs.postpurchase import deliver_messages
from shipflow.notify.config import CustomerChannelsConfig
from shipflow.notify.transports import SIGNATURE_HEADER, verify
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow, NdrCaseRow, ReturnRequestRow
from shipflow.tracking.ingest import ingest
from tests.carriers.sandbox_profiles import ALWAYS_MISSED, CALM
from tests.conftest import configure_brand
from tests.postpurchase.factories import BRAND, EMAIL, demo_brand, order

WAREHOUSE = Address("US", "08817", "Edison", "NJ", "1 Dock Rd", name="Northwind")
CUSTOMER = Address("US", "62704", "Springfield", "IL", "742 Evergreen Terrace", name="Parisa")


def sandbox_carrier(clock, profile) -> SandboxCarrier:
    account = CarrierAccount("sandbox", "sandbox-main", {"webhook_secret": "s"})
    return SandboxCarrier(account, clock=clock, profile=profile, book=ShipmentBook())


@pytest.fixture
def use_sandbox(monkeypatch, clock):
    def install(profile):
        carrier = sandbox_carrier(clock, profile)
        monkeypatch.setattr(CarrierFactory, "of_shipment", lambda *a: carrier)
        monkeypatch.setattr(CarrierFactory, "of_brand", lambda *a: [carrier])
        return carrier

    return install


def shipped_order(runtime, carrier, brand_id, phone: str = "") -> str:
    label = carrier.create_label(
        ShipmentRequest(WAREHOUSE, CUSTOMER, [Parcel(1200, 300, 200, 100)], "ground")
    )
    _, shipment_id = order(
        runtime, brand_id, status="pending", tracking_number=label.tracking_number, phone=phone
    )
    return shipment_id


def sync(runtime, carrier, shipment_id) -> str:
    """Poll the sandbox once, ingest what it says, run the outbox; the shipment's status."""
    with runtime.sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        for update in carrier.track([shipment.tracking_number]):
            ingest(
                session,
                shipment,
                update,
                "poll",
                runtime.clock.now(),
                runtime.reactions.in_transaction,
            )
        session.commit()
    while dispatch_due(runtime):
        pass
    with runtime.sessions() as session:
        return session.get(Shipment, shipment_id).status


def advance_until(runtime, clock, carrier, shipment_id, status, step=timedelta(hours=1)):
    for _ in range(24 * 20):
        if sync(runtime, carrier, shipment_id) == status:
            return
        clock.advance(step)
    raise AssertionError(f"shipment never reached {status}")


def messages(runtime, milestone) -> list[CustomerMessageRow]:
    with runtime.sessions() as session:
        query = select(CustomerMessageRow).where(CustomerMessageRow.milestone == milestone)
        return list(session.scalars(query.order_by(CustomerMessageRow.send_after)))


def case_of(runtime, shipment_id) -> NdrCaseRow:
    with runtime.sessions() as session:
        return session.scalar(select(NdrCaseRow).where(NdrCaseRow.shipment_id == shipment_id))


def test_missed_delivery_rescheduled_by_the_customer_then_delivered(
    runtime, client, clock, use_sandbox
):
    carrier = use_sandbox(ALWAYS_MISSED)
    brand = demo_brand(runtime)
    shipment_id = shipped_order(runtime, carrier, brand.brand_id)
    advance_until(runtime, clock, carrier, shipment_id, "attempt_failed")

    (missed,) = messages(runtime, "attempt_failed")
    assert missed.recipient == EMAIL and [m.milestone for m in messages(runtime, "shipped")]
    path = re.search(r"https?://[^/]+(/ndr/\S+)", missed.body).group(1)
    html = client.get(path).get_data(as_text=True)
    assert "Nobody was available to receive the parcel." in html
    day = re.search(r'<option value="(\d{4}-\d\d-\d\d)"', html).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    posted = client.post(
        path, data={"csrf_token": csrf, "action": "reattempt", "reattempt_on": day}
    )
    assert posted.status_code == 303

    case = case_of(runtime, shipment_id)
    assert case.state == "pushed" and case.carrier_reference.startswith("SBXI")
    (instruction,) = carrier.book.instructions(carrier_tn(runtime, shipment_id))
    assert str(instruction.instruction.reattempt_on) == day

    advance_until(runtime, clock, carrier, shipment_id, "delivered")
    with runtime.sessions() as session:
        delivered_at = session.get(Shipment, shipment_id).delivered_at
        assert delivered_at.astimezone(ZoneInfo("America/Chicago")).date().isoformat() == day
    assert case_of(runtime, shipment_id).state == "resolved"
    (delivered,) = messages(runtime, "delivered")
    assert "/t/northwind/" in delivered.body and "#feedback" in delivered.body


def carrier_tn(runtime, shipment_id) -> str:
    with runtime.sessions() as session:
        return session.get(Shipment, shipment_id).tracking_number


def test_three_missed_attempts_send_the_parcel_back(runtime, clock, use_sandbox):
    carrier = use_sandbox(ALWAYS_MISSED)
    brand = demo_brand(runtime)
    shipment_id = shipped_order(runtime, carrier, brand.brand_id)
    for attempt in (1, 2, 3):
        advance_until(runtime, clock, carrier, shipment_id, "attempt_failed")
        assert case_of(runtime, shipment_id).attempts == attempt
        if attempt < 3:
            advance_until(runtime, clock, carrier, shipment_id, "out_for_delivery")
    case = case_of(runtime, shipment_id)
    assert case.state == "return_to_sender" and case.action == "return_to_sender"
    assert case.carrier_reference.startswith("SBXI")
    advance_until(runtime, clock, carrier, shipment_id, "returned_to_sender", timedelta(hours=6))
    assert len(messages(runtime, "attempt_failed")) == 3


class StoreEndpoint(BaseHTTPRequestHandler):
    """The store: records signed webhooks; `?fail=1` answers 503 while `failing` is set."""

    received: list[tuple[dict, bytes]] = []
    failing = True

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if "fail=1" in self.path and StoreEndpoint.failing:
            self.send_response(503)
            self.end_headers()
            return
        StoreEndpoint.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def store(loopback_destinations):
    StoreEndpoint.received, StoreEndpoint.failing = [], True
    server = HTTPServer(("127.0.0.1", 0), StoreEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/returns-hook", StoreEndpoint.received
    server.shutdown()


def test_return_label_scan_and_signed_refund_webhook(runtime, client, clock, use_sandbox, store):
    url, received = store
    carrier = use_sandbox(CALM)
    brand = demo_brand(runtime, store_webhook_url=url, secret="store-secret")
    order(runtime, brand.brand_id, "NW-7")

    form = client.get("/returns/northwind").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    items = client.post(
        "/returns/northwind", data={"csrf_token": csrf, "order_number": "NW-7", "secret": EMAIL}
    ).get_data(as_text=True)
    token = re.search(r'name="order" value="([^"]+)"', items).group(1)
    done = client.post(
        "/returns/northwind/request",
        data={
            "csrf_token": csrf,
            "order": token,
            "quantity-LANTERN": "2",
            "reason-LANTERN": "wrong_size",
        },
    )
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Your return is approved" in page
    label = client.get(re.search(r'href="(/returns/label/[^"]+)" download', page).group(1))
    assert label.data.startswith(b"%PDF")

    with runtime.sessions() as session:
        request = session.scalar(select(ReturnRequestRow))
        return_shipment = request.shipment_id
        assert session.get(Shipment, return_shipment).tracking_number.startswith("SBXR")
    advance_until(runtime, clock, carrier, return_shipment, "in_transit")
    advance_until(runtime, clock, carrier, return_shipment, "delivered", timedelta(hours=3))

    events = [json.loads(body) for _, body in received]
    assert [e["event"] for e in events] == ["return.in_transit", "return.received"]
    assert events[1]["data"]["refund_amount"] == 7800
    for headers, body in received:
        assert verify("store-secret", body, headers[SIGNATURE_HEADER])
        assert not verify("other-secret", body, headers[SIGNATURE_HEADER])
    with runtime.sessions() as session:
        assert session.get(ReturnRequestRow, request.id).status == "received"

    refunded = client.post(f"/api/v1/returns/{request.id}/refunded", headers=brand.headers)
    assert refunded.json["status"] == "refunded"
    (refund,) = messages(runtime, "refund_issued")
    assert "$78.00" in refund.body


def test_a_return_parcel_is_tracked_by_polling(runtime, client, clock, use_sandbox):
    from shipflow.postpurchase import issue_return_label
    from shipflow.returns.service import ItemChoice, request_return
    from shipflow.store.models import Order
    from shipflow.tracking.polling import poll_due

    use_sandbox(CALM)
    brand = demo_brand(runtime)
    order_id, _ = order(runtime, brand.brand_id, "NW-8")
    with runtime.sessions() as session:
        request = request_return(
            session,
            session.get(Order, order_id),
            [ItemChoice("LANTERN", 1, "wrong_size")],
            clock.now(),
            "en",
            runtime.settings,
        )
        shipment = issue_return_label(runtime, session, request, clock.now())
        session.commit()
        assert shipment.carrier_account == "sandbox-main"
    assert poll_due(runtime) >= 1


def test_a_store_that_is_down_gets_the_webhook_later(runtime, clock, store):
    from shipflow.store.db import unit_of_work
    from shipflow.store.models import OutboxMessage
    from shipflow.store.outbox import enqueue

    url, received = store
    brand = demo_brand(runtime, store_webhook_url=url + "?fail=1", secret="store-secret")
    payload = {"url": url + "?fail=1", "event": "return.received", "data": {"return_id": "r1"}}
    with unit_of_work(runtime.sessions) as session:
        enqueue(session, brand.brand_id, StoreWebhook.topic, "return.received:r1", payload)
    dispatch_due(runtime)
    with runtime.sessions() as session:
        message = session.scalar(select(OutboxMessage))
        assert message.processed_at is None and "HTTP 503" in message.last_error
    StoreEndpoint.failing = False
    assert dispatch_due(runtime) == 0  # waits for its backoff
    clock.advance(timedelta(minutes=1))
    dispatch_due(runtime)
    with runtime.sessions() as session:
        assert session.scalar(select(OutboxMessage)).processed_at is not None
    headers, body = received[-1]
    assert headers["Idempotency-Key"] == "return.received:r1"
    assert verify("store-secret", body, headers[SIGNATURE_HEADER])


def test_a_customer_with_a_phone_gets_the_brands_sms(runtime, clock, use_sandbox, store):
    """The brand prefers SMS and names its provider: the customer, who gave a phone number,
    hears that the parcel shipped through the provider's signed webhook (a local server,
    through the outbound guard), not by e-mail."""
    url, received = store
    carrier = use_sandbox(CALM)
    channels = {"prefer": ["sms", "email"], "providers": {"sms": {"url": url, "secret": "sk"}}}
    configure_brand(
        runtime, BRAND, customer_channels=CustomerChannelsConfig.model_validate(channels)
    )
    brand = demo_brand(runtime)
    shipment_id = shipped_order(runtime, carrier, brand.brand_id, phone="+15555550100")
    advance_until(runtime, clock, carrier, shipment_id, "in_transit")
    clock.advance(timedelta(hours=12))  # past any quiet hours
    assert deliver_messages(runtime) == 1

    (shipped,) = messages(runtime, "shipped")
    assert (shipped.channel, shipped.recipient, shipped.status) == ("sms", "+15555550100", "sent")
    ((headers, body),) = received
    assert verify("sk", body, headers[SIGNATURE_HEADER])
    assert headers["Idempotency-Key"] == shipped.key
    sms = json.loads(body)
    assert (sms["channel"], sms["to"]) == ("sms", "+15555550100")
    assert sms["text"] == shipped.body and f"/t/{BRAND}/" in sms["text"]

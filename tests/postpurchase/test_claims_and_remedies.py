"""The carrier's proof of delivery kept by the ingest, and what ops do about a parcel never
received: a replacement through allocation and a label, a refund by the store webhook; each
audited and done once."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from carriers.sandbox.proof import door_photo
from shipflow import claims, ops_remedies
from shipflow.domain import ProofOfDelivery, Status, TrackingEvent, TrackingUpdate
from shipflow.store.claim_models import DeliveryClaim, DeliveryPhoto
from shipflow.store.db import unit_of_work
from shipflow.store.models import OutboxMessage, Shipment
from shipflow.store.ops_models import OpsAction
from shipflow.tracking.ingest import ingest
from tests.postpurchase.factories import demo_brand, order

PHOTO = door_photo((46, 94, 62), 25)
FORM = claims.ClaimForm("not_found", ("neighbours",), "", "parisa@example.com")


def delivered(runtime, shipment_id: str, proof: ProofOfDelivery) -> None:
    now = runtime.clock.now()
    scan = TrackingEvent(Status.DELIVERED, now - timedelta(hours=1), "DL", "Delivered")
    update = TrackingUpdate("sandbox", "SBXG1", (scan,), proof_of_delivery=proof)
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        ingest(session, shipment, update, "webhook", now, runtime.reactions.in_transaction)


def test_the_ingest_keeps_the_words_and_the_photo(runtime):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="out_for_delivery")
    encoded = base64.b64encode(PHOTO).decode()
    delivered(runtime, shipment_id, ProofOfDelivery(left_at=" Side door ", photo=encoded))
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, shipment_id)
        photo = session.get_one(DeliveryPhoto, shipment_id)
        assert shipment.status == Status.DELIVERED
        assert shipment.details["proof_of_delivery"] == {"left_at": "Side door", "photo": True}
        assert (photo.media_type, photo.data) == ("image/png", PHOTO)


@pytest.fixture
def claimed(runtime):
    """A delivered parcel of the demo brand with the customer's open claim."""
    brand = demo_brand(runtime, store_webhook_url="https://store.example/hooks")
    _, shipment_id = order(runtime, brand.brand_id, lines=(("MUG", 1, 1400),))
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        shipment.order.total_amount = 1400
        claims.open_claim(session, shipment, FORM, "en", runtime.clock.now())
    return shipment_id


def test_reship_sends_a_new_parcel_of_the_order_once(runtime, claimed):
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, claimed)
        action = ops_remedies.reship(session, runtime, shipment, "ops@nw.example", "Lost", now)
        replacement_id = action.details["replacement_id"]
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, claimed)
        again = ops_remedies.reship(session, runtime, shipment, "ops@nw.example", "", now)
        assert again.id == action.id
    with runtime.sessions() as session:
        original = session.get_one(Shipment, claimed)
        replacement = session.get_one(Shipment, replacement_id)
        claim = session.scalars(select(DeliveryClaim)).one()
        logged = session.scalars(select(OpsAction.action).order_by(OpsAction.created_at)).all()
        parcels = session.scalar(
            select(func.count()).select_from(Shipment).where(Shipment.order_id == original.order_id)
        )
    assert (replacement.order_id, replacement.kind, replacement.carrier) == (
        original.order_id, "forward", "sandbox",
    )  # fmt: skip
    assert replacement.tracking_number and replacement.tracking_number != original.tracking_number
    assert replacement.details["replaces"] == claimed
    assert (claim.replacement_id, claim.state) == (replacement_id, "closed")
    assert logged == ["claim_opened", "reship"] and parcels == 2


def test_refund_goes_to_the_store_webhook_once(runtime, claimed):
    now = runtime.clock.now()
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, claimed)
        first = ops_remedies.refund(session, runtime, shipment, "ops@nw.example", "Lost", now)
        again = ops_remedies.refund(session, runtime, shipment, "ops@nw.example", "", now)
        assert again.id == first.id
    with runtime.sessions() as session:
        (message,) = session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "store.webhook")
        ).all()
        claim = session.scalars(select(DeliveryClaim)).one()
    assert message.payload == {
        "url": "https://store.example/hooks",
        "event": "refund.requested",
        "data": {
            "order_number": "NW-1001",
            "shipment_id": claimed,
            "refund_amount": 1400,
            "currency": "USD",
            "reason": "not_received",
            "note": "Lost",
        },
    }
    assert claim.state == "closed" and claim.refunded_at is None  # the store has not said yet


def test_refund_without_a_shop_or_store_to_ask_is_refused(runtime):
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id)
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        with pytest.raises(ops_remedies.RemedyRefused, match="store_webhook_url"):
            ops_remedies.refund(
                session, runtime, shipment, "ops@nw.example", "", runtime.clock.now()
            )
    with runtime.sessions() as session:
        assert session.scalars(select(OpsAction)).all() == []

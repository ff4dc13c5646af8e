"""Deliveries through the receipts batch: the proof of delivery's photo kept once per parcel,
a history row per delivered order for the delivery-date model, the parcels' delay alerts
resolved, idempotent on a replayed event, nothing lost for a bad event in the batch, and a
batch's writes set-based (the same statements for 30 deliveries as for 3, no ORM object a
parcel)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event as sa_event
from sqlalchemy import select

from shipflow.store.claim_models import DeliveryPhoto
from shipflow.store.edd_models import DeliveryHistoryRow
from shipflow.store.models import Alert, Shipment
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking.webhooks import process_due_receipts
from tests.statements import statements_sent
from tests.tracking.fake_carrier import event, payload
from tests.tracking.helpers import at, late_orders, post_webhook

PHOTO = b"\x89PNG\r\n\x1a\n a door and a parcel"
PROOF = {"left_at": " porch ", "photo": base64.b64encode(PHOTO).decode()}


def _scan(client, tracked, clock, numbers, code: str, status: str, **kw) -> None:
    for number in numbers:
        body = payload(number, event(code, status, at(clock, -1 if code == "DL" else -3)), **kw)
        assert post_webhook(client, tracked["tb"], body).status_code == 202


def _moving(client, runtime, tracked, make_shipment, clock, numbers) -> None:
    """Shipments with quotable orders (their promise broken: each has a `late` alert open),
    moved to in transit."""
    late_orders(runtime, tracked, make_shipment, clock, numbers)
    _scan(client, tracked, clock, numbers, "PU", "in_transit")
    assert process_due_receipts(runtime, limit=100) == len(numbers)


def _delivered(runtime) -> tuple[dict, dict, dict]:
    """Per tracking number: its stored photo, its history rows' sources, its status and proof."""
    with runtime.sessions() as session:
        numbers = dict(session.execute(select(Shipment.id, Shipment.tracking_number)).all())
        photos = {
            numbers[p.shipment_id]: (p.media_type, p.data)
            for p in session.scalars(select(DeliveryPhoto))
        }
        history: dict[str, list[str]] = {}
        for order_id, source in session.execute(
            select(DeliveryHistoryRow.order_id, DeliveryHistoryRow.source)
        ):
            history.setdefault(numbers[order_id], []).append(source)
        shipments = {
            s.tracking_number: (s.status, s.details.get("proof_of_delivery"))
            for s in session.scalars(select(Shipment))
        }
    return photos, history, shipments


def test_deliveries_keep_each_photo_once_and_a_history_row_per_order_even_when_replayed(
    client, runtime, tracked, make_shipment, clock
):
    numbers = ["D1", "D2", "D3"]
    _moving(client, runtime, tracked, make_shipment, clock, numbers)
    _scan(client, tracked, clock, numbers, "DL", "delivered", proof=PROOF)
    assert process_due_receipts(runtime, limit=100) == 3
    first = _delivered(runtime)
    photos, history, shipments = first
    assert photos == {n: ("image/png", PHOTO) for n in numbers}
    assert history == {n: ["tracked"] for n in numbers}
    proof = {"left_at": "porch", "photo": True}
    assert shipments == {n: ("delivered", proof) for n in numbers}
    with runtime.sessions() as session:
        late = session.execute(select(Alert.kind, Alert.status, Alert.acknowledged_by)).all()
    assert late == [("late", "resolved", "shipflow")] * 3

    _scan(client, tracked, clock, numbers, "DL", "delivered", proof=PROOF)  # sent again
    assert process_due_receipts(runtime, limit=100) == 3
    assert _delivered(runtime) == first


def test_a_bad_event_in_a_batch_of_deliveries_loses_none_of_the_others(
    client, runtime, tracked, make_shipment, clock
):
    """One whose proof of delivery cannot be kept (a number where the signer's name goes,
    which the adapter passed on): the batch fails as a whole, then each receipt is processed
    alone, so only the bad one is held, for a retry."""
    numbers = ["G1", "G2", "BAD", "G3"]
    _moving(client, runtime, tracked, make_shipment, clock, numbers)
    for number in numbers:
        proof = {"signed_by": 1234} if number == "BAD" else PROOF
        scan = event("DL", "delivered", at(clock, -1))
        post_webhook(client, tracked["tb"], payload(number, scan, proof=proof))
    assert process_due_receipts(runtime, limit=100) == 4

    photos, history, shipments = _delivered(runtime)
    good = ["G1", "G2", "G3"]
    assert sorted(photos) == sorted(history) == good
    assert {n: status for n, (status, _) in shipments.items()} == {
        **dict.fromkeys(good, "delivered"),
        "BAD": "in_transit",
    }
    with runtime.sessions() as session:
        errors = session.scalars(
            select(WebhookReceipt.error).where(WebhookReceipt.error.is_not(None))
        ).all()
    assert errors == ["AttributeError: 'int' object has no attribute 'strip'"]


def test_a_batch_of_30_deliveries_sends_the_statements_of_a_batch_of_3(
    client, runtime, tracked, make_shipment, clock
):
    """Set-based per batch: the photos kept by one upsert (an ORM merge read each photo's
    row first), the history stored by one INSERT ... ON CONFLICT DO NOTHING (it looked the
    batch's orders up, then flushed a row each): neither is read; the parcels' open alerts
    read as rows and resolved by one UPDATE (an ORM object each, resolved by the flush)."""
    small, large = [f"S{n}" for n in range(3)], [f"L{n}" for n in range(30)]
    _moving(client, runtime, tracked, make_shipment, clock, small + large)
    sent = []
    for numbers in (small, large):
        _scan(client, tracked, clock, numbers, "DL", "delivered", proof=PROOF)
        with statements_sent(runtime.engine) as statements, _alerts_loaded() as loaded:
            assert process_due_receipts(runtime, limit=100) == len(numbers)
        sent.append([" ".join(s.split()[:4]) for s in statements])
        assert loaded == []
    assert sent[0] == sent[1]
    assert [s for s in sent[1] if "delivery_photos" in s] == [
        "INSERT INTO delivery_photos (shipment_id,"
    ]
    assert [s for s in sent[1] if "delivery_history" in s] == [
        "INSERT INTO delivery_history (brand_id,"
    ]
    photos, history, _ = _delivered(runtime)
    assert len(photos) == len(history) == 33
    with runtime.sessions() as session:
        assert set(session.scalars(select(Alert.status))) == {"resolved"}


@contextmanager
def _alerts_loaded() -> Iterator[list[Alert]]:
    loaded: list[Alert] = []

    def note(alert: Alert, _context) -> None:
        loaded.append(alert)

    sa_event.listen(Alert, "load", note)
    try:
        yield loaded
    finally:
        sa_event.remove(Alert, "load", note)

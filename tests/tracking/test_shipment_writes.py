"""`read_tracked` reads shipments as plain rows (with their orders' columns the reactions
read), a shipment the session has pending too; `stage` sets values on a row and
`write_staged` stores them, one UPDATE per set of columns however many shipments."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from shipflow.store.models import Order, Shipment
from shipflow.store.shipment_writes import TrackedOrder, read_tracked, stage, write_staged
from tests.statements import statements_sent

PLACED = datetime(2026, 11, 20, 9, tzinfo=UTC)


def _stored(runtime, shipment_id: str) -> tuple:
    with runtime.sessions() as session:
        row = session.execute(
            select(Shipment.status, Shipment.status_reason, Shipment.destination_state).where(
                Shipment.id == shipment_id
            )
        ).one()
    return tuple(row)


def test_a_shipment_is_read_with_its_orders_columns(runtime, tracked, make_shipment):
    with runtime.sessions() as session:
        order = Order(
            brand_id=tracked["tb"].id,
            order_number="R1",
            currency="USD",
            placed_at=PLACED,
            ship_to={"state": "WA", "postal_code": "98101"},
        )
        session.add(order)
        session.commit()
        order_id = order.id
    with_order = make_shipment(tracked["tb"], "RT1", order_id=order_id, details={"a": 1})
    alone = make_shipment(tracked["tb"], "RT2")
    with runtime.sessions() as session:
        rows = read_tracked(session, Shipment.id.in_([with_order, alone]))
        loaded = {s.id: s for s in session.scalars(select(Shipment))}
    assert sorted(row.id for row in rows) == [row.id for row in rows]  # in id order
    by_id = {row.id: row for row in rows}
    assert by_id[with_order].order == TrackedOrder({"state": "WA", "postal_code": "98101"}, PLACED)
    assert by_id[alone].order is None
    for row in rows:  # every other field as the ORM reads its column
        for name in row.__slots__:
            if name != "order":
                assert getattr(row, name) == getattr(loaded[row.id], name), name


def test_a_pending_shipment_is_autoflushed_then_read(runtime, tracked):
    with runtime.sessions() as session:
        pending = Shipment(brand_id=tracked["tb"].id, carrier="fake", tracking_number="RT3")
        session.add(pending)
        (row,) = read_tracked(session, Shipment.tracking_number == "RT3")
        assert (row.id, row.status) == (pending.id, "pending")


def test_staged_values_are_set_on_the_rows_and_stored_one_update_per_set_of_columns(
    runtime, tracked, make_shipment
):
    ids = [make_shipment(tracked["tb"], f"ST{n}") for n in range(3)]
    with runtime.sessions() as session:
        one, two, three = read_tracked(session, Shipment.id.in_(ids), lock=True)
        stage(session, one, status="in_transit")
        stage(session, one, status_reason="scanned")  # both columns in one UPDATE
        stage(session, two, status="in_transit", status_reason="scanned")
        stage(session, three, destination_state="CA")
        assert (one.status, one.status_reason, three.destination_state) == (
            "in_transit",
            "scanned",
            "CA",
        )
        with statements_sent(runtime.engine) as statements:
            write_staged(session)
            write_staged(session)  # nothing left: no statement
        session.commit()
    assert len([s for s in statements if s.startswith("UPDATE shipments")]) == 2
    assert _stored(runtime, one.id) == _stored(runtime, two.id) == ("in_transit", "scanned", "")
    assert _stored(runtime, three.id) == ("pending", None, "CA")

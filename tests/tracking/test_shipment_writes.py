"""`stage` sets a shipment's columns as loaded, whatever state the ORM holds it in: a clean
one (every shipment of a tracking batch, the fast path), one with a change of its own
pending, one expired; `write_staged` stores the values either way."""

from __future__ import annotations

from sqlalchemy import select

from shipflow.store.models import Shipment
from shipflow.store.shipment_writes import stage, write_staged


def _stored(runtime, shipment_id: str) -> tuple:
    with runtime.sessions() as session:
        row = session.execute(
            select(Shipment.status, Shipment.status_reason, Shipment.destination_state).where(
                Shipment.id == shipment_id
            )
        ).one()
    return tuple(row)


def test_a_clean_shipment_is_staged_as_loaded(runtime, tracked, make_shipment):
    shipment_id = make_shipment(tracked["tb"], "ST1")
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, shipment_id)
        stage(session, shipment, status="in_transit", status_reason="scanned")
        assert (shipment.status, shipment.status_reason) == ("in_transit", "scanned")
        assert shipment not in session.dirty  # nothing for the ORM's flush
        write_staged(session)
        session.commit()
    assert _stored(runtime, shipment_id) == ("in_transit", "scanned", "")


def test_a_change_of_its_own_pending_is_kept_and_flushed(runtime, tracked, make_shipment):
    shipment_id = make_shipment(tracked["tb"], "ST2")
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, shipment_id)
        shipment.destination_state = "CA"
        stage(session, shipment, status="in_transit")
        assert shipment in session.dirty
        write_staged(session)
        session.commit()
    assert _stored(runtime, shipment_id) == ("in_transit", None, "CA")


def test_an_expired_shipment_is_staged_and_reads_the_rest_again(runtime, tracked, make_shipment):
    shipment_id = make_shipment(tracked["tb"], "ST3")
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, shipment_id)
        session.expire(shipment)
        stage(session, shipment, status="delivered")
        assert shipment.status == "delivered"
        assert shipment.tracking_number == "ST3"  # loaded again, the staged value kept
        assert shipment.status == "delivered"
        write_staged(session)
        session.commit()
    assert _stored(runtime, shipment_id)[0] == "delivered"

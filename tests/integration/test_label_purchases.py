"""A label is bought at most once per order or return, on real SQLite and PostgreSQL: the
purchase is committed before the carrier is called, so a crash between the carrier's answer
and the shipment's commit leaves a pending purchase that blocks buying again and is listed by
`shipflow labels reconcile`, instead of a second label bought blindly."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carriers.base import CarrierOutcomeUnknown, CarrierRejected
from shipflow.cli import main
from shipflow.edd.service import EddService
from shipflow.label_purchases import PurchasePending
from shipflow.returns.service import ItemChoice, issue_label, request_return
from shipflow.store.label_models import LabelPurchase
from shipflow.store.models import Order, Shipment
from tests.allocation.test_api import northwind, order  # noqa: F401 (fixture)
from tests.fakes import ReturnLabelCarrier
from tests.integration.test_cli import _config
from tests.returns.test_service import NOW, WAREHOUSE, order_id  # noqa: F401 (fixture)


class Crash(Exception):
    """The process dying between the carrier's answer and the commit."""


@pytest.fixture
def carrier_calls(runtime, monkeypatch):
    """Every label the brand's sandbox account sells, counted."""
    carrier = runtime.fulfilment("northwind").carriers["sandbox-main"]
    calls = []
    sell = carrier.create_label

    def create_label(request):
        calls.append(request.reference)
        return sell(request)

    monkeypatch.setattr(carrier, "create_label", create_label)
    return calls


def purchases(runtime) -> list[LabelPurchase]:
    with runtime.sessions() as session:
        return list(session.scalars(select(LabelPurchase).order_by(LabelPurchase.created_at)))


def shipments(runtime) -> int:
    with runtime.sessions() as session:
        return len(session.scalars(select(Shipment)).all())


def crash_after_the_label(monkeypatch) -> None:
    def promise(*args):
        raise Crash

    monkeypatch.setattr(EddService, "promise_shipments", promise)


def test_crash_after_purchase_leaves_it_pending_and_blocks_a_second(
    app,
    client,
    northwind,  # noqa: F811
    runtime,
    carrier_calls,
    monkeypatch,
    runner,
    tmp_path,
    database_url,
):
    ordered = order(client, northwind, "P1")
    with monkeypatch.context() as crashing:
        crash_after_the_label(crashing)
        with pytest.raises(Crash):
            client.post(f"/api/v1/orders/{ordered}/ship", headers=northwind)
    [pending] = purchases(runtime)
    assert (pending.status, pending.order_id, pending.idempotency_key) == (
        "pending",
        ordered,
        f"order:{ordered}",
    )
    assert pending.carrier_account == "sandbox-main" and shipments(runtime) == 0
    assert len(carrier_calls) == 1

    again = client.post(f"/api/v1/orders/{ordered}/ship", headers=northwind)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert pending.id in again.json["detail"] and "shipflow labels release" in again.json["detail"]
    assert len(carrier_calls) == 1  # nothing bought blindly

    config = _config(tmp_path, database_url)
    listed = runner.invoke(main, ["--config", config, "labels", "reconcile", "--older-than", "0"])
    assert listed.exit_code == 1
    assert pending.id in listed.output and f"order={ordered}" in listed.output
    assert "brand=northwind" in listed.output and "account=sandbox-main" in listed.output
    released = runner.invoke(
        main, ["--config", config, "labels", "release", pending.id, "--note", "voided by phone"]
    )
    assert released.exit_code == 0, released.output

    shipped = client.post(f"/api/v1/orders/{ordered}/ship", headers=northwind)
    assert shipped.status_code == 201, shipped.json
    assert [p.status for p in purchases(runtime)] == ["failed", "bought"]
    assert purchases(runtime)[1].tracking_number == shipped.json["tracking_number"]
    assert len(carrier_calls) == 2


def test_unanswered_purchase_stays_pending(client, northwind, runtime, monkeypatch):  # noqa: F811
    ordered = order(client, northwind, "P2")
    carrier = runtime.fulfilment("northwind").carriers["sandbox-main"]

    def no_answer(request):
        raise CarrierOutcomeUnknown("sandbox HTTP 502: it may have been carried out", carrier="x")

    monkeypatch.setattr(carrier, "create_label", no_answer)
    response = client.post(f"/api/v1/orders/{ordered}/ship", headers=northwind)
    assert response.status_code == 502 and "may have been carried out" in response.json["detail"]
    [pending] = purchases(runtime)
    assert pending.status == "pending" and "HTTP 502" in pending.error
    assert client.post(f"/api/v1/orders/{ordered}/ship", headers=northwind).status_code == 409


def test_refused_purchase_fails_and_may_be_tried_again(client, northwind, runtime, monkeypatch):  # noqa: F811
    ordered = order(client, northwind, "P3")
    carrier = runtime.fulfilment("northwind").carriers["sandbox-main"]
    with monkeypatch.context() as refusing:

        def refuse(request):
            raise CarrierRejected("sandbox HTTP 422: address not found", carrier="sandbox")

        refusing.setattr(carrier, "create_label", refuse)
        assert client.post(f"/api/v1/orders/{ordered}/ship", headers=northwind).status_code == 502
    assert client.post(f"/api/v1/orders/{ordered}/ship", headers=northwind).status_code == 201
    assert [p.status for p in purchases(runtime)] == ["failed", "bought"]


def test_return_label_crash_is_not_bought_again(runtime, settings, order_id):  # noqa: F811
    carrier = ReturnLabelCarrier("cheapco", 650)
    with runtime.sessions() as session:
        request = request_return(
            session,
            session.get(Order, order_id),
            [ItemChoice("LANTERN", 1, "wrong_size")],
            NOW,
            "en",
            runtime.settings,
        )
        session.commit()
        request_id = request.id
    with runtime.sessions() as session:  # bought, then the process dies before the commit
        request = session.get(type(request), request_id)
        issue_label(session, settings, request, [carrier], WAREHOUSE, NOW)
        session.rollback()
    with runtime.sessions() as session:
        request = session.get(type(request), request_id)
        with pytest.raises(PurchasePending, match="label for this return"):
            issue_label(session, settings, request, [carrier], WAREHOUSE, NOW)
    assert len(carrier.labels) == 1
    [pending] = purchases(runtime)
    assert (pending.return_id, pending.carrier_account, pending.status) == (
        request_id,
        "test",
        "pending",
    )

"""A customer's choice on the failed-delivery page reaches Delhivery's NDR API, and the page
offers only what that API can do (re-attempt, on a chosen day, or corrected details)."""

from __future__ import annotations

import json
import re

import pytest
import responses
from sqlalchemy import select

from carriers.base import CarrierAccount
from carriers.delhivery import DelhiveryCarrier
from shipflow.carrier_accounts import CarrierFactory, UnknownCarrierAccount
from shipflow.domain import Reason
from shipflow.postpurchase import ndr_service
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow, NdrCaseRow
from tests.carriers.carrier_contract import fixture
from tests.postpurchase.factories import demo_brand, order

WAYBILL = "1490811234567"
NDR_URL = "https://staging-express.delhivery.com/api/p/update"


@pytest.fixture
def delhivery(monkeypatch):
    account = CarrierAccount("delhivery", "shopindia", {"api_token": "t", "pickup_location": "GGN"})
    carrier = DelhiveryCarrier(account)
    monkeypatch.setattr(CarrierFactory, "of_shipment", lambda *a: carrier)
    return carrier


@pytest.fixture
def page(runtime, delhivery) -> str:
    """The path of the customer's page for a Delhivery parcel nobody was home for."""
    brand = demo_brand(runtime)
    _, shipment_id = order(
        runtime, brand.brand_id, status="attempt_failed", tracking_number=WAYBILL
    )
    with runtime.sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        shipment.carrier, shipment.carrier_account = "delhivery", "shopindia"
        ndr_service(runtime, session).on_attempt_failed(
            shipment, Reason.CUSTOMER_UNAVAILABLE, runtime.clock.now()
        )
        session.commit()
        message = session.scalar(select(CustomerMessageRow))
    return re.search(r"https?://[^/]+(/ndr/\S+)", message.body).group(1)


def offered(html: str) -> list[str]:
    return re.findall(r'name="action" value="([a-z_]+)"', html)


def test_the_page_offers_what_delhiverys_ndr_api_does(client, page):
    assert offered(client.get(page).get_data(as_text=True)) == ["reattempt", "update_address"]


def test_a_chosen_day_reaches_delhivery_as_a_deferred_delivery(runtime, client, page):
    html = client.get(page).get_data(as_text=True)
    day = re.search(r'<option value="(\d{4}-\d\d-\d\d)"', html).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    with responses.RequestsMock() as mocked:
        mocked.add(responses.POST, NDR_URL, json=fixture("delhivery", "ndr"))
        posted = client.post(
            page, data={"csrf_token": csrf, "action": "reattempt", "reattempt_on": day}
        )
        assert posted.status_code == 303
        assert json.loads(mocked.calls[0].request.body) == {
            "data": [
                {"waybill": WAYBILL, "act": "DEFER_DLV", "action_data": {"deferred_date": day}}
            ]
        }
    with runtime.sessions() as session:
        case = session.scalar(select(NdrCaseRow))
        assert (case.state, case.carrier_reference) == ("pushed", "UPL10575891229462827496")


def test_an_action_delhivery_lacks_is_refused_on_the_page(runtime, client, page):
    html = client.get(page).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        posted = client.post(page, data={"csrf_token": csrf, "action": "return_to_sender"})
    assert posted.status_code == 400
    assert "Please choose one of the options." in posted.get_data(as_text=True)
    with runtime.sessions() as session:
        assert session.scalar(select(NdrCaseRow)).state == "awaiting_customer"


def test_without_the_carriers_account_every_action_is_offered_for_ops(monkeypatch, client, page):
    def no_account(*_):
        raise UnknownCarrierAccount("brand 'northwind' has no 'delhivery' account")

    monkeypatch.setattr(CarrierFactory, "of_shipment", no_account)
    html = client.get(page).get_data(as_text=True)
    assert offered(html) == [
        "reattempt",
        "update_address",
        "hold_at_pickup_point",
        "return_to_sender",
    ]

"""The store map: a signed link opens ECPay's map, the chosen store comes back to the page
that asked; forged, expired or unbound callbacks change nothing."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from sqlalchemy import select

from shipflow.config import parse_settings
from shipflow.links import make_token
from shipflow.ndr.service import LINK_PURPOSE
from shipflow.store.db import unit_of_work
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import NdrCaseRow
from shipflow.web.store_map.routes import store_map_path
from tests.carriers.carrier_contract import fixture
from tests.conftest import TEST_SECRET_KEY
from tests.webui.factories import make_shipment

ROOT = Path(__file__).resolve().parents[2]
RETURN_TO = "/r/tw/page-token?step=store"
CALLBACK = "/store-map/callback"
ECPAY_ACCOUNT = {
    "code": "ecpay",
    "carrier": "ecpay",
    "credentials": {
        "merchant_id": "2000132",
        "hash_key": "5294y06JbISpM5x9",
        "hash_iv": "v77hoKGq4kWxNNIS",
    },
}


@pytest.fixture
def settings(database_url):
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    warehouse = copy.deepcopy(raw["brands"][0]["warehouses"][0])
    raw["brands"][0]["carriers"].append(ECPAY_ACCOUNT)
    raw["brands"].append(
        {
            "code": "tw",
            "name": "Taipei brand",
            "warehouses": [warehouse],
            "carriers": [ECPAY_ACCOUNT, {"code": "post", "carrier": "sandbox"}],
        }
    )
    raw["database_url"] = database_url
    raw["secret_key"] = TEST_SECRET_KEY
    return parse_settings(raw, "test config", environ={})


def open_map(client, runtime, service="unimart", account="ecpay", cod=False):
    return client.get(store_map_path(runtime, "tw", account, service, RETURN_TO, cod))


def nonce_of(page) -> str:
    return re.search(r'name="ExtraData" value="([^"]+)"', page.get_data(as_text=True))[1]


def choose(client, extra_data):
    return client.post(CALLBACK, data={**fixture("ecpay", "map_reply"), "ExtraData": extra_data})


def test_the_map_opens_with_ecpays_form(client, runtime):
    page = open_map(client, runtime, cod=True)

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="https://logistics-stage.ecpay.com.tw/Express/map"' in html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert fields == {
        "MerchantID": "2000132",
        "LogisticsType": "CVS",
        "LogisticsSubType": "UNIMART",
        "IsCollection": "Y",
        "ServerReplyURL": runtime.settings.base_url.rstrip("/") + CALLBACK,
        "ExtraData": nonce_of(page),
        "Device": "0",
    }
    assert len(fields["ExtraData"]) <= 20
    policy = page.headers["Content-Security-Policy"]
    assert "form-action 'self' https://logistics-stage.ecpay.com.tw;" in policy
    assert page.headers["Cache-Control"] == "private, no-store"


def test_the_chosen_store_goes_back_to_the_page_that_asked(client, runtime):
    page = open_map(client, runtime)

    back = choose(client, nonce_of(page))

    assert back.status_code == 303
    target = urlsplit(back.headers["Location"])
    assert target.path == "/r/tw/page-token"
    assert parse_qsl(target.query) == [
        ("step", "store"),
        ("store_id", "131386"),
        ("store_name", "建盛門市"),
        ("store_address", "台北市中正區重慶南路一段122號"),
        ("store_phone", "02-23896700"),
        ("store_network", "7-ELEVEN"),
        ("store_chain", "UNIMART"),
    ]


def test_a_callback_not_bound_to_the_visit_is_refused(client, runtime):
    open_map(client, runtime)
    assert choose(client, "someone-elses").status_code == 403


def test_a_callback_without_a_visit_is_refused(client):
    assert choose(client, "whatever").status_code == 403


def test_a_tampered_link_is_refused(client, runtime):
    path = store_map_path(runtime, "tw", "ecpay", "unimart", RETURN_TO)
    assert client.get(path[:-3] + "abc").status_code == 403


def test_an_expired_link_is_refused(client, runtime, clock):
    path = store_map_path(runtime, "tw", "ecpay", "unimart", RETURN_TO)
    clock.advance(timedelta(days=2))
    assert client.get(path).status_code == 410


@pytest.mark.parametrize(
    ("service", "account"), [("tcat", "ecpay"), ("unimart", "post"), ("unimart", "nope")]
)
def test_no_map_for_home_delivery_or_other_carriers(client, runtime, service, account):
    assert open_map(client, runtime, service, account).status_code == 404


def ndr_link(runtime, carrier: str, service: str) -> str:
    shipment_id = make_shipment(runtime, "attempt_failed", reason="customer_unavailable")
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get(Shipment, shipment_id)
        shipment.carrier, shipment.carrier_account, shipment.service = carrier, "ecpay", service
        case = NdrCaseRow(
            brand_id=shipment.brand_id, shipment_id=shipment_id, state="awaiting_customer"
        )
        session.add(case)
        session.flush()
        case_id = case.id
    secret = runtime.settings.signing_key("links")
    return f"/ndr/{make_token(secret, LINK_PURPOSE, case_id, runtime.clock)}"


STORE_QUERY = "store_id=131386&store_name=建盛門市&store_address=台北市中正區重慶南路一段122號"


def test_failed_delivery_page_offers_ecpays_map_and_takes_the_store(client, runtime):
    page = ndr_link(runtime, "ecpay", "unimart")
    html = client.get(page).get_data(as_text=True)
    link = re.search(r'href="(/store-map/unimart\?return_to=[^"]+)"', html)[1]
    assert client.get(link.replace("&amp;", "&")).status_code == 200

    back = client.get(f"{page}?{STORE_QUERY}").get_data(as_text=True)
    assert (
        'value="131386" checked' in back
        and "<bdi>建盛門市</bdi> — <bdi>台北市中正區重慶南路一段122號</bdi>" in back
    )
    token = re.search(r'name="csrf_token" value="([^"]+)"', back)[1]
    form = {"csrf_token": token, "action": "hold_at_pickup_point", "pickup_point_id": "131386"}
    assert client.post(page, data=form).status_code == 303
    with runtime.sessions() as session:
        case = session.scalars(select(NdrCaseRow)).one()
        assert (case.action, case.action_details["pickup_point_id"]) == (
            "hold_at_pickup_point",
            "131386",
        )


@pytest.mark.parametrize(("carrier", "service"), [("ecpay", "tcat"), ("sandbox", "ground")])
def test_no_store_map_on_the_failed_delivery_page_of_other_parcels(
    client, runtime, carrier, service
):
    page = ndr_link(runtime, carrier, service)
    html = client.get(f"{page}?{STORE_QUERY}").get_data(as_text=True)
    assert 'href="/store-map/' not in html and 'value="131386"' not in html

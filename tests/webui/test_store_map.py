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

from shipflow.config import parse_settings
from shipflow.web.store_map.routes import store_map_path
from tests.carriers.carrier_contract import fixture
from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
RETURN_TO = "/r/tw/page-token?step=store"
CALLBACK = "/store-map/callback"


@pytest.fixture
def settings(database_url):
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    warehouse = copy.deepcopy(raw["brands"][0]["warehouses"][0])
    raw["brands"].append(
        {
            "code": "tw",
            "name": "Taipei brand",
            "warehouses": [warehouse],
            "carriers": [
                {
                    "code": "ecpay",
                    "carrier": "ecpay",
                    "credentials": {
                        "merchant_id": "2000132",
                        "hash_key": "5294y06JbISpM5x9",
                        "hash_iv": "v77hoKGq4kWxNNIS",
                    },
                },
                {"code": "post", "carrier": "sandbox"},
            ],
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


@pytest.mark.parametrize(("service", "account"), [("tcat", "ecpay"), ("unimart", "post")])
def test_no_map_for_home_delivery_or_other_carriers(client, runtime, service, account):
    assert open_map(client, runtime, service, account).status_code == 404

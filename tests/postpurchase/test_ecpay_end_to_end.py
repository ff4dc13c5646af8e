"""The Taiwan demo brand end to end on the simulated ECPay: the customer chooses a store on the
map (its callback), fulfilment buys the label from ECPay, ECPay's signed pushes move the parcel
to the store, the customer is reminded before the seven-day deadline and picks it up; or never
comes, and the parcel going back is followed up as a failed delivery, where the customer picks
another store on ECPay's map, ECPay is told, and the parcel waits there. Only HTTP to ECPay is
mocked (`responses` hands it to the simulator); shipflow's pages and webhooks are its own."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import shipflow.jobs.postpurchase as jobs
from carriers.ecpay.mapping import check_mac_value
from shipflow.brands import sync_brand
from shipflow.demo.ecpay_logistics import SimulatedECPay
from shipflow.domain import Address, PickupPoint
from shipflow.jobs.outbox import dispatch_due
from shipflow.jobs.postpurchase import push_failed_delivery_choices
from shipflow.orders import LineInput, create_order
from shipflow.shipment_links import tracking_path
from shipflow.store.db import unit_of_work
from shipflow.store.models import CarrierAccount, Shipment
from shipflow.store.postpurchase_models import CustomerMessageRow, NdrCaseRow
from shipflow.store.tracking_models import WebhookReceipt
from shipflow.tracking.webhooks import process_due_receipts
from shipflow.web.store_map.routes import store_map_path

BRAND = "formosa"
ACCOUNT = "ecpay-demo"
ECPAY = "http://127.0.0.1:8000/demo/ecpay"
FIELD = re.compile(r'name="([^"]*)" value="([^"]*)"')


def fields_of(page: str) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in FIELD.findall(page)}


@dataclass
class Harness:
    simulator: SimulatedECPay
    remote: FlaskClient  # the simulator's pages, as the customer's browser reaches them
    brand_id: str
    webhook: str
    calls: responses.CallList  # what our adapter sent ECPay


@pytest.fixture
def ecpay(runtime, client):
    """The brand synced, a simulated ECPay at the account's base URL pushing into our app."""
    config = runtime.settings.brand(BRAND)
    credentials = config.carriers[0].credentials
    with unit_of_work(runtime.sessions) as session:
        brand = sync_brand(session, config)
        account = session.scalar(
            select(CarrierAccount).where(
                CarrierAccount.brand_id == brand.id, CarrierAccount.code == ACCOUNT
            )
        )
        webhook = f"/webhooks/ecpay/{account.id}"

    def push(url: str, fields: dict[str, str]) -> None:
        answer = client.post(url, data=fields)
        assert answer.data == b"1|OK", answer.data

    simulator = SimulatedECPay(
        credentials["merchant_id"],
        credentials["hash_key"],
        credentials["hash_iv"],
        runtime.clock,
        deliver=push,
        push_url=webhook,
        pickup_hours=(140, 140),
    )
    app = Flask("simulated-ecpay")
    app.register_blueprint(simulator.blueprint(), url_prefix=urlsplit(ECPAY).path)
    remote = app.test_client()

    def forward(request):
        answer = remote.post(
            urlsplit(request.url).path,
            data=request.body,
            content_type="application/x-www-form-urlencoded",
        )
        return answer.status_code, {}, answer.data

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, re.compile(re.escape(ECPAY) + "/.*"), callback=forward)
        yield Harness(simulator, remote, brand.id, webhook, mock.calls)


def pick_on_map(client, ecpay: Harness, link: str, which: int = 0) -> str:
    """Our store-map link posts the browser to ECPay's map, the customer picks a store of
    the list, ECPay's map posts it to our callback: where the callback sends the browser."""
    opened = client.get(link)
    assert opened.status_code == 200
    request = fields_of(opened.get_data(as_text=True))
    assert request["ServerReplyURL"] == "http://127.0.0.1:8000/store-map/callback"
    page = ecpay.remote.post("/demo/ecpay/Express/map", data=request).get_data(as_text=True)
    form = page.split("<form")[1 + which].split("</form>")[0]
    back = client.post("/store-map/callback", data=fields_of(form))
    assert back.status_code == 303
    return back.headers["Location"]


def choose_store(runtime, client, ecpay: Harness) -> PickupPoint:
    """Checkout: the customer picks the first store of ECPay's map."""
    link = store_map_path(runtime, BRAND, ACCOUNT, "unimart", "/checkout/done")
    target = urlsplit(pick_on_map(client, ecpay, link))
    assert target.path == "/checkout/done"
    store = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert store == {
        "store_id": "131386",
        "store_name": "建盛門市",
        "store_address": "台北市中正區重慶南路一段122號",
        "store_phone": "02-23896700",
        "store_network": "7-ELEVEN",
        "store_chain": "UNIMART",
    }
    address = Address("TW", "", line1=store["store_address"], phone=store["store_phone"])
    return PickupPoint(
        store["store_id"], store["store_name"], store["store_network"], address, chain="UNIMART"
    )


def place_order(runtime, brand_id: str, store: PickupPoint, cod: bool = False) -> str:
    fulfilment = runtime.fulfilment(BRAND)
    with unit_of_work(runtime.sessions) as session:
        order = create_order(
            session,
            brand_id,
            order_number="TW0000011234",
            ship_to={
                "name": "陳怡君",
                "line1": "復興南路一段390號5樓",
                "city": "台北市",
                "state": "大安區",
                "postal_code": "106",
                "country": "TW",
            },
            currency="TWD",
            lines=[LineInput(sku="OOLONG", quantity=1, unit_price=120000, name="烏龍茶")],
            placed_at=runtime.clock.now(),
            customer_name="陳怡君",
            customer_email="yijun@example.com",
            customer_phone="0912345678",
            language="zh-Hant",
            cash_on_delivery=120000 if cod else 0,
            pickup_point=store,
        )
        return fulfilment.ship(session, order).id


def pushed(runtime, ecpay: Harness, clock, hours: float) -> str:
    """`hours` later: ECPay's due pushes, our webhook jobs and outbox; the shipment's status."""
    clock.advance(timedelta(hours=hours))
    ecpay.simulator.run_once()
    process_due_receipts(runtime)
    while dispatch_due(runtime):
        pass
    with runtime.sessions() as session:
        return session.scalars(select(Shipment.status)).one()


def milestones(runtime) -> list[str]:
    with runtime.sessions() as session:
        query = select(CustomerMessageRow.milestone).order_by(CustomerMessageRow.id)
        return list(session.scalars(query))


def test_store_chosen_label_at_store_reminded_and_picked_up(runtime, client, clock, ecpay):
    store = choose_store(runtime, client, ecpay)
    shipment_id = place_order(runtime, ecpay.brand_id, store, cod=True)
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, shipment_id)
        assert (shipment.carrier, shipment.service, shipment.tracking_number) == (
            "ecpay",
            "unimart",
            "1718546",
        )
        assert shipment.pickup_point["id"] == "131386"
    parcel = ecpay.simulator.parcels["1718546"]
    assert parcel.extra["CollectionAmount"] == "1200"  # NT$1,200 collected at the store
    assert pushed(runtime, ecpay, clock, 20) == "in_transit"  # 2030 at the logistics centre
    assert pushed(runtime, ecpay, clock, 26) == "available_for_pickup"  # 2073 at the store
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, shipment_id)
        deadline = shipment.pickup_deadline.replace(tzinfo=shipment.pickup_deadline.tzinfo or UTC)
        # Seven days from the arrival push's UpdateStatusDate (Taipei time, no offset).
        assert deadline == datetime(2026, 12, 2, 13, tzinfo=UTC)
    clock.advance(timedelta(hours=121))  # two days before the deadline
    assert jobs.remind_pickups(runtime) == 1
    assert milestones(runtime).count("pickup_reminder") == 1
    assert pushed(runtime, ecpay, clock, 19) == "delivered"  # 2067 picked up
    assert jobs.remind_pickups(runtime) == 0
    with runtime.sessions() as session:
        assert session.scalars(select(NdrCaseRow)).all() == []


def test_an_uncollected_parcel_goes_back_and_is_followed_up(runtime, client, clock, ecpay):
    ecpay.simulator.uncollected_share = 1.0
    store = choose_store(runtime, client, ecpay)
    shipment_id = place_order(runtime, ecpay.brand_id, store)
    assert pushed(runtime, ecpay, clock, 46) == "available_for_pickup"
    # 2074: seven days unclaimed, the parcel leaves the store.
    assert pushed(runtime, ecpay, clock, 7 * 24 + 2) == "returning_to_sender"
    with runtime.sessions() as session:
        case = session.scalars(select(NdrCaseRow)).one()
        assert (case.shipment_id, case.attempts, case.reason) == (shipment_id, 1, "not_collected")
    assert "attempt_failed" in milestones(runtime)
    # 2078: back at the logistics centre; the same failure, not a second one.
    assert pushed(runtime, ecpay, clock, 30) == "returning_to_sender"
    with runtime.sessions() as session:
        assert session.scalars(select(NdrCaseRow.attempts)).all() == [1]


def failed_delivery_page(runtime) -> str:
    """The path of the page the attempt_failed message links to."""
    with runtime.sessions() as session:
        body = session.scalar(
            select(CustomerMessageRow.body).where(CustomerMessageRow.milestone == "attempt_failed")
        )
    return re.search(r"https?://[^/\s]+(/ndr/\S+)", body).group(1)


def choose_another_store(client, ecpay: Harness, page: str) -> int:
    """On the failed-delivery page: ECPay's map, the second store, confirmed."""
    html_page = client.get(page).get_data(as_text=True)
    assert re.findall(r'name="action" value="([a-z_]+)"', html_page) == ["hold_at_pickup_point"]
    link = html.unescape(re.search(r'href="(/store-map/unimart\?[^"]+)"', html_page).group(1))
    back = pick_on_map(client, ecpay, link, which=1)
    assert urlsplit(back).path == page
    form = fields_of(client.get(back).get_data(as_text=True))
    assert (form["store_id"], form["store_name"]) == ("991182", "信義門市")
    answer = {**form, "action": "hold_at_pickup_point", "pickup_point_id": "991182"}
    return client.post(page, data=answer).status_code


def uncollected(runtime, client, clock, ecpay: Harness) -> str:
    """A parcel left at its store for seven days, on its way back; its shipment id."""
    ecpay.simulator.uncollected_share = 1.0
    shipment_id = place_order(runtime, ecpay.brand_id, choose_store(runtime, client, ecpay))
    assert pushed(runtime, ecpay, clock, 46) == "available_for_pickup"
    assert pushed(runtime, ecpay, clock, 7 * 24 + 2) == "returning_to_sender"
    return shipment_id


def test_an_uncollected_parcel_goes_to_the_store_the_customer_picks(runtime, client, clock, ecpay):
    shipment_id = uncollected(runtime, client, clock, ecpay)
    assert choose_another_store(client, ecpay, failed_delivery_page(runtime)) == 303
    with runtime.sessions() as session:
        case = session.scalars(select(NdrCaseRow)).one()
        assert (case.state, case.carrier_reference) == ("pushed", "991182")
    assert ecpay.simulator.parcels["1718546"].extra["ReceiverStoreID"] == "991182"
    # 2073 a day later: at the new store, whose holding period starts again.
    assert pushed(runtime, ecpay, clock, 24) == "available_for_pickup"
    page = client.get(tracking_path(BRAND, shipment_id, runtime)).get_data(as_text=True)
    assert "信義門市" in page and "台北市信義區信義路五段7號" in page
    assert "建盛門市" not in page
    assert pushed(runtime, ecpay, clock, 140) == "delivered"  # 2067 picked up there


def test_an_ecpay_outage_keeps_the_chosen_store_until_ecpay_takes_it(runtime, client, clock, ecpay):
    uncollected(runtime, client, clock, ecpay)
    page = failed_delivery_page(runtime)
    with responses.RequestsMock() as down:  # every call to ECPay fails, retries too
        down.add(responses.POST, re.compile(re.escape(ECPAY) + "/.*"), status=503)
        assert choose_another_store(client, ecpay, page) == 303
    with runtime.sessions() as session:
        case = session.scalars(select(NdrCaseRow)).one()
        assert (case.state, case.action_details["pickup_point_id"]) == (
            "action_requested",
            "991182",
        )
    assert "ReceiverStoreID" not in ecpay.simulator.parcels["1718546"].extra
    clock.advance(timedelta(minutes=10))
    assert push_failed_delivery_choices(runtime) == 1  # ECPay is back
    with runtime.sessions() as session:
        case = session.scalars(select(NdrCaseRow)).one()
        assert (case.state, case.carrier_reference) == ("pushed", "991182")
    assert ecpay.simulator.parcels["1718546"].extra["ReceiverStoreID"] == "991182"


def receipts(runtime) -> int:
    with runtime.sessions() as session:
        return len(session.scalars(select(WebhookReceipt)).all())


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({}, 200),  # signed as ECPay signs
        ({"RtnCode": "2067"}, 401),  # a field changed after signing
        ({"CheckMacValue": ""}, 401),  # unsigned
        ({"MerchantID": "2000933"}, 401),  # another merchant's push
    ],
)
def test_pushes_are_taken_only_with_our_merchants_check_mac_value(
    runtime, client, clock, ecpay, change, status
):
    place_order(runtime, ecpay.brand_id, choose_store(runtime, client, ecpay))
    clock.advance(timedelta(hours=20))
    (_, _, fields), *_ = list(ecpay.simulator.pushes())
    answer = client.post(ecpay.webhook, data=fields | change)
    assert answer.status_code == status
    assert receipts(runtime) == (1 if status == 200 else 0)


def test_the_simulator_signs_with_the_adapters_check_mac_value(runtime, client, clock, ecpay):
    place_order(runtime, ecpay.brand_id, choose_store(runtime, client, ecpay))
    clock.advance(timedelta(hours=20))
    (number, url, fields), *_ = list(ecpay.simulator.pushes())
    assert (number, url) == ("1718546", ecpay.webhook)
    assert fields["CheckMacValue"] == check_mac_value(
        fields, "5294y06JbISpM5x9", "v77hoKGq4kWxNNIS"
    )
    assert {k: v for k, v in fields.items() if k != "CheckMacValue"} == {
        "MerchantID": "2000132",
        "MerchantTradeNo": "TW0000011234",
        "RtnCode": "2030",
        "RtnMsg": "物流中心驗收成功",
        "AllPayLogisticsID": "1718546",
        "LogisticsType": "CVS",
        "LogisticsSubType": "UNIMART",
        "GoodsAmount": "1200",
        "UpdateStatusDate": "2026/11/24 19:00:00",
        "ReceiverName": "陳怡君",
        "ReceiverPhone": "",
        "ReceiverCellPhone": "0912345678",
        "ReceiverEmail": "yijun@example.com",
        "ReceiverAddress": "",
        "CVSPaymentNo": "C01718546",
        "CVSValidationNo": "",
        "BookingNote": "",
    }

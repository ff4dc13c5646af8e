"""The returns portal of a brand with ECPay, on the simulated ECPay: the customer chooses how
to send the parcel back, a store (picked on ECPay's map, which comes back to the return's
signed page) or a T-cat pickup at home, and the chosen chain's reverse service issues the
return code. Only HTTP to ECPay is mocked (`responses` hands it to the simulator)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from shipflow.domain import Address, PickupPoint
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import LabelRow, ReturnRequestRow
from tests.postpurchase.test_ecpay_end_to_end import (
    BRAND,
    ecpay,  # noqa: F401 - the fixture
    fields_of,
    pick_on_map,
    place_order,
)

STORE = PickupPoint("131386", "建盛門市", "7-ELEVEN", Address("TW", ""), chain="UNIMART")


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def approved_return(runtime, client, ecpay) -> str:  # noqa: F811
    """A delivered order returned through the portal: its signed page, still without a label."""
    shipment_id = place_order(runtime, ecpay.brand_id, STORE)
    with runtime.sessions() as session:
        shipment = session.get_one(Shipment, shipment_id)
        shipment.status, shipment.delivered_at = "delivered", runtime.clock.now()
        session.commit()
    lookup = client.get(f"/returns/{BRAND}").get_data(as_text=True)
    items = client.post(
        f"/returns/{BRAND}",
        data={
            "csrf_token": csrf(lookup),
            "order_number": "TW0000011234",
            "secret": "yijun@example.com",
        },
    ).get_data(as_text=True)
    form = fields_of(items) | {"quantity-OOLONG": "1", "reason-OOLONG": "changed_mind"}
    done = client.post(f"/returns/{BRAND}/request", data=form)
    assert done.status_code == 303
    return done.headers["Location"]


def map_links(page: str) -> dict[str, str]:
    found = re.findall(r'href="(/store-map/[^"]+)">[^<]*· ([^<]+)</a>', page)
    return {chain: link.replace("&amp;", "&") for link, chain in found}


def drop_off(client, path: str, page: str, phone: str = "0912345678"):
    form = page.split('name="way" value="store"')[1].split("</form>")[0]
    data = fields_of(form) | {"csrf_token": csrf(page), "way": "store", "phone": phone}
    return client.post(path, data=data)


def ecpay_paths(ecpay) -> list[str]:  # noqa: F811
    return [urlsplit(call.request.url).path for call in ecpay.calls]


@pytest.mark.parametrize(
    ("chain", "service", "path"),
    [
        ("7-ELEVEN", "unimart", "/demo/ecpay/express/ReturnUniMartCVS"),
        ("FamilyMart", "fami", "/demo/ecpay/express/ReturnCVS"),
        ("Hi-Life", "hilife", "/demo/ecpay/express/ReturnHiLifeCVS"),
    ],
)
def test_a_store_drop_off_return_through_the_chosen_chain(
    runtime,
    client,
    ecpay,  # noqa: F811
    chain,
    service,
    path,
):
    page_path = approved_return(runtime, client, ecpay)
    page = client.get(page_path).get_data(as_text=True)
    links = map_links(page)
    assert list(links) == ["7-ELEVEN", "FamilyMart", "Hi-Life"]
    assert "預約到府收件" in page  # the brand's pages speak zh-Hant
    with runtime.sessions() as session:
        assert session.scalars(select(ReturnRequestRow.status)).one() == "approved"

    back = urlsplit(pick_on_map(client, ecpay, links[chain]))
    assert back.path == page_path  # the map comes back to the return's signed page
    store = {k: v[0] for k, v in parse_qs(back.query).items()}
    chosen = client.get(f"{back.path}?{back.query}").get_data(as_text=True)
    assert store["store_name"] in chosen and "在這家門市寄件" in chosen

    no_mobile = drop_off(client, page_path, chosen, phone="02-2345")
    assert no_mobile.status_code == 400  # the chosen store stays on the page
    assert store["store_name"] in no_mobile.get_data(as_text=True)
    done = drop_off(client, page_path, chosen)
    assert done.status_code == 303 and done.headers["Location"] == page_path
    assert ecpay_paths(ecpay)[-1] == path
    sent = parse_qs(ecpay.calls[-1].request.body)
    assert (sent["SenderName"], sent["SenderPhone"], sent["GoodsAmount"]) == (
        ["陳怡君"],
        ["0912345678"],
        ["1200"],
    )
    with runtime.sessions() as session:
        request_row = session.scalars(select(ReturnRequestRow)).one()
        shipment = session.get_one(Shipment, request_row.shipment_id)
        code = session.scalars(
            select(LabelRow.data).where(LabelRow.shipment_id == shipment.id)
        ).one()
        assert (request_row.status, shipment.kind, shipment.service) == (
            "label_created",
            "return",
            service,
        )
        assert shipment.details["drop_off_store"]["store_id"] == store["store_id"]
    final = client.get(page_path).get_data(as_text=True)
    assert code.decode() in final and store["store_address"] in final
    assert f"任何一家{chain}門市都能收件。" in final
    assert "您要如何寄回？" not in final
    assert drop_off(client, page_path, chosen).status_code == 303  # sent twice: one return
    assert ecpay_paths(ecpay).count(path) == 1


def test_a_home_pickup_return_goes_through_return_home(runtime, client, ecpay):  # noqa: F811
    page_path = approved_return(runtime, client, ecpay)
    page = client.get(page_path).get_data(as_text=True)
    answer = client.post(
        page_path,
        data={"csrf_token": csrf(page), "way": "home", "phone": "+886 912-345-678"},
    )
    assert answer.status_code == 303
    assert ecpay_paths(ecpay)[-1] == "/demo/ecpay/Express/ReturnHome"
    sent = parse_qs(ecpay.calls[-1].request.body)
    assert (sent["LogisticsSubType"], sent["SenderCellPhone"], sent["ReceiverName"]) == (
        ["TCAT"],
        ["0912345678"],
        ["福爾摩沙"],  # the warehouse's sender name: ECPay takes 2-5 Chinese characters
    )
    with runtime.sessions() as session:
        shipment = session.scalars(select(Shipment).where(Shipment.kind == "return")).one()
        assert (shipment.service, shipment.tracking_number[:1]) == ("tcat", "R")
    final = client.get(page_path).get_data(as_text=True)
    assert "物流商會與您聯絡，到府收取包裹。" in final
    assert shipment.tracking_number in final


def test_a_chain_the_brand_does_not_serve_is_refused(runtime, client, ecpay):  # noqa: F811
    page_path = approved_return(runtime, client, ecpay)
    store = "store_id=870001&store_name=OK&store_address=X&store_network=OK+mart"
    page = client.get(f"{page_path}?{store}&store_chain=OKMARTC2C").get_data(as_text=True)
    assert "我們無法在OK mart門市收退貨，請選擇7-ELEVEN, FamilyMart, Hi-Life的門市。" in page
    assert "在這家門市寄件" not in page
    forged = client.post(
        page_path,
        data={
            "csrf_token": csrf(page),
            "way": "store",
            "store_id": "870001",
            "store_chain": "OKMARTC2C",
            "phone": "0912345678",
        },
    )
    assert forged.status_code == 400
    assert "請選擇7-ELEVEN, FamilyMart, Hi-Life的門市。" in forged.get_data(as_text=True)
    assert not [p for p in ecpay_paths(ecpay) if "Return" in p]


def test_a_mobile_number_is_needed_and_the_post_needs_its_csrf_token(
    runtime,
    client,
    ecpay,  # noqa: F811
    clock,
):
    page_path = approved_return(runtime, client, ecpay)
    page = client.get(page_path).get_data(as_text=True)
    no_token = client.post(page_path, data={"way": "home", "phone": "0912345678"})
    assert no_token.status_code in (400, 403)
    bad = client.post(page_path, data={"csrf_token": csrf(page), "way": "home", "phone": "02-1"})
    assert bad.status_code == 400
    assert "請填寫手機號碼（09 開頭的 10 位數字）" in bad.get_data(as_text=True)
    assert not [p for p in ecpay_paths(ecpay) if "Return" in p]
    clock.advance(timedelta(days=runtime.settings.link_max_age_days + 1))
    expired = client.post(page_path, data={"csrf_token": csrf(page), "way": "home"})
    assert expired.status_code == 410

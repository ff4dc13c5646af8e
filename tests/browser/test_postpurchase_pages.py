"""The failed-delivery page and the returns portal in a real browser."""

from __future__ import annotations

import pytest

from shipflow.carrier_accounts import CarrierFactory
from shipflow.domain import Reason
from shipflow.ndr.service import action_link
from shipflow.postpurchase import ndr_service
from shipflow.store.models import Shipment
from tests.fakes import RecordingCarrier
from tests.postpurchase.factories import EMAIL, demo_brand, order

pytestmark = pytest.mark.browser


@pytest.fixture
def carrier(monkeypatch):
    fake = RecordingCarrier()
    monkeypatch.setattr(CarrierFactory, "of_shipment", lambda *a: fake)
    return fake


def ndr_url(live_server) -> str:
    runtime = live_server.runtime
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="attempt_failed")
    with runtime.sessions() as session:
        case = ndr_service(runtime, session).on_attempt_failed(
            session.get(Shipment, shipment_id), Reason.CUSTOMER_UNAVAILABLE, runtime.clock.now()
        )
        session.commit()
    link = action_link(runtime.settings, case.id, runtime.clock)
    return live_server.url(link.removeprefix(runtime.settings.base_url))


def test_customer_picks_a_new_delivery_day(live_server, page, screenshot, carrier):
    page.goto(ndr_url(live_server))
    assert page.locator("h1").inner_text() == "We couldn't deliver your parcel"
    assert page.get_by_label("Deliver again on another day").is_checked()
    page.get_by_label("Delivery day").select_option(index=1)
    chosen = page.get_by_label("Delivery day").input_value()
    screenshot(page, "choices")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**#done")
    assert "Thank you, we have your choice" in page.locator("#done").inner_text()
    assert str(carrier.instructions[0].reattempt_on) == chosen
    screenshot(page, "done")


def test_failed_delivery_page_in_persian(live_server, page, screenshot, carrier):
    page.goto(ndr_url(live_server) + "?lang=fa")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "نتوانستیم مرسولهٔ شما را تحویل دهیم"
    page.get_by_label("اصلاح نشانی، تلفن یا توضیحات تحویل").check()
    page.get_by_label("نشانی خیابان").fill("744 Evergreen Terrace")
    page.get_by_role("button", name="تأیید").click()
    page.wait_for_url("**#done")
    assert carrier.instructions[0].address.line1 == "744 Evergreen Terrace"
    screenshot(page, "address-fixed")


def test_return_flow_to_the_label(live_server, page, screenshot):
    runtime = live_server.runtime
    brand = demo_brand(runtime)
    order(runtime, brand.brand_id, "NW-2001")
    page.goto(live_server.url("/returns/northwind"))
    page.get_by_label("Order number").fill("NW-2001")
    page.get_by_label("E-mail address or postal code").fill("nobody@example.com")
    page.get_by_role("button", name="Find my order").click()
    assert "couldn't find a delivered order" in page.locator(".notice").inner_text()
    screenshot(page, "not-found")

    page.get_by_label("E-mail address or postal code").fill(EMAIL)
    page.get_by_role("button", name="Find my order").click()
    assert page.locator("h1").inner_text() == "Choose items to return"
    lantern = page.locator('fieldset[data-sku="LANTERN"]')
    lantern.get_by_label("How many to return").select_option("1")
    lantern.get_by_label("Why are you returning it?").select_option("wrong_size")
    mug = page.locator('fieldset[data-sku="MUG"]')
    mug.get_by_label("How many to return").select_option("1")
    screenshot(page, "items")
    page.get_by_role("button", name="Request return").click()

    assert page.locator("h1").inner_text() == "Your return is approved"
    assert "final sale" in page.locator('li[data-sku="MUG"]').inner_text()
    download = page.get_by_role("link", name="Download the label (PDF)")
    label = page.request.get(live_server.url(download.get_attribute("href")))
    assert label.ok and label.body().startswith(b"%PDF")
    assert page.locator("img[src^='/returns/label/']").evaluate("i => i.naturalWidth") > 0
    screenshot(page, "label")


def test_refusal_in_japanese(live_server, page, screenshot):
    runtime = live_server.runtime
    brand = demo_brand(runtime)
    order(runtime, brand.brand_id, "NW-3001", delivered_days_ago=45)
    page.goto(live_server.url("/returns/northwind?lang=ja"))
    page.get_by_label("注文番号").fill("NW-3001")
    page.get_by_label("メールアドレスまたは郵便番号").fill("62704")
    page.get_by_role("button", name="注文を検索").click()
    page.locator('fieldset[data-sku="LANTERN"]').get_by_label("返品する数量").select_option("1")
    page.get_by_role("button", name="返品を申し込む").click()
    assert page.locator("h1").inner_text() == "この返品はお受けできません"
    assert "返品期間（30日間）は" in page.locator('li[data-sku="LANTERN"]').inner_text()
    screenshot(page, "refused")

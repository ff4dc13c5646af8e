"""Every state of the tracking page in a real browser, in English and Persian: its own
headline and no blocking accessibility violation; the opt-in and the self-refresh; the
long tracking number that wraps on the Persian failed-delivery page."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from shipflow.ndr.service import action_link
from shipflow.shipment_links import tracking_path
from shipflow.store.db import unit_of_work
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import NdrCaseRow
from tests.browser.axe import serious_violations
from tests.webui.factories import BRAND, make_shipment

pytestmark = pytest.mark.browser

LATER = date(2026, 11, 26)  # after the test clock's day


def _redelivery(runtime, shipment_id: str) -> None:
    with unit_of_work(runtime.sessions) as session:
        shipment = session.get_one(Shipment, shipment_id)
        session.add(
            NdrCaseRow(
                brand_id=shipment.brand_id,
                shipment_id=shipment_id,
                state="pushed",
                attempts=1,
                action="reattempt",
                action_details={"reattempt_on": LATER.isoformat()},
            )
        )


# (state, status, reason, English headline, Persian headline)
STATES = [
    ("in_transit", "in_transit", None, "On its way", "در راه است"),
    ("out_for_delivery", "out_for_delivery", None, "Out for delivery", "در حال تحویل"),
    ("attempt_failed", "attempt_failed", "customer_unavailable", "Delivery attempt failed",
     "تحویل ناموفق بود"),
    ("redelivery", "attempt_failed", "customer_unavailable", "Redelivery booked",
     "تحویل دوباره ثبت شد"),
    ("pickup", "available_for_pickup", None, "Ready for pickup", "آماده‌ی دریافت"),
    ("returning", "returning_to_sender", "not_collected", "On its way back to us",
     "در حال بازگشت به ما"),
    ("returned", "returned_to_sender", None, "Returned to us", "به ما بازگشت"),
    ("lost", "exception", "lost", "We can't find your parcel", "مرسوله‌تان پیدا نمی‌شود"),
    ("exception", "exception", "weather", "There's a problem with your delivery",
     "در ارسال شما مشکلی پیش آمده است"),
    ("delivered", "delivered", None, "Delivered", "تحویل شد"),
    ("cancelled", "cancelled", None, "Shipment cancelled", "ارسال لغو شد"),
    ("expired", "expired", None, "No recent updates", "به‌روزرسانی تازه‌ای نیست"),
]  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "fa"])
@pytest.mark.parametrize(
    ("state", "status", "reason", "english", "persian"), STATES, ids=[row[0] for row in STATES]
)
def test_each_state_has_its_headline_and_no_blocking_violation(
    live_server, page, screenshot, lang, state, status, reason, english, persian
):
    runtime = live_server.runtime
    shipment = make_shipment(runtime, status, reason=reason, predicted=LATER)
    if state == "redelivery":
        _redelivery(runtime, shipment)
    page.goto(live_server.url(tracking_path(BRAND, shipment, runtime)) + f"?lang={lang}")
    assert page.locator("h1").inner_text() == (english if lang == "en" else persian)
    if status in ("returning_to_sender", "returned_to_sender"):
        text = page.locator("main").inner_text()
        assert "Delivering to" not in text and "running late" not in text
    assert serious_violations(page) == []
    screenshot(page, f"{state}-{lang}")


def test_updates_opt_in(live_server, page, screenshot):
    runtime = live_server.runtime
    page.goto(live_server.url(tracking_path(BRAND, make_shipment(runtime), runtime)))
    page.get_by_label("E-mail address or phone number").fill("ana@example.org")
    page.get_by_role("button", name="Send me updates").click()
    assert "send you this parcel's news" in page.get_by_role("status").first.inner_text()
    assert "ana@example.org" not in page.content()
    screenshot(page, "subscribed")


def test_the_page_refreshes_itself_when_a_scan_arrives(live_server, page, screenshot):
    live_server.app.config["TRACKING_REFRESH_S"] = 1
    runtime = live_server.runtime
    shipment = make_shipment(runtime)
    page.goto(live_server.url(tracking_path(BRAND, shipment, runtime)))
    assert page.locator("h1").inner_text() == "On its way"
    with unit_of_work(runtime.sessions) as session:
        session.get_one(Shipment, shipment).status = "out_for_delivery"
    expect(page.locator("h1")).to_have_text("Out for delivery", timeout=10000)
    screenshot(page, "refreshed")


def test_a_long_tracking_number_wraps_on_the_persian_failed_delivery_page(
    live_server, page, screenshot
):
    runtime = live_server.runtime
    shipment = make_shipment(
        runtime, "attempt_failed", reason="customer_unavailable", tracking_number="SBX" + "7" * 40
    )
    with unit_of_work(runtime.sessions) as session:
        case = NdrCaseRow(
            brand_id=session.get_one(Shipment, shipment).brand_id,
            shipment_id=shipment,
            state="awaiting_customer",
            attempts=1,
        )
        session.add(case)
        session.flush()
        case_id = case.id
    link = action_link(runtime.settings, case_id, runtime.clock)
    page.goto(live_server.url(link[link.index("/ndr/") :]) + "?lang=fa")
    number = page.locator(".tracking-number").bounding_box()
    card = page.locator(".tracking-number").locator("xpath=ancestor::dl").bounding_box()
    assert number["x"] >= card["x"] - 1
    assert number["x"] + number["width"] <= card["x"] + card["width"] + 1
    assert serious_violations(page) == []
    screenshot(page, "ndr-fa")


@pytest.mark.parametrize("path", ["/t/northwind", "/t/northwind/number/SBX100200300"])
def test_other_customer_pages_have_no_blocking_violation(live_server, page, path):
    make_shipment(live_server.runtime)
    page.goto(live_server.url(path) + "?lang=fa")
    assert serious_violations(page) == []

"""The customer pages in a real browser: languages, keyboard use and the EDD widget."""

import re

import pytest

from shipflow.shipment_links import tracking_path
from tests.webui.factories import BRAND, make_shipment

pytestmark = pytest.mark.browser


def tracking_url(live_server, status="in_transit", **kwargs) -> str:
    shipment = make_shipment(live_server.runtime, status, **kwargs)
    return live_server.url(tracking_path(BRAND, shipment, live_server.runtime))


def test_tracking_page_in_english(live_server, page, screenshot):
    page.goto(
        tracking_url(
            live_server, "delivered", details={"proof_of_delivery": {"signed_by": "P. R."}}
        )
    )
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.locator("h1").inner_text() == "Delivered"
    assert page.locator('.progress [aria-current="step"]').inner_text() == "Delivered"
    assert page.get_by_role("link", name="Start a return").is_visible()
    screenshot(page, "delivered")


def test_tracking_page_in_persian_is_right_to_left(live_server, page, screenshot):
    from datetime import date

    page.goto(
        tracking_url(live_server, promised=date(2026, 11, 25), predicted=date(2026, 11, 27))
        + "?lang=fa"
    )
    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl" and html.get_attribute("lang") == "fa"
    assert page.locator("h1").inner_text() == "در راه است"
    assert "مرسوله‌ی شما با تأخیر می‌رسد" in page.locator(".notice.warn").inner_text()
    # Right to left for real: the first progress step sits to the right of the last one.
    steps = page.locator(".progress li")
    assert steps.first.bounding_box()["x"] > steps.last.bounding_box()["x"]
    screenshot(page, "late")


def test_language_choice_is_remembered(live_server, page):
    url = tracking_url(live_server)
    page.goto(url)
    page.locator(".language-menu summary").click()
    page.get_by_role("link", name="日本語").click()
    page.wait_for_url(re.compile(r"lang=ja"))
    assert page.locator("html").get_attribute("lang") == "ja"
    page.goto(url)  # no ?lang: the cookie speaks
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "輸送中"
    page.goto(live_server.url("/t/northwind"))
    assert page.locator("h1").inner_text() == "ご注文の追跡"


def test_lookup_form_by_keyboard_only(live_server, page, screenshot):
    make_shipment(live_server.runtime)
    page.goto(live_server.url("/t/northwind"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "order_number":
            break
    assert page.evaluate("document.activeElement.id") == "order_number"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring
    page.keyboard.type("NW-1001")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "contact"
    page.keyboard.type("parisa@example.com")
    screenshot(page, "filled")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/t/northwind/[\w.-]+$"))
    assert page.locator("h1").inner_text() == "On its way"


def test_edd_widget_asks_for_the_postal_code_and_remembers_it(live_server, page, screenshot):
    page.goto(live_server.url("/demo/products/TENT-2P?lang=en"))
    field = page.get_by_label("ZIP code")
    field.fill("00000")
    field.press("Enter")
    assert page.get_by_role("alert").inner_text() == "Please enter a valid postal code."
    field = page.get_by_label("ZIP code")
    field.fill("62704")
    page.get_by_role("button", name="Check").click()
    line = page.locator(".sf-edd-date")
    line.wait_for()
    assert re.fullmatch(r"Get it by \w{3}, \w{3} \d{1,2}", line.inner_text())
    # 15:00 UTC on the test clock, the cut-off at 21:00 UTC: the answer's own figure, shown as is
    assert page.locator(".sf-edd-countdown").inner_text() == " — order within 6 hours"
    screenshot(page, "widget")
    page.goto(live_server.url("/demo/products/LANTERN?lang=ja"))
    page.locator(".sf-edd-date").wait_for()
    assert page.locator(".sf-edd-date").inner_text().endswith("までにお届け")
    assert "62704" in page.locator(".sf-edd-meta").inner_text()


def test_edd_widget_shows_nothing_when_the_service_fails(live_server, page):
    page.goto(live_server.url("/demo/"))
    page.evaluate("localStorage.setItem('shipflow.postal_code.US', '62704')")
    page.route("**/widget/v1/edd?**", lambda route: route.fulfill(status=500, body="oops"))
    page.goto(live_server.url("/demo/products/TENT-2P"))
    page.wait_for_load_state("networkidle")
    assert page.locator(".sf-edd").is_hidden()
    assert page.locator(".sf-edd").inner_text() == ""


def test_feedback_after_delivery(live_server, page, screenshot):
    page.goto(tracking_url(live_server, "delivered"))
    page.locator(".scale label", has_text="9").click()
    page.get_by_label("Anything you'd like to tell us? (optional)").fill("Arrived early!")
    page.get_by_role("button", name="Send feedback").click()
    page.get_by_text("Thank you for your feedback!").wait_for()
    assert page.url.endswith("#feedback")
    screenshot(page, "thanks")


def test_edd_widget_hides_a_broken_date(live_server, page):
    page.goto(live_server.url("/demo/"))
    page.evaluate("localStorage.setItem('shipflow.postal_code.US', '62704')")
    broken = '{"available": true, "promise_date": "2026-02-31", "countdown_seconds": 60}'
    page.route(
        "**/widget/v1/edd?**",
        lambda route: route.fulfill(status=200, body=broken, content_type="application/json"),
    )
    page.goto(live_server.url("/demo/products/TENT-2P"))
    page.wait_for_load_state("networkidle")
    assert page.locator(".sf-edd").is_hidden()


def test_edd_widget_in_persian_reads_right_to_left(live_server, page, screenshot):
    page.goto(live_server.url("/demo/"))
    page.evaluate("localStorage.setItem('shipflow.postal_code.US', '10001')")
    page.goto(live_server.url("/demo/products/LANTERN?lang=fa"))
    widget = page.locator(".sf-edd")
    page.locator(".sf-edd-date").wait_for()
    assert widget.get_attribute("dir") == "rtl"
    assert re.search(r"^تا .*[۰-۹].* به دستتان می‌رسد$", page.locator(".sf-edd-date").inner_text())
    screenshot(page, "widget")

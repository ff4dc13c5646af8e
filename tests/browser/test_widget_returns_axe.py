"""axe-core on the EDD widget (asking, dated, with a choice, after an error) and on every
step of the returns portal: no serious or critical violations."""

import pytest

from tests.browser.axe import serious_violations
from tests.postpurchase.factories import EMAIL, demo_brand, order

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_the_widget_in_each_state(live_server, page, lang):
    page.goto(live_server.url(f"/demo/products/TENT-2P?lang={lang}"))
    page.locator(".sf-edd input").wait_for()
    assert serious_violations(page) == [], "asking"
    page.locator(".sf-edd input").fill("00000")
    page.locator(".sf-edd input").press("Enter")
    page.get_by_role("alert").wait_for()
    assert serious_violations(page) == [], "invalid"
    page.locator(".sf-edd input").fill("62704")
    page.locator(".sf-edd input").press("Enter")
    page.locator(".sf-edd-date").wait_for()
    assert serious_violations(page) == [], "dated"
    for path in ("/demo/cart", "/demo/checkout"):
        page.goto(live_server.url(f"{path}?lang={lang}"))
        page.locator(".sf-edd-options, .sf-edd fieldset").wait_for()
        assert serious_violations(page) == [], path


def test_every_step_of_the_returns_portal(live_server, page):
    runtime = live_server.runtime
    brand = demo_brand(runtime)
    order(runtime, brand.brand_id, "NW-2001")
    order(runtime, brand.brand_id, "NW-3001", delivered_days_ago=45)
    page.goto(live_server.url("/returns/northwind"))
    assert serious_violations(page) == [], "lookup"
    page.get_by_label("Order number").fill("NW-2001")
    page.get_by_label("E-mail address or postal code").fill("nobody@example.com")
    page.get_by_role("button", name="Find my order").click()
    page.locator(".notice").wait_for()
    assert serious_violations(page) == [], "not found"
    page.get_by_label("E-mail address or postal code").fill(EMAIL)
    page.get_by_role("button", name="Find my order").click()
    assert page.locator("h1").inner_text() == "Choose items to return"
    assert serious_violations(page) == [], "items"
    lantern = page.locator('fieldset[data-sku="LANTERN"]')
    lantern.get_by_label("How many to return").select_option("1")
    lantern.get_by_label("Why are you returning it?").select_option("wrong_size")
    page.get_by_role("button", name="Request return").click()
    assert page.locator("h1").inner_text() == "Your return is approved"
    assert serious_violations(page) == [], "approved"
    page.goto(live_server.url("/returns/northwind?lang=fa"))
    page.locator("#order_number, input[name=order_number]").first.fill("NW-3001")
    page.locator("input[type=text], input[type=email]").nth(1).fill("62704")
    page.locator("button[type=submit]").last.click()
    page.locator('fieldset[data-sku="LANTERN"] select').first.select_option("1")
    page.locator("button[type=submit]").last.click()
    assert page.locator("h1").inner_text() == "نمی‌توانیم این مرجوعی را بپذیریم"
    assert serious_violations(page) == [], "refused, in Persian"

"""The EDD widget on a cart and a checkout, its standard/express choice with prices, the
earliest-latest range, military and territory ZIP codes, and errors that keep focus on the
field. The demo shop's cart (/demo/cart) and checkout (/demo/checkout) embed it."""

import re

import pytest

pytestmark = pytest.mark.browser

RANGE = r"Arrives \w{3}, \w{3} \d{1,2}\s?–\s?(\w{3}, \w{3} )?\d{1,2}"


def with_postal_code(live_server, page, code: str) -> None:
    page.goto(live_server.url("/demo/"))
    page.evaluate(f"localStorage.setItem('shipflow.postal_code.US', '{code}')")


def test_cart_shows_the_range_and_both_services_with_prices(live_server, page, screenshot):
    with_postal_code(live_server, page, "62704")
    page.goto(live_server.url("/demo/cart?lang=en"))
    page.locator(".sf-edd-date").wait_for()
    assert re.fullmatch(RANGE, page.locator(".sf-edd-date").inner_text())
    standard, express = page.locator(".sf-edd-options li").all_inner_texts()
    assert re.fullmatch(rf"Standard delivery · {RANGE} · \$5\.95", standard)
    assert re.fullmatch(rf"Express delivery · {RANGE} · \$(14|24)\.95", express)
    screenshot(page, "cart")


def test_checkout_offers_a_choice_the_shop_hears(live_server, page, screenshot):
    with_postal_code(live_server, page, "62704")
    page.add_init_script(
        "document.addEventListener('shipflow:delivery-option',"
        " e => { window.chosen = (window.chosen || []).concat([e.detail]); });"
    )
    page.goto(live_server.url("/demo/checkout?lang=ja"))
    group = page.get_by_role("group", name="配送方法")
    group.wait_for()
    standard = group.get_by_role("radio").first
    assert standard.is_checked()
    assert page.evaluate("window.chosen.map(c => c.level)") == ["standard"]
    express = group.get_by_role("radio").last
    headline = page.locator(".sf-edd-date").inner_text()
    express.check()  # by keyboard too: arrow keys move within the group
    chosen = page.evaluate("window.chosen[window.chosen.length - 1]")
    assert chosen["level"] == "express" and chosen["price"]["currency"] == "USD"
    assert page.locator(".sf-edd-date").inner_text() != headline  # the date follows the choice
    assert page.locator("h1").inner_text() == "ご購入手続き"
    assert "お急ぎ便" in group.inner_text() and "$" in group.inner_text()
    screenshot(page, "checkout")


def test_an_invalid_code_keeps_focus_on_the_field(live_server, page, screenshot):
    page.goto(live_server.url("/demo/products/TENT-2P?lang=en"))
    field = page.get_by_label("ZIP code")
    field.fill("00000")
    field.press("Enter")
    page.get_by_role("alert").wait_for()
    field = page.get_by_label("ZIP code")
    assert field.get_attribute("aria-invalid") == "true"
    error = page.locator("#" + field.get_attribute("aria-describedby"))
    assert error.inner_text() == "Please enter a valid postal code."
    assert page.evaluate("document.activeElement.name") == "postal_code"
    screenshot(page, "invalid")
    field.fill("")
    page.get_by_role("button", name="Check").click()
    assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"


def test_a_military_address_is_told_it_is_not_served(live_server, page, screenshot):
    page.goto(live_server.url("/demo/products/MUG?lang=en"))
    field = page.get_by_label("ZIP code")
    field.fill("09012")  # APO AE: the demo brand ships with its sandbox carrier only
    field.press("Enter")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "We can't ship to APO, FPO or DPO addresses."
    field = page.get_by_label("ZIP code")
    assert field.get_attribute("aria-describedby") == alert.get_attribute("id")
    assert field.get_attribute("aria-invalid") is None  # a real ZIP code, just not served
    assert page.evaluate("document.activeElement.name") == "postal_code"
    screenshot(page, "military")
    page.goto(live_server.url("/demo/products/MUG?lang=fa"))
    page.get_by_label("کد پستی (ZIP)").fill("09012")
    page.get_by_label("کد پستی (ZIP)").press("Enter")
    assert page.get_by_role("alert").inner_text() == "به نشانی‌های APO، FPO یا DPO ارسال نداریم."


def test_a_territory_gets_its_date(live_server, page):
    with_postal_code(live_server, page, "00901")  # San Juan, Puerto Rico
    page.goto(live_server.url("/demo/products/MUG?lang=en"))
    page.locator(".sf-edd-date").wait_for()
    assert page.locator(".sf-edd-date").inner_text().startswith("Get it by ")


@pytest.mark.parametrize(
    ("lang", "countdown"),
    [
        ("en", " — order within 4 hours, 43 minutes"),
        ("ja", " — あと4時間43分以内のご注文で"),
        ("zh-Hant", " — 請在 4小時43分鐘 內下單"),
        ("fa", " — اگر تا ۴ ساعت و ۴۳ دقیقه دیگر سفارش دهید"),
    ],
)
def test_the_countdown_is_written_the_languages_way(live_server, page, lang, countdown):
    with_postal_code(live_server, page, "62704")

    def within_4_hours_43(route):
        response = route.fetch()
        answer = {**response.json(), "countdown_seconds": 4 * 3600 + 43 * 60 + 50}
        route.fulfill(response=response, json=answer)

    page.route(re.compile(r".*/edd\?.*"), within_4_hours_43)
    page.goto(live_server.url(f"/demo/products/MUG?lang={lang}"))
    page.locator(".sf-edd-countdown", has_text=re.compile(r"\S")).wait_for()
    assert page.locator(".sf-edd-countdown").text_content() == countdown

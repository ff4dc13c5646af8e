"""The ops console in a real browser: the shipment page reached from an alert, the search,
the header at 390 px, and axe-core on every ops page."""

from __future__ import annotations

import pytest

from shipflow.delays import alerts
from shipflow.ops_users import create_ops_user
from shipflow.store.db import unit_of_work
from tests.browser.axe import serious_violations
from tests.postpurchase.factories import demo_brand, order

pytestmark = pytest.mark.browser
PHONE = 390


@pytest.fixture
def signed_in(live_server, page):
    """Northwind's order NW-1001 with a stale alert, and its ops user signed in."""
    runtime = live_server.runtime
    brand = demo_brand(runtime)
    _, shipment_id = order(runtime, brand.brand_id, status="in_transit", phone="+15551234567")
    with unit_of_work(runtime.sessions) as session:
        alerts.raise_alert(
            session,
            brand.brand_id,
            runtime.clock.now(),
            kind="stale",
            severity="warning",
            title="sandbox shipment silent: no scan for 80 h",
            dedupe_key=f"stale:{shipment_id}",
            shipment_id=shipment_id,
            carrier="sandbox",
        )
        password = create_ops_user(session, brand.brand_id, "ops@northwind.example")
    page.goto(live_server.url("/ops/login"))
    page.get_by_label("Brand").fill("northwind")
    page.get_by_label("E-mail").fill("ops@northwind.example")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/ops/alerts")
    return shipment_id


def test_shipment_page_from_an_alert(live_server, page, screenshot, signed_in):
    page.get_by_role("link", name=f"Shipment {signed_in}").click()
    page.wait_for_url(f"**/ops/shipments/{signed_in}")
    assert page.locator("h1").inner_text() == "sandbox SBXG00000000000000000000"
    assert page.locator("#status").inner_text() == "in transit"
    page.get_by_label("Action").select_option("contact_customer")
    page.get_by_label("Note").fill("Called: home on Friday")
    page.get_by_role("button", name="Record").click()
    page.wait_for_url(f"**/ops/shipments/{signed_in}")
    assert (
        page.locator("#ops-log li")
        .inner_text()
        .endswith("ops@northwind.example · Contacted the customer: Called: home on Friday")
    )
    screenshot(page, "shipment")
    assert serious_violations(page) == []


@pytest.mark.parametrize("query", ["NW-1001", "SBXG00000000000000000000", "+15551234567"])
def test_search_from_the_header(live_server, page, screenshot, signed_in, query):
    page.get_by_label("Search", exact=True).fill(query)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/ops/search?q=*")
    result = page.get_by_role("link", name="SBXG00000000000000000000")
    assert result.count() == 1
    screenshot(page, "results")
    assert serious_violations(page) == []
    result.click()
    page.wait_for_url(f"**/ops/shipments/{signed_in}")


def test_every_ops_page_passes_axe(live_server, page, signed_in):
    pages = ("/ops/alerts", "/ops/performance", "/ops/failed-deliveries", "/ops/claims")
    for path in (*pages, "/ops/search?q=x"):
        page.goto(live_server.url(path))
        assert serious_violations(page) == [], path


def _fits_the_screen(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('button, input:not([type=hidden]), select, summary')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect().height])"""
    )
    assert [s for s in sizes if s[1] < 24] == []


def test_header_folds_into_a_menu_on_a_phone(live_server, browser, screenshot, signed_in, page):
    page.set_viewport_size({"width": PHONE, "height": 844})
    for path in ("/ops/alerts", "/ops/performance", "/ops/failed-deliveries"):
        page.goto(live_server.url(path))
        _fits_the_screen(page)
    page.goto(live_server.url(f"/ops/shipments/{signed_in}"))
    _fits_the_screen(page)
    logout = page.get_by_role("button", name="Log out")
    assert not logout.is_visible()
    screenshot(page, "menu-closed")
    page.get_by_text("Menu").click()
    assert logout.is_visible()
    box = logout.bounding_box()
    assert box["x"] + box["width"] <= PHONE and box["height"] >= 24
    _fits_the_screen(page)
    screenshot(page, "menu-open")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert logout.is_visible() and not page.get_by_text("Menu").is_visible()  # one row

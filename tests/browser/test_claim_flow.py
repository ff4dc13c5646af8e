"""Proof of delivery and "I didn't get it" in a real browser, from the customer's page to the
ops console's reship; English and Persian; axe-core on each page; screenshots kept."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from carriers.sandbox.proof import door_photo
from shipflow import proof_of_delivery
from shipflow.domain import ProofOfDelivery, TrackingUpdate
from shipflow.ops_users import create_ops_user
from shipflow.shipment_links import tracking_path
from shipflow.store.db import unit_of_work
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import ReturnRequestRow
from shipflow.store.shipment_writes import read_tracked, write_staged
from tests.browser.axe import serious_violations
from tests.webui.factories import BRAND, make_shipment

pytestmark = pytest.mark.browser
PHOTO = base64.b64encode(door_photo((122, 46, 42), 30)).decode()


def delivered_page(live_server, returning: str = "") -> tuple[str, str]:
    """A parcel the carrier photographed at the back porch (and, if given, a return of the
    order in that state): its id and the customer's signed page."""
    runtime = live_server.runtime
    shipment_id = make_shipment(runtime, "delivered")
    update = TrackingUpdate(
        "sandbox",
        "SBX100200300",
        proof_of_delivery=ProofOfDelivery(left_at="Back porch", photo=PHOTO),
    )
    with unit_of_work(runtime.sessions) as session:
        (tracked,) = read_tracked(session, Shipment.id == shipment_id)
        photo = proof_of_delivery.record(session, tracked, update, runtime.clock.now())
        proof_of_delivery.keep_photos(session, [photo] if photo else [])
        write_staged(session)
        shipment = session.get_one(Shipment, shipment_id)
        if returning:
            session.add(
                ReturnRequestRow(
                    brand_id=shipment.brand_id,
                    order_id=shipment.order_id,
                    status=returning,
                    currency="USD",
                )
            )
    return shipment_id, live_server.url(tracking_path(BRAND, shipment_id, runtime))


def test_claim_flow_from_the_customer_to_ops_reship(live_server, page, screenshot):
    shipment_id, url = delivered_page(live_server)
    page.goto(url)
    photo = page.get_by_role("img", name="Photo of the delivered parcel")
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 96
    assert "Left at: Back porch" in page.locator(".pod").inner_text()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Report a missing parcel").click()
    page.wait_for_url("**/claim")
    page.get_by_role("button", name="Report a missing parcel").click()  # nothing chosen yet
    assert page.evaluate("document.activeElement.name") == "what_happened"  # the browser says
    page.get_by_label("I can't find the parcel anywhere").check()
    page.get_by_label("With neighbours").check()
    page.get_by_label("E-mail address or phone number").fill("parisa@example.com")
    assert serious_violations(page) == []
    screenshot(page, "claim-form")
    page.get_by_role("button", name="Report a missing parcel").click()
    page.wait_for_url("**#claim")
    assert page.locator("#claim h2").inner_text() == "We're looking into it"
    assert serious_violations(page) == []
    screenshot(page, "claim-opened")

    runtime = live_server.runtime
    with unit_of_work(runtime.sessions) as session:
        brand_id = session.get_one(Shipment, shipment_id).brand_id
        password = create_ops_user(session, brand_id, "ops@northwind.example")
    page.goto(live_server.url("/ops/login"))
    page.get_by_label("Brand").fill("northwind")
    page.get_by_label("E-mail").fill("ops@northwind.example")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/ops/alerts")
    page.goto(live_server.url("/ops/failed-deliveries"))
    page.get_by_role("link", name="Delivered, not received").click()
    page.wait_for_url("**/ops/claims")
    assert "not found" in page.locator("#claims").inner_text()
    screenshot(page, "ops-claims")
    page.get_by_role("link", name="NW-1001").click()
    page.wait_for_url(f"**/ops/shipments/{shipment_id}")
    ops_photo = page.get_by_role("img", name="The carrier's photo of the delivered parcel")
    assert ops_photo.evaluate("img => img.naturalWidth") == 96
    page.get_by_label("Action").select_option("reship")
    page.get_by_label("Note").fill("Not found by the neighbours")
    page.get_by_role("button", name="Record").click()
    page.wait_for_url(f"**/ops/shipments/{shipment_id}")
    assert "Reshipped: Not found by the neighbours" in page.locator("#ops-log").inner_text()
    assert page.locator("#claim").get_by_role("link").count() == 1  # to the replacement
    assert serious_violations(page) == []
    screenshot(page, "ops-reshipped")
    with runtime.sessions() as session:
        parcels = session.scalars(select(Shipment.details).where(Shipment.id != shipment_id)).all()
    assert [p.get("replaces") for p in parcels] == [shipment_id]


def test_proof_claim_and_return_in_persian(live_server, page, screenshot):
    _, url = delivered_page(live_server, returning="in_transit")
    page.goto(url + "?lang=fa")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("#pod-heading").inner_text() == "گواهی تحویل"
    assert "محل تحویل:" in page.locator(".pod").inner_text()
    assert page.locator("#claim-heading").inner_text() == "مرسوله به دستتان نرسیده؟"
    returns = page.locator("section", has=page.locator("#returns-heading"))
    assert "مرجوعی شما در راه رسیدن به ماست" in returns.inner_text()
    assert serious_violations(page) == []
    page.get_by_role("link", name="گزارش نرسیدن مرسوله").click()
    page.wait_for_url("**/claim")
    assert page.locator("h1").inner_text() == "مرسوله به دستتان نرسیده؟"
    assert serious_violations(page) == []
    page.get_by_label("جعبه خالی یا آسیب‌دیده بود").check()
    page.get_by_label("نشانی ایمیل یا شماره تلفن").fill("+15551234567")
    screenshot(page, "claim-form-fa")
    page.get_by_role("button", name="گزارش نرسیدن مرسوله").click()
    page.wait_for_url("**#claim")
    assert page.locator("#claim h2").inner_text() == "در حال پیگیری هستیم"
    assert serious_violations(page) == []
    screenshot(page, "claim-opened-fa")

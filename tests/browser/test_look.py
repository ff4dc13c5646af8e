import pytest

from shipflow.web.links import tracking_path
from tests.webui.factories import make_shipment

pytestmark = pytest.mark.browser


def test_look(live_server, page, screenshot):
    sid = make_shipment(
        live_server.runtime, "delivered", details={"proof_of_delivery": {"signed_by": "P RAHIMI"}}
    )
    with live_server.app.test_request_context():
        path = tracking_path("northwind", sid)
    page.goto(live_server.url(path))
    screenshot(page, "en")
    page.goto(live_server.url(path + "?lang=fa"))
    screenshot(page, "fa")
    page.goto(live_server.url("/demo/products/TENT-2P?lang=en"))
    screenshot(page, "demo")
    page.fill("input[name=postal_code]", "62704")
    page.click("text=Check")
    page.wait_for_selector(".sf-edd-date")
    screenshot(page, "demo2")

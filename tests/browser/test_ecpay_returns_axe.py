"""axe-core on the returns portal's send-back step of a brand with ECPay (the demo's formosa,
zh-Hant): the chains with their store-map links, then the store the map brought back with the
drop-off form. No serious or critical violations."""

from urllib.parse import urlsplit

import pytest

from tests.browser.axe import serious_violations
from tests.postpurchase.test_ecpay_end_to_end import ecpay, pick_on_map  # noqa: F401
from tests.postpurchase.test_ecpay_returns import approved_return, map_links

pytestmark = pytest.mark.browser


@pytest.fixture
def runtime(live_server):
    return live_server.runtime


@pytest.fixture
def client(live_server):
    return live_server.app.test_client()


def test_the_send_back_choice_and_the_chosen_store(live_server, page, runtime, client, ecpay):  # noqa: F811
    path = approved_return(runtime, client, ecpay)
    page.goto(live_server.url(path))
    assert page.get_by_role("link", name="7-ELEVEN").count() >= 1
    assert serious_violations(page) == [], "the send-back choice"
    links = map_links(client.get(path).get_data(as_text=True))
    back = urlsplit(pick_on_map(client, ecpay, links["FamilyMart"]))
    page.goto(live_server.url(f"{back.path}?{back.query}"))
    page.get_by_text("全家台北車站店").first.wait_for()
    assert serious_violations(page) == [], "a store chosen"

"""Every customer route that takes a signed token (read from the URL map: a new one fails
here until it is listed) refuses a tampered token (403), an expired one (410) and brand A's
token under brand B's address (403) with a page that says so and shows nothing of the
parcel or the person. The store map's token travels in its query: tests/webui/test_store_map.py."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from shipflow import shipment_links as tracking
from shipflow.ndr.service import action_link
from shipflow.returns.service import label_link, return_path
from shipflow.store.db import unit_of_work
from shipflow.store.postpurchase_models import LabelRow
from tests.postpurchase.factories import EMAIL, demo_brand, order, postpurchase_objects

BRAND, OTHER_BRAND = "northwind", "formosa"  # both configured
PERSONAL = ["Parisa", EMAIL, "742 Evergreen Terrace", "NW-1001", "Lantern"]
# Each route with a <token>, and what the token names.
TOKEN_ROUTES = {
    "/t/<brand_code>/<token>": "tracking",
    "/t/<brand_code>/<token>/version": "tracking",
    "/t/<brand_code>/<token>/proof-photo": "tracking",
    "/t/<brand_code>/<token>/claim": "tracking",
    "/t/<brand_code>/<token>/updates": "tracking",
    "/t/<brand_code>/<token>/feedback": "tracking",
    "/ndr/<token>": "ndr",
    "/returns/<brand_code>/r/<token>": "return",
    "/returns/label/<token>": "label",
}
REFUSED = {403: re.compile(r"(isn't|is not) valid"), 410: re.compile(r"(has|have) expired")}


def _tokens(runtime) -> dict[str, str]:
    """A genuine token of each kind, for one delivered order of the demo brand."""
    brand_id = demo_brand(runtime).brand_id
    order_id, shipment_id = order(runtime, brand_id)
    objects = postpurchase_objects(runtime, order_id, shipment_id)
    with unit_of_work(runtime.sessions) as session:
        label = LabelRow(brand_id=brand_id, shipment_id=shipment_id, label_format="PDF", data=b"%")
        session.add(label)
        session.flush()
        label_id = label.id
    settings, clock = runtime.settings, runtime.clock
    paths = {
        "tracking": tracking.tracking_path(BRAND, shipment_id, runtime),
        "ndr": action_link(settings, objects["ndr-cases"], clock),
        "return": return_path(settings, BRAND, objects["returns"], clock),
        "label": label_link(settings, label_id, clock),
    }
    return {kind: path.rsplit("/", 1)[1] for kind, path in paths.items()} | {"label_id": label_id}


def _requests(app, tokens: dict[str, str], brand_code: str = BRAND):
    """(method, url, rule) of every token route, for every method it takes."""
    rules = [r for r in app.url_map.iter_rules() if "token" in r.arguments]
    assert {r.rule for r in rules} == set(TOKEN_ROUTES), "list the new route in TOKEN_ROUTES"
    adapter = app.url_map.bind("localhost")
    for rule in rules:
        values = {"brand_code": brand_code, "token": tokens[TOKEN_ROUTES[rule.rule]]}
        url = adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, rule.rule


def _send(client, method: str, url: str):
    with client.session_transaction() as session:
        token = session.setdefault("csrf_token", "csrf-for-this-test")
    form = {"csrf_token": token} if method == "POST" else None
    return client.open(url, method=method, data=form, headers={"Accept-Language": "en"})


def _assert_refused(response, status: int, where) -> None:
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status, (where, page[:300])
    assert REFUSED[status].search(page), where
    for secret in PERSONAL:
        assert secret not in page, (where, secret)


@pytest.fixture
def tokens(runtime):
    return _tokens(runtime)


def test_a_tampered_token_is_refused_on_every_route(app, client, tokens):
    tampered = {
        kind: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        for kind, token in tokens.items()
    }
    for method, url, rule in _requests(app, tampered):
        _assert_refused(_send(client, method, url), 403, (method, rule))


def test_an_expired_token_is_refused_on_every_route(app, client, runtime, clock, tokens):
    expired = dict(tokens)
    clock.advance(timedelta(days=runtime.settings.link_max_age_days, hours=1))
    for method, url, rule in _requests(app, expired):
        _assert_refused(_send(client, method, url), 410, (method, rule))


def test_a_token_of_one_brand_opens_nothing_under_another(app, client, tokens):
    for method, url, rule in _requests(app, tokens, OTHER_BRAND):
        if "<brand_code>" in rule:  # the others name no brand: the object names it
            _assert_refused(_send(client, method, url), 403, (method, rule))


def test_the_genuine_tokens_open_their_pages(app, client, tokens):
    """So that the refusals above are the tokens', not a form's or a missing object's."""
    for method, url, rule in _requests(app, tokens):
        if method == "GET" and not rule.endswith(("proof-photo", "claim")):
            response = client.get(url)
            assert response.status_code == 200, rule

"""The tracking page over HTTP: who sees what, languages, actions, feedback."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shipflow import shipment_links as links
from shipflow.links import read_token
from shipflow.ndr.service import LINK_PURPOSE
from shipflow.store.claim_models import DeliveryPhoto
from shipflow.store.db import unit_of_work
from shipflow.store.feedback_models import Feedback
from shipflow.store.models import Shipment
from shipflow.store.postpurchase_models import NdrCaseRow
from shipflow.web.tracking_page.routes import LOOKUP_LIMIT
from tests.bidi import unisolated_latin
from tests.webui.factories import BRAND, CUSTOMER, ITEM, make_shipment

PERSONAL = [
    CUSTOMER["name"],
    CUSTOMER["name"].upper(),
    "Parisa",
    CUSTOMER["email"],
    CUSTOMER["street"],
    CUSTOMER["city"],
    CUSTOMER["postal_code"],
    ITEM,
    "NW-1001",
    "Signed by",
    "front door",
]


def path_for(app, shipment_id: str) -> str:
    return links.tracking_path(BRAND, shipment_id, app.extensions["shipflow"])


def csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_signed_link_shows_the_whole_shipment_in_local_time(app, client, runtime):
    shipment = make_shipment(
        runtime,
        "delivered",
        details={
            "proof_of_delivery": {
                "signed_by": "P. RAHIMI",
                "photo_url": "https://pod.example/1.jpg",
            }
        },
    )
    response = client.get(path_for(app, shipment))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert '<html lang="en" dir="ltr">' in html
    assert "Order <bdi>NW-1001</bdi>" in html and ITEM in html
    assert 'aria-current="step">Delivered</li>' in html
    # Delivered 13:00 UTC; Springfield, IL (62704) is on Central time.
    assert "Mon, Nov 23 7:00\u202fAM" in html and "Times are in Central Time." in html
    assert "Signed for by <bdi>P. RAHIMI</bdi>" in html
    assert 'href="https://pod.example/1.jpg"' in html  # a link: the page loads nothing of theirs
    assert 'href="/returns/northwind"' in html
    assert "Enamel camp mug" in html  # the brand's recommendations slot
    assert len(response.data) < 100_000


def _doorstep_scans(runtime, shipment_id: str) -> None:
    """The last scans' place as some carriers write it: the street, then the city."""
    with unit_of_work(runtime.sessions) as session:
        for event in session.get(Shipment, shipment_id).events:
            if event.city == CUSTOMER["city"]:
                event.location = f"{CUSTOMER['street']}, {CUSTOMER['city']} IL"


@pytest.mark.parametrize("language", ["en", "zh-Hant", "zh-Hans", "ja", "fa"])
@pytest.mark.parametrize("status", ["delivered", "attempt_failed", "in_transit"])
def test_tracking_number_alone_reveals_nothing_personal(app, client, runtime, status, language):
    """In every language of the brand; carriers that name the doorstep in an event's place
    or send a photo and the spot where the parcel was left."""
    assert runtime.settings.brand("northwind").languages == ["en", "zh-Hant", "zh-Hans", "ja", "fa"]
    proof = {"signed_by": CUSTOMER["name"], "left_at": "front door", "photo": True}
    shipment_id = make_shipment(runtime, status, details={"proof_of_delivery": proof})
    _doorstep_scans(runtime, shipment_id)
    with unit_of_work(runtime.sessions) as session:
        session.add(DeliveryPhoto(shipment_id=shipment_id, media_type="image/png", data=b"png"))
    number = f"/t/northwind/number/SBX100200300?lang={language}"
    html = client.get(number).get_data(as_text=True)
    data = client.get(f"{number}&format=json").get_data(as_text=True)
    assert f'<html lang="{language}"' in html
    assert "SBX100200300" in html and '"status"' in data
    for secret in PERSONAL:
        assert secret not in html, secret
        assert secret not in data, secret
    for link in ("/ndr/", "/returns/", "csrf_token", "proof-photo"):
        assert link not in html, link
    assert not re.search(r"/t/northwind/(?!number/)", html)  # no signed link to any parcel


def test_number_json_has_status_and_dates(client, runtime):
    make_shipment(runtime, "in_transit", promised=date(2026, 11, 26), predicted=date(2026, 11, 27))
    body = client.get("/t/northwind/number/SBX100200300?format=json").get_json()
    assert body["status"] == "in_transit"
    assert body["promised_date"] == "2026-11-26" and body["predicted_date"] == "2026-11-27"
    assert [e["status"] for e in body["events"]] == ["in_transit", "info_received"]
    assert set(body["events"][0]) == {"status", "label", "occurred_at"}


def test_unknown_tracking_number_and_other_brands_numbers_are_not_found(client, runtime, brands):
    make_shipment(runtime)
    assert client.get("/t/northwind/number/NOPE").status_code == 404
    unknown = client.get("/t/northwind/number/NOPE?format=json")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    assert unknown.json["detail"] == (  # was "No shipment with this id exists for your brand."
        "No parcel of this brand has this tracking number; check the number (new parcels can "
        "take a few hours to appear)."
    )
    assert client.get("/t/brand-a/number/SBX100200300").status_code == 404  # not configured


def test_expired_and_tampered_links_show_no_data(app, client, runtime, clock):
    path = path_for(app, make_shipment(runtime))
    tampered = client.get(path[:-3] + "abc")
    assert tampered.status_code == 403
    clock.advance(timedelta(days=runtime.settings.link_max_age_days + 1))
    expired = client.get(path)
    assert expired.status_code == 410
    for response in (tampered, expired):
        html = response.get_data(as_text=True)
        assert 'href="/t/northwind"' in html
        assert not any(secret in html for secret in PERSONAL)


def test_delay_notice_names_the_new_date(app, client, runtime):
    shipment = make_shipment(runtime, promised=date(2026, 11, 25), predicted=date(2026, 11, 27))
    html = client.get(path_for(app, shipment)).get_data(as_text=True)
    assert "Your parcel is running late" in html
    assert "arrive on Fri, Nov 27, 2 days later than we promised" in html
    assert "<del>Wed, Nov 25</del>" in html


def test_on_time_parcel_has_no_delay_notice(app, client, runtime):
    html = client.get(path_for(app, make_shipment(runtime))).get_data(as_text=True)
    assert "running late" not in html and "Expected delivery" in html


def open_case(runtime, shipment: str) -> str:
    with runtime.sessions() as session:
        brand_id = session.get(Shipment, shipment).brand_id
        case = NdrCaseRow(brand_id=brand_id, shipment_id=shipment, state="awaiting_customer")
        session.add(case)
        session.commit()
        return case.id


def test_failed_attempt_page_never_carries_the_address_change_link(app, client, runtime):
    """A forwarded tracking link must not open the page that changes the delivery address:
    the failed-delivery link travels only in the e-mail (or via order number + e-mail)."""
    shipment = make_shipment(runtime, "attempt_failed", reason="customer_unavailable")
    open_case(runtime, shipment)
    html = client.get(path_for(app, shipment)).get_data(as_text=True)
    assert "/ndr/" not in html
    assert "Choose what happens next" in html and 'href="/t/northwind"' in html
    assert "Nobody was available to receive it." in html
    assert "current issue" in html


def test_lookup_by_email_during_a_failed_attempt_leads_to_the_choice(client, runtime):
    shipment = make_shipment(runtime, "attempt_failed", reason="address_incorrect")
    case_id = open_case(runtime, shipment)
    response = lookup(client, order_number="NW-1001", contact=CUSTOMER["email"])
    assert response.status_code == 303
    token = response.headers["Location"].rsplit("/ndr/", 1)[1]
    max_age = timedelta(days=runtime.settings.link_max_age_days)
    secret = runtime.settings.signing_key("links")
    assert read_token(secret, LINK_PURPOSE, token, max_age, runtime.clock) == case_id
    assert CUSTOMER["street"] in client.get(f"/ndr/{token}").get_data(as_text=True)


@pytest.mark.parametrize("status", ["attempt_failed", "delivered"])
def test_lookup_by_postal_code_shows_status_dates_and_city_only(client, runtime, status):
    shipment = make_shipment(
        runtime, status, details={"proof_of_delivery": {"signed_by": CUSTOMER["name"]}}
    )
    _doorstep_scans(runtime, shipment)  # was shown in full: the street on a postal code
    open_case(runtime, shipment)
    response = lookup(client, order_number="NW-1001", contact="62704")
    assert response.status_code == 303
    token = response.headers["Location"].rsplit("/", 1)[1]
    assert links.read_grant(runtime, links.TRACKING, BRAND, token).place_only
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert "Delivering to <bdi>Springfield, IL</bdi>" in html
    assert re.search(r"(Delivery attempt failed</h1>|Delivered on</dt>)", html)
    for secret in PERSONAL:
        if secret != CUSTOMER["city"]:
            assert secret not in html, secret
    assert "/ndr/" not in html and "/returns/" not in html and "csrf_token" not in html
    feedback = client.post(
        response.headers["Location"] + "/feedback",
        data={"csrf_token": csrf(client, "/t/northwind"), "score": "9"},
    )
    assert feedback.status_code == 403


def test_return_button_only_within_the_window(app, client, runtime, clock):
    shipment = make_shipment(runtime, "delivered")
    assert "Start a return" in client.get(path_for(app, shipment)).get_data(as_text=True)
    clock.advance(timedelta(days=31))
    html = client.get(path_for(app, shipment)).get_data(as_text=True)
    assert "Delivered" in html and "Start a return" not in html


def test_feedback_is_stored_once_with_the_carrier(app, client, runtime):
    shipment = make_shipment(runtime, "delivered")
    path = path_for(app, shipment)
    token = csrf(client, path)
    form = {"csrf_token": token, "score": "9", "comment": "Quick and friendly"}
    assert client.post(path + "/feedback", data=form).status_code == 303
    assert client.post(path + "/feedback", data={**form, "score": "2"}).status_code == 303
    with runtime.sessions() as session:
        rows = session.scalars(select(Feedback)).all()
    assert [(r.score, r.carrier, r.comment) for r in rows] == [(9, "sandbox", "Quick and friendly")]
    assert "Thank you for your feedback!" in client.get(path).get_data(as_text=True)


def test_feedback_is_stamped_by_the_runtime_clock(app, client, runtime, clock):
    """The answer's time is the runtime's (simulated in the demo and tests), not the host's."""
    shipment = make_shipment(runtime, "delivered")
    path = path_for(app, shipment)
    clock.advance(timedelta(days=3, minutes=7))
    form = {"csrf_token": csrf(client, path), "score": "8"}
    assert client.post(path + "/feedback", data=form).status_code == 303
    with runtime.sessions() as session:
        assert session.scalar(select(Feedback.created_at)) == clock.now()


def test_feedback_needs_csrf_a_valid_score_and_a_delivery(app, client, runtime):
    delivered = path_for(app, make_shipment(runtime, "delivered"))
    moving = path_for(app, make_shipment(runtime, order_number="NW-2", tracking_number="X2"))
    token = csrf(client, delivered)
    assert client.post(delivered + "/feedback", data={"score": "9"}).status_code == 400
    bad = client.post(delivered + "/feedback", data={"csrf_token": token, "score": "11"})
    assert bad.status_code == 400 and "score from 0 to 10" in bad.get_data(as_text=True)
    early = client.post(moving + "/feedback", data={"csrf_token": token, "score": "7"})
    assert early.status_code == 409
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 0


@pytest.mark.parametrize("score", ["²", "٣", " 9x", "99999999999999999999"])
def test_feedback_score_must_be_ascii_digits(app, client, runtime, score):
    delivered = path_for(app, make_shipment(runtime, "delivered"))
    refused = client.post(
        delivered + "/feedback", data={"csrf_token": csrf(client, delivered), "score": score}
    )
    assert refused.status_code == 400 and "score from 0 to 10" in refused.get_data(as_text=True)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_a_nul_byte_in_a_form_or_a_path_never_reaches_the_database(client, runtime):
    make_shipment(runtime)
    assert lookup(client, order_number="NW-1001\x00", contact="62704").status_code == 400
    assert lookup(client, order_number="NW-1001", contact="62704\x00").status_code == 400
    assert client.get("/t/northwind/number/SBX100200300%00").status_code == 404
    assert client.get("/t/northwind/number/SBX%00?format=json").status_code == 404


def lookup(client, **form):
    return client.post("/t/northwind", data={"csrf_token": csrf(client, "/t/northwind"), **form})


@pytest.mark.parametrize(
    ("contact", "place_only"),
    [(CUSTOMER["email"].upper(), False), ("62704", True), ("62704-1234", True)],
)
def test_lookup_by_order_number_leads_to_the_signed_page(client, runtime, contact, place_only):
    shipment = make_shipment(runtime)
    response = lookup(client, order_number="NW-1001", contact=contact)
    assert response.status_code == 303
    token = response.headers["Location"].rsplit("/", 1)[1]
    grant = links.read_grant(runtime, links.TRACKING, BRAND, token)
    assert grant == links.Grant(shipment, place_only=place_only)


def test_lookup_gives_one_answer_for_unknown_order_and_wrong_contact(client, runtime):
    make_shipment(runtime)
    wrong = lookup(client, order_number="NW-1001", contact="someone@example.com")
    unknown = lookup(client, order_number="NW-9999", contact=CUSTOMER["email"])
    assert wrong.status_code == unknown.status_code == 404
    message = "We couldn&#39;t find an order with these details"
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert CUSTOMER["name"] not in wrong.get_data(as_text=True)


def test_lookup_is_rate_limited_per_client(client, runtime):
    make_shipment(runtime)
    limit, _window = LOOKUP_LIMIT
    for _ in range(limit):
        assert lookup(client, order_number="NW-1", contact="x@example.com").status_code == 404
    blocked = lookup(client, order_number="NW-1001", contact=CUSTOMER["email"])
    assert blocked.status_code == 429


def test_lookup_refuses_a_post_without_csrf(client, runtime):
    response = client.post("/t/northwind", data={"order_number": "NW-1001", "contact": "62704"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_lookup_refuses_a_csrf_token_with_a_non_ascii_character(client, runtime):
    client.get("/t/northwind")  # the form's page puts a token in the session
    response = client.post(
        "/t/northwind", data={"order_number": "NW-1001", "contact": "62704", "csrf_token": "é"}
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_persian_page_is_right_to_left_and_remembered(app, client, runtime):
    path = path_for(app, make_shipment(runtime))
    first = client.get(path + "?lang=fa")
    assert '<html lang="fa" dir="rtl">' in first.get_data(as_text=True)
    assert "در راه است" in first.get_data(as_text=True)
    assert "shipflow_lang=fa" in first.headers["Set-Cookie"]
    again = client.get(path).get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in again


@pytest.mark.parametrize(
    ("accept", "lang", "text"),
    [
        ("zh-TW,zh;q=0.8", "zh-Hant", "運送途中"),
        ("zh-CN", "zh-Hans", "正在途中"),
        ("ja", "ja", "輸送中"),
        ("de-DE,de", "en", "On its way"),
    ],
)
def test_browser_language_is_used_when_nothing_was_chosen(app, client, runtime, accept, lang, text):
    html = client.get(path_for(app, make_shipment(runtime)), headers={"Accept-Language": accept})
    html = html.get_data(as_text=True)
    assert f'<html lang="{lang}" dir="ltr">' in html and text in html


def test_lookup_page_is_small_and_labelled(client, runtime):
    response = client.get("/t/northwind")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) < 100_000
    for field in ("order_number", "contact", "tracking_number"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html


def test_lookup_of_an_order_in_two_parcels_lists_both(client, runtime):
    first = make_shipment(runtime)
    with runtime.sessions.begin() as session:
        shipment = session.get(Shipment, first)
        session.add(
            Shipment(
                brand_id=shipment.brand_id,
                order_id=shipment.order_id,
                carrier="sandbox",
                tracking_number="SBX999",
            )
        )
    response = lookup(client, order_number="NW-1001", contact="62704")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "coming in 2 parcels" in html
    assert len(re.findall(r'href="/t/northwind/[\w.-]+"', html)) == 2


def test_tracking_number_form_leads_to_the_number_page(client, runtime):
    make_shipment(runtime)
    response = client.get("/t/northwind/number?tracking_number=+SBX100200300+")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/t/northwind/number/SBX100200300")
    assert (
        client.get("/t/northwind/number?tracking_number=")
        .headers["Location"]
        .endswith("/t/northwind")
    )


def test_persian_page_shows_solar_hijri_dates(app, client, runtime):
    shipment = make_shipment(runtime, promised=date(2026, 11, 25), predicted=date(2026, 11, 27))
    html = client.get(path_for(app, shipment) + "?lang=fa").get_data(as_text=True)
    assert "<del>چهارشنبه ۴ آذر</del>" in html  # Wed, Nov 25 2026 is 4 Azar 1405
    assert "جمعه ۶ آذر" in html  # Fri, Nov 27


# 。、！？ and the other full-width marks followed by an ASCII space, in the page's text.
SPACE_AFTER_FULL_WIDTH = re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f] ")


@pytest.mark.parametrize("language", ["ja", "zh-Hant"])
def test_chinese_and_japanese_pages_run_sentences_together(app, client, runtime, language):
    shipment = make_shipment(runtime, "attempt_failed", reason="customer_unavailable")
    open_case(runtime, shipment)
    html = client.get(path_for(app, shipment) + f"?lang={language}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", html)
    joined = {
        "ja": "お問い合わせください。注文番号",
        "zh-Hant": "與我們聯絡。您仍可",
    }[language]
    assert joined in text
    assert not re.findall(r"\S{0,12}[\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f] \S{0,12}", text)


def test_persian_page_keeps_latin_names_numbers_and_addresses_left_to_right(app, client, runtime):
    shipment = make_shipment(
        runtime,
        "delivered",
        details={"proof_of_delivery": {"signed_by": "P. RAHIMI", "left_at": "front door"}},
    )
    html = client.get(path_for(app, shipment) + "?lang=fa").get_data(as_text=True)
    assert "P. RAHIMI" in html and "front door" in html
    assert unisolated_latin(html) == []

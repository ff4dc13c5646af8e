"""The sandbox carrier through the Carrier interface: rates, labels, polling against the
clock, signed webhooks, cancellations, pickups and customers' instructions."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import zlib
from dataclasses import astuple, replace
from datetime import UTC, date, datetime, timedelta, timezone

import barcode
import pytest
from PIL import Image
from prometheus_client import REGISTRY

from carriers import registry, units
from carriers.base import (
    CarrierAccount,
    CarrierRejected,
    FailedDeliveryAction,
    FailedDeliveryInstruction,
    PickupRequest,
    ShipmentRequest,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.sandbox import (
    SandboxCarrier,
    SandboxEmitter,
    SandboxProfile,
    ShipmentBook,
    labels,
    mapping,
    rates,
    signing,
)
from carriers.sandbox.carrier import place_of_zip
from carriers.sandbox.network import SimulatedShipment, simulate
from carriers.sandbox.server import build_app
from shipflow.clock import FixedClock
from shipflow.domain import Address, Parcel, Reason, Status, TrackingEvent, TrackingUpdate
from tests.carriers.carrier_contract import fixture
from tests.carriers.sandbox_profiles import ALWAYS_MISSED, CALM

NEW_YORK = Address("US", "10001", "New York", "NY", "1 Main St", name="Shop")
BROOKLYN = Address("US", "11201", "Brooklyn", "NY", "5 Court St", name="Ann")
SAN_FRANCISCO = Address("US", "94105", "San Francisco", "CA", "2 Market St", name="Bob")
MONDAY_10AM_NY = datetime(2026, 11, 16, 15, tzinfo=UTC)
SECRET = "test-secret"


def request(recipient=SAN_FRANCISCO, service="ground", weight_g=1200) -> ShipmentRequest:
    return ShipmentRequest(NEW_YORK, recipient, [Parcel(weight_g, 300, 200, 100)], service)


def sandbox(clock, profile=CALM, wall_clock=None, **credentials) -> SandboxCarrier:
    """On `clock` for parcels and, unless told otherwise, for webhook signatures too."""
    account = CarrierAccount("sandbox", "test", {"webhook_secret": SECRET, **credentials})
    return SandboxCarrier(
        account, clock=clock, profile=profile, book=ShipmentBook(), wall_clock=wall_clock or clock
    )


@pytest.fixture
def clock():
    return FixedClock(MONDAY_10AM_NY)


def advance_until(clock, carrier, tracking_number, code, limit=timedelta(days=20)):
    end = clock.now() + limit
    while clock.now() < end:
        events = carrier.visible_events(tracking_number)
        if events and events[-1].code == code:
            return events
        clock.advance(timedelta(minutes=30))
    raise AssertionError(f"no {code} scan within {limit}")


# --- registry, numbers --------------------------------------------------------------------------


def test_registered_as_sandbox_and_built_from_an_account_alone():
    cls = registry.get_carrier_class("sandbox")
    assert cls is SandboxCarrier
    assert cls(CarrierAccount("sandbox", "demo")).name == "sandbox"


def test_account_settings_tune_the_simulation():
    account = CarrierAccount("sandbox", "demo", {"late_rate": "0.5", "max_attempts": "2"})
    profile = SandboxCarrier(account).profile
    assert (profile.late_rate, profile.max_attempts) == (0.5, 2)
    assert profile.loss_rate == SandboxProfile().loss_rate


def test_a_tracking_number_carries_its_shipment(clock):
    label = sandbox(clock).create_label(request())
    shipment = sandbox(clock).shipment(label.tracking_number)  # another instance, same story
    assert (shipment.origin.postal_code, shipment.destination.postal_code) == ("10001", "94105")
    assert shipment.service == "ground" and shipment.ship_time == MONDAY_10AM_NY
    tampered = label.tracking_number[:-1] + str((int(label.tracking_number[-1]) + 1) % 10)
    assert sandbox(clock).shipment(tampered) is None


# --- rates --------------------------------------------------------------------------------------


def test_zones_band_distance():
    assert [rates.zone_for(km) for km in (10, 300, 900, 1400, 1900, 2500, 4000)] == [
        2, 3, 4, 5, 6, 7, 8
    ]  # fmt: skip


def test_price_grows_with_weight_zone_and_service(clock):
    carrier = sandbox(clock)
    near = {q.service: q for q in carrier.rates(request(BROOKLYN))}
    far = {q.service: q for q in carrier.rates(request(SAN_FRANCISCO))}
    heavy = {q.service: q for q in carrier.rates(request(SAN_FRANCISCO, weight_g=9000))}
    for service in ("economy", "ground", "express", "overnight"):
        cents = [quotes[service].price.amount for quotes in (near, far, heavy)]
        assert cents == sorted(set(cents))
        assert far[service].price.currency == "USD"
        assert isinstance(far[service].price.amount, int)
    prices = [far[s].price.amount for s in ("economy", "ground", "express", "overnight")]
    assert prices == sorted(prices)
    assert far["overnight"].estimated_delivery == date(2026, 11, 17)
    assert far["ground"].transit_days == 5


def test_same_day_is_offered_in_town_only(clock):
    carrier = sandbox(clock)
    assert "same_day" in {q.service for q in carrier.rates(request(BROOKLYN))}
    assert "same_day" not in {q.service for q in carrier.rates(request(SAN_FRANCISCO))}
    with pytest.raises(CarrierRejected, match="same_day"):
        carrier.create_label(request(SAN_FRANCISCO, service="same_day"))


def test_light_bulky_parcels_pay_dimensional_weight():
    assert rates.billable_pounds(Parcel(200)) == 1
    assert rates.billable_pounds(Parcel(200, 600, 400, 400)) == 43  # 96 dm³ / 5 = 19.2 kg


def test_unknown_service_and_foreign_addresses_are_rejected(clock):
    carrier = sandbox(clock)
    with pytest.raises(CarrierRejected, match="unknown sandbox service"):
        carrier.create_label(request(service="teleport"))
    with pytest.raises(CarrierRejected, match="US ZIP"):
        carrier.rates(request(Address("DE", "10115", "Berlin")))


# --- labels -------------------------------------------------------------------------------------


def _bar_modules(png: bytes) -> str:
    """Read the Code128 back from the label image: the widest row with many bar edges (text
    rows are narrower), as modules of `BAR_MODULE_PX` pixels ("1" bar, "0" space)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width = image.width
    pixels = image.load()

    def row(y: int) -> str:
        return "".join("1" if pixels[x, y] < 128 else "0" for x in range(width))

    striped = [r for r in map(row, range(0, image.height, 4)) if r.count("01") >= 20]
    best = max(striped, key=lambda r: len(r.strip("0")))
    bars = best.strip("0")
    runs = [(bit, len(list(group))) for bit, group in itertools.groupby(bars)]
    assert all(n % labels.BAR_MODULE_PX == 0 for _, n in runs)
    return "".join(bit * (n // labels.BAR_MODULE_PX) for bit, n in runs)


def _pdf_bar_modules(pdf: bytes) -> str:
    """Read the Code128 back from the PDF label: the page's filled rectangles (`x y w h re f*`,
    its one stream is ASCII85 and Flate encoded), as modules of the narrowest bar's width."""
    [stream] = re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S)
    content = zlib.decompress(base64.a85decode(stream.strip().removesuffix(b"~>")))
    found = re.findall(rb"([\d.]+) [\d.]+ ([\d.]+) [\d.]+ re f", content)
    bars = [(float(x), float(width)) for x, width in found]
    module, first = min(width for _, width in bars), bars[0][0]
    modules = ["0"] * round((bars[-1][0] + bars[-1][1] - first) / module)
    for x, width in bars:
        start = round((x - first) / module)
        modules[start : start + round(width / module)] = "1" * round(width / module)
    return "".join(modules)


def test_pdf_label_barcode_encodes_the_tracking_number(clock):
    label = sandbox(clock).create_label(request())
    assert label.label_format == "PDF"
    assert label.label_data.startswith(b"%PDF")
    expected = barcode.get("code128", label.tracking_number).build()[0]
    assert _pdf_bar_modules(label.label_data) == expected.strip("0")
    assert label.qr_code is None


def test_png_label_barcode_encodes_the_tracking_number(clock):
    label = sandbox(clock, label_format="png").create_label(request())
    assert label.label_format == "PNG"
    image = Image.open(io.BytesIO(label.label_data))
    assert image.size == (4 * labels.DPI, 6 * labels.DPI)
    expected = barcode.get("code128", label.tracking_number).build()[0]
    assert _bar_modules(label.label_data) == expected.strip("0")


def test_return_label_comes_with_a_qr_code(clock):
    label = sandbox(clock).create_return_label(request())
    assert label.tracking_number.startswith("SBXR") and label.service == "ground"
    assert label.label_data.startswith(b"%PDF")
    qr = Image.open(io.BytesIO(label.qr_code))
    assert qr.width == qr.height > 100


# --- polling ------------------------------------------------------------------------------------


def test_polling_shows_only_what_has_happened_by_now(clock):
    carrier = sandbox(clock)
    tn = carrier.create_label(request()).tracking_number
    (update,) = carrier.track([tn, "SBXG000000000000000000000", "1Z999"])
    assert [e.raw_code for e in update.events] == ["LC"]
    assert update.latest.status == Status.INFO_RECEIVED
    seen = 1
    for _ in range(12):
        clock.advance(timedelta(days=1))
        (update,) = carrier.track([tn])
        assert all(e.occurred_at <= clock.now() for e in update.events)
        assert len(update.events) >= seen
        seen = len(update.events)
    assert update.latest.status == Status.DELIVERED
    assert update.latest.city == "San Francisco"
    assert update.estimated_delivery.date() == date(2026, 11, 23)


def test_the_estimate_moves_once_an_exception_is_visible(clock):
    stormy = SandboxProfile(late_rate=0, failed_attempt_rate=0, loss_rate=0, exception_rate=1.0)
    carrier = sandbox(clock, stormy)
    tn = carrier.create_label(request()).tracking_number
    promised = carrier.track([tn])[0].estimated_delivery
    advance_until(clock, carrier, tn, "EX")
    (update,) = carrier.track([tn])
    assert update.latest.status == Status.EXCEPTION and update.latest.reason is not None
    assert update.estimated_delivery.date() > promised.date()
    clock.advance(timedelta(days=15))
    delivered = carrier.track([tn])[0].latest
    assert delivered.occurred_at.date() == update.estimated_delivery.date()


def test_a_label_created_for_a_later_date_is_not_yet_trackable(clock):
    carrier = sandbox(clock)
    later = ShipmentRequest(
        NEW_YORK, BROOKLYN, [Parcel(500)], "ground", ship_date=date(2026, 12, 2)
    )
    tn = carrier.create_label(later).tracking_number
    assert carrier.track([tn]) == []


# --- webhooks -----------------------------------------------------------------------------------


def signed(body: bytes, at: datetime, secret: str = SECRET) -> dict[str, str]:
    return signing.sign(secret, body, at)


def test_webhook_signature_good_bad_and_replayed(clock):
    carrier = sandbox(clock)
    body = b'{"id":"evt_1"}'
    carrier.verify_webhook(WebhookRequest(signed(body, clock.now()), body))
    bad = [
        WebhookRequest(signed(body, clock.now(), "other-secret"), body),
        WebhookRequest(signed(body, clock.now()), body + b" "),
        WebhookRequest({}, body),
        WebhookRequest({"X-Sandbox-Signature": "v1=abc"}, body),
        WebhookRequest({"X-Sandbox-Signature": f"t={int(clock.now().timestamp())},v1=é"}, body),
        WebhookRequest(signed(body, clock.now() - timedelta(minutes=6)), body),  # replayed
    ]
    for webhook in bad:
        with pytest.raises(WebhookSignatureError):
            carrier.verify_webhook(webhook)
    late = WebhookRequest(signed(body, clock.now()), body)
    clock.advance(timedelta(days=1))
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        carrier.verify_webhook(late)


def test_webhooks_are_signed_on_real_time_while_parcels_move_on_the_demo_clock(clock):
    """The demo's clock runs a day a minute, so a delivery taking a real second arrives half
    an hour later on it; the signature guards against replays, so it is stamped and checked on
    the real time (as a real carrier's), however far ahead the simulated clock runs."""
    wall = FixedClock(clock.now() - timedelta(days=30))
    carrier, receiver = sandbox(clock, wall_clock=wall), sandbox(clock, wall_clock=wall)
    delivered = []

    def deliver(url, body, headers):
        clock.advance(timedelta(minutes=30))  # the simulated time a busy real second takes
        webhook = WebhookRequest(headers, body, url, received_at=clock.now())
        receiver.verify_webhook(webhook)
        delivered.append(webhook)

    emitter = SandboxEmitter(carrier, deliver)
    tn = carrier.create_label(request()).tracking_number
    emitter.register(tn, "https://shop.example/hooks/sandbox")
    clock.advance(timedelta(days=2))
    assert emitter.run_once() == len(delivered) > 1
    wall.advance(timedelta(minutes=6))
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        receiver.verify_webhook(delivered[0])  # the same delivery replayed later


def test_webhooks_deliver_the_same_events_as_polling(clock):
    carrier = sandbox(clock)
    receiver = sandbox(clock)
    received = []

    def deliver(url, body, headers):
        webhook = WebhookRequest(headers, body, url)
        receiver.verify_webhook(webhook)
        received.extend(receiver.parse_webhook(webhook))

    emitter = SandboxEmitter(carrier, deliver)
    tn = carrier.create_label(request()).tracking_number
    emitter.register(tn, "https://shop.example/hooks/sandbox")
    assert emitter.run_once() == 1
    clock.advance(timedelta(days=12))
    assert emitter.run_once() > 3
    assert emitter.run_once() == 0  # nothing twice
    (polled,) = carrier.track([tn])
    assert [e.dedupe_key for u in received for e in u.events] == [
        e.dedupe_key for e in polled.events
    ]
    assert {u.tracking_number for u in received} == {tn}


def test_a_failed_webhook_delivery_is_retried_in_order(clock):
    carrier = sandbox(clock)
    calls = []

    def flaky(url, body, headers):
        calls.append(json.loads(body)["data"]["event"]["code"])
        if len(calls) == 2:
            raise ConnectionError("receiver down")

    emitter = SandboxEmitter(carrier, flaky)
    tn = carrier.create_label(request()).tracking_number
    emitter.register(tn, "http://localhost/hook")
    clock.advance(timedelta(days=1))
    first = emitter.run_once()
    assert first == 1 and calls == ["LC", "PU"]
    emitter.run_once()
    assert calls[:4] == ["LC", "PU", "PU", "AR"]


# --- cancellations, pickups, instructions -------------------------------------------------------


def test_cancel_before_pickup_only(clock):
    carrier = sandbox(clock)
    tn = carrier.create_label(request()).tracking_number
    carrier.cancel(tn)
    (update,) = carrier.track([tn])
    assert [e.status for e in update.events] == [Status.INFO_RECEIVED, Status.CANCELLED]
    picked_up = carrier.create_label(request()).tracking_number
    clock.advance(timedelta(days=1))
    with pytest.raises(CarrierRejected, match="no longer be cancelled"):
        carrier.cancel(picked_up)


@pytest.mark.parametrize(
    "day,accepted",
    [(date(2026, 11, 17), True), (date(2026, 11, 22), False), (date(2026, 11, 26), False)],
)
def test_pickups_on_working_days_only(clock, day, accepted):
    carrier = sandbox(clock)
    pickup = PickupRequest(NEW_YORK, day)
    if accepted:
        confirmation = carrier.schedule_pickup(pickup)
        assert confirmation.pickup_date == day and confirmation.confirmation_number
        assert carrier.schedule_pickup(pickup) == confirmation
    else:
        with pytest.raises(CarrierRejected, match="no sandbox pickups"):
            carrier.schedule_pickup(pickup)


def _missed_parcel(clock):
    carrier = sandbox(clock, ALWAYS_MISSED)
    tn = carrier.create_label(request(BROOKLYN)).tracking_number
    before = advance_until(clock, carrier, tn, "NA")
    return carrier, tn, before


def _final_codes(carrier, clock, tn):
    clock.advance(timedelta(days=30))
    (update,) = carrier.track([tn])
    return update


def test_without_instructions_a_missed_parcel_ends_at_the_pickup_point_or_back(clock):
    carrier, tn, _ = _missed_parcel(clock)
    update = _final_codes(carrier, clock, tn)
    codes = [e.raw_code for e in update.events]
    assert codes.count("NA") == 3 and "PK" in codes
    assert update.events[0].status == Status.INFO_RECEIVED


def test_reattempt_on_a_date_changes_the_future(clock):
    carrier, tn, before = _missed_parcel(clock)
    wanted = before[-1].at.date() + timedelta(days=3)
    while wanted.weekday() > 4:
        wanted += timedelta(days=1)
    reference = carrier.failed_delivery_action(
        FailedDeliveryInstruction(tn, FailedDeliveryAction.REATTEMPT, reattempt_on=wanted)
    )
    assert reference.startswith("SBXI")
    update = _final_codes(carrier, clock, tn)
    assert [e.raw_code for e in update.events[: len(before)]] == [e.code for e in before]
    after = update.events[len(before) :]
    assert [e.raw_code for e in after] == ["OD", "DL"]
    assert {e.occurred_at.date() for e in after} == {wanted}


@pytest.mark.parametrize(
    "action,codes,final",
    [
        (FailedDeliveryAction.RETURN_TO_SENDER, ["RS", "RD"], Status.RETURNED_TO_SENDER),
        (FailedDeliveryAction.HOLD_AT_PICKUP_POINT, ["PK", "DL"], Status.DELIVERED),
        (FailedDeliveryAction.UPDATE_ADDRESS, ["OD", "DL"], Status.DELIVERED),
    ],
)
def test_return_or_hold_instructions(clock, action, codes, final):
    carrier, tn, before = _missed_parcel(clock)
    carrier.failed_delivery_action(FailedDeliveryInstruction(tn, action))
    update = _final_codes(carrier, clock, tn)
    assert [e.raw_code for e in update.events[len(before) :]] == codes
    assert update.latest.status == final


def test_an_instruction_accepted_just_before_the_next_scan_still_counts(clock):
    carrier, tn, before = _missed_parcel(clock)
    _, planned = carrier.timeline(tn)
    clock.current = planned.events[len(before)].at - timedelta(minutes=1)
    carrier.failed_delivery_action(
        FailedDeliveryInstruction(tn, FailedDeliveryAction.RETURN_TO_SENDER)
    )
    assert [e.raw_code for e in _final_codes(carrier, clock, tn).events[len(before) :]] == [
        "RS",
        "RD",
    ]


def test_instructions_need_a_failed_attempt(clock):
    carrier = sandbox(clock)
    tn = carrier.create_label(request()).tracking_number
    with pytest.raises(CarrierRejected, match="after a failed delivery attempt"):
        carrier.failed_delivery_action(
            FailedDeliveryInstruction(tn, FailedDeliveryAction.RETURN_TO_SENDER)
        )


# --- raw codes, HTTP server ---------------------------------------------------------------------


def test_unknown_raw_codes_default_and_are_counted():
    labels_ = {"carrier": "sandbox", "code": "ZZ"}
    before = REGISTRY.get_sample_value("shipflow_carrier_unknown_status_total", labels_) or 0
    assert units.lookup("sandbox", {}, "ZZ") == (Status.IN_TRANSIT, None)
    after = REGISTRY.get_sample_value("shipflow_carrier_unknown_status_total", labels_)
    assert after == before + 1


def test_http_server_labels_and_tracking(clock):
    carrier = sandbox(clock)
    emitter = SandboxEmitter(carrier, lambda *a: None)
    client = build_app(carrier, emitter, "http://localhost/hook").test_client()
    body = {
        "service": "express",
        "shipper": {"country": "US", "postal_code": "10001"},
        "recipient": {"country": "US", "postal_code": "94105"},
        "parcels": [{"weight_g": 800}],
    }
    created = client.post("/v1/labels", json=body)
    assert created.status_code == 201
    tn = created.json["tracking_number"]
    assert created.json["price"]["currency"] == "USD"
    assert client.get(created.json["label_url"]).data.startswith(b"%PDF")
    assert client.get(f"/v1/tracking/{tn}").json["events"][0]["code"] == "LC"
    assert emitter.run_once() == 1
    assert client.get("/v1/tracking/SBXG1").status_code == 404
    assert client.post("/v1/labels", json={"service": "ground"}).status_code == 400


def test_a_zip_with_a_broken_zone_in_the_data_is_delivered_on_its_longitude_zone():
    # the zipcodes data gives "Napakiak" as this Alaskan ZIP's time zone
    shipment = SimulatedShipment(
        "SBX00000001",
        place_of_zip("10001"),
        place_of_zip("99634"),
        "ground",
        datetime(2026, 11, 23, 15, tzinfo=UTC),
    )
    delivered = next(e for e in simulate(shipment).events if e.code == "DL")
    assert delivered.at.tzinfo is not None


def test_unreadable_sandbox_event_is_skipped_and_kept():
    """The sandbox shares the real adapters' rule: one bad event never sinks the others."""
    from carriers.sandbox.mapping import parse_tracking

    good = {
        "code": "PU",
        "reason": "",
        "description": "Picked up",
        "occurred_at": "2026-11-23T09:00:00",
        "location": {"city": "Chicago", "state": "IL", "postal_code": "60607", "country": "US"},
    }
    payload = {
        "tracking_number": "SBX1",
        "service": "ground",
        "estimated_delivery": "2026-11-25T17:00:00-06:00",
        "events": [good, {"code": "DL", "description": "Delivered"}],
    }
    update = parse_tracking(payload)
    assert [e.raw_code for e in update.events] == ["PU"]
    assert update.events[0].occurred_at.utcoffset() == timedelta(hours=-6)  # Chicago, no offset
    assert [json.loads(u.raw)["code"] for u in update.unreadable] == ["DL"]


CENTRAL = timezone(timedelta(hours=-6))


def test_a_poll_with_nulls_and_an_unreadable_estimate_keeps_every_readable_event():
    """Shaped like `GET /v1/tracking/<number>` (fixtures/sandbox/tracking.json) with what real
    answers do to optional fields: a null event, nulls for texts, a missing description, an
    estimate and a store that cannot be read. Each costs only itself."""
    payload = {
        "tracking_number": "SBX1",
        "service": "ground",
        "estimated_delivery": "TBD",
        "events": [
            None,
            {
                "code": "PU",
                "reason": None,
                "occurred_at": "2026-11-23T09:00:00-06:00",
                "location": {"facility": None, "city": "Chicago", "state": None, "country": "US"},
            },
            {
                "code": "PK",
                "description": "Held at a pickup point",
                "occurred_at": "2026-11-25T10:05:00-06:00",
                "location": None,
                "pickup_point": "NJ-07102-1",
                "pickup_deadline": None,
            },
        ],
    }
    update = mapping.parse_tracking(payload)
    assert [u.raw for u in update.unreadable] == ["null"]
    assert replace(update, unreadable=()) == TrackingUpdate(
        carrier="sandbox",
        tracking_number="SBX1",
        events=(
            TrackingEvent(
                status=Status.IN_TRANSIT,
                occurred_at=datetime(2026, 11, 23, 9, tzinfo=CENTRAL),
                raw_code="PU",
                city="Chicago",
                country="US",
            ),
            TrackingEvent(
                status=Status.AVAILABLE_FOR_PICKUP,
                occurred_at=datetime(2026, 11, 25, 10, 5, tzinfo=CENTRAL),
                raw_code="PK",
                raw_text="Held at a pickup point",
            ),
        ),
        service="ground",
    )


def test_a_webhook_without_its_estimate_keeps_its_event():
    body = fixture("sandbox", "webhook")
    body["data"]["estimated_delivery"] = None
    eastern = timezone(timedelta(hours=-5))
    (update,) = mapping.parse_webhook_body(json.dumps(body).encode())
    assert (update.tracking_number, update.service, update.estimated_delivery) == (
        "SBXG606070100112026111509000015",
        "ground",
        None,
    )
    assert [astuple(event) for event in update.events] == [
        (
            Status.ATTEMPT_FAILED,
            datetime(2026, 11, 18, 14, 12, tzinfo=eastern),
            "NA",
            "Delivery attempted: customer unavailable",
            Reason.CUSTOMER_UNAVAILABLE,
            "Newark delivery station",
            "Newark",
            "NJ",
            "07102",
            "US",
        )
    ]

"""The shared event-text reading, the scan-location zone lookup and the skip-and-count rule
every adapter uses."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from carriers import convert
from carriers.texts import EVENT_TEXTS, from_text
from carriers.zones import zone_at
from shipflow.domain import Reason, Status

S, R = Status, Reason


# One case per row of carriers.texts.EVENT_TEXTS, in its order.
TEXT_ROWS = [
    ("Your package has cleared customs and is on the way.", S.IN_TRANSIT, None),
    ("Returned to shipper", S.RETURNED_TO_SENDER, None),
    ("Recipient refused delivery", S.RETURNING_TO_SENDER, R.REFUSED),
    ("The package is on the way back to the sender", S.RETURNING_TO_SENDER, None),
    ("With delivery courier", S.OUT_FOR_DELIVERY, None),
    ("Customer not available or business closed", S.ATTEMPT_FAILED, R.CUSTOMER_UNAVAILABLE),
    ("Closed on arrival", S.ATTEMPT_FAILED, R.BUSINESS_CLOSED),
    ("No access to the delivery address", S.ATTEMPT_FAILED, R.ACCESS_PROBLEM),
    ("The street number is incorrect.", S.EXCEPTION, R.ADDRESS_INCORRECT),
    ("Held at a UPS facility for customer pickup", S.AVAILABLE_FOR_PICKUP, None),
    ("Clearance delay", S.EXCEPTION, R.CUSTOMS_HOLD),
    ("Shipment on hold, duties payment required", S.EXCEPTION, R.PAYMENT_REQUIRED),
    ("Severe weather conditions have delayed delivery.", S.IN_TRANSIT, R.WEATHER),
    ("The shipment was damaged", S.EXCEPTION, R.DAMAGED),
    ("The package could not be located", S.EXCEPTION, R.LOST),
    ("Missed connection, shipment delay", S.IN_TRANSIT, R.CARRIER_DELAY),
    ("Shipment on hold", S.EXCEPTION, R.HELD_BY_CARRIER),
]


def test_every_text_row_has_a_case():
    assert len(TEXT_ROWS) == len(EVENT_TEXTS)


@pytest.mark.parametrize(("text", "status", "reason"), TEXT_ROWS)
def test_text_row(text, status, reason):
    assert from_text(text) == (status, reason)


@pytest.mark.parametrize(
    "text",
    [
        "Your package was released by the government agency.",
        "We've received the information needed to submit your package for clearance.",
        "Customs clearance status updated",
    ],
)
def test_good_news_is_never_an_exception(text):
    assert from_text(text) in (None, (S.IN_TRANSIT, None))


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        (("US", "CA", "95828"), "America/Los_Angeles"),  # ZIP code decides
        (("US", "TN", "37663"), "America/New_York"),  # Kingsport, TN is Eastern: ZIP beats state
        (("US", "NJ", ""), "America/New_York"),  # state table
        (("US", "AZ", ""), "America/Phoenix"),
        (("CA", "BC", ""), "America/Vancouver"),
        (("DE", "", "53113"), "Europe/Berlin"),  # Berlin and Busingen keep the same clock
        (("NL", "", "1043 AG"), "Europe/Amsterdam"),
        (("US", "", ""), None),  # several zones, nothing to choose by
        (("ES", "", "28001"), "Europe/Madrid"),  # Madrid, from the GeoNames postal table
        (("ES", "", "35001"), "Atlantic/Canary"),  # the Canaries keep another clock
        (("ES", "", ""), None),  # so Spain without a postal code is no guess
        (("", "NJ", "07470"), None),  # no country: no guess
    ],
)
def test_zone_of_a_scan_location(place, zone):
    found = zone_at(*place)
    assert (found.key if found else None) == zone


def test_time_without_offset_falls_back_to_utc_where_the_zone_is_unknown():
    assert convert.parse_timestamp("2026-11-22T07:47", ("ES", "", "")) == datetime(
        2026, 11, 22, 7, 47, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("071356", time(7, 13, 56)),
        ("74700", time(7, 47)),
        ("07:47:00", time(7, 47)),
        ("07:47", time(7, 47)),
        ("0747", time(7, 47)),
    ],
)
def test_clock_time(text, expected):
    assert convert.clock_time(text) == expected


@pytest.mark.parametrize(
    ("text", "hours"), [("-05:00", -5), ("-04.00", -4), ("+0530", 5.5), ("-5", -5)]
)
def test_utc_offset(text, hours):
    assert convert.utc_offset(text) == timezone(timedelta(hours=hours))


def test_read_each_skips_logs_counts_and_keeps_the_unreadable(caplog):
    caplog.set_level(logging.WARNING, logger="carriers.convert")
    counter = convert.UNREADABLE.labels(carrier="acme", what="event")
    before = counter._value.get()

    read, skipped = convert.read_each(
        "acme", "event", [{"n": 1}, {"x": 2}, {"n": 3}], lambda i: i["n"]
    )

    assert read == [1, 3]
    assert [(s.what, json.loads(s.raw)) for s in skipped] == [("event", {"x": 2})]
    assert counter._value.get() == before + 1
    assert '{"x": 2}' in caplog.text

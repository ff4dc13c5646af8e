"""Table tests of the pure detectors: one row per case, the expected verdict beside it."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shipflow.delays.config import AlertsConfig, LaneConfig
from shipflow.delays.detectors import (
    LaneStats,
    Policy,
    ShipmentSnapshot,
    detect,
    detect_exception,
    detect_late,
    detect_not_picked_up,
    detect_stale,
    lane_incident,
    latest_overdue_label,
    pickup_deadline,
)
from shipflow.domain import Reason, Status, Warehouse
from shipflow.domain.model import Address

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)  # a Wednesday
TODAY = NOW.date()
EWR = Warehouse(
    code="EWR",
    name="Edison",
    address=Address(country="US", postal_code="08817"),
    latitude=40.5,
    longitude=-74.4,
    timezone="America/New_York",
    cutoff=time(14),
    handling_days=0,
    working_days=frozenset(range(5)),
    holiday_country="US",
    holiday_subdivision="NJ",
    pickup_days=frozenset(range(5)),
    stock={},
)
POLICY = Policy(
    alerts=AlertsConfig(carrier_stale_hours={"usps": {"in_transit": 96}}),
    warehouses={"EWR": EWR},
)


def shipment(**changes) -> ShipmentSnapshot:
    values = {
        "id": "shp_1",
        "brand_id": "brd_1",
        "carrier": "ups",
        "status": Status.IN_TRANSIT,
        "created_at": NOW - timedelta(days=2),
        "last_event_at": NOW - timedelta(hours=1),
        "warehouse_code": "EWR",
        "promised_date": TODAY + timedelta(days=2),
    }
    return ShipmentSnapshot(**{**values, **changes})


D = timedelta(days=1)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("changes", "late"),
    [
        ({}, False),
        ({"predicted_date": TODAY + 2 * D}, False),  # predicted on the promise
        ({"predicted_date": TODAY + 3 * D}, True),  # predicted past the promise
        ({"predicted_date": TODAY + D}, False),  # early
        ({"promised_date": TODAY - D, "predicted_date": None}, True),  # yesterday's promise
        ({"promised_date": TODAY, "predicted_date": None}, False),  # today's: not over yet
        ({"promised_date": None, "predicted_date": TODAY + 9 * D}, False),  # nothing promised
        ({"kind": "return", "predicted_date": TODAY + 9 * D}, False),  # returns have no promise
        ({"status": Status.DELIVERED, "promised_date": TODAY - 5 * D}, False),
        ({"status": Status.EXCEPTION, "promised_date": TODAY - 2 * D}, True),
    ],
)
def test_late(changes, late):
    delay = detect_late(shipment(**changes), NOW, POLICY)
    assert (delay is not None) is late
    if late:
        assert delay.dedupe_key == f"late:shp_1:{shipment(**changes).promised_date}"


@pytest.mark.parametrize(
    ("status", "carrier", "silent", "stale"),
    [
        (Status.IN_TRANSIT, "ups", 47 * H, False),
        (Status.IN_TRANSIT, "ups", 49 * H, True),
        (Status.IN_TRANSIT, "usps", 49 * H, False),  # carrier's own limit: 96 h
        (Status.IN_TRANSIT, "usps", 97 * H, True),
        (Status.OUT_FOR_DELIVERY, "ups", 11 * H, False),
        (Status.OUT_FOR_DELIVERY, "ups", 13 * H, True),
        (Status.INFO_RECEIVED, "ups", 73 * H, True),
        (Status.INFO_RECEIVED, "ups", 71 * H, False),
        (Status.DELIVERED, "ups", 999 * H, False),  # terminal
        (Status.CANCELLED, "ups", 999 * H, False),
    ],
)
def test_stale(status, carrier, silent, stale):
    snap = shipment(status=status, carrier=carrier, last_event_at=NOW - silent)
    delay = detect_stale(snap, NOW, POLICY)
    assert (delay is not None) is stale
    if stale:
        assert delay.dedupe_key == f"stale:shp_1:{status}"


def test_stale_falls_back_to_creation_time_when_never_scanned():
    snap = shipment(status=Status.IN_TRANSIT, last_event_at=None, created_at=NOW - 50 * H)
    assert detect_stale(snap, NOW, POLICY) is not None


ET = "America/New_York"


def _local(year, month, day, hour) -> datetime:

    return datetime(year, month, day, hour, tzinfo=ZoneInfo(ET)).astimezone(UTC)


@pytest.mark.parametrize(
    ("created", "now", "overdue"),
    [
        # Monday label: due by the end of Tuesday (Eastern).
        (_local(2026, 11, 16, 10), _local(2026, 11, 17, 23), False),
        (_local(2026, 11, 16, 10), _local(2026, 11, 18, 0) + H, True),
        # Friday label: the next working day is Monday.
        (_local(2026, 11, 20, 16), _local(2026, 11, 22, 12), False),
        (_local(2026, 11, 20, 16), _local(2026, 11, 23, 23), False),
        (_local(2026, 11, 20, 16), _local(2026, 11, 24, 1), True),
        # Wednesday before Thanksgiving (Thu 26 Nov 2026): due end of Friday.
        (_local(2026, 11, 25, 9), _local(2026, 11, 27, 8), False),
        (_local(2026, 11, 25, 9), _local(2026, 11, 28, 1), True),
    ],
)
def test_not_picked_up_counts_warehouse_working_days(created, now, overdue):
    snap = shipment(status=Status.INFO_RECEIVED, created_at=created, last_event_at=None)
    assert (detect_not_picked_up(snap, now, POLICY) is not None) is overdue
    # The set-based threshold agrees with the per-row deadline.
    assert (created < latest_overdue_label(now, EWR, POLICY)) is overdue


def test_not_picked_up_ignores_scanned_parcels():
    snap = shipment(status=Status.IN_TRANSIT, created_at=NOW - 10 * D)
    assert detect_not_picked_up(snap, NOW, POLICY) is None


def test_pickup_deadline_without_a_known_warehouse_uses_weekdays_in_utc():
    friday = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert pickup_deadline(friday, None, POLICY) == datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "reason", "severity"),
    [
        (Status.EXCEPTION, Reason.LOST, "critical"),
        (Status.EXCEPTION, Reason.DAMAGED, "critical"),
        (Status.EXCEPTION, Reason.WEATHER, "warning"),
        (Status.EXCEPTION, None, "warning"),
        (Status.IN_TRANSIT, None, None),
        (Status.ATTEMPT_FAILED, Reason.CUSTOMER_UNAVAILABLE, None),
    ],
)
def test_exception(status, reason, severity):
    delay = detect_exception(shipment(status=status, reason=reason), NOW, POLICY)
    assert (delay.severity if delay else None) == severity


def test_detect_combines_every_detector():
    snap = shipment(
        status=Status.EXCEPTION,
        reason=Reason.WEATHER,
        promised_date=TODAY - 3 * D,
        last_event_at=NOW - 100 * H,
    )
    assert {d.kind for d in detect(snap, NOW, POLICY)} == {"late", "stale", "exception"}
    assert detect(shipment(), NOW, POLICY) == []


LANE = LaneConfig(min_shipments=20, min_late=10, jump=0.2, baseline_late_share=0.05)


@pytest.mark.parametrize(
    ("active", "late", "baseline", "incident"),
    [
        (200, 200, 0.05, True),
        (100, 24, 0.05, False),  # 24 % < 5 % + 20 %
        (100, 25, 0.05, True),
        (100, 45, 0.30, False),  # a lane that is always slow
        (100, 55, 0.30, True),
        (15, 15, 0.0, False),  # too few shipments to mean anything
        (400, 9, 0.0, False),  # too few late parcels
    ],
)
def test_lane_incident(active, late, baseline, incident):
    found = lane_incident(LaneStats("ups", "CA", active, late, baseline), LANE)
    assert (found is not None) is incident
    if incident:
        assert found.dedupe_key == "lane_incident:ups:CA"


def test_lane_without_a_region_never_opens_an_incident():
    assert lane_incident(LaneStats("ups", "", 500, 500, 0.0), LANE) is None


def test_stale_hours_given_for_one_status_keep_the_other_defaults():
    policy = Policy(alerts=AlertsConfig.model_validate({"stale_hours": {"in_transit": 24}}))
    assert policy.stale_limit_hours("ups", "", "in_transit") == 24
    assert policy.stale_limit_hours("ups", "", "out_for_delivery") == 12
    assert policy.stale_limit_hours("ups", "", "delivered") is None


@pytest.mark.parametrize(
    ("carrier", "service", "status", "expected"),
    [
        ("sandbox", "ground", "in_transit", 90.0),  # learned beats the default
        ("sandbox", "express", "in_transit", 48.0),  # another service: the default
        ("usps", "ground", "in_transit", 96.0),  # the brand's own carrier limit beats both
        ("sandbox", "ground", "out_for_delivery", 12.0),
    ],
)
def test_stale_limit_order_configured_then_learned_then_default(carrier, service, status, expected):
    policy = Policy(
        alerts=AlertsConfig.model_validate({"carrier_stale_hours": {"usps": {"in_transit": 96}}}),
        learned_stale_hours={
            ("sandbox", "ground", "in_transit"): 90.0,
            ("usps", "ground", "in_transit"): 30.0,
        },
    )
    assert policy.stale_limit_hours(carrier, service, status) == expected


def test_pickup_deadline_keeps_the_countrys_holidays_for_a_region_named_the_postal_tables_way():
    """Taipei's warehouse is named as the postal table names it, which the holidays package does
    not know; Mid-Autumn (Monday 6 October 2025) is still not a working day."""
    taipei = Warehouse(
        code="TPE",
        name="Taipei",
        address=Address(country="TW", postal_code="100"),
        latitude=25.03,
        longitude=121.52,
        timezone="Asia/Taipei",
        cutoff=time(14),
        handling_days=0,
        holiday_country="TW",
        holiday_subdivision="Taipei/Zhongzheng",
    )
    friday = datetime(2025, 10, 3, 10, tzinfo=ZoneInfo("Asia/Taipei"))
    assert pickup_deadline(friday, taipei, POLICY) == datetime(
        2025, 10, 8, tzinfo=ZoneInfo("Asia/Taipei")
    )

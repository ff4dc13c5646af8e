"""Builders for EDD tests: history records with exact business-day durations."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shipflow.calendars import calendar
from shipflow.domain import Address, CarrierService, Warehouse
from shipflow.edd.history import OPTIONAL_TIMES, REQUIRED, HistoryRecord
from shipflow.store.models import Shipment

NY = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))
GROUND = CarrierService("ups", "ground")


def record(
    ordered: date,
    transit: int,
    handling: int = 0,
    origin: str = "10001",
    destination: str = "60601",
    shipper: str = "wh-nyc",
    service: CarrierService = GROUND,
) -> HistoryRecord:
    """An order placed at 09:00 in New York, handed over and delivered on exact business days."""
    working = calendar(WEEKDAYS, "US", "NY")
    handed = working.add(ordered, handling)
    delivered = calendar(WEEKDAYS, "US", None).after(handed, transit)
    return HistoryRecord(
        order_id=f"{ordered}-{transit}",
        ordered_at=datetime.combine(ordered, time(9), NY),
        shipper_id=shipper,
        origin_postal_code=origin,
        origin_country="US",
        destination_postal_code=destination,
        destination_country="US",
        carrier=service.carrier,
        service=service.service,
        handed_to_carrier_at=datetime.combine(handed, time(17), NY),
        delivered_at=datetime.combine(delivered, time(12), NY),
    )


def history(transits: list[int], start: date = date(2026, 9, 1), **kwargs) -> list[HistoryRecord]:
    """One record per weekday from `start`, cycling through `transits`."""
    days = [start + timedelta(days=i) for i in range(400)]
    days = [d for d in days if d.weekday() < 5][: len(transits)]
    return [record(d, t, **kwargs) for d, t in zip(days, transits, strict=True)]


def warehouse(code: str = "wh-nyc", postal: str = "10001", **kwargs) -> Warehouse:
    fields = {
        "name": code,
        "address": Address("US", postal),
        "latitude": 40.75,
        "longitude": -73.99,
        "timezone": "America/New_York",
        "holiday_subdivision": "NY",
        "stock": {"SKU": 5},
    }
    return Warehouse(code=code, **(fields | kwargs))


def history_csv(records: list[HistoryRecord]) -> str:
    """Records in the CSV shape `shipflow history import` reads."""
    columns = [*REQUIRED, *OPTIONAL_TIMES]

    def cell(value) -> str:
        return value.isoformat() if isinstance(value, datetime) else str(value or "")

    rows = [",".join(columns)]
    rows += [",".join(cell(getattr(r, c)) for c in columns) for r in records]
    return "\n".join(rows) + "\n"


def sandbox_parcel(brand_id: str, shipped: datetime, delivered: datetime | None) -> Shipment:
    """A sandbox ground parcel handed over at `shipped`, in flight until `delivered` (if
    ever): what a brand's backlog is counted from."""
    return Shipment(
        brand_id=brand_id,
        carrier="sandbox",
        service="ground",
        status="delivered" if delivered else "in_transit",
        created_at=shipped - timedelta(hours=1),
        shipped_at=shipped,
        delivered_at=delivered,
    )

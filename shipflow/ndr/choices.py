"""What the failed-delivery page offers: new attempt dates on the carrier's delivery days
(minus public holidays where the parcel is) and the brand's pickup points."""

from __future__ import annotations

from datetime import date

from shipflow.calendars import calendar
from shipflow.config import BrandConfig, PickupPointConfig
from shipflow.ndr.workflow import NdrPolicy

WEEKDAYS = frozenset(range(5))


def delivery_days(brand: BrandConfig, carrier: str, account: str, service: str) -> frozenset[int]:
    """The weekdays the shipment's carrier service delivers on (Mon-Fri if not configured)."""
    for config in brand.carriers:
        if config.carrier == carrier and (not account or config.code == account):
            for offered in config.services_domain():
                if offered.service == service:
                    return frozenset(offered.delivery_days)
    return WEEKDAYS


def reattempt_dates(
    brand: BrandConfig,
    shipment_carrier: str,
    account: str,
    service: str,
    ship_to: dict,
    today: date,
    policy: NdrPolicy,
) -> list[date]:
    """The next delivery days after `today` on the carrier's calendar where the parcel is."""
    days = delivery_days(brand, shipment_carrier, account, service)
    local = calendar(days, ship_to.get("country") or None, ship_to.get("state") or None)
    return [local.after(today, n) for n in range(1, policy.reattempt_choices + 1)]


def pickup_point(brand: BrandConfig, point_id: str) -> PickupPointConfig | None:
    return next((p for p in brand.ndr.pickup_points if p.id == point_id), None)

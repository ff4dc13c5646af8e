"""When a customer message may go out: never twice for one milestone, never in quiet hours
of the customer's own time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def message_key(shipment_id: str, milestone: str, channel: str, discriminator: str = "") -> str:
    """One message per shipment, milestone and channel (`discriminator` for milestones that
    may recur with new content, e.g. a second delay with a new date)."""
    return ":".join(p for p in ("msg", shipment_id, milestone, channel, discriminator) if p)


def send_time(now: datetime, zone: str, quiet_start: time, quiet_end: time) -> datetime:
    """`now`, or the end of the quiet hours if `now` falls inside them (local time)."""
    local = now.astimezone(ZoneInfo(zone))
    clock = local.time()
    wraps = quiet_start > quiet_end  # e.g. 21:00 -> 08:00
    inside = (
        (clock >= quiet_start or clock < quiet_end) if wraps else quiet_start <= clock < quiet_end
    )
    if not inside:
        return now
    end_day = local.date() + timedelta(days=1) if wraps and clock >= quiet_start else local.date()
    wake = datetime.combine(end_day, quiet_end, tzinfo=ZoneInfo(zone))
    return wake.astimezone(now.tzinfo)

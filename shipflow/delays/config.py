"""The typed `alerts` section of a brand in config.yaml: when a shipment counts as late or
silent, when a lane is in trouble, and where ops alerts go. Every key has a default, so a
brand with `alerts: {}` gets sensible behaviour and no notifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shipflow.notify.config import ChannelConfig

Hours = Annotated[float, Field(gt=0, le=24 * 90)]
Severity = Literal["info", "warning", "critical"]
Kind = Literal[
    "late", "at_risk", "stale", "not_picked_up", "exception", "lane_incident", "shop_order"
]
KINDS: tuple[str, ...] = get_args(Kind)
SEVERITIES: tuple[str, ...] = get_args(Severity)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LaneConfig(_Strict):
    """A lane incident opens when the late share of one carrier in one destination region
    rises `jump` above its baseline (its own recent deliveries, else `baseline_late_share`)."""

    region: Literal["state", "zip3"] = "state"
    min_shipments: Annotated[int, Field(ge=1)] = 20
    min_late: Annotated[int, Field(ge=1)] = 10
    jump: Annotated[float, Field(gt=0, le=1)] = 0.2
    baseline_late_share: Annotated[float, Field(ge=0, lt=1)] = 0.05
    baseline_days: Annotated[int, Field(ge=1, le=365)] = 28


class AtRiskConfig(_Strict):
    """The "at risk of running late" ops alert: raised once a shipment's learned chance of
    missing its promise (`shipflow.delays.risk`) reaches `threshold`, judged on each tracking
    event and by the sweep for promises ending within `horizon_days`: the lead ops want, as
    judging earlier only adds false alarms (every late parcel is still in flight then). The
    brand's model is relearned every `relearn_hours` from the last `history_days` of its
    history. 0.4 warned 59.2 % of the sandbox's late parcels a day ahead, 82.3 % of its
    warnings right (seed 11, disruptions; docs/benchmarks.md); a lower threshold warns more
    of them, less precisely. With `precision` set, the threshold is instead the one each learning chooses
    for it: the lowest at which the warnings a day or more ahead of the promise's end reached
    that share of late parcels among the brand's parcels whose promise ended lately
    (`shipflow.delays.thresholds`); `threshold` until a learning finds one that does."""

    threshold: Annotated[float, Field(gt=0, lt=1)] = 0.4
    precision: Annotated[float, Field(gt=0, lt=1)] | None = None
    horizon_days: Annotated[int, Field(ge=1, le=60)] = 1
    history_days: Annotated[int, Field(ge=30, le=730)] = 365
    relearn_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0


class RouteConfig(_Strict):
    """Alerts matching every non-empty filter go to `channels`; still open (unacknowledged)
    `escalate_after_minutes` later, they also go to `escalate_to`."""

    kinds: list[Kind] = []
    severities: list[Severity] = []
    carriers: list[str] = []
    channels: Annotated[list[str], Field(min_length=1)]
    escalate_after_minutes: Annotated[int, Field(gt=0)] | None = None
    escalate_to: list[str] = []

    def matches(self, kind: str, severity: str, carrier: str | None) -> bool:
        return (
            (not self.kinds or kind in self.kinds)
            and (not self.severities or severity in self.severities)
            and (not self.carriers or carrier in self.carriers)
        )


DEFAULT_STALE_HOURS = {
    "info_received": 72.0,
    "in_transit": 48.0,
    "out_for_delivery": 12.0,
    "attempt_failed": 48.0,
    "available_for_pickup": 120.0,
    "exception": 72.0,
    "returning_to_sender": 168.0,
}


class AlertsConfig(_Strict):
    stale_hours: dict[str, Hours] = DEFAULT_STALE_HOURS
    carrier_stale_hours: dict[str, dict[str, Hours]] = {}  # carrier -> status -> hours
    pickup_working_days: Annotated[int, Field(ge=0, le=10)] = 1
    lane: LaneConfig = LaneConfig()
    at_risk: AtRiskConfig = AtRiskConfig()
    channels: dict[str, ChannelConfig] = {}
    routes: list[RouteConfig] = []
    digest_threshold: Annotated[int, Field(ge=2)] = 5

    @field_validator("stale_hours")
    @classmethod
    def _over_defaults(cls, value: dict[str, float]) -> dict[str, float]:
        """Naming one status keeps the defaults of the others."""
        return {**DEFAULT_STALE_HOURS, **value}

    @model_validator(mode="after")
    def _known_channels(self) -> AlertsConfig:
        for route in self.routes:
            for name in [*route.channels, *route.escalate_to]:
                if name not in self.channels:
                    known = ", ".join(self.channels) or "none defined"
                    raise ValueError(f"route uses unknown channel {name!r} (channels: {known})")
        return self

    def channels_for(self, kind: str, severity: str, carrier: str | None) -> set[str]:
        return {
            channel
            for route in self.routes
            if route.matches(kind, severity, carrier)
            for channel in route.channels
        }

    def escalations_for(
        self, kind: str, severity: str, carrier: str | None, notified_at: datetime, now: datetime
    ) -> set[str]:
        """Second-route channels whose wait since `notified_at` is over."""
        return {
            channel
            for route in self.routes
            if route.escalate_after_minutes
            and route.matches(kind, severity, carrier)
            and notified_at + timedelta(minutes=route.escalate_after_minutes) <= now
            for channel in route.escalate_to
        }

"""How often shipments are polled and how hard failed work is retried (`tracking:` in
config.yaml). Statuses left out of `poll_every_minutes` are never polled (terminal ones)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shipflow.domain import Status

Minutes = Annotated[float, Field(gt=0)]


class TrackingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    poll_every_minutes: dict[Status, Minutes] = {
        Status.PENDING: 360,
        Status.INFO_RECEIVED: 360,
        Status.IN_TRANSIT: 120,
        Status.EXCEPTION: 120,
        Status.ATTEMPT_FAILED: 120,
        Status.AVAILABLE_FOR_PICKUP: 360,
        Status.RETURNING_TO_SENDER: 360,
        Status.OUT_FOR_DELIVERY: 30,
    }
    poll_batch: Annotated[int, Field(gt=0)] = 500
    lease_seconds: Annotated[float, Field(gt=0)] = 300
    receipt_max_attempts: Annotated[int, Field(gt=0)] = 5
    backoff_seconds: Annotated[float, Field(gt=0)] = 30
    backoff_max_seconds: Annotated[float, Field(gt=0)] = 3600

    def backoff(self, attempts: int) -> float:
        """Exponential delay before the `attempts`-th retry, capped."""
        return min(self.backoff_seconds * 2 ** max(attempts - 1, 0), self.backoff_max_seconds)

    def next_poll(self, status: str, now: datetime) -> datetime | None:
        minutes = self.poll_every_minutes.get(Status(status))
        return None if minutes is None else now + timedelta(minutes=minutes)

    def polled(self, status: str) -> bool:
        return Status(status) in self.poll_every_minutes

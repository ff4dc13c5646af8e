"""The DHL adapter: tracking polls through the Unified Tracking API, nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from carriers.base import Capability, Carrier, CarrierAccount
from carriers.convert import reading
from carriers.dhl import mapping
from carriers.dhl.client import DHLClient
from carriers.http import unless_not_found
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate


class DHLCarrier(Carrier):
    name = "dhl"
    capabilities = frozenset({Capability.TRACKING_POLL})
    track_batch_size = 1  # one trackingNumber per call

    def __init__(
        self, account: CarrierAccount, client: DHLClient | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(account, clock)
        self.client = client or DHLClient(account)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        updates = []
        for number in tracking_numbers:
            payload = unless_not_found(self.client.shipments, number)
            if payload is None:
                continue
            with reading(self.name, "tracking response"):
                updates.extend(mapping.tracking_updates(payload))
        return updates

"""Fakes shared by service tests: a carrier that records what it was asked to do."""

from __future__ import annotations

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierUnavailable,
    FailedDeliveryInstruction,
)


class RecordingCarrier(Carrier):
    """Accepts failed-delivery instructions, or fails the first `failures` of them."""

    name = "fake"
    capabilities = frozenset({Capability.FAILED_DELIVERY_ACTIONS})

    def __init__(self, failures: int = 0, supports_actions: bool = True) -> None:
        super().__init__(CarrierAccount(carrier="fake", account_id="test"))
        self.failures = failures
        self.instructions: list[FailedDeliveryInstruction] = []
        if not supports_actions:
            self.capabilities = frozenset()

    def failed_delivery_action(self, instruction: FailedDeliveryInstruction) -> str:
        self.instructions.append(instruction)
        if self.failures > 0:
            self.failures -= 1
            raise CarrierUnavailable("carrier down", carrier="fake")
        return f"REF{len(self.instructions)}"

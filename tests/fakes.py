"""Fakes shared by service tests: a carrier that records what it was asked to do."""

from __future__ import annotations

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierError,
    CarrierUnavailable,
    FailedDeliveryInstruction,
    Label,
    RateQuote,
    ShipmentRequest,
)
from shipflow.domain import Money

# The tests' secret key: config.yaml ships none (the service refuses to start without one).
TEST_SECRET_KEY = "test-secret-key-of-at-least-32-bytes"


class RecordingCarrier(Carrier):
    """Accepts failed-delivery instructions, or fails the first `failures` of them with
    `error` (an outage unless told)."""

    name = "fake"
    capabilities = frozenset({Capability.FAILED_DELIVERY_ACTIONS})

    def __init__(
        self,
        failures: int = 0,
        supports_actions: bool = True,
        error: type[CarrierError] = CarrierUnavailable,
    ) -> None:
        super().__init__(CarrierAccount(carrier="fake", account_id="test"))
        self.failures = failures
        self.error = error
        self.instructions: list[FailedDeliveryInstruction] = []
        if not supports_actions:
            self.capabilities = frozenset()

    def failed_delivery_action(self, instruction: FailedDeliveryInstruction) -> str:
        self.instructions.append(instruction)
        if self.failures > 0:
            self.failures -= 1
            raise self.error("carrier down", carrier="fake")
        return f"REF{len(self.instructions)}"


class ReturnLabelCarrier(Carrier):
    """Quotes a fixed price and issues return labels; records the requests it got."""

    capabilities = frozenset({Capability.RATES, Capability.RETURN_LABELS})

    def __init__(self, name: str, price: int) -> None:
        super().__init__(CarrierAccount(carrier=name, account_id="test"))
        self.name = name
        self.price = price
        self.labels: list[ShipmentRequest] = []

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        return [RateQuote(self.name, "ground", Money(self.price, "USD"))]

    def create_return_label(self, request: ShipmentRequest) -> Label:
        self.labels.append(request)
        number = f"{self.name.upper()}{len(self.labels):06d}"
        return Label(
            self.name,
            request.service,
            number,
            "PDF",
            b"%PDF-1.4 fake",
            Money(self.price, "USD"),
            qr_code=b"QR",
        )

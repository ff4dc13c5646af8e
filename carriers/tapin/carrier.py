"""The Tapin adapter (Iran Post through Tapin's e-commerce counter): price inquiries, order
registration (prepaid, or the goods' value collected on delivery), cancellation of unsent
orders and status polls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierRejected,
    Label,
    RateQuote,
    ShipmentRequest,
)
from carriers.convert import reading
from carriers.tapin import mapping, units
from carriers.tapin.client import TapinClient
from shipflow.clock import Clock
from shipflow.domain import Address, TrackingUpdate


class TapinCarrier(Carrier):
    """Credentials: api_token (Tapin panel > یکپارچه سازی > مدیریت توکن, without "jwt "),
    shop_id (the shop's id from the panel or shop/list), box_id (Tapin's packing box, 10 if
    unset), register_type (0 under review, 1 ready to print [default], 2 ready to send)."""

    name = "tapin"
    capabilities = frozenset(
        {
            Capability.RATES,
            Capability.LABELS,
            Capability.CANCEL,
            Capability.TRACKING_POLL,
            Capability.CASH_ON_DELIVERY,
        }
    )
    track_batch_size = units.REPORT_BATCH

    def __init__(
        self, account: CarrierAccount, client: TapinClient | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(account, clock)
        self.client = client or TapinClient(account)
        credentials = account.credentials
        self.shop_id = credentials.get("shop_id", "")
        self.box_id = int(credentials.get("box_id", "10"))
        self.register_type = int(credentials.get("register_type", "1"))
        self._tree: list[dict] | None = None

    def _codes(self, address: Address) -> tuple[int, int]:
        """Tapin's province and city codes; its province tree is asked for once."""
        if self._tree is None:
            self._tree = mapping.entries(self.client.province_tree(), "province tree")
        with reading(self.name, "province tree"):
            return mapping.place_codes(self._tree or [], address)

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        codes = self._codes(request.recipient)
        services = [request.service] if request.service else list(units.SERVICES)
        return [
            mapping.parse_price(
                self.client.check_price(
                    mapping.build_price_request(
                        replace(request, service=service), self.shop_id, self.box_id, codes
                    )
                ),
                service,
            )
            for service in services
        ]

    def create_label(self, request: ShipmentRequest) -> Label:
        payload = mapping.build_register_request(
            request, self.shop_id, self.box_id, self._codes(request.recipient), self.register_type
        )
        return mapping.parse_register(self.client.register(payload), request.service)

    def _order_id(self, barcode: str) -> int | None:
        found = self.client.find(mapping.build_find_request(self.shop_id, barcode))
        return mapping.order_id_of(found, barcode)

    def cancel(self, tracking_number: str) -> None:
        order_id = self._order_id(tracking_number)
        if order_id is None:
            raise CarrierRejected(f"tapin has no order {tracking_number}", carrier=self.name)
        payload = mapping.build_cancel_request(self.shop_id, order_id)
        mapping.entries(self.client.change_status(payload), "cancellation", buys=True)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        """Tapin keys orders by its own id: each barcode is looked up, then one status report
        covers up to 200 orders. Barcodes Tapin does not know are left out."""
        ids = [i for i in (self._order_id(n) for n in tracking_numbers) if i is not None]
        updates: list[TrackingUpdate] = []
        for batch in self.track_batches(ids):
            updates.extend(mapping.parse_report(self.client.status_report(batch)))
        return updates

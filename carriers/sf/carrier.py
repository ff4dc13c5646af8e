"""The SF Express adapter: orders (EXP_RECE_CREATE_ORDER), cancelling them
(EXP_RECE_UPDATE_ORDER), route queries (EXP_RECE_SEARCH_ROUTES) and the route push."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    Label,
    ShipmentRequest,
    TrackingQuery,
    WebhookReply,
    WebhookRequest,
)
from carriers.convert import reading
from carriers.sf import mapping
from carriers.sf.client import SFClient
from carriers.webhook_auth import require_shared_secret, webhook_json
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate

ROUTES_PER_QUERY = 10  # SF error 8003 beyond ten waybills a query


class SFCarrier(Carrier):
    """Credentials: partner_id (顾客编码, defaults to the account id), check_word (校验码),
    monthly_card (月结卡号), push_token (the secret in the route push URL we give SF)."""

    name = "sf"
    capabilities = frozenset(
        {Capability.LABELS, Capability.CANCEL, Capability.TRACKING_POLL, Capability.WEBHOOKS}
    )
    track_batch_size = ROUTES_PER_QUERY
    # 丰桥 route push: SF resends unless it reads this answer.
    webhook_reply = WebhookReply(200, '{"return_code":"0000","return_msg":"成功"}'.encode())

    def __init__(
        self, account: CarrierAccount, client: SFClient | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(account, clock)
        self.client = client or SFClient(account)

    def create_label(self, request: ShipmentRequest) -> Label:
        """SF refuses a repeated orderId (8016), so the reference, when there is one, is it."""
        order_id = request.reference or uuid.uuid4().hex
        order = mapping.build_order(request, order_id, self.account.credentials["monthly_card"])
        answer = self.client.call("EXP_RECE_CREATE_ORDER", order, idempotent=False)
        with reading(self.name, "order response"):
            return mapping.parse_order(mapping.result_data(answer, buys=True), request.service)

    def cancel(self, tracking_number: str) -> None:
        """SF cancels by our order id (the label's `carrier_shipment_id`), not the waybill."""
        answer = self.client.call(
            "EXP_RECE_UPDATE_ORDER", mapping.build_cancel(tracking_number), idempotent=False
        )
        mapping.result_data(answer, buys=True)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        """Waybills of this account's own orders need no phone digits."""
        return self.track_queries([TrackingQuery(n) for n in tracking_numbers])

    def track_queries(self, queries: Sequence[TrackingQuery]) -> list[TrackingUpdate]:
        """One query per phone: SF checks `checkPhoneNo` against every waybill of it."""
        by_phone: dict[str, list[str]] = defaultdict(list)
        for query in queries:
            by_phone[query.phone_last4].append(query.tracking_number)
        updates = []
        for phone, numbers in by_phone.items():
            answer = self.client.call(
                "EXP_RECE_SEARCH_ROUTES", mapping.build_route_query(numbers, phone)
            )
            with reading(self.name, "route response"):
                updates.extend(mapping.tracking_updates(mapping.result_data(answer)))
        return updates

    def verify_webhook(self, request: WebhookRequest) -> None:
        """The route push carries no signature: SF calls the URL we registered with it, so
        the secret `token` in that URL is what proves the push is SF's."""
        given = parse_qs(urlsplit(request.url).query).get("token", [""])[0]
        require_shared_secret(self.name, given, self.account.credentials.get("push_token", ""))

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        body = webhook_json(self.name, request.body)
        with reading(self.name, "route push"):
            return mapping.push_updates(body)

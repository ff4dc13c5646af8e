"""The ECPay logistics adapter (Taiwan): convenience-store pickup (7-ELEVEN, FamilyMart,
Hi-Life, OK mart; B2C and C2C) and home delivery (T-cat, Chunghwa Post) through ECPay's
classic form-post API: create with its print document, status query, status pushes to
ServerReplyURL, store and home-pickup returns, cancelling 7-ELEVEN C2C orders, store map, and
moving a parcel to another store of its chain when the customer picks one after a failed
pickup or a closed store (the failed-delivery action "hold at a pickup point")."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierError,
    CarrierOutcomeUnknown,
    CarrierRejected,
    CarrierResponseError,
    FailedDeliveryAction,
    FailedDeliveryInstruction,
    Label,
    NotSupported,
    ShipmentRequest,
    WebhookReply,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.ecpay import mapping, units
from carriers.ecpay.client import CANCEL_C2C_PATH, CREATE_PATH, QUERY_PATH, ECPayClient
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate

log = logging.getLogger(__name__)
REQUIRED = ("merchant_id", "hash_key", "hash_iv")


class ECPayCarrier(Carrier):
    """Credentials: merchant_id, hash_key, hash_iv (all three required),
    server_reply_url (our webhook URL for this account, where ECPay pushes statuses),
    goods_name (GoodsName sent, default "Goods"), temperature (T-cat: room, chilled, frozen)."""

    name = "ecpay"
    capabilities = frozenset(
        {
            Capability.LABELS,
            Capability.RETURN_LABELS,
            Capability.CANCEL,
            Capability.TRACKING_POLL,
            Capability.WEBHOOKS,
            Capability.PICKUP_POINT_DELIVERY,
            Capability.CASH_ON_DELIVERY,
            Capability.FAILED_DELIVERY_ACTIONS,
        }
    )
    failed_delivery_actions = frozenset({FailedDeliveryAction.HOLD_AT_PICKUP_POINT})
    track_batch_size = 1  # the query takes one AllPayLogisticsID
    # ECPay resends a push (three times a day for three days) until it reads exactly this.
    webhook_reply = WebhookReply(200, b"1|OK", "text/plain; charset=utf-8")

    def __init__(
        self, account: CarrierAccount, client: ECPayClient | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(account, clock)
        self.client = client or ECPayClient(account)
        credentials = account.credentials
        missing = [k for k in REQUIRED if not credentials.get(k)]
        if missing:
            raise ValueError(
                f"ecpay account {account.account_id!r} needs credentials {', '.join(missing)} "
                "(config.yaml)"
            )
        self.merchant_id = credentials["merchant_id"]
        self.reply_url = credentials.get("server_reply_url", "")
        self.options = {
            k: credentials[k] for k in ("goods_name", "temperature") if k in credentials
        }

    def create_label(self, request: ShipmentRequest) -> Label:
        if len(request.parcels) != 1:
            raise NotSupported("ecpay orders carry one parcel each", carrier=self.name)
        params = mapping.build_create(
            request, self.merchant_id, self.clock.now(), self.reply_url, self.options
        )
        answer = self.client.post(CREATE_PATH, params, buys=True)
        fields = mapping.read_answer(answer, buys=True)
        if not mapping.mac_matches(fields, self.client.hash_key, self.client.hash_iv):
            raise CarrierOutcomeUnknown(
                "ecpay's create answer has a wrong CheckMacValue; the order may exist",
                carrier=self.name,
                carrier_message=answer.decode(errors="replace")[:500],
            )
        return mapping.parse_create(fields, request.service, self._document(fields))

    def _document(self, fields: dict[str, str]) -> bytes:
        """The print document (HTML). The order exists by now: a failed print must not lose
        it, so the label is kept without its document (printable from ECPay's back office)."""
        path, params = mapping.build_print(fields, self.merchant_id)
        try:
            return self.client.post(path, params)
        except CarrierError as exc:
            order = fields["AllPayLogisticsID"]
            log.warning("ecpay order %s made, its print document not: %s", order, exc)
            return b""

    def create_return_label(self, request: ShipmentRequest) -> Label:
        path, params = mapping.build_return(request, self.merchant_id, self.reply_url)
        answer = self.client.post(path, params, buys=True)
        return mapping.parse_return(answer, request.service.lower())

    def _query(self, tracking_number: str) -> dict[str, str]:
        params = mapping.build_query(self.merchant_id, tracking_number, self.clock.now())
        body = self.client.post(QUERY_PATH, params)
        if body.strip().startswith(b"0|"):
            mapping.read_answer(body, buys=False)
        fields = mapping.form(body)
        if body.strip() and "MerchantID" not in fields:
            raise CarrierResponseError(
                f"ecpay's query answer is unreadable: {body[:200]!r}", carrier=self.name
            )
        if "AllPayLogisticsID" in fields and not mapping.mac_matches(
            fields, self.client.hash_key, self.client.hash_iv
        ):
            raise CarrierResponseError(
                "ecpay's query answer has a wrong CheckMacValue", carrier=self.name
            )
        return fields

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        updates = []
        for number in tracking_numbers:
            fields = self._query(number)
            if fields.get("AllPayLogisticsID"):  # else ECPay knows no such order
                updates.append(mapping.parse_query(fields, self.clock.now()))
        return updates

    def cancel(self, tracking_number: str) -> None:
        """Only 7-ELEVEN C2C orders can be cancelled, before they are dropped off."""
        fields = self._query(tracking_number)
        _, _, sub = fields.get("LogisticsType", "").partition("_")
        if sub not in units.CANCELLABLE:
            raise CarrierRejected(
                f"ecpay cancels only 7-ELEVEN C2C orders; {tracking_number} is {sub or 'unknown'}",
                carrier=self.name,
            )
        params = {
            "MerchantID": self.merchant_id,
            "AllPayLogisticsID": tracking_number,
            "CVSPaymentNo": fields.get("CVSPaymentNo", ""),
            "CVSValidationNo": fields.get("CVSValidationNo", ""),
        }
        mapping.read_answer(self.client.post(CANCEL_C2C_PATH, params, buys=True), buys=True)

    def instruction_actions(self, service: str) -> frozenset[FailedDeliveryAction]:
        """A store change, for the subtypes whose store ECPay's API changes; nothing for
        home delivery (T-cat and Chunghwa Post take no instructions through ECPay)."""
        sub = units.SERVICES.get(service.lower(), ("", ""))[1]
        return self.failed_delivery_actions if sub in units.STORE_CHANGE_PATHS else frozenset()

    @classmethod
    def pickup_chains(cls, service: str) -> frozenset[str]:
        """Every subtype of the service's chain: a store is one chain's whether chosen on
        its B2C or its C2C map."""
        network = units.NETWORKS.get(units.SERVICES.get(service.lower(), ("", ""))[1])
        return frozenset(sub for sub, chain in units.NETWORKS.items() if chain == network)

    def failed_delivery_action(self, instruction: FailedDeliveryInstruction) -> str:
        """Moves the parcel to the store the customer chose; the new store id is the
        reference (ECPay answers `1|OK` and nothing else)."""
        if instruction.action not in self.failed_delivery_actions:
            raise self._unsupported(f"the failed-delivery action {instruction.action}")
        if not instruction.pickup_point_id:
            raise CarrierRejected("ecpay needs the new store's id", carrier=self.name)
        order = self._query(instruction.tracking_number)
        if not order.get("AllPayLogisticsID"):
            raise CarrierRejected(
                f"ecpay knows no order {instruction.tracking_number}", carrier=self.name
            )
        path, params = mapping.build_store_change(
            order, instruction.pickup_point_id, self.merchant_id, self.clock.now()
        )
        mapping.read_answer(self.client.post(path, params), buys=False)
        return instruction.pickup_point_id

    def verify_webhook(self, request: WebhookRequest) -> None:
        fields = mapping.form(request.body)
        if fields.get("MerchantID") != self.merchant_id or not mapping.mac_matches(
            fields, self.client.hash_key, self.client.hash_iv
        ):
            raise WebhookSignatureError(
                "ecpay push with a wrong CheckMacValue or another MerchantID", carrier=self.name
            )

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        return [mapping.parse_push(mapping.form(request.body))]

    def store_map_form(
        self, service: str, cash_on_delivery: bool, reply_url: str, extra_data: str = ""
    ) -> tuple[str, dict[str, str]]:
        """(ECPay's map URL, the fields to post there) for the customer's browser."""
        fields = mapping.build_map_form(
            self.merchant_id, service, cash_on_delivery, reply_url, extra_data
        )
        return self.client.map_url, fields

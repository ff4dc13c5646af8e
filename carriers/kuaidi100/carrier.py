"""The Kuaidi100 adapter: one account tracks the mainland couriers (ZTO, YTO, STO, JD, Yunda,
EMS, SF ...) by subscription with a signed push, or by real-time query. Tracking only."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs

from carriers.base import (
    Capability,
    Carrier,
    CarrierAccount,
    CarrierError,
    CarrierRejected,
    TrackingQuery,
    WebhookReply,
    WebhookRequest,
    WebhookSignatureError,
)
from carriers.convert import reading
from carriers.detect import detect
from carriers.kuaidi100 import mapping, units
from carriers.kuaidi100.client import Kuaidi100Client
from carriers.webhook_auth import webhook_json
from shipflow.clock import Clock
from shipflow.domain import TrackingUpdate
from shipflow.signatures import same_secret


class Kuaidi100Carrier(Carrier):
    """Credentials: key (授权key), customer (for the real-time query), salt (signs the push),
    company (the Kuaidi100 company code used when a number's format does not name one)."""

    name = "kuaidi100"
    capabilities = frozenset(
        {Capability.TRACKING_POLL, Capability.WEBHOOKS, Capability.PUSH_SUBSCRIPTIONS}
    )
    track_batch_size = 1  # query.do takes one number
    webhook_reply = WebhookReply(200, mapping.compact(mapping.ACK).encode())

    def __init__(
        self,
        account: CarrierAccount,
        client: Kuaidi100Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(account, clock)
        self.client = client or Kuaidi100Client(account)
        self.salt = account.credentials.get("salt", "")

    def company(self, tracking_number: str) -> str:
        """Kuaidi100's code of the courier whose format the number fits, else the account's
        `company` (ours, e.g. "zto", or Kuaidi100's own code)."""
        for match in detect(tracking_number):
            if match.courier_code in units.COMPANIES:
                return units.COMPANIES[match.courier_code]
            if match.courier_code == "s10" and match.parts.get("CountryCode") == "CN":
                service = match.parts.get("ServiceType", " ")[0]
                return units.S10_COMPANIES.get(service, units.S10_DEFAULT_COMPANY)
        configured = self.account.credentials.get("company", "")
        return units.COMPANIES.get(configured, configured)

    def track(self, tracking_numbers: Sequence[str]) -> list[TrackingUpdate]:
        return self.track_queries([TrackingQuery(n) for n in tracking_numbers])

    def track_queries(self, queries: Sequence[TrackingQuery]) -> list[TrackingUpdate]:
        """A number Kuaidi100 has no result for (returnCode 500) is left out."""
        updates = []
        for query in queries:
            body = self.client.query(
                mapping.query_param(self.company(query.tracking_number), query)
            )
            with reading(self.name, "query response"):
                if str(body.get("returnCode")) == units.NO_RESULT:
                    continue
                mapping.raise_for_failure(body)
                updates.append(mapping.tracking_update(body))
        return updates

    def subscribe(
        self, queries: Sequence[TrackingQuery], webhook_url: str
    ) -> dict[str, CarrierError]:
        """Ask Kuaidi100 to push these numbers' events; returns the refusal of each number it
        refused (one bad number does not stop the others). A repeated subscription is fine; a
        fault on Kuaidi100's side (500) is `CarrierUnavailable`, to ask again at the next run."""
        refused: dict[str, CarrierError] = {}
        for query in queries:
            number = query.tracking_number
            param = mapping.subscription(
                self.company(number),
                query,
                self.account.credentials.get("key", ""),
                webhook_url,
                self.salt,
            )
            body = self.client.subscribe(param)
            if str(body.get("returnCode")) == units.ALREADY_SUBSCRIBED:
                continue
            try:
                mapping.raise_for_failure(body, units.SUBSCRIBE_BUSY_CODES)
            except CarrierRejected as exc:
                refused[number] = exc
        return refused

    def verify_webhook(self, request: WebhookRequest) -> None:
        """The push is a form: param (JSON) and sign = MD5(param + salt), upper-case."""
        form = parse_qs(request.body.decode("utf-8", "replace"))
        param, given = form.get("param", [""])[0], form.get("sign", [""])[0]
        expected = mapping.sign(param, self.salt) if self.salt and param else ""
        if not expected or not same_secret(given.upper(), expected):
            raise WebhookSignatureError("kuaidi100 push sign missing or wrong", carrier=self.name)

    def parse_webhook(self, request: WebhookRequest) -> list[TrackingUpdate]:
        form = parse_qs(request.body.decode("utf-8", "replace"))
        param = webhook_json(self.name, form.get("param", [""])[0].encode())
        with reading(self.name, "push"):
            return mapping.push_updates(param)

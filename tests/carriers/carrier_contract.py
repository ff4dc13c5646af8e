"""What every real carrier adapter must do over HTTP, written once and run per operation:
golden parse, carrier error -> CarrierRejected, expired token -> refresh -> retry (OAuth
carriers), 429 -> retry, timeout -> CarrierUnavailable, malformed JSON -> CarrierResponseError.
A purchase or void (`Operation.buys`) is never repeated once it may have reached the carrier: a
5xx, a timeout or an unreadable answer is sent once and raises CarrierOutcomeUnknown."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from carriers.base import (
    Carrier,
    CarrierAuthError,
    CarrierOutcomeUnknown,
    CarrierRateLimited,
    CarrierRejected,
    CarrierResponseError,
    CarrierUnavailable,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(carrier: str, name: str) -> Any:
    """The carrier's payload of fixtures/<carrier>/<name>.json (its "source" names the doc)."""
    document = json.loads((FIXTURES / carrier / f"{name}.json").read_text())
    assert document["source"], "every fixture names the document it follows"
    return document["response"]


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    url: str
    fixture: str
    call: Callable[[Carrier], Any]
    expected: Any
    buys: bool = False  # buys or voids a label: repeating it could do it twice


@dataclass(frozen=True)
class Contract:
    """One carrier's endpoints and fixtures, for the shared checks below. Without a
    `token_url` the carrier authenticates by API key and the token checks do not apply."""

    carrier: str
    make: Callable[[], Carrier]
    error_message: str  # the carrier's words in fixtures/<carrier>/<error_fixture>.json
    token_url: str = ""
    error_fixture: str = "error"
    error_status: int = 400
    text: bool = False  # the carrier answers in text (its fixtures hold the body), not JSON

    @property
    def checks(self) -> list[str]:
        return CHECKS if self.token_url else [c for c in CHECKS if c not in OAUTH_CHECKS]

    def token(self, access_token: str = "token-1") -> None:
        if not self.token_url:
            return
        body = dict(fixture(self.carrier, "oauth_token"), access_token=access_token)
        responses.add(responses.POST, self.token_url, json=body)

    def answer(self, op: Operation, **kwargs: Any) -> None:
        if "json" not in kwargs and "body" not in kwargs:
            kwargs[self._body_kind] = fixture(self.carrier, op.fixture)
        responses.add(op.method, op.url, **kwargs)

    @property
    def _body_kind(self) -> str:
        return "body" if self.text else "json"

    def test_for(self, operations: list[Operation]) -> Callable[[Operation, str], None]:
        """A carrier module's `test_operation_contract`: each of its checks on each operation."""

        @responses.activate
        @pytest.mark.parametrize("check", self.checks)
        @pytest.mark.parametrize("op", operations, ids=lambda op: op.id)
        def test_operation_contract(op: Operation, check: str) -> None:
            getattr(self, check)(op)

        return test_operation_contract

    def api_calls(self, op: Operation) -> list:
        return [c for c in responses.calls if c.request.url.split("?")[0] == op.url]

    # -- the checks -------------------------------------------------------------------------

    def golden(self, op: Operation) -> None:
        self.token()
        self.answer(op)
        assert op.call(self.make()) == op.expected

    def rejected(self, op: Operation) -> None:
        self.token()
        error = fixture(self.carrier, self.error_fixture)
        self.answer(op, status=self.error_status, **{self._body_kind: error})
        with pytest.raises(CarrierRejected) as caught:
            op.call(self.make())
        assert caught.value.status_code == self.error_status
        assert caught.value.carrier_message == self.error_message
        assert self.error_message in str(caught.value)

    def token_refreshed(self, op: Operation) -> None:
        self.token("expired-token")
        self.token("fresh-token")
        self.answer(op, json=fixture(self.carrier, "expired_token"), status=401)
        self.answer(op)
        assert op.call(self.make()) == op.expected
        sent = [c.request.headers["Authorization"] for c in self.api_calls(op)]
        assert sent == ["Bearer expired-token", "Bearer fresh-token"]

    def rate_limited(self, op: Operation) -> None:
        self.token()
        self.answer(op, status=429, headers={"Retry-After": "0"}, json={})
        self.answer(op)
        assert op.call(self.make()) == op.expected
        assert len(self.api_calls(op)) == 2

    def credentials_refused(self, op: Operation) -> None:
        self.token("token-1")
        self.token("token-2")
        for _ in range(2):
            self.answer(op, json=fixture(self.carrier, "expired_token"), status=401)
        with pytest.raises(CarrierAuthError) as caught:
            op.call(self.make())
        assert caught.value.status_code == 401
        assert len(self.api_calls(op)) == 2  # one refresh, then give up

    def rate_limit_persists(self, op: Operation) -> None:
        self.token()
        for _ in range(4):  # the first try and three retries
            self.answer(op, status=429, headers={"Retry-After": "0"}, json={})
        with pytest.raises(CarrierRateLimited) as caught:
            op.call(self.make())
        assert caught.value.retry_after == 0
        assert len(self.api_calls(op)) == 4

    def server_error(self, op: Operation) -> None:
        """502: a read is asked again; a purchase may have been made, so it is not."""
        self.token()
        self.answer(op, status=502, json={})
        if op.buys:
            with pytest.raises(CarrierOutcomeUnknown, match="not repeated") as caught:
                op.call(self.make())
            assert caught.value.status_code == 502 and not caught.value.retryable
            assert len(self.api_calls(op)) == 1
        else:
            self.answer(op)
            assert op.call(self.make()) == op.expected
            assert len(self.api_calls(op)) == 2

    def timeout(self, op: Operation) -> None:
        self.token()
        self.answer(op, body=requests.exceptions.ReadTimeout("read timed out"))
        expected = CarrierOutcomeUnknown if op.buys else CarrierUnavailable
        with pytest.raises(expected) as caught:
            op.call(self.make())
        assert caught.value.retryable is not op.buys

    def unreachable(self, op: Operation) -> None:
        """Refused before anything was sent: safe to say "try later", even for a purchase."""
        self.token()
        self.answer(op, body=requests.exceptions.ConnectTimeout("connect timed out"))
        with pytest.raises(CarrierUnavailable) as caught:
            op.call(self.make())
        assert caught.value.retryable

    def malformed(self, op: Operation) -> None:
        self.token()
        self.answer(op, body="<html>Service Unavailable</html>", content_type="text/html")
        with pytest.raises(CarrierOutcomeUnknown if op.buys else CarrierResponseError):
            op.call(self.make())


CHECKS = [
    "golden",
    "rejected",
    "token_refreshed",
    "credentials_refused",
    "rate_limited",
    "rate_limit_persists",
    "server_error",
    "timeout",
    "unreachable",
    "malformed",
]
OAUTH_CHECKS = frozenset({"token_refreshed", "credentials_refused"})

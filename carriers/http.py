"""The HTTP side of every adapter: `requests` sessions with timeouts, retries with backoff
honouring `Retry-After`, a per-account rate limit, OAuth client-credentials tokens cached and
refreshed on 401, and errors mapped to `CarrierError`.

Reads, rates and tracking are retried on connection errors, timeouts, 429 and 5xx. Purchases
and voids (`idempotent=False`) are retried only where the carrier cannot have acted: the
connection was never made, or it answered 429. None of our carriers documents an idempotency
key for creating a shipment (FedEx's `x-customer-transaction-id` and UPS's `transId` only
label a request), so a timeout or 5xx after sending is `CarrierOutcomeUnknown`, not retried."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

from carriers.base import (
    CallLimiter,
    CarrierAccount,
    CarrierAuthError,
    CarrierOutcomeUnknown,
    CarrierRateLimited,
    CarrierRejected,
    CarrierResponseError,
    CarrierUnavailable,
)
from shipflow.http_session import session_retrying

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
RETRY_STATUSES = (429, 500, 502, 503, 504)

# Extracts (code, message) from a carrier's error body; each carrier's mapping supplies one.
ErrorParser = Callable[[Any], tuple[str, str]]
T = TypeVar("T")


def _no_parser(body: Any) -> tuple[str, str]:
    return "", str(body)[:500]


class RateLimiter:
    """A token bucket: at most `per_second` calls a second, bursts up to `burst`."""

    def __init__(self, per_second: float, burst: int | None = None) -> None:
        self.per_second = per_second
        self.capacity = burst or max(1, int(per_second))
        self.tokens = float(self.capacity)
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(
                    self.capacity, self.tokens + (now - self.updated) * self.per_second
                )
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                time.sleep((1 - self.tokens) / self.per_second)


class _UnsentOnlyRetry(Retry):
    """Retry where the request cannot have been acted on: connection errors (urllib3's
    `connect`, raised before anything is sent) and 429. Read errors, other errors and 5xx
    (even a 503 with `Retry-After`) are not retried."""

    RETRY_AFTER_STATUS_CODES = frozenset({429})


def retrying_session(
    total: int = 3, backoff_factor: float = 0.5, *, idempotent: bool = True
) -> requests.Session:
    """A session for calls that are safe to repeat (the default; carriers' POST tracking and
    rating calls are), or, with `idempotent=False`, for purchases and voids."""
    if idempotent:
        retry = Retry(
            total=total,
            backoff_factor=backoff_factor,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=None,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
    else:
        retry = _UnsentOnlyRetry(
            total=total,
            read=False,
            other=0,
            backoff_factor=backoff_factor,
            status_forcelist=(429,),
            allowed_methods=None,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
    return session_retrying(retry)


class OAuthClientCredentials:
    """An OAuth 2.0 client-credentials token, cached until shortly before it expires."""

    def __init__(
        self,
        session: requests.Session,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        carrier: str,
        use_basic_auth: bool = True,
        extra_form: dict[str, str] | None = None,
        extra_headers: dict[str, str] | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.session = session
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.carrier = carrier
        self.use_basic_auth = use_basic_auth
        self.extra_form = extra_form or {}
        self.extra_headers = extra_headers or {}
        self.timeout = timeout
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> None:
        form = {"grant_type": "client_credentials", **self.extra_form}
        auth = None
        if self.use_basic_auth:
            auth = (self.client_id, self.client_secret)
        else:
            form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        try:
            response = self.session.post(
                self.token_url,
                data=form,
                auth=auth,
                headers=self.extra_headers,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise CarrierUnavailable(
                f"{self.carrier} token endpoint unreachable: {exc}",
                carrier=self.carrier,
                retryable=True,
            ) from exc
        if response.status_code != 200:
            raise CarrierAuthError(
                f"{self.carrier} refused the client credentials (HTTP {response.status_code})",
                carrier=self.carrier,
                status_code=response.status_code,
                carrier_message=response.text[:500],
            )
        try:
            body = response.json()
            self._token = body["access_token"]
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError) as exc:
            raise CarrierResponseError(
                f"{self.carrier} token response unreadable", carrier=self.carrier
            ) from exc
        self._expires_at = time.monotonic() + max(0.0, expires_in - 60)


class CarrierHTTPClient:
    """I/O only: sends a request, returns parsed JSON (or raw bytes), raises `CarrierError`."""

    def __init__(
        self,
        carrier: str,
        base_url: str,
        *,
        rate_limit_per_second: float = 10.0,
        session: requests.Session | None = None,
        oauth: Callable[[requests.Session], OAuthClientCredentials] | None = None,
        default_headers: dict[str, str] | None = None,
        error_parser: ErrorParser = _no_parser,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        limiter: CallLimiter | None = None,
    ) -> None:
        self.carrier = carrier
        self.base_url = base_url.rstrip("/")
        self.session = session or retrying_session()
        self.unrepeatable_session = retrying_session(idempotent=False)
        self.oauth = oauth(self.session) if oauth else None
        self.default_headers = default_headers or {}
        self.error_parser = error_parser
        self.timeout = timeout
        # Without a shared one, the client's own: one adapter per account per process
        # (`shipflow.carrier_accounts`) makes it the account's in this process.
        self.limiter: CallLimiter = limiter or RateLimiter(rate_limit_per_second)

    def request(
        self, method: str, path: str, *, raw: bool = False, idempotent: bool = True, **kwargs: Any
    ) -> Any:
        """Send once; on 401 with OAuth, refresh the token and send once more. Purchases and
        voids pass `idempotent=False`: see the module's docstring."""
        response = self._send(method, path, idempotent, **kwargs)
        if response.status_code == 401 and self.oauth is not None:
            self.oauth.invalidate()
            response = self._send(method, path, idempotent, **kwargs)
        self._raise_for_status(response, idempotent)
        if raw:
            return response.content
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            error = CarrierResponseError if idempotent else CarrierOutcomeUnknown
            raise error(
                f"{self.carrier} answered with malformed JSON (HTTP {response.status_code})",
                carrier=self.carrier,
                status_code=response.status_code,
                carrier_message=response.text[:500],
            ) from exc

    def _send(self, method: str, path: str, idempotent: bool, **kwargs: Any) -> requests.Response:
        headers = {
            "Accept": "application/json",
            **self.default_headers,
            **kwargs.pop("headers", {}),
        }
        if self.oauth is not None:
            headers["Authorization"] = f"Bearer {self.oauth.token()}"
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        session = self.session if idempotent else self.unrepeatable_session
        self.limiter.acquire()
        try:
            return session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            if not idempotent and not _never_sent(exc):
                raise CarrierOutcomeUnknown(
                    f"{self.carrier} did not answer {method} {path} ({exc}); it may have been "
                    "carried out, so it is not repeated",
                    carrier=self.carrier,
                ) from exc
            if isinstance(exc, requests.Timeout):
                raise CarrierUnavailable(
                    f"{self.carrier} timed out: {exc}", carrier=self.carrier, retryable=True
                ) from exc
            raise CarrierUnavailable(
                f"{self.carrier} unreachable: {exc}", carrier=self.carrier, retryable=True
            ) from exc

    def _raise_for_status(self, response: requests.Response, idempotent: bool) -> None:
        status = response.status_code
        if status < 400:
            return
        try:
            code, message = self.error_parser(response.json())
        except ValueError:
            code, message = "", response.text[:500]
        details: dict[str, Any] = dict(
            carrier=self.carrier, status_code=status, carrier_code=code, carrier_message=message
        )
        text = f"{self.carrier} HTTP {status}: {message or response.reason}"
        if status == 429:
            raise CarrierRateLimited(
                text,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                **details,
            )
        if status >= 500 and not idempotent:
            raise CarrierOutcomeUnknown(
                f"{text}; it may have been carried out, so it is not repeated", **details
            )
        if status >= 500:
            raise CarrierUnavailable(text, retryable=True, **details)
        if status in (401, 403):
            raise CarrierAuthError(text, **details)
        raise CarrierRejected(text, **details)


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request failed before a connection was made (so before anything was sent)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # urllib3's NewConnectionError (refused, DNS) is a ConnectTimeoutError too
    return isinstance(exc, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError)


def account_client(
    carrier: str,
    account: CarrierAccount,
    sandbox_url: str,
    production_url: str,
    *,
    oauth_token_path: str = "",
    oauth_options: dict[str, Any] | None = None,
    **options: Any,
) -> CarrierHTTPClient:
    """A client for one account: its own base URL if set, else the carrier's sandbox or
    production host, and its own rate limit. With `oauth_token_path`, authorised by the
    account's `client_id`/`client_secret` against that token endpoint on the same host
    (`oauth_options` go to `OAuthClientCredentials`)."""
    base_url = (account.base_url or (sandbox_url if account.sandbox else production_url)).rstrip(
        "/"
    )
    credentials = account.credentials

    def oauth(session: requests.Session) -> OAuthClientCredentials:
        return OAuthClientCredentials(
            session,
            f"{base_url}{oauth_token_path}",
            credentials.get("client_id", ""),
            credentials.get("client_secret", ""),
            carrier=carrier,
            **(oauth_options or {}),
        )

    return CarrierHTTPClient(
        carrier,
        base_url,
        rate_limit_per_second=account.rate_limit_per_second,
        limiter=account.call_limiter,
        oauth=oauth if oauth_token_path else None,
        **options,
    )


def unless_not_found(call: Callable[[str], T], tracking_number: str) -> T | None:
    """The carrier's answer, or None where it knows no such tracking number (HTTP 404): one
    unknown number must not stop the others in a poll."""
    try:
        return call(tracking_number)
    except CarrierRejected as exc:
        if exc.status_code == 404:
            return None
        raise


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in seconds, written either way RFC 9110 allows (seconds, or an HTTP date:
    the seconds until it, 0 if past); None when absent or unreadable. urllib3's reading, so
    the wait reported is the one its retries honoured."""
    if not value:
        return None
    try:
        return float(Retry().parse_retry_after(value))
    except InvalidHeader:
        return None

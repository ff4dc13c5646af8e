"""The HTTP side of the REST platforms (WooCommerce, SHOPLINE): one `requests.Session` per
source with retries mounted, and HTTP failures mapped to `ChannelError`s the outbox
understands (wait, retry later, or give up with the platform's own message).

Connection failures and 5xx on reads (GET, PUT) are retried here; a 429 is not: it is
raised as `ChannelRateLimited` so the job waits as long as the platform asked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from urllib3.util.retry import Retry

from channels.base import (
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelResponseError,
)
from shipflow.http_session import session_retrying

TIMEOUT = (5.0, 30.0)  # connect, read (seconds)

# The platform's error message from its error body (each platform's mapping supplies one).
ErrorMessage = Callable[[Any], str]


def retrying_session(total: int = 3, backoff_factor: float = 0.5) -> requests.Session:
    """Idempotent methods (GET, PUT, DELETE) retry on 5xx; every method retries a connection
    that was never made, which cannot have been acted on."""
    retry = Retry(
        total=total,
        backoff_factor=backoff_factor,
        status_forcelist=(500, 502, 503, 504),
        respect_retry_after_header=False,  # else urllib3 sleeps out a 429's Retry-After
        raise_on_status=False,
    )
    return session_retrying(retry)


class ChannelHTTPClient:
    """I/O only: sends a request, returns the response, raises `ChannelError`."""

    def __init__(
        self,
        channel: str,
        base_url: str,
        *,
        error_message: ErrorMessage,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.channel = channel
        self.base_url = base_url.rstrip("/")
        self.error_message = error_message
        self.session = session or retrying_session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", **(headers or {})})

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise ChannelError(
                f"{self.channel} unreachable ({method} {path}): {exc}",
                channel=self.channel,
                retryable=True,
            ) from exc
        self._raise_for_status(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ChannelResponseError(
                f"{self.channel} answered {method} {path} with malformed JSON "
                f"(HTTP {response.status_code})",
                channel=self.channel,
            ) from exc

    def _raise_for_status(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        try:
            message = self.error_message(response.json())
        except (ValueError, TypeError, AttributeError):
            message = response.text[:300]
        text = f"{self.channel} HTTP {status}: {message or response.reason}"
        if status == 429:
            raise ChannelRateLimited(
                text, channel=self.channel, retry_after=_seconds(response.headers)
            )
        if status in (401, 403):
            raise ChannelAuthError(text, channel=self.channel)
        if status >= 500:
            raise ChannelError(text, channel=self.channel, retryable=True)
        raise ChannelResponseError(text, channel=self.channel)


def _seconds(headers: Any) -> float | None:
    """`Retry-After` in seconds (the HTTP-date form is not sent by our platforms)."""
    value = headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None

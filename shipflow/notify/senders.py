"""Ways a message leaves shipflow: e-mail over SMTP, SMS/WhatsApp through a provider's
webhook (signed, so the provider can tell the request came from us)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

import requests

from shipflow.notify import outbound
from shipflow.text import reject_control_characters


class SendError(Exception):
    """The message did not go out; it will be retried."""


class InvalidMessage(Exception):
    """The message itself cannot be sent (a header would break); retrying cannot help."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    recipient: str
    subject: str
    body: str
    sender_name: str = "shipflow"
    key: str = ""  # idempotency key, passed on to providers that dedupe


class Sender(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


class SmtpSender:
    """`smtp://user:password@host:port?from=addr` (`smtps://` for TLS, `starttls=1` to upgrade)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SMTP URL must look like smtp://host:port, got {url!r}")
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        self.host, self.port = (
            parts.hostname,
            parts.port or (465 if parts.scheme == "smtps" else 25),
        )
        self.tls = parts.scheme == "smtps"
        self.starttls = query.get("starttls") == "1"
        self.username = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.from_address = unquote(query.get("from", "no-reply@shipflow.local"))
        self.timeout = timeout

    def mail(self, message: OutgoingMessage) -> EmailMessage:
        """The e-mail, or `InvalidMessage` naming the header that cannot hold its text: a line
        break there would let the text add headers (Bcc ...) of its own."""
        headers = {
            "From": f"{message.sender_name} <{self.from_address}>",
            "To": message.recipient,
            "Subject": message.subject,
        }
        if message.key:
            headers["X-Shipflow-Message"] = message.key
        mail = EmailMessage()
        for name, value in headers.items():
            try:
                reject_control_characters(value)
            except ValueError as exc:
                raise InvalidMessage(f"{name} header {exc}") from None
            mail[name] = value
        mail.set_content(message.body)
        return mail

    def send(self, message: OutgoingMessage) -> None:
        mail = self.mail(message)
        smtp_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        try:
            with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP {self.host}:{self.port}: {exc}") from exc


class LogSender:
    """Writes messages to the log instead of sending them: the demo's default without SMTP."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("shipflow.messages")

    def send(self, message: OutgoingMessage) -> None:
        self.logger.info("message to %s: %s\n%s", message.recipient, message.subject, message.body)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`: the receiver checks both and the age."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance_s: int = 300) -> bool:
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        stamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - stamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, stamp), header)


SIGNATURE_HEADER = "X-Shipflow-Signature"


def post_signed(
    url: str,
    secret: str,
    payload: dict,
    timeout: float = 10.0,
    key: str = "",
    allowed: Sequence[outbound.IPNetwork] = (),
) -> None:
    """POST JSON signed with HMAC; a refused destination, any non-2xx or network failure
    raises `SendError`. `allowed`: private networks the configuration lets it reach."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
    if key:
        headers["Idempotency-Key"] = key
    host = urlsplit(url).hostname
    try:
        response = outbound.post(url, body, headers, timeout, allowed)
    except outbound.DestinationRefused as exc:
        raise SendError(f"not sent: {exc}") from exc
    except requests.RequestException as exc:
        raise SendError(f"POST to {host} failed: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise SendError(f"POST to {host}: {outbound.status_text(response)}")


class ProviderWebhookSender:
    """SMS or WhatsApp through a provider (or a brand's relay) that takes a signed JSON POST."""

    def __init__(
        self, url: str, secret: str, channel: str, allowed: Sequence[outbound.IPNetwork] = ()
    ) -> None:
        self.url, self.secret, self.channel, self.allowed = url, secret, channel, allowed

    def send(self, message: OutgoingMessage) -> None:
        payload = {"channel": self.channel, "to": message.recipient, "text": message.body}
        post_signed(self.url, self.secret, payload, key=message.key, allowed=self.allowed)

"""Ops alert channels: Slack incoming webhooks, e-mail over SMTP and signed generic
webhooks. Each sends one `Notice`; `Notice.key` travels with it (header / Message-ID) so a
receiver can drop the duplicate an at-least-once retry may produce."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from shipflow.delays.config import ChannelConfig
from shipflow.notify import outbound
from shipflow.text import one_line

SIGNATURE_HEADER = "X-Shipflow-Signature"
DELIVERY_HEADER = "X-Shipflow-Delivery"
SIGNATURE_TOLERANCE_S = 300
SLACK_SECTIONS = 10
TIMEOUT_S = 10


class ChannelError(Exception):
    """Sending failed; the outbox retries later."""


@dataclass(frozen=True)
class Notice:
    key: str
    subject: str
    lines: list[str]
    link: str
    data: dict[str, Any] = field(default_factory=dict)
    total: int = 0  # alerts it stands for, when `lines` names only a sample

    @property
    def text(self) -> str:
        more = self.total - len(self.lines)
        tail = [f"... and {more} more"] if more > 0 else []
        return "\n".join([self.subject, *(f"- {line}" for line in self.lines), *tail, self.link])


# --- Slack -------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's control characters as the entities Slack asks for
    (https://api.slack.com/reference/surfaces/formatting#escaping): text a shopper typed (a
    ship-to state `<!channel>`, a link `<https://...|Log in>`) then shows as typed instead of
    pinging the channel or posting a disguised link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_text(text: str, limit: int) -> str:
    """Escaped and cut to Slack's `limit`, never through the middle of an entity."""
    escaped = slack_escape(text)
    return escaped if len(escaped) <= limit else re.sub(r"&[a-z]*$", "", escaped[:limit])


def slack_payload(notice: Notice) -> dict[str, Any]:
    """Block Kit message; `text` is the fallback shown in notifications. Every text from an
    alert is escaped; only the footer link is ours to format."""
    shown = notice.lines[:SLACK_SECTIONS]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _slack_text(notice.subject, 150)},
        },
        *(
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_text(line, 3000)}}
            for line in shown
        ),
    ]
    more = max(notice.total, len(notice.lines)) - len(shown)
    footer = f"<{notice.link}|Open the ops page>" + (f" · {more} more" if more > 0 else "")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return {"text": slack_escape(notice.subject), "blocks": blocks}


def _post(
    url: str, body: bytes, headers: dict[str, str], allowed: Sequence[outbound.IPNetwork]
) -> None:
    host = urlsplit(url).hostname
    try:
        response = outbound.post(url, body, headers, TIMEOUT_S, allowed)
    except outbound.DestinationRefused as exc:
        raise ChannelError(f"not sent: {exc}") from exc
    except requests.RequestException as exc:
        raise ChannelError(f"POST to {host} failed: {type(exc).__name__}") from exc
    if response.status_code >= 300:
        raise ChannelError(f"POST to {host} answered {outbound.status_text(response)}")


def send_slack(
    channel: ChannelConfig, notice: Notice, allowed: Sequence[outbound.IPNetwork] = ()
) -> None:
    body = json.dumps(slack_payload(notice)).encode()
    _post(channel.url, body, {"Content-Type": "application/json"}, allowed)


# --- signed webhooks ---------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed too,
    so a captured request cannot be replayed later."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """What a receiver does: check the signature and that it is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_S:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


def webhook_payload(notice: Notice) -> dict[str, Any]:
    return {"id": notice.key, "subject": notice.subject, "link": notice.link, **notice.data}


def send_webhook(
    channel: ChannelConfig,
    notice: Notice,
    now: float | None = None,
    allowed: Sequence[outbound.IPNetwork] = (),
) -> None:
    body = json.dumps(webhook_payload(notice), sort_keys=True).encode()
    timestamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(channel.secret, body, timestamp),
        DELIVERY_HEADER: notice.key,
    }
    _post(channel.url, body, headers, allowed)


# --- e-mail ------------------------------------------------------------------------------


def _smtp(smtp_url: str) -> smtplib.SMTP:
    """`smtp://user:password@host:port?starttls=true` or `smtps://...` (implicit TLS)."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ChannelError(f"smtp_url must look like smtp://host:port, got {smtp_url!r}")
    factory = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    server = factory(parts.hostname, parts.port or 0, timeout=TIMEOUT_S)
    if parse_qs(parts.query).get("starttls", ["false"])[0].lower() in ("1", "true", "yes"):
        server.starttls()
    if parts.username:
        server.login(unquote(parts.username), unquote(parts.password or ""))
    return server


def email_message(channel: ChannelConfig, notice: Notice) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = one_line(notice.subject)  # a line break would start new headers
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256(notice.key.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@shipflow>"
    message[DELIVERY_HEADER] = notice.key
    message.set_content(notice.text)
    return message


def send_email(channel: ChannelConfig, notice: Notice, smtp_url: str) -> None:
    if not smtp_url:
        raise ChannelError("no smtp_url configured (set SHIPFLOW_SMTP_URL)")
    try:
        with _smtp(smtp_url) as server:
            server.send_message(email_message(channel, notice))
    except (OSError, smtplib.SMTPException) as exc:
        raise ChannelError(f"SMTP delivery failed: {exc}") from exc


def send(
    channel: ChannelConfig,
    notice: Notice,
    smtp_url: str = "",
    allowed: Sequence[outbound.IPNetwork] = (),
) -> None:
    """`allowed`: private networks the configuration lets HTTP channels reach."""
    if channel.type == "slack":
        send_slack(channel, notice, allowed)
    elif channel.type == "webhook":
        send_webhook(channel, notice, allowed=allowed)
    else:
        send_email(channel, notice, smtp_url)

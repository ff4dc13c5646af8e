"""Ways a message leaves shipflow: e-mail over SMTP, Slack incoming webhooks, signed JSON
webhooks (ops alerts, the store, SMS/WhatsApp providers). Ops alerts and customer messages
share these; `Message.key` travels with each (header / Message-ID) so a receiver can drop the
duplicate an at-least-once retry may produce.

A transport is a class with `send(message)`. `OPS_TRANSPORTS` names the ones an ops channel
may use and `CUSTOMER_CHANNELS` the contact each customer channel needs: a new channel
(LINE, WeChat) is one class here and its entry in one of them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import smtplib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from shipflow.notify import outbound
from shipflow.signatures import same_secret
from shipflow.text import reject_control_characters

if TYPE_CHECKING:
    from shipflow.notify.config import ChannelConfig, ProviderConfig

SIGNATURE_HEADER = "X-Shipflow-Signature"
DELIVERY_HEADER = "X-Shipflow-Delivery"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_TOLERANCE_S = 300
SLACK_SECTIONS = 10
TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class SendError(Exception):
    """The message did not go out; it is retried later."""


class InvalidMessage(Exception):
    """The message itself cannot be sent (a header would break); retrying cannot help."""


@dataclass(frozen=True)
class Message:
    key: str  # the same on every retry: receivers drop duplicates by it
    subject: str
    body: str
    recipient: str = ""  # a customer's address or phone; an ops channel knows its own
    sender_name: str = "shipflow"
    lines: Sequence[str] = ()  # ops alerts, one each: Slack shows them as sections
    link: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)  # what a webhook carries as JSON
    total: int = 0  # alerts it stands for, when `lines` names only a sample


class Transport(Protocol):
    def send(self, message: Message) -> None: ...


@dataclass(frozen=True)
class TransportSettings:
    """What every transport of a process shares: the SMTP server and the private networks
    the configuration lets HTTP transports reach."""

    smtp_url: str = ""
    allowed: Sequence[outbound.IPNetwork] = ()


# --- signed webhooks ---------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed too,
    so a captured request cannot be replayed later."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    now: float | None = None,
    tolerance_s: float = SIGNATURE_TOLERANCE_S,
) -> bool:
    """What a receiver does: check the signature and that it is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    return same_secret(header, sign(secret, body, timestamp))


def _post(
    url: str, body: bytes, headers: dict[str, str], allowed: Sequence[outbound.IPNetwork]
) -> None:
    """POST through the outbound guard; a refused destination, a network failure or any
    non-2xx raises `SendError` (keeping only the status line of an answer)."""
    host = urlsplit(url).hostname
    try:
        response = outbound.post(url, body, headers, TIMEOUT_S, allowed)
    except outbound.DestinationRefused as exc:
        raise SendError(f"not sent: {exc}") from exc
    except requests.RequestException as exc:
        raise SendError(f"POST to {host} failed: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise SendError(f"POST to {host} answered {outbound.status_text(response)}")


def post_signed(
    url: str,
    secret: str,
    payload: Mapping[str, Any],
    key: str = "",
    allowed: Sequence[outbound.IPNetwork] = (),
    key_header: str = IDEMPOTENCY_HEADER,
    now: float | None = None,
) -> None:
    """POST `payload` as JSON signed with `secret` (see `sign`); `key` goes in `key_header`."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    timestamp = int(time.time() if now is None else now)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body, timestamp)}
    if key:
        headers[key_header] = key
    _post(url, body, headers, allowed)


class SignedWebhookTransport:
    """An ops alert as signed JSON: its id, subject, link and the alerts' data."""

    def __init__(self, url: str, secret: str, allowed: Sequence[outbound.IPNetwork] = ()) -> None:
        self.url, self.secret, self.allowed = url, secret, allowed

    @classmethod
    def for_channel(cls, channel: ChannelConfig, settings: TransportSettings) -> Transport:
        return cls(channel.url, channel.secret, settings.allowed)

    def send(self, message: Message) -> None:
        payload = {"id": message.key, "subject": message.subject, "link": message.link}
        post_signed(
            self.url,
            self.secret,
            {**payload, **message.data},
            message.key,
            self.allowed,
            key_header=DELIVERY_HEADER,
        )


class ProviderTransport:
    """SMS or WhatsApp through a provider (or a brand's relay) that takes a signed JSON POST."""

    def __init__(
        self, url: str, secret: str, channel: str, allowed: Sequence[outbound.IPNetwork] = ()
    ) -> None:
        self.url, self.secret, self.channel, self.allowed = url, secret, channel, allowed

    @classmethod
    def for_provider(
        cls, channel: str, provider: ProviderConfig, settings: TransportSettings
    ) -> Transport:
        return cls(provider.url, provider.secret, channel, settings.allowed)

    def send(self, message: Message) -> None:
        payload = {"channel": self.channel, "to": message.recipient, "text": message.body}
        post_signed(self.url, self.secret, payload, message.key, self.allowed)


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


def slack_payload(message: Message) -> dict[str, Any]:
    """Block Kit message; `text` is the fallback shown in notifications. Every text from an
    alert is escaped; only the footer link is ours to format."""
    shown = list(message.lines[:SLACK_SECTIONS]) if message.lines else [message.body]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _slack_text(message.subject, 150)},
        },
        *(
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_text(line, 3000)}}
            for line in shown
        ),
    ]
    more = max(message.total, len(message.lines)) - len(message.lines[:SLACK_SECTIONS])
    footer = f"<{message.link}|Open the ops page>" + (f" · {more} more" if more > 0 else "")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return {"text": slack_escape(message.subject), "blocks": blocks}


class SlackTransport:
    def __init__(self, url: str, allowed: Sequence[outbound.IPNetwork] = ()) -> None:
        self.url, self.allowed = url, allowed

    @classmethod
    def for_channel(cls, channel: ChannelConfig, settings: TransportSettings) -> Transport:
        return cls(channel.url, settings.allowed)

    def send(self, message: Message) -> None:
        body = json.dumps(slack_payload(message)).encode()
        _post(self.url, body, {"Content-Type": "application/json"}, self.allowed)


# --- e-mail ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpUrl:
    """`smtp://user:password@host:port?starttls=true&from=addr`: `smtps://` for implicit TLS,
    `starttls` (true/1/yes) to upgrade a plain connection, `from` for the sender address."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str
    password: str
    from_address: str

    @classmethod
    def parse(cls, url: str) -> SmtpUrl:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SMTP URL must look like smtp://host:port, got {url!r}")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            starttls=query.get("starttls", "").lower() in ("1", "true", "yes"),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            from_address=query.get("from", "no-reply@shipflow.local"),
        )


def _header_line(name: str, value: str) -> str:
    """`Name: value`, as RFC 2047 encoded words if not ASCII, folded if over 78 characters."""
    line = f"{name}: {value}"
    if value.isascii() and len(line) <= 78:
        return line
    charset = "us-ascii" if value.isascii() else "utf-8"
    return f"{name}: " + Header(value, charset, header_name=name).encode(linesep="\r\n")


@lru_cache(maxsize=256)
def _from_header(name: str, address: str) -> str:
    """Per brand (its name, the sender address), not per message."""
    return formataddr((name, address), "utf-8")


@lru_cache(maxsize=1)
def _date_header(second: int) -> str:
    """Once a second, not per message: the header counts whole seconds."""
    return formatdate(second, localtime=False)


class SmtpTransport:
    """E-mail to `message.recipient`, else to the fixed `to` (an ops channel's list).
    `sender`: the From of an ops channel; customers get "<brand> <the URL's `from`>"."""

    def __init__(
        self,
        url: str,
        to: Sequence[str] = (),
        sender: str = "",
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.server = SmtpUrl.parse(url)
        self.to, self.sender, self.timeout = list(to), sender, timeout
        self._held = threading.local()  # this thread's connection inside `held()`

    @classmethod
    def for_channel(cls, channel: ChannelConfig, settings: TransportSettings) -> Transport:
        if not settings.smtp_url:
            raise SendError("no smtp_url configured (set SHIPFLOW_SMTP_URL)")
        return cls(settings.smtp_url, channel.to, channel.sender)

    def mail(self, message: Message) -> bytes:
        """The e-mail as sent, or `InvalidMessage` naming the header that cannot hold its text:
        a line break there would let the text add headers (Bcc ...) of its own. Written out
        here rather than by `email.generator`, whose header folding was half of a message's
        cost: non-ASCII headers become RFC 2047 encoded words, long ones are folded, the body
        goes as 8bit UTF-8 (readable, not base64)."""
        name, address = (
            parseaddr(self.sender)
            if self.sender
            else (message.sender_name, self.server.from_address)
        )
        headers = {
            "From": name,
            "To": message.recipient or ", ".join(self.to),
            "Subject": message.subject,
        }
        for header, value in headers.items():
            try:
                reject_control_characters(value)
            except ValueError as exc:
                raise InvalidMessage(f"{header} header {exc}") from None
        body = message.body if message.body.endswith("\n") else message.body + "\n"
        ascii_body = body.isascii()
        headers = {
            "MIME-Version": "1.0",
            "Content-Type": f'text/plain; charset="{"us-ascii" if ascii_body else "utf-8"}"',
            "Content-Transfer-Encoding": "7bit" if ascii_body else "8bit",
            **headers,
            "From": _from_header(name, address),
            "Date": _date_header(int(time.time())),
        }
        if message.key:
            digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
            headers |= {"Message-ID": f"<{digest}@shipflow>", DELIVERY_HEADER: message.key}
        head = "".join(f"{_header_line(header, value)}\r\n" for header, value in headers.items())
        text = body.replace("\r\n", "\n").replace("\n", "\r\n")
        return f"{head}\r\n{text}".encode()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Within the block, this thread's messages share one connection (opened at the first
        send, again after a failure that lost it): a batch pays the TCP, TLS and login
        handshakes once."""
        self._held.on, self._held.smtp = True, None
        try:
            yield
        finally:
            self._held.on = False
            self._drop()

    def send(self, message: Message) -> None:
        """`SendError` if the message went to no one (see `send_all`)."""
        [outcome] = self.send_all([message])
        if outcome is not None:
            raise outcome

    def send_all(self, messages: Sequence[Message]) -> Iterator[Exception | None]:
        """Each message's outcome, in order, as soon as it is known: None if sent, else the
        `InvalidMessage` or `SendError` that kept it back. One that some recipients refused
        went to the others and counts as sent (a retry would send it to them again): the
        refused ones, with the server's answers, go to the log for an operator. All go over
        one connection (the held one, if any), a new one after a failure that lost it; with
        PIPELINING, each message's end and the next one's envelope in one write (`_pipelined`).
        A message is failed only by what happened in its own exchange: one whose envelope was
        written but not answered when the connection broke is sent on the next connection."""
        built: list[_Envelope | InvalidMessage] = []
        for message in messages:
            try:
                built.append(self._envelope(message))
            except InvalidMessage as exc:
                built.append(exc)
        held = nullcontext() if getattr(self._held, "on", False) else self.held()
        with held:
            outcomes = self._exchange([e for e in built if isinstance(e, _Envelope)])
            for envelope in built:
                yield envelope if isinstance(envelope, InvalidMessage) else next(outcomes)

    def _envelope(self, message: Message) -> _Envelope:
        sender = parseaddr(self.sender)[1] if self.sender else self.server.from_address
        recipients = [message.recipient] if message.recipient else self.to
        return _Envelope(message.key, sender, recipients, self.mail(message))

    def _exchange(self, envelopes: list[_Envelope]) -> Iterator[SendError | None]:
        """The envelopes' outcomes over the held connection, opened (again) as needed."""
        done = 0
        while done < len(envelopes):
            try:
                smtp = self._session()
                smtp.ehlo_or_helo_if_needed()
                session = _pipelined if smtp.has_extn("pipelining") else _one_by_one
                for outcome in session(smtp, envelopes[done:]):
                    yield self._settled(envelopes[done], outcome)
                    done += 1
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                yield self._settled(envelopes[done], exc)
                done += 1
            else:
                if done < len(envelopes):  # the session ended before the rest were answered
                    self._drop()

    def _session(self) -> smtplib.SMTP:
        """The held connection; a new one if there is none or the server closed it."""
        if self._held.smtp is None or self._held.smtp.sock is None:
            self._drop()
            self._held.smtp = self._connect()
        return self._held.smtp

    def _settled(self, envelope: _Envelope, outcome: Outcome) -> SendError | None:
        server = self.server
        if isinstance(outcome, Exception):
            error = SendError(f"SMTP {server.host}:{server.port}: {outcome}")
            error.__cause__ = outcome
            return error
        if outcome:
            log.warning(
                "SMTP %s:%s refused %s of message %s (sent to the others)",
                server.host,
                server.port,
                ", ".join(
                    f"{to} ({code} {text.decode(errors='replace')})"
                    for to, (code, text) in outcome.items()
                ),
                envelope.key,
            )
        return None

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        factory = smtplib.SMTP_SSL if server.implicit_tls else smtplib.SMTP
        smtp = factory(server.host, server.port, timeout=self.timeout)
        try:
            if server.starttls:
                smtp.starttls()
            if server.username:
                smtp.login(server.username, server.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _drop(self) -> None:
        """Close the held connection, if any (politely; a dead one just closes)."""
        smtp, self._held.smtp = getattr(self._held, "smtp", None), None
        if smtp is not None:
            with suppress(OSError, smtplib.SMTPException):
                smtp.docmd("QUIT")  # as a `with smtplib.SMTP(...)` block ends
            smtp.close()


@dataclass(frozen=True)
class _Envelope:
    """One message as a session sends it: its key (for the log), who from and to, the e-mail."""

    key: str
    sender: str
    recipients: list[str]
    mail: bytes


Outcome = dict[str, tuple[int, bytes]] | Exception
"""What a session made of one message: sent, with the recipients refused beside others (each
with the server's code and text), or what `sendmail` raises when the server refuses the
sender, every recipient or the message, or what else kept it back."""


def _commands(smtp: smtplib.SMTP, envelope: _Envelope) -> list[str]:
    """MAIL, each RCPT and DATA, as `sendmail` words them: an address beyond ASCII needs a
    server that takes SMTPUTF8."""
    ascii_only = envelope.sender.isascii() and all(r.isascii() for r in envelope.recipients)
    options = [] if ascii_only else ["SMTPUTF8", "BODY=8BITMIME"]
    if options and not smtp.has_extn("smtputf8"):
        raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
    size = [f"SIZE={len(envelope.mail)}"] if smtp.has_extn("size") else []
    return [
        " ".join([f"MAIL FROM:{_quoted(envelope.sender)}", *options, *size]),
        *(f"RCPT TO:{_quoted(recipient)}" for recipient in envelope.recipients),
        "DATA",
    ]


def _pipelined(smtp: smtplib.SMTP, envelopes: list[_Envelope]) -> Iterator[Outcome]:
    """With PIPELINING (RFC 2920): an envelope's commands written together, and a message's
    end together with the next one's envelope, so each message waits on one round trip, not
    two (smtplib's `sendmail` waits on four). An envelope written ahead that the connection
    lost before its replies ends the session without an outcome: nothing of it was taken,
    and the caller sends it on a new connection."""
    scripts: list[bytes | Exception] = []
    for envelope in envelopes:
        try:
            scripts.append("".join(f"{c}\r\n" for c in _commands(smtp, envelope)).encode())
        except smtplib.SMTPNotSupportedError as exc:
            scripts.append(exc)
    following = [b""] * len(scripts)  # the next envelope that goes, to write after the message
    for index in range(len(scripts) - 1, 0, -1):
        script = scripts[index]
        following[index - 1] = script if isinstance(script, bytes) else following[index]
    ahead = False  # this envelope was written with the message before it
    for envelope, script, after in zip(envelopes, scripts, following, strict=True):
        if isinstance(script, Exception):
            yield script
            continue
        if not ahead:
            smtp.send(script)
        try:
            replies = [smtp.getreply() for _ in range(len(envelope.recipients) + 2)]
        except (OSError, smtplib.SMTPServerDisconnected):
            if ahead:
                return
            raise
        outcome, ahead = _concluded(smtp, envelope, replies, after)
        yield outcome
        if smtp.sock is None:
            return


def _one_by_one(smtp: smtplib.SMTP, envelopes: list[_Envelope]) -> Iterator[Outcome]:
    """Without PIPELINING: each command once the one before is answered, none after a refused
    MAIL and no DATA once every RCPT is refused, as `sendmail` sends them (those not sent get
    the refusal's reply)."""
    for envelope in envelopes:
        try:
            commands = _commands(smtp, envelope)
        except smtplib.SMTPNotSupportedError as exc:
            yield exc
            continue
        replies: list[tuple[int, bytes]] = []
        for command in commands:
            mail_refused = replies and replies[0][0] != 250
            if mail_refused or (
                command == "DATA" and all(r[0] not in (250, 251) for r in replies[1:])
            ):
                replies.append(replies[-1])
                continue
            smtp.send(f"{command}\r\n".encode())
            replies.append(smtp.getreply())
        yield _concluded(smtp, envelope, replies, b"")[0]
        if smtp.sock is None:
            return


def _concluded(
    smtp: smtplib.SMTP, envelope: _Envelope, replies: list[tuple[int, bytes]], after: bytes
) -> tuple[Outcome, bool]:
    """The message sent once its envelope's replies are in (`after`, the next envelope, written
    with it), and its outcome; and whether `after` went. After a refusal the envelope is
    reset, and a session that does not take the reset closed (`sendmail`'s own reset ignores
    the answer, and a held connection would take the next message to a server that hung up);
    not after a message refused once `after` went: its end closed the transaction, and a
    reset would undo the next one."""
    (code, reply), *answers, data = replies
    recipients = envelope.recipients
    refused = {r: a for r, a in zip(recipients, answers, strict=True) if a[0] not in (250, 251)}
    goes = code == 250 and len(refused) < len(recipients)
    wrote_after = False
    if data[0] == 354:  # DATA taken: the message, or none (the lone dot) if it cannot go
        wrote_after = goes and bool(after)
        smtp.send(_dot_stuffed(envelope.mail) + b".\r\n" + after if goes else b".\r\n")
        data = smtp.getreply()
    if not goes or (data[0] != 250 and not wrote_after):
        _reset(smtp)
    if code != 250:
        return smtplib.SMTPSenderRefused(code, reply, envelope.sender), wrote_after
    if not goes:
        return smtplib.SMTPRecipientsRefused(refused), wrote_after
    if data[0] != 250:
        return smtplib.SMTPDataError(*data), wrote_after
    return refused, wrote_after


def _reset(smtp: smtplib.SMTP) -> None:
    """RSET after a refusal; a session that does not take it (421, gone) is closed, so it is
    not given another message."""
    with suppress(smtplib.SMTPServerDisconnected):
        if smtp.rset()[0] == 250:
            return
    smtp.close()


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def _quoted(address: str) -> str:
    """The address as MAIL and RCPT carry it, as `smtplib.quoteaddr` gives it: a plain one
    (dot-atoms, ASCII) as it is in angle brackets, without the `email` address parser that
    `quoteaddr` runs (a tenth of an e-mail's CPU); any other through `quoteaddr`."""
    return f"<{address}>" if _PLAIN_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


def _dot_stuffed(mail: bytes) -> bytes:
    """The message as DATA carries it: a leading dot doubled, ending in CRLF (RFC 5321 4.5.2).
    A line starts at the beginning and after each LF, as `re`'s multiline `^` has it."""
    stuffed = (b"." if mail.startswith(b".") else b"") + mail.replace(b"\n.", b"\n..")
    return stuffed if stuffed.endswith(b"\r\n") else stuffed + b"\r\n"


def send_all(transport: Transport, messages: Sequence[Message]) -> Iterator[Exception | None]:
    """Each message's outcome, in order: None if sent, else the `InvalidMessage` or `SendError`
    that kept it back. E-mail goes as `SmtpTransport.send_all` sends a batch, any other
    transport's messages one at a time."""
    if isinstance(transport, SmtpTransport):
        yield from transport.send_all(messages)
        return
    for message in messages:
        try:
            transport.send(message)
        except (InvalidMessage, SendError) as exc:
            yield exc
        else:
            yield None


class LogTransport:
    """Writes messages to the log instead of sending them: the demo's default without SMTP."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("shipflow.messages")

    def send(self, message: Message) -> None:
        self.logger.info("message to %s: %s\n%s", message.recipient, message.subject, message.body)


# --- the registries ----------------------------------------------------------------------

OPS_TRANSPORTS: dict[str, Callable[[ChannelConfig, TransportSettings], Transport]] = {
    "slack": SlackTransport.for_channel,
    "email": SmtpTransport.for_channel,
    "webhook": SignedWebhookTransport.for_channel,
}
"""An ops channel's `type` -> its transport, built from the channel's configuration."""

CUSTOMER_CHANNELS: dict[str, str] = {"email": "email", "sms": "phone", "whatsapp": "phone"}
"""A customer channel -> the order contact it needs. E-mail goes through the SMTP server,
the others through `ProviderTransport`, the brand's provider for that channel."""


def ops_transport(channel: ChannelConfig, settings: TransportSettings) -> Transport:
    return OPS_TRANSPORTS[channel.type](channel, settings)

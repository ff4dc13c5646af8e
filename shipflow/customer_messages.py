"""Customer milestone messages: queued once per shipment+milestone+channel on the channel
the brand and the customer's contacts pick, held through the customer's quiet hours, sent
with retries by the job runner through `shipflow.notify`'s transports."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any, Protocol

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from shipflow import geo
from shipflow.brands import brand_config
from shipflow.config import NotificationsConfig, Settings
from shipflow.notify.config import CustomerChannelsConfig
from shipflow.notify.templates import Milestone, parcel_of, pick_language, render, template_for
from shipflow.notify.timing import message_key, send_time
from shipflow.notify.transports import (
    CUSTOMER_CHANNELS,
    InvalidMessage,
    LogTransport,
    Message,
    ProviderTransport,
    SendError,
    SmtpTransport,
    Transport,
    TransportSettings,
    send_all,
)
from shipflow.store.db import insert_all, one_of, per_transaction, update_all
from shipflow.store.lease import claim, unleased
from shipflow.store.models import Brand, Shipment, table_of
from shipflow.store.postpurchase_models import CustomerMessageRow, new_message_id

MAX_ATTEMPTS = 5
CLAIM_LEASE = timedelta(minutes=5)  # far longer than one send may take (SMTP timeout: 10 s)
_HELD = "message keys read ahead"  # per transaction: shipment id -> keys stored or queued
_STAGED = "shipflow.staged_customer_messages"  # session.info: key -> row, while `staged`
_MESSAGES = table_of(CustomerMessageRow)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomerSenders:
    """The transport of each customer channel: e-mail shared by every brand, the provider
    channels (SMS, WhatsApp) per brand code."""

    email: Transport
    providers: Mapping[tuple[str, str], Transport] = field(default_factory=dict)
    connections: int = 1  # messages of a batch sent at once, each over its own connection

    def sender_for(self, brand_code: str, channel: str) -> Transport | None:
        if channel == "email":
            return self.email
        return self.providers.get((brand_code, channel))

    @contextmanager
    def held(self) -> Iterator[None]:
        """One SMTP connection for the e-mails sent in the block (other transports as they are)."""
        if isinstance(self.email, SmtpTransport):
            with self.email.held():
                yield
        else:
            yield


def customer_senders(settings: Settings) -> CustomerSenders:
    """E-mail over SMTP when `smtp_url` is set, otherwise to the log (demo); each brand's
    providers for its other channels."""
    reach = TransportSettings(settings.smtp_url, settings.notify.allow_private_networks)
    return CustomerSenders(
        email=SmtpTransport(settings.smtp_url) if settings.smtp_url else LogTransport(),
        connections=settings.notify.smtp_connections,
        providers={
            (brand.code, channel): ProviderTransport.for_provider(channel, provider, reach)
            for brand in settings.brands
            for channel, provider in brand.customer_channels.providers.items()
        },
    )


class Customer(Protocol):
    """An order as its customer's messages read it: an `Order`, or the outbox's `OrderRead`
    (a row: the outbox builds no ORM object for a milestone)."""

    @property
    def id(self) -> str: ...

    @property
    def brand_id(self) -> str: ...

    @property
    def order_number(self) -> str: ...

    @property
    def customer_email(self) -> str: ...

    @property
    def customer_phone(self) -> str: ...

    @property
    def language(self) -> str: ...


def contact(order: Customer, channel: str) -> str:
    """The order's address for `channel` ("" if the customer gave none)."""
    return order.customer_email if CUSTOMER_CHANNELS[channel] == "email" else order.customer_phone


def choose_channel(channels: CustomerChannelsConfig, order: Customer) -> str | None:
    """The brand's first preferred channel the customer can be reached on."""
    return next((name for name in channels.prefer if contact(order, name)), None)


def language_of(session: Session, order: Customer, settings: Settings) -> str:
    """The order's language if its brand speaks it, else the brand's closest or first."""
    config = brand_config(session, order.brand_id, settings)
    return pick_language(order.language, config.languages if config else ["en"])


def queue(
    session: Session,
    *,
    brand: Brand,
    order: Customer,
    milestone: Milestone,
    context: Mapping[str, object],
    now: datetime,
    customer_zone: str,
    settings: Settings,
    shipment_id: str | None = None,
    channel: str | None = None,
    discriminator: str = "",
    parcel: tuple[int, int] | None = None,
    recipient: str = "",
    language: str = "",
) -> str | None:
    """Queue the message unless it was queued before; returns its id, or None if a duplicate
    or the customer cannot be reached. `channel`: chosen by `choose_channel` unless given;
    `parcel`: (n, total) when the order travels in several parcels ("Parcel 2 of 3: ...");
    `recipient` and `language`: a contact asked for on the tracking page, instead of the
    order's own."""
    config = brand_config(session, brand.id, settings)
    if channel is None:
        channels = config.customer_channels if config else CustomerChannelsConfig()
        channel = choose_channel(channels, order)
    recipient = recipient or (contact(order, channel) if channel else "")
    if channel is None or not recipient:
        return None
    key = message_key(shipment_id or order.id, milestone.value, channel, discriminator)
    if _queued_before(session, shipment_id, key):
        return None
    notifications = config.notifications if config else NotificationsConfig()
    language = language or language_of(session, order, settings)
    quiet = notifications.quiet_hours
    message = render(
        template_for(milestone, language, notifications.templates),
        {"brand": brand.name, "order_number": order.order_number, **context},
    )
    row: dict[str, Any] = {
        "id": new_message_id(),
        "brand_id": brand.id,
        "shipment_id": shipment_id,
        "key": key,
        "milestone": milestone.value,
        "channel": channel,
        "recipient": recipient,
        "language": language,
        "subject": message.subject,
        "body": parcel_of(language, *parcel) + message.body if parcel else message.body,
        "send_after": send_time(now, customer_zone, quiet.start, quiet.end),
    }
    staged_rows = session.info.get(_STAGED)
    if staged_rows is None:
        session.add(CustomerMessageRow(**row))
    else:
        staged_rows[key] = row
    if shipment_id in (held := _held(session)):
        held[shipment_id].add(key)
    return row["id"]


@contextmanager
def staged(session: Session) -> Iterator[None]:
    """The messages `queue` queues in the block inserted as one statement when it ends
    (`insert_all`), not as an ORM object each (building and flushing them was a fifth of the
    outbox's CPU); if the block raises, none are. For a savepoint's work: open it inside the
    savepoint, so what it inserts is rolled back with the rest."""
    rows: dict[str, dict[str, Any]] = {}
    session.info[_STAGED] = rows
    try:
        yield
    finally:
        del session.info[_STAGED]
    session.flush()  # first the rows they refer to
    insert_all(session, _MESSAGES, list(rows.values()))


def read_ahead(session: Session, shipment_ids: Collection[str]) -> None:
    """The message keys stored for a batch's shipments in one query, held for the
    transaction: `queue` then dedupes their messages without a query each."""
    held = _held(session)
    held.update({sid: set() for sid in shipment_ids})
    stored = select(CustomerMessageRow.shipment_id, CustomerMessageRow.key).where(
        one_of(session, CustomerMessageRow.shipment_id, shipment_ids)
    )
    for shipment_id, key in session.execute(stored):
        held[str(shipment_id)].add(key)  # not None: selected by shipment


def _held(session: Session) -> dict[str, set[str]]:
    return per_transaction(session, _HELD, dict)


def _queued_before(session: Session, shipment_id: str | None, key: str) -> bool:
    if key in session.info.get(_STAGED, ()):
        return True
    held = _held(session)
    if shipment_id in held:
        return key in held[shipment_id]
    return (
        session.scalar(select(CustomerMessageRow.id).where(CustomerMessageRow.key == key))
        is not None
    )


def deliver_due(session: Session, now: datetime, senders: CustomerSenders, limit: int = 250) -> int:
    """Send what is due: up to `limit` messages claimed in one statement (committed, so no
    other worker sends them meanwhile), sent over up to `senders.connections` SMTP connections
    at once (each message waits on one round trip, four without PIPELINING) and settled
    together: the sent ones in one statement. If sending raises, those sent are settled all
    the same, the one that broke keeps its lease and the untried are due again at once; if the
    process dies mid-batch, the lease lapses and the batch is sent again, which the stable
    `Message-ID` (the message's key) lets receivers drop. A message that cannot be built is
    marked failed without holding up the rest; a send that fails is retried with backoff,
    then marked failed. Returns how many were sent. `limit`: the e-mails one outbox run
    queues (a batch of receipts, about one an event, and those its delays add) in one run.
    """
    due = [
        CustomerMessageRow.status == "scheduled",
        CustomerMessageRow.send_after <= now,
        unleased(CustomerMessageRow, now),
    ]
    by_time = [CustomerMessageRow.send_after, CustomerMessageRow.id]
    # Their order first, then the claim, which checks again.
    order = session.scalars(
        select(CustomerMessageRow.id).where(*due).order_by(*by_time).limit(limit)
    )
    ids = {row_id: n for n, row_id in enumerate(order)}
    if not ids:
        return 0
    due.append(one_of(session, CustomerMessageRow.id, ids))
    lease = {"leased_until": now + CLAIM_LEASE}
    claimed = claim(session, CustomerMessageRow, due, by_time, limit, lease, SENT_COLUMNS)
    session.commit()
    rows = sorted(claimed, key=lambda row: ids[row.id])
    brands = {
        brand.id: brand
        for brand in session.scalars(
            select(Brand).where(one_of(session, Brand.id, {r.brand_id for r in rows}))
        )
    }
    lanes = _lanes(rows, senders.connections)
    if len(lanes) == 1:
        outcomes = [_transmit(lanes[0], brands, senders)]
    else:
        with ThreadPoolExecutor(len(lanes)) as pool:
            outcomes = list(pool.map(lambda lane: _transmit(lane, brands, senders), lanes))
    sent: list[str] = []
    untried: list[str] = []
    failed: dict[str, dict[str, Any]] = {}
    broke: BaseException | None = None
    for lane, (results, error) in zip(lanes, outcomes, strict=True):
        for row, result in zip(lane, results, strict=False):
            if result is None:
                sent.append(row.id)
            else:
                failed[row.id] = _failure(row, result, now)
        untried += [row.id for row in lane[len(results) + (error is not None) :]]
        broke = broke or error
    _settle(session, sent, untried, failed, now)
    if broke is not None:
        raise broke
    return len(sent)


SENT_COLUMNS = tuple(
    getattr(CustomerMessageRow, name)
    for name in ("brand_id", "key", "channel", "recipient", "subject", "body", "attempts")
)
"""What sending a claimed message reads of it, returned by the claim: not an ORM object
each, which the batch loaded again after the claim (a fifth of the stage's CPU)."""


def _settle(
    session: Session,
    sent: list[str],
    untried: list[str],
    failed: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> None:
    """The sent marked sent in one statement, the untried due again, the failures' own
    changes (one statement per kind), in one commit."""
    if sent:
        session.execute(
            update(CustomerMessageRow)
            .where(one_of(session, CustomerMessageRow.id, sent))
            .values(status="sent", sent_at=now, attempts=CustomerMessageRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    if untried:
        session.execute(
            update(CustomerMessageRow)
            .where(one_of(session, CustomerMessageRow.id, untried))
            .values(send_after=now, leased_until=None)
            .execution_options(synchronize_session=False)
        )
    changes = sorted(({"id": i, **values} for i, values in failed.items()), key=sorted)
    for _, alike in groupby(changes, key=sorted):  # one statement per kind of failure
        update_all(session, _MESSAGES, "id", list(alike))
    session.commit()


class NoSender(SendError):
    """No transport is configured for the message's channel: it fails without retries."""


def _lanes(rows: list[Row], connections: int) -> list[list[Row]]:
    """The batch split over up to `connections` connections, each recipient's messages on one
    of them in their order, so a customer never reads "delivered" before "out for delivery"."""
    lanes: list[list[Row]] = [[] for _ in range(max(1, connections))]
    for row in rows:
        lanes[zlib.crc32(row.recipient.encode()) % len(lanes)].append(row)
    return [lane for lane in lanes if lane] or [[]]


def _transmit(
    lane: list[Row], brands: Mapping[str, Brand], senders: CustomerSenders
) -> tuple[list[Exception | None], BaseException | None]:
    """Send one lane's messages over one connection (a worker thread: I/O only, the rows are
    read, not changed), each run of them with one sender together (`send_all`). Each
    message's outcome: None if sent, else the error the row records; and what stopped the
    lane, if anything unexpected did (those after it are untried)."""
    results: list[Exception | None] = []

    def sender_of(row: Row) -> Transport | None:
        return senders.sender_for(brands[row.brand_id].code, row.channel)

    try:
        with senders.held():
            for sender, run in groupby(lane, sender_of):
                rows = list(run)
                if sender is None:
                    results += [NoSender(f"no sender configured for {r.channel}") for r in rows]
                    continue
                messages = [
                    Message(
                        row.key, row.subject, row.body, row.recipient, brands[row.brand_id].name
                    )
                    for row in rows
                ]
                for outcome in send_all(sender, messages):  # each kept as it comes
                    results.append(outcome)
    except Exception as exc:  # noqa: BLE001 - raised again once the others are settled
        return results, exc
    return results, None


def _failure(row: Row, result: Exception, now: datetime) -> dict[str, Any]:
    """What a failed send changes on its message: one that cannot be sent fails at once, a
    send that failed is retried with backoff."""
    if isinstance(result, InvalidMessage):
        log.warning("customer message %s cannot be sent: %s", row.id, result)
        return {"status": "failed", "error": str(result), "attempts": row.attempts + 1}
    if isinstance(result, NoSender):
        return {"status": "failed", "error": str(result)}
    attempts = row.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return {"status": "failed", "error": str(result), "attempts": attempts}
    retry = now + timedelta(minutes=2**attempts)
    return {"error": str(result), "attempts": attempts, "send_after": retry, "leased_until": None}


def zone_for(ship_to: Mapping, default: str = "America/New_York") -> str:
    """The customer's time zone from the ship-to postal code (US ZIPs offline), else `default`."""
    location = geo.locate(ship_to.get("country", ""), ship_to.get("postal_code", ""))
    return (location.timezone if location else None) or default


PARCEL_COLUMNS = (Shipment.id, Shipment.order_id, Shipment.kind, Shipment.created_at)
"""What `parcel_position` reads of an order's shipments."""


class Sibling(Protocol):
    """One of an order's parcels as `parcel_position` reads it (`PARCEL_COLUMNS`)."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


def parcel_position(parcels: Iterable[Sibling], shipment_id: str) -> tuple[int, int] | None:
    """(n, total) of the shipment among its order's forward `parcels`, in the order they
    were created; None for an order that travels in one parcel."""
    forward = sorted(
        (s for s in parcels if s.kind == "forward"), key=lambda s: (s.created_at, s.id)
    )
    ids = [s.id for s in forward]
    if len(ids) < 2 or shipment_id not in ids:
        return None
    return ids.index(shipment_id) + 1, len(ids)

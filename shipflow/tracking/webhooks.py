"""Webhooks from carriers and shops: verify, store raw, acknowledge; process later in the job
runner (each receipt by its `source_kind`: tracking updates, or a shop's order).

Storing the raw payload before reading it means a payload that fails to process (a parser
bug, an unknown shape) is kept, marked `failed` with the error for ops, and processed again
after a fix. A bad signature stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, CursorResult, Row, insert, select, update
from sqlalchemy.orm import Session

from carriers.base import CarrierError, WebhookRequest
from channels.base import ChannelResponseError
from shipflow.channel_accounts import Shop, UnknownChannelAccount
from shipflow.channel_orders import import_receipt, import_receipts
from shipflow.domain import TrackingUpdate, UnreadableItem
from shipflow.orders import DuplicateOrderNumber
from shipflow.store.db import Batch, one_of, update_all
from shipflow.store.lease import claim, unleased
from shipflow.store.models import table_of
from shipflow.store.tracking_models import WebhookReceipt, as_request
from shipflow.tracking.accounts import Account, UnknownAccount, load_account
from shipflow.tracking.ingest import ingest_batch

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

RECEIVED, PROCESSED, FAILED = "received", "processed", "failed"
_RECEIPTS = table_of(WebhookReceipt)
# What a carrier receipt's batch reads of it: whose it is, and the request to parse.
_TO_PARSE = select(
    *(_RECEIPTS.c[name] for name in ("id", "account", "brand_id", "carrier")),
    *(_RECEIPTS.c[name] for name in ("headers", "body", "received_at")),
)
# Errors a retry cannot cure until someone fixes the payload, the parser or the config.
PAYLOAD_ERRORS = (
    CarrierError,
    UnknownAccount,
    ChannelResponseError,
    UnknownChannelAccount,
    DuplicateOrderNumber,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
)


def receipt_row(account: Account | Shop, request: WebhookRequest) -> dict[str, Any]:
    """The `webhook_receipts` row for a verified webhook, exactly as received."""
    return {
        "brand_id": account.brand_id,
        "source_kind": account.source_kind,
        "carrier": account.name,
        "account": account.id,
        "headers": dict(request.headers),
        "body": request.body,
        "received_at": request.received_at,
        "available_at": request.received_at,
        "status": RECEIVED,
        "attempts": 0,
    }


def store(
    db: Session | Connection, account: Account | Shop, request: WebhookRequest, now: datetime
) -> int:
    """Keep a verified webhook exactly as received; the caller commits before acknowledging.
    (The web path group-commits the same row through `shipflow.tracking.intake`.)"""
    row = receipt_row(account, replace(request, received_at=now))
    return db.execute(
        insert(WebhookReceipt).values(**row).returning(WebhookReceipt.id)
    ).scalar_one()


def _claim(session: Session, now: datetime, lease: float, *where, limit: int) -> dict[int, str]:
    """Claim due receipts; returns each one's `source_kind` by id, in claim order."""
    rows = claim(
        session,
        WebhookReceipt,
        [
            WebhookReceipt.status == RECEIVED,
            WebhookReceipt.available_at <= now,
            unleased(WebhookReceipt, now),
            *where,
        ],
        [WebhookReceipt.available_at, WebhookReceipt.id],
        limit,
        {
            "leased_until": now + timedelta(seconds=lease),
            "attempts": WebhookReceipt.attempts + 1,
        },
        returning=[WebhookReceipt.source_kind],
    )
    session.commit()
    return {row.id: row.source_kind for row in rows}


def _notes(unknown: list[str], unreadable: list[UnreadableItem]) -> str | None:
    """What ops should know about a processed receipt: numbers the brand does not have, and
    events the adapter skipped (the raw body stays on the receipt)."""
    notes = []
    if unknown:
        notes.append(f"unknown tracking numbers: {', '.join(unknown)}")
    if unreadable:
        errors = "; ".join(item.error for item in unreadable)
        notes.append(f"{len(unreadable)} unreadable event(s) skipped: {errors}")
    return " | ".join(notes) or None


def _account(
    session: Session, runtime: Runtime, receipt: WebhookReceipt | Row[Any], accounts: dict
):
    account = accounts.get(receipt.account)
    if account is None:
        account = accounts[receipt.account] = load_account(session, runtime, receipt.account)
    return account


def _ingest_tracking(
    session: Session, runtime: Runtime, receipt: WebhookReceipt, now: datetime, accounts: dict
) -> str | None:
    updates = _account(session, runtime, receipt, accounts).adapter.parse_webhook(
        as_request(receipt)
    )
    items = [(receipt.brand_id, receipt.carrier, update) for update in updates]
    found = ingest_batch(
        session,
        items,
        "webhook",
        now,
        runtime.settings.tracking,
        runtime.reactions.in_transaction,
    )
    return _receipt_notes(updates, found)


def _receipt_notes(updates: list[TrackingUpdate], found: list[bool]) -> str | None:
    unknown = [u.tracking_number for u, has in zip(updates, found, strict=True) if not has]
    return _notes(unknown, [item for u in updates for item in u.unreadable])


# What a receipt becomes, by who sent it; each returns the notes ops should see on it.
PROCESSORS = {Account.source_kind: _ingest_tracking, Shop.source_kind: import_receipt}


def _process_claimed(runtime: Runtime, receipt_id: int, accounts: dict) -> None:
    with runtime.sessions() as session:
        receipt = session.get_one(WebhookReceipt, receipt_id)
        now = runtime.clock.now()
        try:
            notes = PROCESSORS[receipt.source_kind](session, runtime, receipt, now, accounts)
            receipt.status, receipt.processed_at, receipt.error = PROCESSED, now, notes
            session.commit()
            return
        except Exception as exc:  # recorded on the receipt for ops, retried or shown as failed
            session.rollback()
            _record_failure(runtime, session, receipt_id, exc)


def _record_failure(runtime: Runtime, session: Session, receipt_id: int, exc: Exception) -> None:
    """Keep the error on the receipt: failed for good if a retry cannot cure it, else due
    again after the backoff."""
    config, now = runtime.settings.tracking, runtime.clock.now()
    error = f"{type(exc).__name__}: {exc}"
    log.warning("webhook receipt %s failed (%s)", receipt_id, error)
    receipt = session.get_one(WebhookReceipt, receipt_id)
    receipt.error = error
    if isinstance(exc, PAYLOAD_ERRORS) or receipt.attempts >= config.receipt_max_attempts:
        receipt.status = FAILED
    else:
        receipt.available_at = now + timedelta(seconds=config.backoff(receipt.attempts))
        receipt.leased_until = None
    session.commit()


def _receipts(session: Session, receipt_ids: list[int]) -> Sequence[WebhookReceipt]:
    """A claimed batch's receipts, in the order they arrived."""
    return session.scalars(
        select(WebhookReceipt)
        .where(one_of(session, WebhookReceipt.id, receipt_ids))
        .order_by(WebhookReceipt.id)
    ).all()


def _carrier_receipts(session: Session, receipt_ids: list[int]) -> Sequence[Row[Any]]:
    """A claimed batch of carrier receipts, in the order they arrived, as the columns the
    batch reads (`_TO_PARSE`): it only reads them, and a row costs a fraction of an ORM
    object, whose identity and state the batch never needs (it marks them processed with
    one `update_all`)."""
    return session.execute(
        _TO_PARSE.where(one_of(session, _RECEIPTS.c.id, receipt_ids)).order_by(_RECEIPTS.c.id)
    ).all()


def _process_tracking_batch(runtime: Runtime, receipt_ids: list[int], accounts: dict) -> None:
    """Carrier receipts set-based: parse each (a bad one is recorded alone), then ingest every
    update of the batch at once and mark the receipts processed in one statement. If the batch
    fails as a whole, each receipt is processed alone, so the culprit is the only one held."""
    with runtime.sessions() as session:
        now = runtime.clock.now()
        receipts = _carrier_receipts(session, receipt_ids)
        parsed: list[tuple[Row[Any], list[TrackingUpdate]]] = []
        bad: list[tuple[int, Exception]] = []
        for receipt in receipts:
            try:
                account = _account(session, runtime, receipt, accounts)
                parsed.append((receipt, account.adapter.parse_webhook(as_request(receipt))))
            except Exception as exc:  # this receipt alone: recorded below
                bad.append((receipt.id, exc))
        items = [(r.brand_id, r.carrier, u) for r, updates in parsed for u in updates]
        try:
            found = iter(
                ingest_batch(
                    session,
                    items,
                    "webhook",
                    now,
                    runtime.settings.tracking,
                    runtime.reactions.in_transaction,
                )
            )
            done = [
                {
                    "id": receipt.id,
                    "status": PROCESSED,
                    "processed_at": now,
                    "error": _receipt_notes(updates, [next(found) for _ in updates]),
                }
                for receipt, updates in parsed
            ]
            update_all(session, _RECEIPTS, "id", done)
            session.commit()
        except Exception:
            session.rollback()
            log.warning(
                "webhook batch of %d failed; processing each alone", len(parsed), exc_info=True
            )
            parsed_ids = [receipt.id for receipt, _ in parsed]
            for receipt_id in parsed_ids:
                _process_claimed(runtime, receipt_id, accounts)
        for receipt_id, error in bad:
            _record_failure(runtime, session, receipt_id, error)


def _process_shop_batch(runtime: Runtime, receipt_ids: list[int], accounts: dict) -> None:
    """Shop receipts in one transaction (`channel_orders.import_receipts`: decided together,
    redone each in a savepoint if that fails, so a bad one is recorded alone). If the batch
    cannot commit, each is processed alone."""
    with runtime.sessions() as session:
        now = runtime.clock.now()
        receipts = _receipts(session, receipt_ids)
        outcomes = import_receipts(session, runtime, receipts, now, accounts)
        bad = [(i, o) for i, o in outcomes.items() if isinstance(o, Exception)]
        done_ids = [i for i, notes in outcomes.items() if not isinstance(notes, Exception)]
        done = [
            {"id": i, "status": PROCESSED, "processed_at": now, "error": outcomes[i]}
            for i in done_ids
        ]
        try:
            if done:
                session.execute(update(WebhookReceipt), done)
            session.commit()
        except Exception:
            session.rollback()
            log.warning("shop batch of %d failed; processing each alone", len(done), exc_info=True)
            for receipt_id in done_ids:
                _process_claimed(runtime, receipt_id, accounts)
        for receipt_id, error in bad:
            _record_failure(runtime, session, receipt_id, error)


def _claim_and_process(runtime: Runtime, *where, limit: int) -> int:
    lease = runtime.settings.tracking.lease_seconds
    with runtime.sessions() as session:
        claimed = _claim(session, runtime.clock.now(), lease, *where, limit=limit)
    accounts: dict[str, Account | Shop] = {}  # one look-up (and adapter) per account per sweep
    carrier_receipts = [i for i, kind in claimed.items() if kind == Account.source_kind]
    if carrier_receipts:
        _process_tracking_batch(runtime, carrier_receipts, accounts)
    shop_receipts = [i for i, kind in claimed.items() if kind == Shop.source_kind]
    if shop_receipts:
        _process_shop_batch(runtime, shop_receipts, accounts)
    return len(claimed)


def process_receipt(runtime: Runtime, receipt_id: int) -> int:
    """Process one receipt now (right after it arrived) unless another worker has it."""
    return _claim_and_process(runtime, WebhookReceipt.id == receipt_id, limit=1)


RECEIPTS_BATCH = Batch(400, on_sqlite=100)


def process_due_receipts(runtime: Runtime, limit: int | None = None) -> int:
    """The sweep: every receipt waiting (new, retried, or left by a worker that died), up to
    `limit`, or the database's `RECEIPTS_BATCH`."""
    limit = limit or RECEIPTS_BATCH.on(runtime.engine)
    return _claim_and_process(runtime, limit=limit)


def retry_failed(
    session: Session, now: datetime, brand_id: str | None = None, receipt_id: int | None = None
) -> int:
    """Queue failed receipts again (after the parser or the config was fixed)."""
    statement = update(WebhookReceipt).where(WebhookReceipt.status == FAILED)
    if brand_id is not None:
        statement = statement.where(WebhookReceipt.brand_id == brand_id)
    if receipt_id is not None:
        statement = statement.where(WebhookReceipt.id == receipt_id)
    # An UPDATE without RETURNING gives a CursorResult; SQLAlchemy's stubs say only `Result`
    # (sqlalchemy/sqlalchemy#9185).
    result = cast(
        CursorResult[Any],
        session.execute(
            statement.values(
                status=RECEIVED, available_at=now, attempts=0, leased_until=None
            ).execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount

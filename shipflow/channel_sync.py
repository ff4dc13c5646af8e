"""Reconciliation: each enabled shop that lists its orders is asked what changed since its
stored cursor, page by page, so an order whose webhook never came is still imported, once.

Every listed order goes through `channel_orders.apply_order`, the webhooks' own path: a
webhook arriving later for a state we already hold changes nothing. The cursor is stored
with each page's orders, so a crash resumes at the page it was on. A listed order the
shop's mapping cannot read is skipped, ops alerted, and the rest imported. A
throttled shop (`ChannelRateLimited`) is left until the platform's `retry_after` has passed;
a shop that refuses our credentials, or a listing that fails, is asked again later, ops
alerted; the cursor stays where it was."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from channels.base import Capability, ChannelAuthError, ChannelError, ChannelRateLimited, Topic
from shipflow.brands import account_and_brand_code
from shipflow.channel_accounts import shop_of
from shipflow.channel_orders import ALERT_KIND, OrderBatch, apply_order
from shipflow.delays.alerts import raise_alert
from shipflow.orders import DuplicateOrderNumber
from shipflow.store.db import unit_of_work
from shipflow.store.models import ChannelAccount

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

AUTH_PAUSE = timedelta(hours=1)  # a refused shop is asked again after this (or on reconnect)
DEFAULT_WAIT = 60.0  # seconds, when a throttled platform does not say how long
LISTED_ORDER_ERRORS = (DuplicateOrderNumber, ValueError, KeyError, TypeError)


def reconcile_shops(runtime: Runtime, pages: int = 20) -> int:
    """One pass over the due shops, at most `pages` pages each; returns the orders seen."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        due = session.scalars(
            select(ChannelAccount.id)
            .where(
                ChannelAccount.enabled.is_(True),
                or_(ChannelAccount.sync_after.is_(None), ChannelAccount.sync_after <= now),
            )
            .order_by(ChannelAccount.id)
        ).all()
    return sum(reconcile_account(runtime, account_id, pages) for account_id in due)


def reconcile_account(runtime: Runtime, account_id: str, pages: int) -> int:
    seen = 0
    for _ in range(pages):
        count = _next_page(runtime, account_id)
        if count is None:
            break
        seen += count
    return seen


def _next_page(runtime: Runtime, account_id: str) -> int | None:
    """Import one page and store the cursor after it, in one transaction (a crash re-lists
    the page); each order in a savepoint, so one the shop sent wrong is left alone, ops
    told. The page's orders read in one query. None when the cursor did not move."""
    with unit_of_work(runtime.sessions) as session:
        found = account_and_brand_code(session, ChannelAccount, account_id)
        if found is None or not found[0].enabled:
            return None
        row, brand_code = found
        shop, cursor = shop_of(row, brand_code, runtime.settings), row.sync_cursor
        if not shop.source.supports(Capability.ORDER_LISTING):
            return None
        now = runtime.clock.now()
        try:
            page = shop.source.orders_since(cursor)
        except ChannelRateLimited as exc:
            row.sync_after = now + timedelta(seconds=exc.retry_after or DEFAULT_WAIT)
            return None
        except ChannelAuthError as exc:
            row.sync_after = now + AUTH_PAUSE
            _alert(
                session,
                row.brand_id,
                account_id,
                now,
                f"Shop {row.shop} refused our credentials: reconnect it ({exc})",
            )
            return None
        except ChannelError as exc:  # down, or a page we cannot read: ops told, asked again
            row.sync_after = now + timedelta(seconds=runtime.settings.tracking.backoff_max_seconds)
            _alert(session, row.brand_id, account_id, now, f"Shop {row.shop} listing failed: {exc}")
            return None
    with unit_of_work(runtime.sessions) as session:
        batch = OrderBatch(
            session, runtime, now, ((shop.id, o.source_order_id) for o in page.orders)
        )
        for order in page.orders:
            try:
                with batch.item((shop.id, order.source_order_id)):
                    apply_order(session, runtime, shop, Topic.ORDER_UPDATED, order, now, batch)
            except LISTED_ORDER_ERRORS as exc:  # kept in the shop; ops told, the rest go on
                log.warning(
                    "shop %s order %s not imported: %s", account_id, order.source_order_id, exc
                )
                _alert(
                    session,
                    shop.brand_id,
                    account_id,
                    now,
                    f"Shop order {order.order_number} could not be imported: {exc}",
                )
        for skipped in page.unreadable:  # the shop's order is left there; ops told
            _alert(
                session,
                shop.brand_id,
                account_id,
                now,
                f"Shop order {skipped.source_order_id or '(without an id)'} could not be read:"
                f" {skipped.error}",
            )
        batch.buy_labels()
        stored = session.get_one(ChannelAccount, account_id)
        stored.sync_cursor, stored.sync_after = page.cursor, None
    return len(page.orders) if page.cursor != cursor else None


def _alert(session: Session, brand_id: str, account_id: str, now: datetime, title: str) -> None:
    raise_alert(
        session,
        brand_id,
        now,
        kind=ALERT_KIND,
        severity="warning",
        dedupe_key=f"sync:{account_id}:{title}"[:200],
        title=title[:300],
        details={"channel_account_id": account_id},
    )

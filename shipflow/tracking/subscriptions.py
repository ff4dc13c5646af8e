"""Carriers that push only the numbers they were asked for (UPS Track Alert, Kuaidi100,
17TRACK): a job subscribes each new shipment of theirs once, so its events arrive as pushes
and polling is only the fallback.

A carrier that is down or over its quota is asked again at the next run; a number it refuses
is marked with the carrier's words (`details["push_refused"]`) and left to polling.
"""

from __future__ import annotations

import logging
from itertools import groupby
from typing import TYPE_CHECKING

from sqlalchemy import Row, select, update

from carriers.base import Capability, CarrierError, CarrierUnavailable
from carriers.registry import available_carriers, get_carrier_class
from shipflow.domain import TERMINAL_STATUSES
from shipflow.store.models import Shipment
from shipflow.tracking.accounts import Account, UnknownAccount, account_for_shipment
from shipflow.tracking.polling import tracking_queries

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 500
FINISHED = tuple(status.value for status in TERMINAL_STATUSES)


def pushing_carriers() -> list[str]:
    return [
        name
        for name in available_carriers()
        if Capability.PUSH_SUBSCRIPTIONS in get_carrier_class(name).capabilities
    ]


def subscribe_due(runtime: Runtime) -> int:
    """The periodic job: shipments subscribed (or refused) this run."""
    carriers = pushing_carriers()
    with runtime.sessions() as session:
        rows = session.execute(
            select(
                Shipment.id,
                Shipment.brand_id,
                Shipment.carrier,
                Shipment.carrier_account,
                Shipment.tracking_number,
            )
            .where(
                Shipment.carrier.in_(carriers),
                Shipment.push_subscribed_at.is_(None),
                Shipment.status.not_in(FINISHED),
                Shipment.tracking_number != "",
            )
            .order_by(Shipment.brand_id, Shipment.carrier, Shipment.carrier_account, Shipment.id)
            .limit(BATCH)
        ).all()
    done = 0
    group_key = lambda row: (row.brand_id, row.carrier, row.carrier_account)  # noqa: E731
    for _, group in groupby(rows, key=group_key):
        done += _subscribe_group(runtime, list(group))
    return done


def _subscribe_group(runtime: Runtime, rows: list[Row]) -> int:
    """One brand's shipments on one carrier account."""
    first = rows[0]
    with runtime.sessions() as session:
        try:
            account: Account | None = account_for_shipment(
                session, runtime, first.brand_id, first.carrier, first.carrier_account
            )
        except (UnknownAccount, KeyError) as exc:  # a config change fixes it: try next run
            log.warning("cannot subscribe %s numbers: %s", first.carrier, exc)
            account = None
    if account is None:
        return 0
    webhook_url = f"{runtime.settings.base_url.rstrip('/')}/webhooks/{account.carrier}/{account.id}"
    try:
        refused = account.adapter.subscribe(tracking_queries(runtime, rows), webhook_url)
    except CarrierError as exc:  # down, throttled or refusing us: all of them again next run
        level = logging.INFO if isinstance(exc, CarrierUnavailable) else logging.WARNING
        log.log(level, "%s subscriptions deferred: %s", account.carrier, exc)
        return 0
    later = {n for n, error in refused.items() if error.retryable}  # a quota, say
    now = runtime.clock.now()
    with runtime.sessions() as session:
        for row in rows:
            if row.tracking_number in later:
                continue
            values: dict = {"push_subscribed_at": now}
            error = refused.get(row.tracking_number)
            if error is not None:
                shipment = session.get_one(Shipment, row.id)
                values["details"] = {**(shipment.details or {}), "push_refused": str(error)}
                log.warning(
                    "%s refused to push %s: %s", account.carrier, row.tracking_number, error
                )
            session.execute(update(Shipment).where(Shipment.id == row.id).values(**values))
        session.commit()
    return len(rows) - len(later)

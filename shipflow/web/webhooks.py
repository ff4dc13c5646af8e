"""Carrier webhooks in: `/webhooks/<carrier>/<account_id>` (the CarrierAccount id, since
account codes repeat across brands). Verified, stored raw, acknowledged with 202; the job
runner processes it."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, request
from prometheus_client import Counter

from carriers.base import NotSupported, WebhookRequest, WebhookSignatureError
from shipflow.tracking import webhooks
from shipflow.tracking.accounts import Account, UnknownAccount, load_account
from shipflow.web.problems import ApiProblem

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


REJECTED = Counter(
    "shipflow_webhooks_rejected_total", "Webhooks refused for a bad signature", ["carrier"]
)


def _account(carrier: str, account_id: str) -> Account:
    """Accounts and their credentials only change with a restart: look each up once."""
    cache = current_app.extensions.setdefault("shipflow.webhook_accounts", {})
    account = cache.get((carrier, account_id))
    if account is None:
        account = load_account(g.db, g.runtime, account_id, carrier)
        cache[carrier, account_id] = account
    return account


@bp.post("/<carrier>/<account_id>")
def receive(carrier: str, account_id: str):
    now = g.runtime.clock.now()
    hook = WebhookRequest(
        headers=dict(request.headers), body=request.get_data(), url=request.url, received_at=now
    )
    try:
        account = _account(carrier, account_id)
        account.adapter.verify_webhook(hook)
    except (UnknownAccount, NotSupported):
        raise ApiProblem(
            404, "Not found", f"No {carrier} account {account_id} takes webhooks here."
        ) from None
    except WebhookSignatureError as exc:
        REJECTED.labels(carrier).inc()
        log.warning("rejected %s webhook for %s: %s", carrier, account_id, exc)
        raise ApiProblem(
            401, "Invalid signature", f"The webhook signature is not valid: {exc}"
        ) from None
    # One statement, committed on its own: durable before the 202, in one round trip.
    with g.runtime.engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        receipt_id = webhooks.store(autocommit, account, hook, now)
    runner = current_app.extensions.get("shipflow.jobs")
    if runner is not None:
        runner.submit("tracking.process_receipt", receipt_id=receipt_id)
    return {"receipt_id": receipt_id}, 202

"""Webhooks in: `POST /webhooks/<carrier>/<account_id>` (the CarrierAccount id, since account
codes repeat across brands) and, from shops, `POST /webhooks/channels/<channel>/<account_id>`
(the ChannelAccount id). Verified, stored raw, acknowledged with 202; the job runner
processes it.

This is the hottest path of the app (carriers send thousands a second), so it is a small WSGI
layer in front of Flask: no request context, session, before/after hooks or OpenAPI
machinery, a cached account, and the INSERT group-committed with concurrent requests
(`shipflow.tracking.intake`). Everything else passes through to the Flask app.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import EnvironHeaders
from werkzeug.wsgi import get_content_length, get_current_url

from carriers import base as carrier_base
from carriers.base import WebhookRequest
from channels import base as channel_base
from shipflow.channel_accounts import Shop, UnknownChannelAccount, load_shop
from shipflow.metrics import child
from shipflow.tracking.accounts import Account, UnknownAccount, load_account
from shipflow.tracking.intake import ReceiptWriter
from shipflow.tracking.webhooks import receipt_row
from shipflow.web.headers import HEADERS
from shipflow.web.health.routes import LATENCY, REQUESTS
from shipflow.web.limits import WEBHOOK_MAX_BYTES
from shipflow.web.problems import PROBLEM_JSON, Problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

ENDPOINT = "webhooks.receive"
PATH = re.compile(r"/webhooks/([^/]+)/([^/]+)/?")
CHANNEL_PATH = re.compile(r"/webhooks/channels/([^/]+)/([^/]+)/?")
ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")  # account row ids; anything else is unknown
# Who may send webhooks, by the `source_kind` of their account, and what refusing them raises.
LOADERS: dict[str, Callable[[Session, Runtime, str, str], Account | Shop]] = {
    Account.source_kind: load_account,
    Shop.source_kind: load_shop,
}
UNKNOWN = (
    UnknownAccount,
    UnknownChannelAccount,
    carrier_base.NotSupported,
    channel_base.NotSupported,
)
BAD_SIGNATURE = (carrier_base.WebhookSignatureError, channel_base.WebhookSignatureError)
RETRY_AFTER = "30"  # seconds; carriers retry on a 503 anyway
NOT_STORED = (503, "Unavailable", "The webhook could not be stored; send it again.")
PROCESS_JOB = "tracking.process_receipts"
SHOP_TTL = 5.0  # seconds a disconnected shop's webhooks may still be taken by this process

REJECTED = Counter(
    "shipflow_webhooks_rejected_total", "Webhooks refused for a bad signature", ["carrier"]
)

StartResponse = Callable[..., Any]
# What werkzeug's `get_current_url` reads of the environ.
URL_KEYS = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
)


def current_url(environ: dict) -> str:
    """werkzeug's `get_current_url`, remembered by the values it reads: a carrier posts to
    the same URL all day, and building it (host check, quoting) is 25 us a webhook."""
    return _url(tuple(environ.get(key) for key in URL_KEYS))


@lru_cache(maxsize=256)
def _url(parts: tuple[Any, ...]) -> str:
    return get_current_url({k: v for k, v in zip(URL_KEYS, parts, strict=True) if v is not None})


class WebhookIntake:
    """WSGI middleware: answers webhook POSTs itself, hands every other request to `app`."""

    def __init__(self, app: Callable, runtime: Runtime, extensions: dict[str, Any]) -> None:
        self.app = app
        self.runtime = runtime
        self.extensions = extensions  # the job runner is put there after the web worker's fork
        # (kind, name, id) -> the account and when it was looked up (time.monotonic)
        self.accounts: dict[tuple[str, str, str], tuple[Account | Shop, float]] = {}
        self.writer = ReceiptWriter(runtime.engine, on_stored=self._wake_runner)

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        kind, match = Shop.source_kind, CHANNEL_PATH.fullmatch(path)
        if match is None:
            kind, match = Account.source_kind, PATH.fullmatch(path)
        if match is None or environ["REQUEST_METHOD"] != "POST":
            return self.app(environ, start_response)
        started = time.perf_counter()
        name, account_id = match.groups()
        status, body, content_type = self.receive(environ, name, account_id, kind=kind)
        child(REQUESTS, "POST", ENDPOINT, status).inc()
        child(LATENCY, ENDPOINT).observe(time.perf_counter() - started)
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
            *HEADERS.items(),
        ]
        if status == 503:
            headers.append(("Retry-After", RETRY_AFTER))
        start_response(f"{status} {_REASONS[status]}", headers)
        return [body]

    def receive(
        self, environ: dict, carrier: str, account_id: str, kind: str = Account.source_kind
    ) -> tuple[int, bytes, str]:
        """The account and the declared size are checked before a byte of the body is read.
        `carrier` is the carrier, or the channel when `kind` is a shop's."""
        now = self.runtime.clock.now()
        try:
            account = self._account(kind, carrier, account_id)
        except UNKNOWN:
            return _not_found(carrier, account_id)
        except SQLAlchemyError:  # the database is down: the carrier should try again later
            log.exception("could not look up %s account %r", carrier, account_id)
            return _problem(*NOT_STORED)
        length = get_content_length(environ) or 0
        if length > WEBHOOK_MAX_BYTES:
            return _problem(
                413,
                "Content too large",
                f"Content-Length {length} is over the {WEBHOOK_MAX_BYTES} bytes a webhook may "
                "have; send events in smaller batches.",
            )
        hook = WebhookRequest(
            # its pairs: `dict` of the mapping itself looks each name up again in the environ
            headers=dict(EnvironHeaders(environ).items()),
            body=environ["wsgi.input"].read(length) if length else b"",
            url=current_url(environ),
            received_at=now,
        )
        try:
            account.verify_webhook(hook)
        except UNKNOWN:
            return _not_found(carrier, account_id)
        except channel_base.WebhookPing:  # a new webhook's reachability test: nothing to keep
            return 200, b"{}", "application/json"
        except BAD_SIGNATURE as exc:
            REJECTED.labels(carrier).inc()
            log.warning("rejected %s webhook for %s: %s", carrier, account_id, exc)
            return _problem(401, "Invalid signature", f"The webhook signature is not valid: {exc}")
        try:
            receipt_id = self.writer.store(receipt_row(account, hook))
        except Exception:  # not stored, so not acknowledged: the carrier sends it again
            log.exception("could not store a %s webhook for %s", carrier, account_id)
            return _problem(*NOT_STORED)
        reply = account.webhook_reply
        if reply is not None:  # the carrier documents its own answer
            return reply.status, reply.body, reply.content_type
        return 202, b'{"receipt_id":%d}' % receipt_id, "application/json"

    def _account(self, kind: str, name: str, account_id: str) -> Account | Shop:
        """Carrier accounts only change with a restart: looked up once. Shops are connected,
        disconnected and re-keyed at run time (the API, the CLI, an app install), so a shop
        is looked up again after `SHOP_TTL` seconds. An id that cannot be one (a NUL byte,
        say) is unknown without asking the database."""
        if not ACCOUNT_ID.fullmatch(account_id):
            raise UnknownAccount(account_id)
        key, now = (kind, name, account_id), time.monotonic()
        cached = self.accounts.get(key)
        if cached is None or (kind == Shop.source_kind and now - cached[1] > SHOP_TTL):
            with self.runtime.sessions() as session:
                cached = (LOADERS[kind](session, self.runtime, account_id, name), now)
            self.accounts[key] = cached
        return cached[0]

    def _wake_runner(self, _receipt_ids: Sequence[int]) -> None:
        """After a group commit, at most once every `ReceiptWriter.announce_every`, not per
        webhook: the runner sweeps `received` receipts."""
        runner = self.extensions.get("shipflow.jobs")
        if runner is not None:
            runner.wake(PROCESS_JOB)


def _not_found(carrier: str, account_id: str) -> tuple[int, bytes, str]:
    return _problem(404, "Not found", f"No {carrier} account {account_id} takes webhooks here.")


def _problem(status: int, title: str, detail: str) -> tuple[int, bytes, str]:
    problem = Problem(status=status, title=title, detail=detail)
    return status, json.dumps(problem.model_dump()).encode(), PROBLEM_JSON


_REASONS = {
    200: "OK",
    202: "ACCEPTED",
    401: "UNAUTHORIZED",
    404: "NOT FOUND",
    413: "CONTENT TOO LARGE",
    503: "SERVICE UNAVAILABLE",
}

"""How large a request body may be, per route. Werkzeug compares Content-Length with the
limit before reading a byte and answers 413 (a streamed body is cut off at the limit), so an
oversize upload never reaches memory or a temporary file. Carrier webhooks, answered before
Flask, check their own limit (`shipflow.web.webhooks`). docs/deploy.md has the proxy's."""

from __future__ import annotations

from flask import Flask, request

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 1 * MiB  # customer and ops forms, everything not listed below
WEBHOOK_MAX_BYTES = 1 * MiB
MAX_BYTES = {  # by endpoint, else by blueprint
    "api": 8 * MiB,  # an allocation batch of 100,000 order ids is about 5 MB of JSON
    "returns_portal.submit": 40 * MiB,  # photos: up to 3 of 5 MB per returned item
}


def init_app(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_BYTES

    @app.before_request
    def _route_limit() -> None:
        limit = MAX_BYTES.get(request.endpoint or "") or MAX_BYTES.get(request.blueprint or "")
        if limit:
            request.max_content_length = limit

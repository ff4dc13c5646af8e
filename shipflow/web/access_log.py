"""Request logs without the bearer secrets some URLs carry: a customer's signed link
(tracking page, failed-delivery form, return decision and label) grants access to whoever
holds it, so an access log line must not. Paths keep their shape, the token becomes
`[redacted]`; so do query values whose name says token, key, secret, signature or password."""

from __future__ import annotations

import logging
import re

from flask import Flask
from gunicorn import glogging

REDACTED = "[redacted]"
_SEGMENT = r"[^/?#\s\"]+"
_TOKEN_IN_PATH = re.compile(
    rf"(/t/{_SEGMENT}/(?!number(?:[/?#\s\"]|$))|/ndr/|/returns/{_SEGMENT}/r/|/returns/label/)"
    rf"{_SEGMENT}"
)
_SECRET_IN_QUERY = re.compile(
    r"((?:^|(?<=[?&;]))[\w.-]*(?:token|key|secret|signature|password)[\w.-]*=)[^&#\s\"]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` (a path, URL or whole log line) with its link tokens and secrets replaced."""
    text = _TOKEN_IN_PATH.sub(rf"\g<1>{REDACTED}", text)
    return _SECRET_IN_QUERY.sub(rf"\g<1>{REDACTED}", text)


class RedactTokens(logging.Filter):
    """For loggers that write request URLs: werkzeug's development server, Flask's errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True


class GunicornLogger(glogging.Logger):
    """gunicorn's access log, every value it can print (request line, path, query, referer,
    headers, environ) redacted."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}


_FILTER = RedactTokens()


def init_app(app: Flask) -> None:
    for logger in (logging.getLogger("werkzeug"), app.logger):
        logger.addFilter(_FILTER)  # once per logger, however many apps

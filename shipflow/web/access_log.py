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
    if "/" in text:
        text = _TOKEN_IN_PATH.sub(rf"\g<1>{REDACTED}", text)
    if "=" in text:
        text = _SECRET_IN_QUERY.sub(rf"\g<1>{REDACTED}", text)
    return text


class RedactTokens(logging.Filter):
    """For loggers that write request URLs: werkzeug's development server, Flask's errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True


URL_ATOMS = frozenset("rUqf")  # request line, path, query string, referer


class _RedactedAtoms(glogging.SafeAtoms):
    """Redacts what the log format prints of a URL (and any header or environ value it
    names), when it prints it: the default format costs a regex pass or two, not forty."""

    def __getitem__(self, key: str):
        value = super().__getitem__(key)
        if key in URL_ATOMS or key.startswith("{"):
            return redact(value) if isinstance(value, str) else value
        return value


class GunicornLogger(glogging.Logger):
    """gunicorn's access log without link tokens (`shipflow serve` runs with it)."""

    atoms_wrapper_class = _RedactedAtoms


_FILTER = RedactTokens()


def init_app(app: Flask) -> None:
    for logger in (logging.getLogger("werkzeug"), app.logger):
        logger.addFilter(_FILTER)  # once per logger, however many apps

"""Request logs without the bearer secrets some URLs carry: a customer's signed link
(tracking page, failed-delivery form, return decision and label) grants access to whoever
holds it, so an access log line must not. Paths keep their shape, the token becomes
`[redacted]`; so do query values whose name says token, key, secret, signature or password."""

from __future__ import annotations

import logging
import re
import traceback
from datetime import timedelta

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


def _escaped(value: str) -> str:
    return value.replace('"', '\\"')  # as gunicorn's `SafeAtoms` does


class _DefaultAtoms(dict):
    """The atoms of gunicorn's default format (`h l u t r s b f a`) for one request, as
    gunicorn and `_RedactedAtoms` would give them (quotes escaped, URLs redacted), and no
    more: gunicorn's own table holds an atom per request header, response header and environ
    key, some seventy, and building and escaping it was most of a webhook's log line. An atom
    the format names beyond these comes from that whole table, built then."""

    def __init__(self, logger: GunicornLogger, resp, req, environ: dict, took: timedelta) -> None:
        status = resp.status
        sent = getattr(resp, "sent", None)
        request_line = (
            f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        )
        super().__init__(
            h=_escaped(environ.get("REMOTE_ADDR", "-")),
            l="-",
            u=_escaped(logger._get_user(environ) or "-"),
            t=logger.now(),
            r=redact(_escaped(request_line)),
            s=status.split(None, 1)[0] if isinstance(status, str) else status,
            b="-" if sent is None else str(sent),
            f=redact(_escaped(environ.get("HTTP_REFERER", "-"))),
            a=_escaped(environ.get("HTTP_USER_AGENT", "-")),
        )
        self._request = (logger, resp, req, environ, took)
        self._all: _RedactedAtoms | None = None

    def __missing__(self, key: str):
        if self._all is None:  # built once, for the first atom beyond the default ones
            logger, *request = self._request
            self._all = _RedactedAtoms(logger.atoms(*request))
        return self._all[key]


class GunicornLogger(glogging.Logger):
    """gunicorn's access log without link tokens (`shipflow serve` runs with it)."""

    def access(self, resp, req, environ: dict, request_time: timedelta) -> None:
        """gunicorn's `access`, with only the atoms the line prints (`_DefaultAtoms`)."""
        if not self.access_log_enabled:
            return
        try:
            atoms = _DefaultAtoms(self, resp, req, environ, request_time)
            self.access_log.info(self.cfg.access_log_format, atoms)
        except Exception:
            self.error(traceback.format_exc())


_FILTER = RedactTokens()


def init_app(app: Flask) -> None:
    for logger in (logging.getLogger("werkzeug"), app.logger):
        logger.addFilter(_FILTER)  # once per logger, however many apps

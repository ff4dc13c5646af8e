"""Request logs without the bearer secrets some URLs carry: a customer's signed link
(tracking page, failed-delivery form, return decision and label) grants access to whoever
holds it, so an access log line must not. Paths keep their shape, the token becomes
`[redacted]`; so do query values whose name says token, key, secret, signature or password."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Flask

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


class AccessLog:
    """WSGI middleware writing one line per request to `shipflow.access` (stdout), in the
    combined log format, URLs redacted, when the app has answered:

        10.0.0.7 - - [07/Dec/2026:00:20:00 +0000] "POST /webhooks/x/a?s=[redacted] HTTP/1.1" 202 18 "-" "agent"

    The client address is the one the app settled on (`web.trusted_proxies`), the size the
    response's Content-Length (`-` without one); quotes are escaped, the path percent-encoded
    again (granian hands it decoded), so no line can be split or forged by a request."""

    def __init__(self, app: Callable, log: logging.Logger | None = None) -> None:
        self.app = app
        self.log = log or _stdout(logging.getLogger("shipflow.access"))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer: list = ["500", ()]

        def started(status: str, headers: list, exc_info=None):
            answer[0], answer[1] = status.split(None, 1)[0], headers
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, started)
        finally:
            self.log.info("%s", access_line(environ, *answer))


def access_line(environ: dict, status: str, headers: Iterable[tuple[str, str]]) -> str:
    size = next((v for k, v in headers if k.lower() == "content-length"), "-")
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe=_PATH_SAFE)
    query = environ.get("QUERY_STRING")
    uri = f"{path}?{query}" if query else path
    request = f"{environ['REQUEST_METHOD']} {uri} {environ['SERVER_PROTOCOL']}"
    return (
        f"{_escaped(environ.get('REMOTE_ADDR') or '-')} - - "
        f"[{datetime.now(UTC).strftime('%d/%b/%Y:%H:%M:%S %z')}] "
        f'"{redact(_escaped(request))}" {status} {size} '
        f'"{redact(_escaped(environ.get("HTTP_REFERER", "-")))}" '
        f'"{_escaped(environ.get("HTTP_USER_AGENT", "-"))}"'
    )


_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986's path characters, as they came
_ESCAPES = str.maketrans({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _escaped(value: str) -> str:
    return value.translate(_ESCAPES)


_STDOUT = logging.StreamHandler(sys.stdout)  # the lines alone, as they are


def _stdout(log: logging.Logger) -> logging.Logger:
    if _STDOUT not in log.handlers:  # once per process, however many apps
        log.addHandler(_STDOUT)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


_FILTER = RedactTokens()


def init_app(app: Flask) -> None:
    for logger in (logging.getLogger("werkzeug"), app.logger):
        logger.addFilter(_FILTER)  # once per logger, however many apps

"""Request logs never carry a customer's link token (it grants the page to whoever holds it)
or a secret in a query string: `shipflow serve`'s access log, werkzeug's development server
and Flask's error log all write the path with the token replaced."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.test import Client

from shipflow import server
from shipflow.shipment_links import tracking_path
from shipflow.web import access_log
from shipflow.web.access_log import AccessLog, redact
from tests.webui.factories import BRAND, make_shipment

TOKEN = "eyJiIjoibm9ydGh3aW5kIiwicyI6InNocF8xIn0.Z1x2Yw.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("logged", "written"),
    [
        (f"/t/northwind/{TOKEN}", "/t/northwind/[redacted]"),
        (f"/t/northwind/{TOKEN}/feedback", "/t/northwind/[redacted]/feedback"),
        (f"/ndr/{TOKEN}", "/ndr/[redacted]"),
        (f"/returns/northwind/r/{TOKEN}", "/returns/northwind/r/[redacted]"),
        (f"/returns/label/{TOKEN}", "/returns/label/[redacted]"),
        (f"/x?lang=fr&token={TOKEN}&api_key=sf_1", "/x?lang=fr&token=[redacted]&api_key=[redacted]"),
        (f"http://shop.example/t/northwind/{TOKEN}?lang=fr", "http://shop.example/t/northwind/[redacted]?lang=fr"),
        # Nothing secret in these: they stay as they are.
        ("/t/northwind", "/t/northwind"),
        ("/t/northwind/number/SBXG088171", "/t/northwind/number/SBXG088171"),
        ("/returns/northwind/request", "/returns/northwind/request"),
        ("/ops/alerts?kind=late&cursor=abc", "/ops/alerts?kind=late&cursor=abc"),
    ],
)  # fmt: skip
def test_redact_keeps_the_shape_and_drops_the_token(logged, written):
    assert redact(logged) == written


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def written(monkeypatch):
    """The access lines `shipflow serve`'s logger writes, at a fixed time."""

    class Now(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 12, 7, 0, 20, tzinfo=UTC)

    monkeypatch.setattr(access_log, "datetime", Now)
    lines = _Lines()
    logger = logging.getLogger("shipflow.access")
    logger.addHandler(lines)
    yield lines.lines
    logger.removeHandler(lines)


def served_app(settings, monkeypatch):
    """The WSGI app a web worker of `shipflow serve` answers with (what its loader returns)."""
    loaded = []
    monkeypatch.setattr(server, "settle", lambda: None)
    monkeypatch.setattr(server, "run", lambda _server, load, on_exit: loaded.append(load))
    server.serve(settings, "127.0.0.1", 0)
    return loaded[0]()


def test_served_access_log_line_has_no_token(settings, monkeypatch, written):
    """Through `shipflow serve`'s own app, one access line as written."""
    app = served_app(settings, monkeypatch)
    assert isinstance(app, AccessLog)
    path = f"/t/northwind/{TOKEN}"
    referer = f"http://127.0.0.1:8000{path}"
    Client(app).get(path, query_string={"token": TOKEN}, headers={"Referer": referer})
    (line,) = written
    assert f'"GET {path.replace(TOKEN, "[redacted]")}?token=[redacted] HTTP/1.1"' in line
    assert '"http://127.0.0.1:8000/t/northwind/[redacted]"' in line and TOKEN not in line


def _answer(status: str, body: bytes = b'{"ok":true}\n'):
    def app(environ, start_response):
        start_response(status, [("Content-Length", str(len(body)))])
        return [body]

    return app


def test_the_line_is_the_combined_log_format(written):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/sandbox/acc_1",
        "QUERY_STRING": f"signature={TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "HTTP_USER_AGENT": 'carrier "hooks" 2.1',
    }
    list(AccessLog(_answer("202 ACCEPTED"))(environ, lambda *_: None))
    assert written == [
        '10.0.0.7 - - [07/Dec/2026:00:20:00 +0000] "POST /webhooks/sandbox/acc_1?signature=[redacted] '
        'HTTP/1.1" 202 12 "-" "carrier \\"hooks\\" 2.1"'
    ]


def test_a_request_cannot_split_or_forge_a_line(written):
    """granian hands the path percent-decoded: it is written encoded again."""
    forged = '/x\n10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /admin HTTP/1.1" 200 2'
    Client(AccessLog(_answer("404 NOT FOUND"))).get(forged.replace("\n", "%0A"))
    (line,) = written
    assert "\n" not in line and '"GET /x%0A10.0.0.1%20-%20-%20' in line


def test_an_app_that_raises_is_logged_as_500(written):
    def failing(environ, start_response):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Client(AccessLog(failing)).get("/boom")
    assert '"GET /boom HTTP/1.1" 500 - "-"' in written[0]


def test_the_client_behind_a_trusted_proxy_is_logged(settings, monkeypatch, written):
    web = settings.web.model_copy(update={"trusted_proxies": 1})
    app = served_app(settings.model_copy(update={"web": web}), monkeypatch)
    Client(app).get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert written[0].startswith("203.0.113.9 - - ")


def test_development_server_and_error_log_lines_have_no_token(app, runtime, caplog):
    path = tracking_path(BRAND, make_shipment(runtime), runtime)
    token = path.rsplit("/", 1)[1]
    dev_server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=dev_server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            url = f"http://127.0.0.1:{dev_server.server_port}{path}"
            assert requests.get(url, timeout=10).status_code == 200
    finally:
        dev_server.shutdown()
        thread.join()
    app.logger.error("Exception on %s [GET]", path)
    assert f"GET /t/{BRAND}/[redacted] HTTP/1.1" in caplog.text
    assert f"Exception on /t/{BRAND}/[redacted] [GET]" in caplog.text
    assert token not in caplog.text

"""Request logs never carry a customer's link token (it grants the page to whoever holds it)
or a secret in a query string: gunicorn's access log, werkzeug's development server and
Flask's error log all write the path with the token replaced."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
import requests
from gunicorn import glogging
from gunicorn.config import Config
from gunicorn.http import message
from werkzeug.serving import make_server

from shipflow import server
from shipflow.shipment_links import tracking_path
from shipflow.web.access_log import GunicornLogger, redact
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


def serve_options(settings, monkeypatch) -> dict:
    """The gunicorn options `shipflow serve` runs with."""
    options: dict = {}
    monkeypatch.setattr(server, "settle", lambda: None)
    monkeypatch.setattr(
        server,
        "_Gunicorn",
        lambda app, opts, jobs: SimpleNamespace(run=lambda: options.update(opts)),
    )
    server.serve(settings, "127.0.0.1", 0)
    return options


def test_gunicorn_access_log_line_has_no_token(settings, tmp_path, monkeypatch):
    """Through `shipflow serve`'s own gunicorn options, one access log line as written."""
    options = serve_options(settings, monkeypatch)
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = options["logger_class"](config)
    path = f"/t/northwind/{TOKEN}"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?token={TOKEN}",
        "PATH_INFO": path,
        "QUERY_STRING": f"token={TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://127.0.0.1:8000{path}",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    logger.access(response, [("Referer", environ["HTTP_REFERER"])], environ, timedelta(0))
    line = (tmp_path / "access.log").read_text()
    assert '"GET /t/northwind/[redacted]?token=[redacted] HTTP/1.1" 200 512' in line
    assert "http://127.0.0.1:8000/t/northwind/[redacted]" in line and TOKEN not in line


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


def _webhook_line(logger_class, tmp_path, access_log_format=None):
    """One webhook's line as `logger_class` writes it to a fresh file."""
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    if access_log_format is not None:
        config.set("access_log_format", access_log_format)
    logger = logger_class(config)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/webhooks/sandbox/acc_1?signature={TOKEN}",
        "PATH_INFO": "/webhooks/sandbox/acc_1",
        "QUERY_STRING": f"signature={TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "HTTP_USER_AGENT": 'carrier "hooks" 2.1',
        "HTTP_X_SANDBOX_SIGNATURE": "t=1,v1=abc",
    }
    response = SimpleNamespace(status="202 ACCEPTED", sent=18, headers=[("Content-Length", "18")])
    request = [("User-Agent", environ["HTTP_USER_AGENT"]), ("X-Sandbox-Signature", "t=1,v1=abc")]
    logger.access(response, request, environ, timedelta(microseconds=1500))
    return (tmp_path / "access.log").read_text()


def test_default_access_line_needs_no_table_of_every_header(tmp_path, monkeypatch):
    """gunicorn's `atoms` builds an atom per request header, response header and environ key
    (quotes escaped in each): the default format prints nine, computed alone."""
    monkeypatch.setattr(glogging.Logger, "now", lambda _self: "[07/Dec/2026:00:20:00 +0000]")

    def every_atom(*_args):
        raise AssertionError("the whole table of atoms was built")

    monkeypatch.setattr(glogging.Logger, "atoms", every_atom)
    line = _webhook_line(GunicornLogger, tmp_path)
    assert line == (
        '10.0.0.7 - - [07/Dec/2026:00:20:00 +0000] "POST /webhooks/sandbox/acc_1?signature=[redacted] '
        'HTTP/1.1" 202 18 "-" "carrier \\"hooks\\" 2.1"\n'
    )


def test_other_atoms_are_gunicorns_own(tmp_path):
    """A format naming atoms beyond the default's gets gunicorn's values for them."""
    line = _webhook_line(
        GunicornLogger, tmp_path, '%(s)s %(D)s %(M)s "%({x-sandbox-signature}i)s" %(U)s'
    )
    assert line == '202 1500 1 "t=1,v1=abc" /webhooks/sandbox/acc_1\n'


def test_requests_are_parsed_by_gunicorns_c_parser(settings, monkeypatch):
    """gunicorn takes `gunicorn_h1c` (a dependency) when installed and nothing in `shipflow
    serve`'s options turns it off: a webhook's request parsed in C, not in Python."""
    config = Config()
    for key, value in serve_options(settings, monkeypatch).items():
        config.set(key, value)
    assert message._check_fast_parser(config)

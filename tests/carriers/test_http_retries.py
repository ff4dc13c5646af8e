"""Which carrier calls are sent again, over a real socket: `responses` raises a mocked timeout
without going through urllib3's retries, so a local server counts what actually arrives.
Paths and bodies follow FedEx's Ship and Track APIs (developer.fedex.com, API catalog); the
body here is only what the server needs to answer."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3.connection
from urllib3.exceptions import NewConnectionError

from carriers.base import CarrierAccount, CarrierOutcomeUnknown, CarrierUnavailable
from carriers.fedex.client import FedExClient
from carriers.http import retry_after_seconds

SLOW_SECONDS = 0.5  # the carrier's delay: past the client's read timeout below
READ_TIMEOUT = 0.1


class Carrier(BaseHTTPRequestHandler):
    """Answers the token endpoint at once and every other call after SLOW_SECONDS."""

    arrived: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/oauth/token":
            self._answer({"access_token": "t", "token_type": "bearer", "expires_in": 3600})
            return
        self.arrived.append(self.path)
        time.sleep(SLOW_SECONDS)
        self._answer({})

    do_PUT = do_POST  # FedEx cancels with a PUT

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up
            self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def carrier_server():
    arrived: list[str] = []
    handler = type("Handler", (Carrier,), {"arrived": arrived})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", arrived
    server.shutdown()
    server.server_close()


def fedex(base_url: str) -> FedExClient:
    account = CarrierAccount(
        "fedex",
        f"acct-{base_url.rsplit(':', 1)[1]}",
        {"client_id": "id", "client_secret": "secret"},
        base_url=base_url,
        rate_limit_per_second=1000,
    )
    client = FedExClient(account)
    client.http.timeout = (1.0, READ_TIMEOUT)
    return client


def test_label_purchase_that_times_out_is_sent_once(carrier_server):
    base_url, arrived = carrier_server
    with pytest.raises(CarrierOutcomeUnknown, match="not repeated"):
        fedex(base_url).ship({"requestedShipment": {}})
    assert arrived == ["/ship/v1/shipments"]


def test_void_that_times_out_is_sent_once(carrier_server):
    base_url, arrived = carrier_server
    with pytest.raises(CarrierOutcomeUnknown):
        fedex(base_url).cancel({"trackingNumber": "794953535000"})
    assert arrived == ["/ship/v1/shipments/cancel"]


def test_tracking_that_times_out_is_asked_again(carrier_server):
    base_url, arrived = carrier_server
    client = fedex(base_url)
    client.http.session.adapters["http://"].max_retries.backoff_factor = 0
    with pytest.raises(CarrierUnavailable, match="timed out"):
        client.track({"trackingInfo": []})
    assert arrived == ["/track/v1/trackingnumbers"] * 4  # the first try and three retries


def test_purchase_whose_connection_was_refused_is_sent_again(carrier_server, monkeypatch):
    """Nothing reached the carrier, so buying again cannot buy twice."""
    base_url, arrived = carrier_server
    client = fedex(base_url)
    client.http.oauth.token()  # the token first, so the refusal below hits the purchase
    connect = urllib3.connection.HTTPConnection.connect
    refused: list[bool] = []

    def refuse_once(conn):
        if not refused:
            refused.append(True)
            raise NewConnectionError(conn, "Connection refused")
        return connect(conn)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "connect", refuse_once)
    monkeypatch.setitem(globals(), "SLOW_SECONDS", 0)
    assert client.ship({"requestedShipment": {}}) == {}
    assert refused == [True] and arrived == ["/ship/v1/shipments"]


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        (None, None),
        ("120", 120.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # an HTTP date already past: no wait
        ("soon", None),
    ],
)
def test_retry_after_is_read_in_either_form_rfc_9110_allows(written, seconds):
    assert retry_after_seconds(written) == seconds

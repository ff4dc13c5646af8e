"""The end-to-end benchmark's pieces (benchmarks/pipeline.py, benchmarks/smtp_sink.py): its
flags, its webhooks as the sandbox carrier checks them, the sink's timestamps, the stage
arithmetic. Nothing here is timed."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.pipeline import (
    SCANS,
    WEBHOOK_SECRET,
    batch_runs,
    message_key,
    parse_args,
    refused,
    stage_rows,
    webhook_requests,
)
from benchmarks.smtp_sink import arrival_line, parse_arrival, read_arrivals
from carriers.sandbox import mapping, signing
from shipflow.notify.timing import message_key as shipflow_message_key
from shipflow.notify.transports import Message, SmtpTransport

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
SINK = Path(__file__).resolve().parent.parent / "benchmarks" / "smtp_sink.py"


def test_the_defaults_are_the_issues_target_and_a_short_run_is_flags():
    default = parse_args([])
    assert (default.rate, default.duration, default.workers) == (1500.0, 60.0, [1, 2, 4])
    assert default.modes == ["celery", "embedded"]
    assert default.worker_threads is None  # `shipflow worker`'s own, as deployed
    short = parse_args(
        ["--rate", "200", "--duration", "15", "--workers", "2", "--modes", "embedded"]
        + ["--worker-threads", "2"]
    )
    assert (short.rate, short.duration, short.workers, short.modes, short.worker_threads) == (
        200.0,
        15.0,
        [2],
        ["embedded"],
        2,
    )


@pytest.mark.parametrize("flags", [["--rate", "0"], ["--workers", "0"], ["--modes", "threads"]])
def test_nonsense_flags_stop_with_a_usage_error(flags):
    with pytest.raises(SystemExit):
        parse_args(flags)


def test_each_shipment_gets_three_signed_scans_in_order_each_a_new_status():
    requests = webhook_requests(range(2), "cac_1", 8000, NOW)

    assert len(requests) == 2 * len(SCANS)
    statuses = []
    for webhook in requests:
        head, body = webhook.request().split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        assert lines[0] == "POST /webhooks/sandbox/cac_1 HTTP/1.1"
        headers = dict(line.split(": ", 1) for line in lines[1:])
        assert int(headers["Content-Length"]) == len(body)
        # signed when sent, not when built: accepted now, whenever the load was made
        signing.verify(WEBHOOK_SECRET, headers, body, datetime.now(UTC))
        (update,) = mapping.parse_webhook_body(body)
        statuses.append((update.tracking_number, update.events[0].status.value))
    assert statuses == [
        ("SBXBENCH0000000000", "in_transit"),
        ("SBXBENCH0000000001", "in_transit"),
        ("SBXBENCH0000000000", "out_for_delivery"),
        ("SBXBENCH0000000001", "out_for_delivery"),
        ("SBXBENCH0000000000", "delivered"),
        ("SBXBENCH0000000001", "delivered"),
    ]


def test_an_events_email_is_known_by_shipflows_own_delivery_key():
    # event 4 of 2 shipments: shipment 0's third scan (delivered)
    assert message_key(4, 2) == shipflow_message_key("shp_bench0000000000", "delivered", "email")


def test_a_sink_line_gives_back_the_key_and_the_time():
    line = arrival_line(1765000000.123456, "msg:shp_1:shipped:email")

    assert line == "1765000000.123456\tmsg:shp_1:shipped:email\n"
    assert parse_arrival(line) == ("msg:shp_1:shipped:email", 1765000000.123456)


@pytest.fixture
def sink(tmp_path) -> Iterator[tuple[int, Path]]:
    """benchmarks/smtp_sink.py as the benchmark runs it: (its port, its file)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "smtp.tsv"
    process = subprocess.Popen([sys.executable, str(SINK), str(port), str(path)])
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline and process.poll() is None, "the sink did not start"
                time.sleep(0.05)
        yield port, path
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_the_sink_timestamps_what_shipflows_smtp_transport_sends(sink):
    port, path = sink
    before = time.time()
    transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
    transport.send(Message("msg:shp_1:shipped:email", "Shipped", "On its way", "ada@example.com"))
    with transport.held():  # one connection, two messages
        for key in ("msg:shp_1:shipped:email", "msg:shp_2:x:email"):
            transport.send(Message(key, "Shipped", "On its way", "ada@example.com"))

    arrivals = read_arrivals(path)
    assert set(arrivals) == {"msg:shp_1:shipped:email", "msg:shp_2:x:email"}  # repeats once
    assert before <= arrivals["msg:shp_1:shipped:email"] <= arrivals["msg:shp_2:x:email"]
    assert before <= arrivals["msg:shp_2:x:email"] <= time.time()


def test_the_sink_answers_pipelined_commands_in_order(sink):
    port, path = sink
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        stream = client.makefile("rb")
        assert stream.readline() == b"220 sink ESMTP\r\n"
        client.sendall(b"EHLO bench\r\n")
        assert [stream.readline() for _ in range(4)][-3:] == [
            b"250-PIPELINING\r\n",
            b"250-8BITMIME\r\n",
            b"250 SMTPUTF8\r\n",
        ]
        client.sendall(
            b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
            b"Subject: x\r\nX-Shipflow-Delivery: msg:shp_3:delivered:email\r\n\r\nbody\r\n.\r\n"
            b"RSET\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n.\r\nQUIT\r\n"
        )
        replies = [line[:3] for line in stream.readlines()]
    assert replies == [
        b"250",
        b"250",
        b"354",
        b"250",
        b"250",
        b"250",
        b"250",
        b"354",
        b"250",
        b"221",
    ]
    assert list(read_arrivals(path)) == ["msg:shp_3:delivered:email", ""]


def test_stages_are_the_jobs_less_the_reactions_they_ran():
    rows = dict(
        stage_rows(
            {
                "tracking.process_receipts": (10.0, 5),
                "reaction:revise_delivery_date": (3.0, 100),
                "reaction:detect_delays": (1.0, 100),
                "outbox.dispatch": (6.0, 4),
                "reaction:on_milestone": (2.0, 100),
                "reaction:tell_the_shop": (0.5, 100),
                "postpurchase.deliver_messages": (4.0, 2),
                "alerts.cycle": (0.25, 1),
            }
        )
    )
    assert rows == {
        "ingest/apply (receipts job, less its reactions)": 6.0,
        "  reaction: EDD revision": 3.0,
        "  reaction: delay detection": 1.0,
        "outbox dispatch (less its handlers)": 3.5,
        "  handler: customer message (render, queue)": 2.0,
        "  handler: shop write-back": 0.5,
        "e-mail delivery (SMTP)": 4.0,
        "other periodic jobs": 0.25,
    }


def test_each_stages_runs_are_its_jobs_observations_and_a_job_that_never_ran_is_left_out():
    stages = {
        "tracking.process_receipts": (10.0, 5),
        "outbox.dispatch": (6.0, 4),
        "reaction:on_milestone": (2.0, 100),
        "alerts.cycle": (0.25, 1),
    }
    assert batch_runs(stages) == {"tracking.process_receipts": 5, "outbox.dispatch": 4}


def test_what_was_not_acknowledged_is_counted_by_answer():
    assert refused([202, 202]) == ""
    assert refused([202, 503, 0, 503]) == ": no answer x1, 503 x2"

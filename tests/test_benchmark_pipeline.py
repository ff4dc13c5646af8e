"""The end-to-end benchmark's pieces (benchmarks/pipeline.py, benchmarks/smtp_sink.py): its
flags, its webhooks as the sandbox carrier checks them, the sink's timestamps, the stage
arithmetic. Nothing here is timed."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

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
from benchmarks.smtp_sink import Recorder, arrival_line, parse_arrival, read_arrivals
from carriers.sandbox import mapping, signing
from shipflow.notify.timing import message_key as shipflow_message_key
from shipflow.notify.transports import Message, SmtpTransport

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def test_the_defaults_are_the_issues_target_and_a_short_run_is_flags():
    default = parse_args([])
    assert (default.rate, default.duration, default.workers) == (1500.0, 60.0, [1, 2, 4])
    assert default.modes == ["celery", "embedded"]
    short = parse_args(
        ["--rate", "200", "--duration", "15", "--workers", "2", "--modes", "embedded"]
    )
    assert (short.rate, short.duration, short.workers, short.modes) == (
        200.0,
        15.0,
        [2],
        ["embedded"],
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


def test_the_sink_timestamps_what_shipflows_smtp_transport_sends(tmp_path):
    with socket.socket() as probe:  # aiosmtpd checks readiness on a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "smtp.tsv"
    with path.open("a") as out:
        controller = Controller(Recorder(out), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            before = time.time()
            transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
            for key in ("msg:shp_1:shipped:email", "msg:shp_1:shipped:email", "msg:shp_2:x:email"):
                transport.send(Message(key, "Shipped", "On its way", "ada@example.com"))
        finally:
            controller.stop()

    arrivals = read_arrivals(path)
    assert set(arrivals) == {"msg:shp_1:shipped:email", "msg:shp_2:x:email"}  # repeats once
    assert before <= arrivals["msg:shp_1:shipped:email"] <= arrivals["msg:shp_2:x:email"]
    assert before <= arrivals["msg:shp_2:x:email"] <= time.time()


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

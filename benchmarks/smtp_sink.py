"""A local SMTP server for benchmarks: takes every message and appends a line
"<unix time received>\t<delivery key>" to a file, flushed at once, so a benchmark can tell
when each customer message arrived (the key is shipflow's `X-Shipflow-Delivery` header,
"msg:<shipment id>:<milestone>:<channel>").

    python benchmarks/smtp_sink.py PORT FILE      # until SIGTERM or Ctrl-C
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import TextIO

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shipflow.notify.transports import DELIVERY_HEADER  # noqa: E402

_HEADERS = BytesHeaderParser()


def delivery_key(content: bytes) -> str:
    """The message's delivery key ("" if it has none)."""
    return _HEADERS.parsebytes(content).get(DELIVERY_HEADER, "")


def arrival_line(at: float, key: str) -> str:
    return f"{at:.6f}\t{key}\n"


def parse_arrival(line: str) -> tuple[str, float]:
    """(key, unix time) of one line of the sink's file."""
    at, key = line.rstrip("\n").split("\t", 1)
    return key, float(at)


def read_arrivals(path: Path) -> dict[str, float]:
    """Each delivery key's first arrival (a message sent twice counts once, at its first)."""
    arrivals: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, at = parse_arrival(line)
            arrivals.setdefault(key, at)
    return arrivals


class Recorder:
    """aiosmtpd handler: timestamp, write, acknowledge."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def handle_DATA(self, server, session, envelope) -> str:
        self.out.write(arrival_line(time.time(), delivery_key(envelope.content)))
        self.out.flush()
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with path.open("a") as out:
        controller = Controller(Recorder(out), hostname="127.0.0.1", port=port)
        controller.start()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        controller.stop()


if __name__ == "__main__":
    main()

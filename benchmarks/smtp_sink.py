"""A local SMTP server for benchmarks: takes every message and appends a line
"<unix time received>\t<delivery key>" to a file, flushed at once, so a benchmark can tell
when each customer message arrived (the key is shipflow's `X-Shipflow-Delivery` header,
"msg:<shipment id>:<milestone>:<channel>").

    python benchmarks/smtp_sink.py PORT FILE      # until SIGTERM or Ctrl-C

It stands in for the mail provider, which is not on the machine in production, so it does
as little as SMTP allows: one asyncio protocol that answers EHLO/HELO, MAIL, RCPT, DATA,
RSET, NOOP and QUIT (PIPELINING advertised: a client's commands may come together, and are
answered in one write) and reads only the delivery key's header. aiosmtpd, which it replaces,
cost 0.33 ms of CPU a message (docs/benchmarks.md, "CPU per event").
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shipflow.notify.transports import DELIVERY_HEADER  # noqa: E402

_KEY = re.compile(rb"(?im)^" + re.escape(DELIVERY_HEADER.encode()) + rb":[ \t]*([^\r\n]*)")
_END = b"\r\n.\r\n"
_EHLO = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
_REPLIES = {
    b"HELO": b"250 sink\r\n",
    b"MAIL": b"250 OK\r\n",
    b"RCPT": b"250 OK\r\n",
    b"RSET": b"250 OK\r\n",
    b"NOOP": b"250 OK\r\n",
    b"DATA": b"354 End data with <CR><LF>.<CR><LF>\r\n",
}


def delivery_key(content: bytes) -> str:
    """The message's delivery key ("" if it has none), from its header section."""
    head = content.split(b"\r\n\r\n", 1)[0]
    found = _KEY.search(head)
    return found.group(1).decode().strip() if found else ""


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


class SmtpSession(asyncio.Protocol):
    """One client's connection: commands line by line, a message from DATA to the lone dot."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.buffer = bytearray()
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies = []
        while reply := self._next():
            replies.append(reply)
            if reply.startswith(b"221"):
                break
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))
            if replies[-1].startswith(b"221"):
                self.transport.close()

    def _next(self) -> bytes | None:
        """The reply to the next whole command or message in the buffer (None: wait)."""
        if self.in_data:
            if self.buffer.startswith(b".\r\n"):  # an empty message: the dot alone
                content, size = b"", 3
            else:
                end = self.buffer.find(_END)
                if end == -1:
                    return None
                content, size = bytes(self.buffer[:end]), end + len(_END)
            del self.buffer[:size]
            self.in_data = False
            self.out.write(arrival_line(time.time(), delivery_key(content)))
            self.out.flush()
            return b"250 OK\r\n"
        end = self.buffer.find(b"\r\n")
        if end == -1:
            return None
        verb = bytes(self.buffer[:4]).upper()
        del self.buffer[: end + 2]
        if verb == b"EHLO":
            return _EHLO
        if verb == b"QUIT":
            return b"221 Bye\r\n"
        self.in_data = verb == b"DATA"
        return _REPLIES.get(verb, b"502 Not implemented\r\n")


async def serve(port: int, out: TextIO) -> None:
    """Until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(lambda: SmtpSession(out), "127.0.0.1", port)
    async with server:
        await stop.wait()


def main() -> None:
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    with path.open("a") as out:
        asyncio.run(serve(port, out))


if __name__ == "__main__":
    main()

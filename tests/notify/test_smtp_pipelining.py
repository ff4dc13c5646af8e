"""Where the SMTP server takes PIPELINING (RFC 2920), MAIL, RCPT and DATA leave together and
the message follows: two round trips a message instead of four. A scripted server that
answers nothing until DATA has arrived proves they came together."""

from __future__ import annotations

import re
import smtplib
import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipflow.notify import transports
from shipflow.notify.transports import Message, SendError, SmtpTransport


class PipeliningServer:
    """One connection: answers EHLO with PIPELINING, then the envelope's commands only once
    DATA is in (`rcpt` is its answer to each RCPT, `data` to DATA), then the message."""

    def __init__(self, rcpt: bytes = b"250 OK", data: bytes = b"354 go on") -> None:
        self.rcpt, self.data = rcpt, data
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lines: list[bytes] = []  # what the client sent, line by line
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection, connection.makefile("rb") as stream:
            connection.sendall(b"220 test\r\n")
            envelope: list[bytes] = []
            while line := stream.readline():
                self.lines.append(line)
                verb = line[:4].upper()
                if verb == b"EHLO":
                    connection.sendall(b"250-test\r\n250 PIPELINING\r\n")
                elif verb in (b"MAIL", b"RCPT"):
                    envelope.append(b"250 OK\r\n" if verb == b"MAIL" else self.rcpt + b"\r\n")
                elif verb == b"DATA":
                    connection.sendall(b"".join(envelope) + self.data + b"\r\n")
                    envelope = []
                    if self.data.startswith(b"354"):
                        while (body := stream.readline()) != b".\r\n":
                            self.lines.append(body)
                        self.lines.append(body)
                        connection.sendall(b"250 queued\r\n")
                elif verb == b"QUIT":
                    connection.sendall(b"221 bye\r\n")
                    return
                else:
                    connection.sendall(b"250 OK\r\n")


@pytest.fixture
def server(request) -> Iterator[PipeliningServer]:
    server = PipeliningServer(*getattr(request, "param", ()))
    yield server
    server.listener.close()


def transport(server: PipeliningServer) -> SmtpTransport:
    return SmtpTransport(f"smtp://127.0.0.1:{server.port}?from=hello@shop.example", timeout=3)


def test_the_envelope_goes_in_one_write_and_the_message_follows(server):
    message = Message("msg:shp_1:shipped:email", "Shipped", "On its way\n.\nBye", "ada@example.com")

    transport(server).send(message)

    sent = [line.decode() for line in server.lines]
    assert sent[1:4] == [
        "MAIL FROM:<hello@shop.example>\r\n",
        "RCPT TO:<ada@example.com>\r\n",
        "DATA\r\n",
    ]
    assert sent[-5:] == ["On its way\r\n", "..\r\n", "Bye\r\n", ".\r\n", "QUIT\r\n"]


@pytest.mark.parametrize(
    "server", [(b"550 no such user", b"554 no valid recipients")], indirect=True
)
def test_a_refused_recipient_raises_and_the_envelope_is_reset(server):
    message = Message("msg:shp_1:shipped:email", "Shipped", "On its way", "nobody@example.com")

    with pytest.raises(SendError, match="550"):
        transport(server).send(message)

    sent = [line[:4].upper() for line in server.lines]
    assert sent == [b"EHLO", b"MAIL", b"RCPT", b"DATA", b"RSET", b"QUIT"]


@pytest.mark.parametrize("server", [(b"550 no such user", b"354 go on")], indirect=True)
def test_data_taken_without_a_recipient_gets_no_message(server):
    message = Message("msg:shp_1:shipped:email", "Shipped", "On its way", "nobody@example.com")

    with pytest.raises(SendError, match="550"):
        transport(server).send(message)

    assert [line.upper() for line in server.lines[4:]] == [b".\r\n", b"RSET\r\n", b"QUIT\r\n"]


@given(
    st.one_of(
        st.from_regex(transports._PLAIN_ADDRESS, fullmatch=True),
        st.text(st.sampled_from('ab.@<>"(), :;[]\\-+é \t'), max_size=12),
        st.sampled_from(["", "<>", " <> ", "Ada <ada@example.com>", "a..b@x", "a@b.", "@x"]),
    )
)
def test_addresses_are_quoted_as_smtplib_quotes_them(address):
    assert transports._quoted(address) == smtplib.quoteaddr(address)


@given(st.binary(max_size=40) | st.text(st.sampled_from(".\r\nab"), max_size=40).map(str.encode))
def test_lines_starting_with_a_dot_are_stuffed_as_a_multiline_pattern_finds_them(mail):
    stuffed = re.sub(rb"(?m)^\.", b"..", mail)
    assert transports._dot_stuffed(mail) == (
        stuffed if stuffed.endswith(b"\r\n") else stuffed + b"\r\n"
    )

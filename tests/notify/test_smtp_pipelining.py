"""Where the SMTP server takes PIPELINING (RFC 2920), MAIL, RCPT and DATA leave together and
the message follows: two round trips a message instead of four. A scripted server that
answers nothing until DATA has arrived proves they came together."""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import threading
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import BinaryIO

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipflow.notify import transports
from shipflow.notify.transports import Message, SendError, SmtpTransport


class PipeliningServer:
    """Answers EHLO with PIPELINING (unless `pipelining` is false: then each command at once),
    then the envelope's commands only once DATA is in: `rcpt` to each RCPT (or `refuse`'s
    answer for its address), to DATA "354" if a recipient was taken, else `data`; then the
    message ("554" if a line of it holds `spam`); to RSET `rset` (closing unless 250). On the
    first connection, the `drop_at`-th message is read and the connection closed unanswered.
    One connection after another, counted."""

    def __init__(
        self,
        rcpt: bytes = b"250 OK",
        data: bytes = b"354 go on",
        refuse: Mapping[str, bytes] = MappingProxyType({}),
        pipelining: bool = True,
        rset: bytes = b"250 OK",
        spam: bytes = b"",
        drop_at: int = 0,
    ) -> None:
        self.rcpt, self.data, self.refuse, self.pipelining = rcpt, data, refuse, pipelining
        self.rset, self.spam, self.drop_at = rset, spam, drop_at
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lines: list[bytes] = []  # what the client sent, line by line
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # the listener closed: the test is over
                return
            self.connections += 1
            with connection, connection.makefile("rb") as stream:
                self._converse(connection, stream)

    def _converse(self, connection: socket.socket, stream: BinaryIO) -> None:
        connection.sendall(b"220 test\r\n")
        envelope: list[bytes] = []  # the replies held back, pipelining, until DATA
        taken = False  # a recipient of this envelope was accepted
        messages = 0  # read on this connection
        while line := stream.readline():
            self.lines.append(line)
            verb = line[:4].upper()
            if verb == b"EHLO":
                connection.sendall(
                    b"250-test\r\n250 PIPELINING\r\n" if self.pipelining else b"250 test\r\n"
                )
            elif verb in (b"MAIL", b"RCPT"):
                address = line.decode().partition("<")[2].partition(">")[0]
                answer = b"250 OK" if verb == b"MAIL" else self.refuse.get(address, self.rcpt)
                envelope.append(answer + b"\r\n")
                taken |= verb == b"RCPT" and answer.startswith(b"25")
                if not self.pipelining:
                    connection.sendall(envelope.pop())
            elif verb == b"DATA":
                data = b"354 go on" if taken else self.data
                connection.sendall(b"".join(envelope) + data + b"\r\n")
                envelope, taken = [], False
                if data.startswith(b"354"):
                    spam = False
                    while (body := stream.readline()) != b".\r\n":
                        self.lines.append(body)
                        spam |= bool(self.spam) and self.spam in body
                    self.lines.append(body)
                    messages += 1
                    if self.connections == 1 and messages == self.drop_at:
                        return
                    connection.sendall(b"554 spam\r\n" if spam else b"250 queued\r\n")
            elif verb in (b"QUIT", b"RSET"):
                connection.sendall((b"221 bye" if verb == b"QUIT" else self.rset) + b"\r\n")
                if verb == b"QUIT" or not self.rset.startswith(b"250"):
                    return
            else:
                connection.sendall(b"250 OK\r\n")


@pytest.fixture
def server(request) -> Iterator[PipeliningServer]:
    server = PipeliningServer(**getattr(request, "param", {}))
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
    "server", [{"rcpt": b"550 no such user", "data": b"554 no valid recipients"}], indirect=True
)
def test_a_refused_recipient_raises_and_the_envelope_is_reset(server):
    message = Message("msg:shp_1:shipped:email", "Shipped", "On its way", "nobody@example.com")

    with pytest.raises(SendError, match="550"):
        transport(server).send(message)

    sent = [line[:4].upper() for line in server.lines]
    assert sent == [b"EHLO", b"MAIL", b"RCPT", b"DATA", b"RSET", b"QUIT"]


@pytest.mark.parametrize("server", [{"rcpt": b"550 no such user"}], indirect=True)
def test_data_taken_without_a_recipient_gets_no_message(server):
    message = Message("msg:shp_1:shipped:email", "Shipped", "On its way", "nobody@example.com")

    with pytest.raises(SendError, match="550"):
        transport(server).send(message)

    assert [line.upper() for line in server.lines[4:]] == [b".\r\n", b"RSET\r\n", b"QUIT\r\n"]


REFUSE_BOB = {"bob@example.com": b"550 no such user", "eve@example.com": b"452 mailbox full"}


@pytest.mark.parametrize(
    "server",
    [{"refuse": REFUSE_BOB}, {"refuse": REFUSE_BOB, "pipelining": False}],
    indirect=True,
    ids=["pipelined", "one by one"],
)
def test_recipients_refused_beside_others_are_logged_and_the_message_counts_as_sent(server, caplog):
    """The message went to ada: a retry would send it to her again, so it is not one; an
    operator reads who was refused and why, whether the server pipelines or not."""
    ops = SmtpTransport(
        f"smtp://127.0.0.1:{server.port}?from=hello@shop.example",
        to=["ada@example.com", "bob@example.com", "eve@example.com"],
        timeout=3,
    )

    with caplog.at_level(logging.WARNING, logger="shipflow.notify.transports"):
        ops.send(Message("alert:late:1", "Late parcels", "3 late"))

    [record] = caplog.records
    assert "alert:late:1" in record.getMessage()
    assert "bob@example.com (550 no such user)" in record.getMessage()
    assert "eve@example.com (452 mailbox full)" in record.getMessage()
    assert "ada@example.com" not in record.getMessage()
    assert server.lines[-2:] == [b".\r\n", b"QUIT\r\n"]  # the message went


NOBODY = {"nobody@example.com": b"550 no such user"}


def commands(server: PipeliningServer) -> list[bytes]:
    verbs = [line[:4].upper() for line in server.lines]
    return [
        verb for verb in verbs if verb in (b"EHLO", b"MAIL", b"RCPT", b"DATA", b"RSET", b"QUIT")
    ]


def refused_then_sent(server: PipeliningServer) -> None:
    """On one held connection, a message to an address the server refuses, then one it takes."""
    mail = transport(server)
    with mail.held():
        with pytest.raises(SendError, match="550"):
            mail.send(Message("msg:1", "Shipped", "On its way", "nobody@example.com"))
        mail.send(Message("msg:2", "Shipped", "On its way", "ada@example.com"))


@pytest.mark.parametrize(
    "server",
    [{"refuse": NOBODY}, {"refuse": NOBODY, "pipelining": False}],
    indirect=True,
    ids=["pipelined", "one by one"],
)
def test_a_held_connection_takes_the_next_message_after_a_refusal(server):
    """The envelope reset, the session goes on: a bad address costs the batch no new login."""
    refused_then_sent(server)

    assert server.connections == 1
    assert commands(server)[-5:] == [b"RSET", b"MAIL", b"RCPT", b"DATA", b"QUIT"]


@pytest.mark.parametrize(
    "server",
    [
        {"refuse": NOBODY, "rset": b"421 closing"},
        {"refuse": NOBODY, "rset": b"421 closing", "pipelining": False},
    ],
    indirect=True,
    ids=["pipelined", "one by one"],
)
def test_a_session_that_refuses_the_reset_is_not_reused(server):
    """A server that does not take RSET gets a new connection for the next message, whether
    it pipelines or not (smtplib's `sendmail` resets without reading the answer: the next
    message went to a closed session and failed)."""
    refused_then_sent(server)

    assert server.connections == 2
    assert commands(server)[-6:] == [b"RSET", b"EHLO", b"MAIL", b"RCPT", b"DATA", b"QUIT"]


def batch(*recipients: str, spam_from: str = "") -> list[Message]:
    return [
        Message(f"msg:{n}", "Shipped", "spam" if r == spam_from else "On its way", r)
        for n, r in enumerate(recipients)
    ]


@pytest.fixture
def writes(monkeypatch) -> list[bytes]:
    """What the client wrote, one entry a write."""
    sent: list[bytes] = []
    write = smtplib.SMTP.send

    def counted(smtp: smtplib.SMTP, data: bytes | str) -> None:
        sent.append(data.encode() if isinstance(data, str) else data)
        write(smtp, data)

    monkeypatch.setattr(smtplib.SMTP, "send", counted)
    return sent


def test_a_batch_ends_each_message_in_the_write_that_opens_the_next(server, writes):
    """One write (and one round trip) a message: the first envelope, then each message's end
    with the next envelope, as RFC 2920 allows; two a message before."""
    outcomes = list(transport(server).send_all(batch("ada@x.example", "bob@x.example", "cy@x.ex")))

    assert outcomes == [None, None, None]
    last_lines = [w.split(b"\r\n")[-2][:4] for w in writes]
    assert last_lines == [b"ehlo", b"DATA", b"DATA", b"DATA", b".", b"QUIT"]
    assert [w.count(b"MAIL FROM") for w in writes] == [0, 1, 1, 1, 0, 0]
    assert [w.count(b"\r\n.\r\n") for w in writes] == [0, 0, 1, 1, 1, 0]
    assert server.connections == 1
    assert len([line for line in server.lines if line == b".\r\n"]) == 3


@pytest.mark.parametrize(
    "server", [{"refuse": NOBODY, "data": b"554 no valid recipients"}], indirect=True
)
def test_a_refused_recipient_in_a_batch_fails_its_message_alone(server):
    mail = transport(server)

    outcomes = list(mail.send_all(batch("ada@x.example", "nobody@example.com", "bob@x.example")))

    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], SendError) and "550" in str(outcomes[1])
    assert server.connections == 1
    assert commands(server)[1:] == [
        *(b"MAIL", b"RCPT", b"DATA"),
        *(b"MAIL", b"RCPT", b"DATA", b"RSET"),
        *(b"MAIL", b"RCPT", b"DATA", b"QUIT"),
    ]
    recipients = [line for line in server.lines if line.startswith(b"To: ")]
    assert recipients == [b"To: ada@x.example\r\n", b"To: bob@x.example\r\n"]


@pytest.mark.parametrize("server", [{"spam": b"spam"}], indirect=True)
def test_a_message_refused_after_the_next_envelope_went_is_not_reset(server):
    """Its end closed its transaction; a RSET would have undone the next one's envelope."""
    mail = transport(server)

    outcomes = list(
        mail.send_all(batch("ada@x.example", "bob@x.example", "cy@x.ex", spam_from="bob@x.example"))
    )

    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], SendError) and "554" in str(outcomes[1])
    assert b"RSET" not in commands(server)
    assert server.lines.count(b"To: cy@x.ex\r\n") == 1


@pytest.mark.parametrize(
    ("server", "outcomes"),
    [({"drop_at": 1}, [SendError, None, None]), ({"drop_at": 2}, [None, SendError, None])],
    indirect=["server"],
    ids=["first", "second"],
)
def test_a_connection_dropped_mid_batch_fails_only_the_message_it_took(server, outcomes):
    """The message whose end went unanswered may have arrived: it fails (the queue retries it,
    its Message-ID lets the receiver drop a repeat). The next one's envelope, written with it,
    was never answered: it goes over a new connection, as does the rest."""
    mail = transport(server)

    got = list(mail.send_all(batch("ada@x.example", "bob@x.example", "cy@x.ex")))

    assert [type(outcome) if outcome else None for outcome in got] == outcomes
    assert server.connections == 2
    second = commands(server)[commands(server).index(b"EHLO", 1) :]
    assert second.count(b"MAIL") == 3 - server.drop_at
    assert [line for line in server.lines if line.startswith(b"To: cy")] == [b"To: cy@x.ex\r\n"]


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

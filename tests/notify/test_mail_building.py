"""E-mails written out without the standard library's generator still read back exactly as
written, in any script, and carry a Message-ID that names the message row, not the attempt."""

from __future__ import annotations

import email
from email import policy
from email.utils import formatdate

import pytest

from shipflow.notify.transports import DELIVERY_HEADER, Message, SmtpTransport

SMTP = SmtpTransport("smtp://127.0.0.1:25?from=track@shipflow.test")


@pytest.mark.parametrize(
    ("subject", "brand", "body"),
    [
        (
            "您的包裹已寄出：訂單 NW-1001 預計 12月3日 送達",
            "北風商店",
            "您好，\n追蹤連結：https://t.example/x\n",
        ),
        ("مرسوله شما ارسال شد — سفارش NW-1001", "فروشگاه نورث‌ویند", "سلام\nپیوند پیگیری\n"),
        ("Your order NW-1001 has shipped", 'Northwind "Goods", Inc.', "Hello,\nthe link\n"),
    ],
)
def test_subject_sender_and_body_parse_back_identically(subject, brand, body):
    message = Message("msg:shp_1:shipped:email", subject, body, "ada@example.com", brand)
    parsed = email.message_from_bytes(SMTP.mail(message), policy=policy.default)
    assert parsed["Subject"] == subject
    assert parsed["From"].addresses[0].display_name == brand
    assert parsed["From"].addresses[0].addr_spec == "track@shipflow.test"
    assert parsed["To"] == "ada@example.com"
    assert parsed.get_content() == body.replace("\n", "\r\n")  # as on the wire


def _mail(key: str) -> email.message.Message:
    return email.message_from_bytes(SMTP.mail(Message(key, "s", "b", "ada@example.com", "N")))


def test_the_message_id_is_the_same_for_every_attempt_at_one_message():
    first = _mail("msg:shp_1:shipped:email")
    again = _mail("msg:shp_1:shipped:email")
    other = _mail("msg:shp_2:shipped:email")
    assert (
        first["Message-ID"] == again["Message-ID"] == "<ce26a032bc955d5fc0f029d27f01c740@shipflow>"
    )
    assert other["Message-ID"] != first["Message-ID"]
    assert first[DELIVERY_HEADER] == "msg:shp_1:shipped:email"


def test_long_headers_are_folded_and_lines_end_in_crlf():
    subject = "Your order NW-1001 has shipped and is on its way to you with the carrier today"
    mail = SMTP.mail(Message("k", subject, "Hello,\nthe link", "ada@example.com", "N"))
    assert b"Subject: Your order NW-1001 has shipped and is on its way to you with the\r\n" in mail
    assert mail.endswith(b"\r\n\r\nHello,\r\nthe link\r\n")
    assert b"\n" not in mail.replace(b"\r\n", b"")
    assert email.message_from_bytes(mail, policy=policy.default)["Subject"] == subject


def test_the_date_is_the_second_the_mail_is_written(monkeypatch):
    """Written once a second, not once for all: each mail carries the time it was written."""
    dates = []
    for now in (1_796_000_000.2, 1_796_000_000.9, 1_796_000_061.5):
        monkeypatch.setattr("shipflow.notify.transports.time.time", lambda now=now: now)
        dates.append(_mail("k")["Date"])
    assert dates == [
        "Mon, 30 Nov 2026 00:53:20 -0000",
        "Mon, 30 Nov 2026 00:53:20 -0000",
        "Mon, 30 Nov 2026 00:54:21 -0000",
    ]
    assert dates[0] == formatdate(1_796_000_000, localtime=False)

"""E-mails built without the header-parsing policy still read back exactly as written, in
any script, and carry a Message-ID that names the message row, not the attempt."""

from __future__ import annotations

import email
from email import policy

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
    parsed = email.message_from_bytes(SMTP.mail(message).as_bytes(), policy=policy.default)
    assert parsed["Subject"] == subject
    assert parsed["From"].addresses[0].display_name == brand
    assert parsed["From"].addresses[0].addr_spec == "track@shipflow.test"
    assert parsed["To"] == "ada@example.com"
    assert parsed.get_content() == body


def test_the_message_id_is_the_same_for_every_attempt_at_one_message():
    first = SMTP.mail(Message("msg:shp_1:shipped:email", "s", "b", "ada@example.com", "N"))
    again = SMTP.mail(Message("msg:shp_1:shipped:email", "s", "b", "ada@example.com", "N"))
    other = SMTP.mail(Message("msg:shp_2:shipped:email", "s", "b", "ada@example.com", "N"))
    assert (
        first["Message-ID"] == again["Message-ID"] == "<ce26a032bc955d5fc0f029d27f01c740@shipflow>"
    )
    assert other["Message-ID"] != first["Message-ID"]
    assert first[DELIVERY_HEADER] == "msg:shp_1:shipped:email"

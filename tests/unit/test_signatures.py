"""A forged signature, token or nonce is refused whatever characters it holds: before
`same_secret`, one with a non-ASCII character raised TypeError (a 500 to whoever sent it)."""

from __future__ import annotations

import pytest

from carriers.base import WebhookSignatureError
from carriers.webhook_auth import require_hmac_sha256, require_shared_secret
from shipflow.signatures import same_secret


@pytest.mark.parametrize(
    ("given", "expected", "same"),
    [
        ("abc", "abc", True),
        ("abc", "abd", False),
        ("é", "e", False),
        ("é", "é", True),
        ("", "abc", False),
    ],
)
def test_same_secret(given: str, expected: str, same: bool) -> None:
    assert same_secret(given, expected) is same


def test_a_non_ascii_hmac_signature_is_refused_not_a_server_error() -> None:
    with pytest.raises(WebhookSignatureError, match="signature wrong"):
        require_hmac_sha256("fedex", b"{}", "secret", "sïgnature")


def test_a_non_ascii_shared_secret_is_refused() -> None:
    with pytest.raises(WebhookSignatureError, match="credential missing or wrong"):
        require_shared_secret("ups", "crédential", "credential")

"""The one comparison of a signature, token or nonce from outside with ours, shared by the
carriers, the order sources and the web (a leaf: it imports nothing of ours)."""

from __future__ import annotations

import hmac


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality, compared as UTF-8 bytes: `hmac.compare_digest` refuses two texts
    with a non-ASCII character (TypeError), which made a forged header a server error instead
    of a refusal."""
    return hmac.compare_digest(given.encode(), expected.encode())

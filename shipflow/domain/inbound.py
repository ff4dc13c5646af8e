"""What a signed inbound source (a carrier, a shop) sent us, before anyone reads it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A webhook as received: what signature checks and parsers need, nothing of Flask."""

    headers: Mapping[str, str]
    body: bytes
    url: str = ""
    received_at: datetime | None = None

    def header(self, name: str) -> str:
        """A header's value whatever its case (frameworks and proxies disagree on it)."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), "")

"""Fixture files of the carrier adapter tests; each names the document it follows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(carrier: str, name: str) -> Any:
    """The `body` of fixtures/<carrier>/<name>.json, after checking it names its `source`."""
    document = json.loads((FIXTURES / carrier / f"{name}.json").read_text())
    assert document["source"], f"{carrier}/{name}.json must name the document it follows"
    return document["body"]

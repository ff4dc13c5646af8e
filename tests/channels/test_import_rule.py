"""Order sources speak only the domain: `channels/` imports nothing of shipflow but
`shipflow.domain`, and nothing of `carriers/` (each channel is its own leaf)."""

from __future__ import annotations

import ast
from pathlib import Path

CHANNELS = Path(__file__).resolve().parents[2] / "channels"
FIRST_PARTY = ("shipflow", "carriers", "channels", "tests")
ALLOWED = ("shipflow.domain", "channels")


def first_party_imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return {m for m in modules if m.split(".")[0] in FIRST_PARTY}


def allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def test_the_rule_catches_a_forbidden_import():
    source = "from shipflow.domain import Address\nfrom shipflow.store.models import Order\n"
    assert [m for m in first_party_imports(source) if not allowed(m)] == ["shipflow.store.models"]


def test_channels_import_only_the_domain_and_themselves():
    files = sorted(CHANNELS.rglob("*.py"))
    assert files
    forbidden = {
        f"{path.relative_to(CHANNELS.parent)}: {module}"
        for path in files
        for module in first_party_imports(path.read_text(encoding="utf-8"))
        if not allowed(module)
    }
    assert forbidden == set()

"""`shipflow.notify` is a leaf: it imports nothing of shipflow but itself and the leaf helpers
(`shipflow.text`, `shipflow.signatures`), so sending a message never pulls in (or cycles back
through) alerts, brands or the store."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

ALLOWED = ("shipflow.notify", "shipflow.text", "shipflow.signatures")


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_notify_imports_only_itself_and_the_leaf_helpers():
    outside = {
        f"{path.name}: {name}"
        for path in sorted((ROOT / "shipflow" / "notify").glob("*.py"))
        for name in _imports(path)
        if name.startswith(("shipflow.", "carriers."))
        and not name.startswith(ALLOWED)
        or name in ("shipflow", "carriers")
    }
    assert outside == set()

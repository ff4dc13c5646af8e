"""axe-core (from npm: `npm install` at the repository root) run in the page under test:
the serious and critical violations, as readable lines. Injected through the DevTools
protocol, so the pages' Content-Security-Policy stays as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def serious_violations(page) -> list[str]:
    if not AXE.exists():
        pytest.skip("axe-core missing: run `npm install` at the repository root")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in SERIOUS
    ]

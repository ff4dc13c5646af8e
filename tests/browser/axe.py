"""axe-core in the browser tests: installed from npm at test time into the gitignored
tests/browser/.axe/ (not vendored: nothing of it is committed), injected into the page, and
asked for the violations that block people (serious, critical)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / ".axe"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
VERSION = "axe-core@4"


@cache
def axe_source() -> str:
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: apt-get install npm")
        HERE.mkdir(exist_ok=True)
        command = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(HERE)]
        done = subprocess.run([*command, VERSION], capture_output=True, text=True, timeout=180)
        if done.returncode != 0 or not AXE.exists():
            pytest.skip(f"npm could not install {VERSION}: {done.stderr[-300:]}")
    return AXE.read_text(encoding="utf-8")


def blocking_violations(page) -> list[str]:
    """Each serious or critical rule broken, with the first element that breaks it."""
    page.evaluate(axe_source())  # through DevTools: the page's CSP allows no inline script
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]

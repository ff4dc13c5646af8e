"""Benchmark scripts start as docs/benchmarks.md runs them: `python benchmarks/<name>.py` puts
`benchmarks/` first on the import path, so a module there named like a package the scripts
import (the repository's or an installed one) hides that package: `benchmarks/channels.py`
once hid `channels/` and broke `benchmarks/capacity.py`."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT

BENCHMARKS = ROOT / "benchmarks"


def test_no_benchmark_module_hides_a_package():
    hiding = [
        path.name
        for path in sorted(BENCHMARKS.glob("*.py"))
        if path.stem != "__init__"
        and (spec := importlib.util.find_spec(path.stem)) is not None
        and spec.origin is not None
        and not spec.origin.startswith(str(BENCHMARKS))
    ]
    assert hiding == []

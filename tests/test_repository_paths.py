"""Nothing in the repository names a path of the machine it was written on: docs, scripts and
configuration use paths relative to the repository (`../shared/...`, `.venv/bin/...`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.conftest import ROOT

MACHINE_PATH = re.compile(r"(?<![\w.:/])/(?:work|home|Users|root|opt|srv)/\S*")
TEXT = {".md", ".py", ".yaml", ".yml", ".toml", ".cfg", ".html", ".js", ".txt"}
SKIPPED = {".venv", ".git", "instance", "node_modules", "__pycache__"}


def _text_files():
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED]
        yield from (Path(folder, name) for name in sorted(names) if Path(name).suffix in TEXT)


def test_no_absolute_paths_of_this_machine():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {match.group()}"
        for path in _text_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in MACHINE_PATH.finditer(line)
    ]
    assert found == []

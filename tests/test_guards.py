"""The guards of `make lint` bite: on a copy of the code, one forbidden import breaks its
import contract (import-linter) and one type error fails the type checker (mypy), both run
with the repository's own configuration, as `make lint` runs them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

TOOLS = Path(sys.executable).parent
# What carriers may use of shipflow; everything else is forbidden to them by name.
CARRIER_LEAVES = {
    "shipflow.domain",
    "shipflow.clock",
    "shipflow.calendars",
    "shipflow.geo",
    "shipflow.postal",  # geo's postal formats and tables
    "shipflow.text",
    "shipflow.signatures",
    "shipflow.http_session",  # the retrying requests.Session both adapter kinds build
}

# (file, the line added to it, the contract it breaks)
BREAKS = {
    "the domain imports the store": (
        "shipflow/domain/model.py",
        "import shipflow.store.db",
        "The domain imports nothing of ours outside itself",
    ),
    "the domain imports a framework": (
        "shipflow/domain/tracking.py",
        "import sqlalchemy",
        "The domain imports nothing of ours outside itself",
    ),
    "a carrier imports the store": (
        "carriers/base.py",
        "import shipflow.store.db",
        "Carriers use only the domain and leaf helpers",
    ),
    "a channel imports the store": (
        "channels/base.py",
        "import shipflow.store.db",
        "Order sources use only the domain",
    ),
    "a service imports web": (
        "shipflow/edd/engine.py",
        "import shipflow.web.pages",
        "Only the entry points (cli, server, demo) import web",
    ),
    "a new cycle": (
        "shipflow/orders.py",
        "import shipflow.fulfilment",
        "No cycles between the packages",
    ),
}


@pytest.fixture
def code(tmp_path: Path) -> Path:
    """The packages and the configuration the guards read, copied where they can be broken."""
    for package in ("shipflow", "carriers", "channels"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def run(cwd: Path, tool: str, *options: str) -> subprocess.CompletedProcess[str]:
    command = [str(TOOLS / tool), *options]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(cwd, "lint-imports", "--no-cache", "--no-logo")


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_contracts_are_kept_by_the_code_as_it_is(code):
    result = lint_imports(code)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case", BREAKS)
def test_a_forbidden_import_breaks_its_contract(code, case):
    file, line, contract = BREAKS[case]
    add_line(code / file, line)
    result = lint_imports(code)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [row for row in result.stdout.splitlines() if " BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), result.stdout


@pytest.mark.slow
def test_a_type_error_fails_the_type_checker(code):
    add_line(code / "shipflow/domain/model.py", 'DEADLINE_DAYS: int = "three"')
    result = run(code, "mypy")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "shipflow/domain/model.py" in result.stdout
    assert 'incompatible type "str"' in result.stdout or "Incompatible types" in result.stdout
    assert "Found 1 error in 1 file" in result.stdout


def test_every_module_of_shipflow_is_named_in_the_leaf_contracts():
    """The carriers' and channels' contracts forbid shipflow module by module (import-linter
    cannot forbid "all but the domain"), so a new top-level module must be added to them."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    modules = {
        f"shipflow.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "shipflow").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    channel_leaves = {"shipflow.domain", "shipflow.http_session", "shipflow.signatures"}
    leaves = {"carriers": CARRIER_LEAVES, "channels": channel_leaves}
    for contract in contracts["contracts"]:
        for source in contract.get("source_modules", []):
            if source in leaves:
                named = set(contract["forbidden_modules"]) | leaves[source]
                assert modules - named == set(), f"{source}: classify these modules"


def test_no_contract_excuses_an_import_but_the_celery_entry_point():
    """Services never import web and shipflow's packages form no cycle without exceptions: the
    Celery app alone may build the runtime, like cli and server (issue 15)."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    ignored = {c["name"]: c.get("ignore_imports", []) for c in contracts["contracts"]}
    assert all(not imports for name, imports in ignored.items() if not name.startswith("No cycles"))
    cycles = next(imports for name, imports in ignored.items() if name.startswith("No cycles"))
    assert cycles == ["shipflow.jobs.celery_app -> shipflow.runtime"]

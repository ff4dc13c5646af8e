"""The web layer writes only through services, and every blueprint has one shape.

Views parse the request, call a service function (which takes the session and the clock)
and commit; adding, deleting or changing rows is the services' work. Read over the source
(AST), so a new view that writes rows itself fails here before review."""

from __future__ import annotations

import ast
from pathlib import Path

from shipflow.store.models import Base
from shipflow.web import FEATURES
from shipflow.web.api import routes as api_routes
from tests.conftest import ROOT

WEB = ROOT / "shipflow" / "web"
# Infrastructure that keeps its own rows, not the product's: the Idempotency-Key claims are
# taken and released around the view, in transactions of their own.
INFRASTRUCTURE = {"shipflow/web/api/idempotency.py"}
SESSIONS = {"g.db", "session", "db"}  # how web code names a database session
SESSION_WRITES = {"add", "add_all", "delete", "merge", "bulk_save_objects"}
STATEMENTS = {"insert", "update", "delete"}  # SQLAlchemy's data-changing statements
NOT_ROWS = {"g", "self", "app", "request", "response", "current_app"}
MODELS = {mapper.class_.__name__: mapper.class_ for mapper in Base.registry.mappers}
COLUMNS = {attr.key for mapper in Base.registry.mappers for attr in mapper.attrs}


def _modules():
    return sorted(WEB.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _writes(source: str) -> list[str]:
    """Each place in `source` that adds, deletes, builds or changes an ORM row."""
    tree = ast.parse(source)
    statements = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name in STATEMENTS
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Attribute) and function.attr in SESSION_WRITES:
                if ast.unparse(function.value) in SESSIONS:
                    found.append(f"{node.lineno}: {ast.unparse(function)}()")
            elif isinstance(function, ast.Name) and function.id in statements:
                found.append(f"{node.lineno}: {function.id}() statement")
            elif isinstance(function, ast.Name) and function.id in MODELS:
                found.append(f"{node.lineno}: builds a {function.id} row")
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign | ast.AnnAssign)
            else []
        )
        for target in targets:
            for part in target.elts if isinstance(target, ast.Tuple) else [target]:
                if (
                    isinstance(part, ast.Attribute)
                    and part.attr in COLUMNS
                    and ast.unparse(part.value) not in NOT_ROWS
                ):
                    found.append(f"{node.lineno}: sets {ast.unparse(part)}")
    return found


def test_web_modules_write_rows_only_through_services():
    writes = {
        _name(path): found
        for path in _modules()
        if _name(path) not in INFRASTRUCTURE and (found := _writes(path.read_text()))
    }
    assert writes == {}, "move these writes into the owning service; the view calls it"


def test_the_check_sees_each_kind_of_write():
    """The rule above would catch what the views used to do themselves."""
    source = """
from sqlalchemy import delete, update
from flask import g
def view(request_row, shipment):
    g.db.add(Feedback(score=9))
    g.db.delete(shipment)
    g.db.execute(update(Shipment).values(status="x"))
    g.db.execute(delete(Shipment))
    request_row.status = "review"
    g.language = "en"
    response.vary.add("Origin")
"""
    assert set(_writes(source)) == {
        "5: g.db.add()",
        "5: builds a Feedback row",
        "6: g.db.delete()",
        "7: update() statement",
        "8: delete() statement",
        "9: sets request_row.status",
    }


def test_the_infrastructure_exception_is_still_needed():
    """An allow-listed module that no longer writes should leave the list."""
    for name in INFRASTRUCTURE:
        assert _writes((ROOT / name).read_text()), name


def test_every_blueprint_is_a_routes_module_defining_bp():
    """`<feature>/routes.py` defines `bp` (a view model, when one is built, in presenter.py
    beside it); the API's blueprint is `api/routes.py`'s, its resources register on it."""
    made_here = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                called = ast.unparse(node.value.func)
                if called in ("Blueprint", "APIBlueprint"):
                    made_here.append((_name(path), [ast.unparse(t) for t in node.targets]))
    features = {_name(Path(routes.__file__)) for routes in (*FEATURES, api_routes)}
    assert sorted(made_here) == sorted((name, ["bp"]) for name in features)
    assert all(name.endswith("/routes.py") for name in features)


def test_the_app_registers_every_feature(app):
    expected = {routes.bp.name for routes in (*FEATURES, api_routes)}
    assert set(app.blueprints) == expected

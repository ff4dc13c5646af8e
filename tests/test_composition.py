"""The composition root and the table of reactions: what a reader of `shipflow/runtime.py` and
`shipflow/reactions.py` may rely on without reading the rest."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from shipflow.brands import sync_brands
from shipflow.domain import events
from shipflow.reactions import EVENT_HANDLERS, InTransaction, ThroughOutbox
from shipflow.runtime import Runtime
from shipflow.store.db import unit_of_work
from shipflow.tracking.accounts import account_for_shipment

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "shipflow").rglob("*.py"), *(ROOT / "carriers").rglob("*.py")])
EVENT_CLASSES = [
    cls
    for _, cls in inspect.getmembers(events, inspect.isclass)
    if cls.__module__ == events.__name__ and getattr(cls, "topic", "")
]
# Filled while the process runs, but by what it reads, never by which runtime asks: postal
# tables loaded from files, and adapter warnings logged once.
PROCESS_CACHES = {("shipflow/geo.py", "_postal_tables"), ("carriers/units.py", "_warned")}
# A Celery worker builds its one runtime after the fork; the module keeps it for its tasks.
WORKER_GLOBALS = {"shipflow/jobs/celery_app.py"}
EMPTY_CONTAINERS = {"dict", "list", "set", "defaultdict", "OrderedDict", "deque"}
EMPTY_CONTAINERS |= {"WeakKeyDictionary", "WeakValueDictionary", "WeakSet"}


def test_every_event_class_has_one_row_in_the_table():
    assert {cls.__name__ for cls in EVENT_CLASSES} == {cls.__name__ for cls in EVENT_HANDLERS}


def test_each_outbox_topic_has_exactly_one_handler(runtime):
    topics = [cls.topic for cls, reaction in EVENT_HANDLERS.items()]
    assert len(topics) == len(set(topics))
    handled = {
        cls.topic
        for cls, reaction in EVENT_HANDLERS.items()
        if isinstance(reaction, ThroughOutbox) and reaction.handlers
    }
    assert set(runtime.reactions.outbox) == handled
    assert {cls for cls, r in EVENT_HANDLERS.items() if isinstance(r, InTransaction)} == {
        events.ShipmentTracked
    }


def test_topics_are_written_only_by_their_event_classes():
    """A topic string anywhere else would be a second, silent wiring."""
    quoted = "|".join(re.escape(cls.topic) for cls in EVENT_CLASSES)
    topic = re.compile(rf"""["'](?:{quoted})["']""")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in SOURCES
        if path.name != "events.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if topic.search(line)
    ]
    assert found == []


def _runtime_state(path: Path) -> list[str]:
    """Module-level containers created empty (to be filled while running) and `global`s."""
    tree = ast.parse(path.read_text())
    found = []
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", 0)]
        empty_literal = isinstance(value, ast.Dict | ast.List | ast.Set) and not (
            getattr(value, "keys", None) or getattr(value, "elts", None)
        )
        call = value.func if isinstance(value, ast.Call) else None
        name = getattr(call, "id", getattr(call, "attr", ""))
        if empty_literal or (name in EMPTY_CONTAINERS and not getattr(value, "keywords", [])):
            found += [t.id for t in targets if isinstance(t, ast.Name)]
    found += [
        f"global {n}" for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names
    ]
    return found


def test_no_module_keeps_state_for_a_runtime():
    leftovers = {}
    for path in SOURCES:
        relative = str(path.relative_to(ROOT))
        names = [n for n in _runtime_state(path) if (relative, n) not in PROCESS_CACHES]
        if names and relative not in WORKER_GLOBALS:
            leftovers[relative] = names
    assert leftovers == {}


def test_adapters_are_built_once_per_account_and_runtime(runtime, settings):
    account = runtime.carriers.account("northwind", "sandbox-main")
    assert runtime.fulfilment("northwind").carriers["sandbox-main"] is account
    assert runtime.carriers.of_shipment("northwind", "sandbox", "") is account
    assert runtime.carriers.of_brand("northwind") == [account]
    with unit_of_work(runtime.sessions) as session:
        brand = sync_brands(session, runtime.settings)[0]
    with runtime.sessions() as session:
        polled = account_for_shipment(session, runtime, brand.id, "sandbox", "sandbox-main")
    assert polled.adapter is account
    other = Runtime(settings, runtime.engine, runtime.sessions, runtime.clock)
    assert other.carriers.account("northwind", "sandbox-main") is not account


def test_replaced_settings_rebuild_what_was_built_from_them(runtime):
    carriers, edd, fulfilment = runtime.carriers, runtime.edd, runtime.fulfilment("northwind")
    assert (runtime.carriers, runtime.edd) == (carriers, edd)
    runtime.settings = runtime.settings.model_copy(update={"smtp_url": "smtp://mail:25"})
    assert runtime.carriers is not carriers and runtime.edd is not edd
    assert runtime.fulfilment("northwind") is not fulfilment
    assert runtime.customer_senders.email.server.host == "mail"

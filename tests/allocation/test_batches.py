"""Allocation batches on SQLite and PostgreSQL: a lateness weight of their own, more order ids
than one statement may bind, and a failure told in words, not in SQL."""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from shipflow.allocation import batches
from shipflow.allocation.batches import run_batch
from shipflow.brands import brand_by_code
from shipflow.store.allocation_models import AllocationBatch
from shipflow.store.db import unit_of_work
from tests.allocation.test_api import northwind, order  # noqa: F401 (fixture)

POSTGRES_BIND_LIMIT = 65_535


def queue(runtime, **request) -> str:
    """A batch stored as the API stores it, for the service to run."""
    with unit_of_work(runtime.sessions) as session:
        batch = AllocationBatch(
            brand_id=brand_by_code(session, "northwind").id,
            request={"constraints": {}, "time_limit_s": 5.0, **request},
            result={},
        )
        session.add(batch)
        session.flush()
        return batch.id


def stored(runtime, batch_id: str) -> AllocationBatch:
    with runtime.sessions() as session:
        return session.get(AllocationBatch, batch_id)


def test_batch_with_its_own_lateness_weight_is_planned(client, northwind, runtime):  # noqa: F811
    ids = [
        order(client, northwind, f"L{i}", postal_code=z) for i, z in enumerate(["10001", "94103"])
    ]
    body = {"order_ids": ids, "lateness_lambda": 4.5}
    response = client.post("/api/v1/allocation-batches", json=body, headers=northwind)
    assert response.status_code == 202, response.json
    assert run_batch(runtime, response.json["id"]) == 1
    done = client.get(f"/api/v1/allocation-batches/{response.json['id']}", headers=northwind).json
    assert done["status"] == "done", done["error"]
    assert {o["order_id"] for o in done["result"]["orders"]} == set(ids)


def test_solve_weighs_lateness_as_the_batch_asks(client, northwind, runtime, monkeypatch):  # noqa: F811
    order_id = order(client, northwind, "L9")
    seen = []

    def optimize(wanted, services, context, constraints, time_limit_s):
        seen.append(context.weights.lateness_lambda)
        raise RuntimeError("stop here")

    monkeypatch.setattr(batches, "optimize", optimize)
    run_batch(runtime, queue(runtime, order_ids=[order_id], lateness_lambda=7))
    run_batch(runtime, queue(runtime, order_ids=[order_id]))  # the brand's own weight again
    assert seen == [7.0, 1.0]


def test_batch_of_more_ids_than_postgresql_binds_is_planned(client, northwind, runtime):  # noqa: F811
    real = [order(client, northwind, f"M{i}") for i in range(3)]
    unknown = [f"ord_{i:08d}" for i in range(POSTGRES_BIND_LIMIT + 10)]
    batch_id = queue(runtime, order_ids=unknown + real)
    assert run_batch(runtime, batch_id) == 1
    batch = stored(runtime, batch_id)
    assert batch.status == "done", batch.error
    assert {o["order_id"] for o in batch.result["orders"]} == set(real)
    assert len(batch.result["unassigned"]) == len(unknown)


def test_failed_batch_says_so_briefly_and_logs_the_rest(
    client,
    northwind,  # noqa: F811
    runtime,
    monkeypatch,
    caplog,
):
    order_id = order(client, northwind, "F1")
    statement = "SELECT orders.id FROM orders WHERE orders.id IN (" + "%s, " * 5000 + ")"

    def optimize(*args):
        raise OperationalError(statement, {"id": "x" * 10_000}, Exception("too many binds"))

    monkeypatch.setattr(batches, "optimize", optimize)
    batch_id = queue(runtime, order_ids=[order_id])
    with caplog.at_level(logging.ERROR, logger="shipflow.allocation.batches"):
        run_batch(runtime, batch_id)
    batch = stored(runtime, batch_id)
    assert batch.status == "failed"
    assert len(batch.error) < 200 and "SELECT" not in batch.error and "xxx" not in batch.error
    assert batch_id in caplog.text and "SELECT orders.id" in caplog.text


def test_bad_constraints_are_told_in_their_own_words(client, northwind, runtime):  # noqa: F811
    """Constraints are checked when the batch is posted; one stored otherwise still names
    its key when it fails."""
    batch_id = queue(
        runtime,
        order_ids=[order(client, northwind, "C1")],
        constraints={"capacities": [{"limit": -1}]},
    )
    run_batch(runtime, batch_id)
    batch = stored(runtime, batch_id)
    assert batch.status == "failed" and batch.error.startswith("constraints.capacities[0]")

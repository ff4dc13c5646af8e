"""In-process quote latency: p50/p99 of `estimate` over many quotes (target p99 <= 1 ms).

    python -m benchmarks.edd_speed --quotes 10000

`quote_once` is the unit to time; an HTTP benchmark can wrap the same call behind the endpoint.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from benchmarks.edd_synthetic import WAREHOUSES, synthetic_history
from shipflow import geo
from shipflow.domain import Address, CarrierService, Warehouse
from shipflow.edd.engine import Estimate, estimate, resolve_destination, warm_up
from shipflow.edd.training import history_quote, train

SERVICES = (
    CarrierService("sandbox", "ground"),
    CarrierService("sandbox", "express", delivery_days=frozenset(range(6))),
)


def setup(orders: int = 20000):
    """A trained model and the three synthetic warehouses, each stocking the SKU."""
    records, cutoffs, _ = synthetic_history(orders)
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    model = train(records, as_of, history_quote("UTC", frozenset(range(5)), cutoffs))
    warehouses = []
    for code, postal in WAREHOUSES.items():
        loc = geo.locate("US", postal)
        warehouses.append(
            Warehouse(
                code,
                code,
                Address("US", postal),
                loc.lat,
                loc.lng,
                loc.timezone,
                holiday_subdivision=loc.subdivision,
                stock={"SKU": 10},
            )
        )
    return model, warehouses


def quote_once(model, warehouses, postal_code: str, ordered_at: datetime) -> Estimate:
    destination = resolve_destination("US", postal_code)
    return estimate(warehouses, SERVICES, model, "SKU", 1, destination, ordered_at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10000)
    args = parser.parse_args()
    model, warehouses = setup()
    warm_up(warehouses, SERVICES, ["US"], range(2026, 2028))
    rng = random.Random(1)
    zips = rng.sample(geo.us_postal_codes(), 2000)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    # a day of traffic: random destinations, ordering moments spread over 30 days
    moments = [start + timedelta(minutes=rng.randrange(30 * 24 * 60)) for _ in range(args.quotes)]
    targets = [rng.choice(zips) for _ in range(args.quotes)]
    for postal, moment in zip(targets[:200], moments[:200], strict=True):  # warm caches
        quote_once(model, warehouses, postal, moment)
    wall, cpu = [], []
    for postal, moment in zip(targets, moments, strict=True):
        t0, c0 = time.perf_counter(), time.thread_time()
        quote_once(model, warehouses, postal, moment)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    # CPU time too: on a busy machine wall-clock p99 measures the scheduler, not the quote
    for name, timings in (("wall", wall), ("cpu", cpu)):
        timings.sort()
        p50, p99 = (timings[int(q * (len(timings) - 1))] * 1000 for q in (0.5, 0.99))
        print(
            f"{args.quotes} quotes, 3 warehouses x 2 services, {name}: p50 {p50:.3f} ms, "
            f"p99 {p99:.3f} ms"
        )


if __name__ == "__main__":
    main()

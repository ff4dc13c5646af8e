"""Server time of the tracking page: the signed full view and the tracking-number view of a
shipment with a long history, on a migrated SQLite file, through the WSGI app (routing,
database, template, translation). Prints figures; asserts nothing.

    PYTHONPATH=. python -m benchmarks.tracking_page [--runs 300]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from shipflow.clock import FixedClock
from shipflow.config import load_settings
from shipflow.runtime import Runtime
from shipflow.shipment_links import tracking_path
from shipflow.store.migrate import upgrade
from shipflow.web import create_app
from tests.webui.factories import BRAND, JOURNEY, make_shipment

ROOT = Path(__file__).resolve().parent.parent


def long_journey(hops: int) -> list:
    """A parcel with `hops` transit scans between pick-up and delivery."""
    first, *_middle, out, delivered = JOURNEY
    transit = [("in_transit", 70 - i, f"Scan {i}", f"Hub {i}") for i in range(hops)]
    return [first, *transit, out, delivered]


def measure(client, url: str, runs: int, headers: dict) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per request (CPU time is what a loaded machine does
    not distort)."""
    client.get(url, headers=headers)  # warm: catalogs, templates, ZIP index
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    return times, cpu


def report(name: str, measured: tuple[list[float], list[float]]) -> None:
    times, cpu = sorted(measured[0]), measured[1]
    p95, p99 = (times[int(len(times) * q) - 1] for q in (0.95, 0.99))
    print(
        f"{name:<34} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   "
        f"p99 {p99:6.2f} ms   max {times[-1]:6.2f} ms   "
        f"CPU median {statistics.median(cpu):6.2f} ms   (n={len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--events", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        environ = {"SHIPFLOW_DATABASE_URL": url, "SHIPFLOW_SECRET_KEY": secrets.token_urlsafe(32)}
        settings = load_settings(ROOT / "config.yaml", environ=environ)
        runtime = Runtime.from_settings(settings, clock=FixedClock())
        shipment = make_shipment(
            runtime,
            "delivered",
            journey=long_journey(args.events - 3),
            details={"proof_of_delivery": {"signed_by": "P. R."}},
        )
        # On its way: the page with the most on it (opt-in form, refresh script, carrier link).
        coming = make_shipment(
            runtime, "in_transit", order_number="NW-1002", tracking_number="SBX100200301"
        )
        runtime.clock.advance(timedelta(minutes=1))
        app = create_app(runtime)
        client = app.test_client()
        page = tracking_path(BRAND, shipment, runtime)
        print(f"tracking page, {args.events} events, SQLite file, {args.runs} requests each")
        for language in ("en", "fa"):
            headers = {"Accept-Language": language}
            report(f"signed page ({language})", measure(client, page, args.runs, headers))
        in_transit = tracking_path(BRAND, coming, runtime)
        report(
            "signed page, in transit (fa)",
            measure(client, in_transit, args.runs, {"Accept-Language": "fa"}),
        )
        number = "/t/northwind/number/SBX100200300"
        report("tracking number page (en)", measure(client, number, args.runs, {}))
        report("tracking number JSON", measure(client, number + "?format=json", args.runs, {}))
        for name, url in (("delivered", page), ("in transit", in_transit)):
            size = len(client.get(url, headers={"Accept-Language": "fa"}).data)
            print(f"signed page size, {name} (fa): {size / 1024:.1f} KB")
        print(
            f"shipflow.css {len(client.get('/static/shipflow.css').data) / 1024:.1f} KB, "
            f"refresh.js {len(client.get('/static/refresh.js').data) / 1024:.1f} KB"
        )
        runtime.engine.dispose()


if __name__ == "__main__":
    main()

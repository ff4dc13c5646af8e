"""Sales-channel benchmarks on PostgreSQL (loopback only), config.yaml's demo brand selling
through a Shopify shop (the demo's simulated store):

1. order webhooks: the app under granian on 127.0.0.1, a signed orders/create posted by `wrk`
   (or a thread pool when wrk is absent) for a fixed time; stored raw, then acknowledged.
2. order processing: distinct signed orders/paid webhooks stored through the app, then the
   job's sweep over them timed: parsed, mapped, stored, allocated, a sandbox label bought;
   in `--processes` sweep processes at once (as that many Celery workers would run it).
3. reconciliation: the simulated store holding N orders, listed through its GraphQL Admin API
   by the reconciliation job (cursor pages, the calculated query cost enforced by its leaky
   bucket at the Standard plan's rates on an injected clock: a throttled page waits what
   the store says, in simulated time). Reports the real time and the time it would take
   against Shopify at the Standard and Plus plans' rates.

    python benchmarks/shop_channels.py [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
        [--seconds 15] [--connections 16] [--workers 2] [--threads 8]
        [--orders 2000] [--processes 1] [--reconcile-orders 100000]
        [--skip webhooks|processing|reconcile]

Runs in its own schema (`bench_channels`, dropped first). Reports figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import tracking, webhook_load  # noqa: E402
from benchmarks.schemas import bench_server  # noqa: E402
from channels.shopify.client import throttled_wait  # noqa: E402
from channels.shopify.source import webhook_signature  # noqa: E402
from shipflow import channel_sync  # noqa: E402
from shipflow.brands import sync_brands  # noqa: E402
from shipflow.channel_sync import reconcile_account  # noqa: E402
from shipflow.clock import FixedClock  # noqa: E402
from shipflow.config import load_settings  # noqa: E402
from shipflow.demo.shopify_shop import LeakyBucket, SimulatedShopify  # noqa: E402
from shipflow.runtime import Runtime  # noqa: E402
from shipflow.store.models import ChannelAccount, Order, Shipment  # noqa: E402
from shipflow.tracking.webhooks import process_due_receipts  # noqa: E402
from shipflow.web import create_app  # noqa: E402

SCHEMA = "bench_channels"
SHOP = "northwind-demo.myshopify.com"
SECRET = "bench-app-client-secret"
TOKEN = "shpat_bench"
# GraphQL Admin API restore rates (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits);
# the bucket holds 20 seconds of restore, as throttleStatus.maximumAvailable reports it.
PLANS = {"Standard": 100.0, "Plus": 1000.0}


def bench_config(url: str) -> Path:
    """config.yaml with the benchmark database, the shop's app secret and deep stock."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["database_url"] = url
    raw["secret_key"] = "bench-secret-key-" + "x" * 32
    brand = raw["brands"][0]
    brand["channels"][0]["credentials"] = {
        "client_secret": SECRET,
        "access_token": TOKEN,
        "api_base": f"https://{SHOP}",
    }
    for warehouse in brand["warehouses"]:
        warehouse["stock"] = {sku: 10_000_000 for sku in warehouse["stock"]}
    path = Path(tempfile.mkdtemp()) / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def rest_order(number: int, paid: bool = True) -> dict[str, Any]:
    """An order as Shopify's REST Order resource carries it (the orders/* webhook body)."""
    return {
        "id": 450789469 + number,
        "admin_graphql_api_id": f"gid://shopify/Order/{450789469 + number}",
        "name": f"#{1001 + number}",
        "email": f"shopper{number}@example.com",
        "created_at": "2026-11-24T09:15:00-05:00",
        "updated_at": "2026-11-24T09:15:00-05:00",
        "cancelled_at": None,
        "currency": "USD",
        "customer_locale": "en",
        "financial_status": "paid" if paid else "pending",
        "payment_gateway_names": ["shopify_payments"],
        "total_price": "39.00",
        "total_outstanding": "0.00" if paid else "39.00",
        "customer": {"first_name": "Ada", "last_name": f"Shopper{number}"},
        "shipping_address": {
            "name": f"Ada Shopper{number}",
            "address1": f"{number % 9000 + 1} Main St",
            "city": "Brooklyn",
            "province_code": "NY",
            "zip": "11201",
            "country": "United States",
            "country_code": "US",
        },
        "line_items": [
            {
                "id": 866550311766439020 + number,
                "sku": "LANTERN",
                "name": "Rechargeable camp lantern",
                "quantity": 1,
                "price": "39.00",
                "grams": 400,
                "requires_shipping": True,
            }
        ],
        "shipping_lines": [{"code": "Standard", "title": "Standard", "source": "shopify"}],
    }


def signed(body: bytes, topic: str) -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Hmac-Sha256": webhook_signature(SECRET, body),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-API-Version": "2025-10",
    }


def prepare(url: str) -> tuple[Path, Runtime, str]:
    config = bench_config(url)
    runtime = Runtime.from_settings(load_settings(config), clock=FixedClock())
    with runtime.sessions() as session:
        sync_brands(session, runtime.settings)
        session.commit()
        account_id = session.scalar(select(ChannelAccount.id))
    return config, runtime, account_id


def bench_webhooks(config: Path, account_id: str, args) -> None:
    body = json.dumps(rest_order(0)).encode()
    hook = f"/webhooks/channels/shopify/{account_id}"
    result = webhook_load.post_for(config, hook, body, signed(body, "orders/create"), args)
    print(
        f"order webhooks ({result['tool']}, {args.connections} connections, {args.workers} "
        f"web workers x {args.threads} threads, {args.seconds}s): "
        f"{result['per_second']:.0f} stored and acknowledged/s, "
        f"{webhook_load.acknowledged(result)}; server CPU {result['cpu_ms']:.2f} ms per webhook; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def clear_receipts(runtime: Runtime) -> None:
    """The webhook benchmark's receipts (one order, repeated) are not the processing's."""
    from shipflow.store.tracking_models import WebhookReceipt

    with runtime.sessions() as session:
        session.query(WebhookReceipt).delete()
        session.commit()


def sweep(runtime: Runtime, batch: int, results) -> None:
    """The job's sweep until nothing is due: receipts processed, CPU seconds of this process
    and statements it sent, put on `results`."""
    statements = [0]

    def count(*_args) -> None:
        statements[0] += 1

    event.listen(runtime.engine, "before_cursor_execute", count)
    cpu_started, processed = time.process_time(), 0
    while done := process_due_receipts(runtime, limit=batch):
        processed += done
    results.put((processed, time.process_time() - cpu_started, statements[0]))


def bench_processing(runtime: Runtime, account_id: str, args) -> None:
    clear_receipts(runtime)
    client = create_app(runtime).test_client()
    hook = f"/webhooks/channels/shopify/{account_id}"
    for n in range(1, args.orders + 1):
        body = json.dumps(rest_order(n)).encode()
        answer = client.post(hook, data=body, headers=signed(body, "orders/paid"))
        assert answer.status_code == 202, answer.get_data(as_text=True)
    # As Celery workers would: each sweep process claims its own batches (leased receipts).
    runtime.engine.dispose()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    sweeps = [
        context.Process(target=sweep, args=(runtime, args.batch, results))
        for _ in range(args.processes)
    ]
    started = time.perf_counter()
    for process in sweeps:
        process.start()
    done = [results.get() for _ in sweeps]
    elapsed = time.perf_counter() - started
    for process in sweeps:
        process.join()
    processed = sum(d[0] for d in done)
    cpu, statements = sum(d[1] for d in done), sum(d[2] for d in done)
    with runtime.sessions() as session:
        orders = session.scalar(select(func.count(Order.id)))
        labels = session.scalar(
            select(func.count(Shipment.id)).where(Shipment.carrier == "sandbox")
        )
    print(
        f"order processing (the job's sweep, {args.processes} process(es), batches of "
        f"{args.batch}): {processed} webhooks in {elapsed:.1f}s = {processed / elapsed:.0f} "
        f"orders/s mapped, stored, allocated and labelled ({orders} orders, {labels} sandbox "
        f"labels); CPU of the sweep processes {cpu / processed * 1000:.2f} ms per order (= "
        f"{processed / cpu:.0f} orders/s per core), {statements / processed:.1f} statements "
        f"per order; load average {os.getloadavg()[0]:.1f}"
    )


class InProcessShop(requests.adapters.BaseAdapter):
    """requests' transport to the simulated store without sockets (its Flask view does the
    same: the access token checked, the body's query and variables answered)."""

    def __init__(self, store: SimulatedShopify, pages: list[tuple[float, int, int]]) -> None:
        super().__init__()
        self.store, self.pages = store, pages
        self.last = time.perf_counter()

    def send(self, request, **kwargs):
        body = json.loads(request.body)
        answer = self.store.graphql(body["query"], body.get("variables") or {})
        cost = answer.get("extensions", {}).get("cost", {})
        now = time.perf_counter()
        if "data" in answer and cost:  # our side's time since the last answer, and its cost
            self.pages.append(
                (now - self.last, cost["requestedQueryCost"], cost["actualQueryCost"])
            )
        self.last = now
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response._content = json.dumps(answer).encode()
        return response

    def close(self) -> None:
        pass


def replay(pages: list[tuple[float, int, int]], restore: float, by_requested: bool) -> float:
    """Seconds the same pages take against a bucket restoring `restore` points/s: our time per
    page as measured, plus the throttled waits the client takes (`throttled_wait`). Charged
    the actual cost (as the simulated store counts it) or the requested one (the worst case)."""
    maximum = 20 * restore
    available, total = maximum, 0.0
    for seconds, requested, actual in pages:
        total += seconds
        available = min(maximum, available + seconds * restore)
        if requested > available:
            wait = throttled_wait(
                {
                    "requestedQueryCost": requested,
                    "throttleStatus": {"currentlyAvailable": available, "restoreRate": restore},
                }
            )
            assert wait is not None
            total += wait
            available = min(maximum, available + wait * restore)
        available -= requested if by_requested else actual
    return total


def changed_at(n: int) -> str:
    """When the n-th order last changed: three a second, and a burst of 100 in one second
    (more than a page, and more than the cursor's ids hold), so pages and listings end
    inside seconds shared by several orders."""
    first_change = datetime(2026, 11, 1, tzinfo=UTC)
    second = 5_000 if 15_000 <= n < 15_100 else n // 3
    return (first_change + timedelta(seconds=second)).isoformat(timespec="seconds")


def bench_reconcile(runtime: Runtime, account_id: str, args) -> None:
    clock = FixedClock()
    runtime.clock = clock
    simulated = [0.0]  # seconds the store's clock is ahead of the real one (throttled waits)
    started = time.monotonic()
    bucket = LeakyBucket(
        maximum=20 * PLANS["Standard"],
        restore_rate=PLANS["Standard"],
        clock=lambda: time.monotonic() - started + simulated[0],
        available=20 * PLANS["Standard"],
    )
    # Its own order ids, above the processing benchmark's (same account, same schema).
    ids = itertools.count(5_000_000_000_000)
    store = SimulatedShopify(SHOP, "bench", SECRET, bucket=bucket, access_token=TOKEN, _ids=ids)
    for n in range(args.reconcile_orders):
        order = store.place(rest_order(args.orders + 1 + n, paid=False), paid=False)
        order["updated_at"] = changed_at(n)
    store._sorted = None
    listed: Counter[str] = Counter()
    apply_order = channel_sync.apply_order

    def counted(session, runtime, shop, topic, inbound, now, batch):
        listed[inbound.source_order_id] += 1
        return apply_order(session, runtime, shop, topic, inbound, now, batch)

    channel_sync.apply_order = counted
    pages: list[tuple[float, int, int]] = []
    session = requests.Session()
    session.mount(f"https://{SHOP}", InProcessShop(store, pages))
    from channels.shopify import client as shopify_client

    made = shopify_client.retrying_session
    shopify_client.retrying_session = lambda: session  # every client of the shop: in-process
    cpu_before, real_before = time.process_time(), time.perf_counter()
    seen = throttled = 0
    try:
        while True:
            count = reconcile_account(runtime, account_id, pages=1_000_000)
            if (seen + count) // 10_000 > seen // 10_000:  # a long run shows it is alive
                print(
                    f"  {seen + count:,} listed: real {time.perf_counter() - real_before:.0f}s,"
                    f" CPU {time.process_time() - cpu_before:.0f}s, store's clock +"
                    f"{time.perf_counter() - real_before + simulated[0]:.0f}s",
                    flush=True,
                )
            seen += count
            with runtime.sessions() as db:
                row = db.get_one(ChannelAccount, account_id)
                wait = (row.sync_after - clock.now()).total_seconds() if row.sync_after else 0
            if wait <= 0 and count == 0:
                break
            if wait > 0:  # throttled: the store's clock (and ours) move on by the wait
                throttled += 1
                simulated[0] += wait
                clock.advance(timedelta(seconds=wait))
    finally:
        shopify_client.retrying_session = made
        channel_sync.apply_order = apply_order
    real = time.perf_counter() - real_before
    cpu = time.process_time() - cpu_before
    with runtime.sessions() as db:
        imported = db.scalar(
            select(func.count(Order.id)).where(
                Order.source_account == account_id,
                Order.source_order_id >= str(min(store.orders)),
                Order.source_order_id <= str(max(store.orders)),
            )
        )
    wanted = {str(number) for number in store.orders}
    once = sum(1 for number in wanted if listed[number] == 1)
    print(
        f"reconciliation of {args.reconcile_orders:,} orders ({imported:,} imported; listed "
        f"and imported exactly once: {once:,}, more than once: "
        f"{sum(1 for n in wanted if listed[n] > 1):,}, never: {len(wanted - set(listed)):,}; "
        f"{len(pages):,} pages): real {real:.0f}s (CPU {cpu:.0f}s of this process, "
        f"{cpu / max(seen, 1) * 1000:.2f} ms per order); "
        f"against the store at the Standard plan's rate (100 points/s, injected clock): "
        f"{real + simulated[0]:.0f}s, {throttled} throttled waits totalling {simulated[0]:.0f}s"
    )
    for plan, restore in PLANS.items():
        low, high = (replay(pages, restore, by_requested) for by_requested in (False, True))
        print(
            f"  {plan} ({restore:g} points/s): {low / 60:.1f} min charged the simulated actual "
            f"cost, {high / 60:.1f} min charged the requested cost (the worst case)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=bench_server(),
    )
    parser.add_argument("--schema", default=SCHEMA, help="dropped and made again first")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100, help="receipts a sweep claims")
    parser.add_argument("--processes", type=int, default=1, help="sweep processes at once")
    parser.add_argument("--reconcile-orders", type=int, default=100_000)
    parser.add_argument(
        "--skip", choices=["webhooks", "processing", "reconcile"], action="append", default=[]
    )
    args = parser.parse_args()
    url = tracking.prepare_schema(args.database_url, args.schema)
    config, runtime, account_id = prepare(url)
    if "webhooks" not in args.skip:
        bench_webhooks(config, account_id, args)
    if "processing" not in args.skip:
        bench_processing(runtime, account_id, args)
    if "reconcile" not in args.skip:
        bench_reconcile(runtime, account_id, args)
    runtime.engine.dispose()


if __name__ == "__main__":
    main()

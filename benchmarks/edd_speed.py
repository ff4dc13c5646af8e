"""Quote latency: in-process `estimate` (target p99 <= 1 ms) and the widget endpoint under
granian (target >= 1,500 requests/s with p99 <= 25 ms on this 2-core machine).

    python -m benchmarks.edd_speed --quotes 10000
    python -m benchmarks.edd_speed --http --duration 20 --connections 16

Both use config.yaml's demo brand (3 warehouses x 5 sandbox services) and a model trained on
a sandbox-carrier history, with every bundled postal table loaded (JP, TW, CN, IN, the EU). `--http` builds a SQLite file database with the brand and the model,
serves `wsgi_app()` as `shipflow serve` serves its app (2 workers, a thread per connection)
on 127.0.0.1 and drives it with `wrk` (Debian package) over 2,000 random ZIP codes and the brand's SKUs:
as fast as it answers (the most it serves, and the latency when every connection always waits),
then at the target's load (`--rate`, default 1,500 requests/s), each connection pausing a random
(exponential) time between requests so shoppers arrive at random rather than in step. Each run
prints the server's CPU time per request (main process and workers, from /proc), which a busy machine
distorts far less than it does the latency.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shipflow import geo
from shipflow.brands import brand_by_code, sync_brands
from shipflow.config import load_settings
from shipflow.demo.history import sandbox_history
from shipflow.edd.engine import estimate, resolve_destination, warm_up
from shipflow.edd.repository import add_history, latest_model_id, load_model
from shipflow.edd.retrain import train_brand
from shipflow.edd.service import BrandSetup
from shipflow.runtime import Runtime, settle
from shipflow.server import run, web_server
from shipflow.store.db import unit_of_work
from shipflow.store.migrate import upgrade
from shipflow.web import create_app

TRAINED_AT = datetime(2026, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def prepare_database(directory: str, orders: int) -> str:
    """A migrated SQLite file with the demo brand, its sandbox history and a trained model."""
    url = f"sqlite:///{directory}/edd-speed.db"
    upgrade(url)
    runtime = Runtime.from_settings(load_settings(environ={"SHIPFLOW_DATABASE_URL": url}))
    with unit_of_work(runtime.sessions) as session:
        brand = sync_brands(session, runtime.settings)[0]
        add_history(session, brand.id, [p.record for p in sandbox_history(orders)], "import")
        train_brand(session, brand, TRAINED_AT, runtime.settings)
    runtime.engine.dispose()
    return url


def wsgi_app():
    """The served app: the settings come from the environment, like production."""
    app = create_app(Runtime.from_settings(load_settings()))
    load_geography()
    settle()  # as `shipflow serve` does
    return app


def load_geography() -> None:
    """Every bundled postal table in memory, as a server quoting to all of them would have."""
    started = time.perf_counter()
    for country in sorted(geo.bundled_countries()):
        geo.load(country)
    took = time.perf_counter() - started
    print(f"postal tables of {len(geo.bundled_countries())} countries loaded in {took:.2f} s")


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[int(q * (len(sorted_values) - 1))]


BACKLOG_STRETCH = 1.3


def in_process(quotes: int, url: str, days: int) -> None:
    """p50/p99 of one quote over random ZIPs, for the widget's services (the brand's standard
    ones) and for every service (about what allocating an order quotes), on fresh lane caches each,
    every service stretched by a backlog (shipflow.edd.backlog)."""
    runtime = Runtime.from_settings(load_settings(environ={"SHIPFLOW_DATABASE_URL": url}))
    brand = runtime.settings.brands[0]
    setup = BrandSetup.of(brand)
    warm_up(setup.warehouses, setup.services, ["US"], range(2026, 2028))
    load_geography()
    rng = random.Random(1)
    zips = rng.sample(geo.us_postal_codes(), 2000)
    skus = sorted(setup.skus)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    # random destinations and SKUs, ordering moments spread over `days` days
    asks = [
        (rng.choice(zips), rng.choice(skus), start + timedelta(minutes=rng.randrange(days * 1440)))
        for _ in range(quotes + 200)
    ]
    for label, services in (
        ("widget (standard services)", setup.standard_services),
        ("every service", setup.services),
    ):
        with runtime.sessions() as session:  # a model fresh from storage: no lane cached
            stored = load_model(
                session, latest_model_id(session, brand_by_code(session, brand.code).id)
            )
        # every service behind a backlog: each new lane is stretched too (the costlier path)
        stored = stored.with_backlog({service.key: BACKLOG_STRETCH for service in services})
        settle()

        def quote(postal: str, sku: str, moment: datetime, model=stored, services=services):
            destination = resolve_destination("US", postal)
            return estimate(setup.warehouses, services, model, sku, 1, destination, moment)

        for ask in asks[:200]:  # warm caches
            quote(*ask)
        wall, cpu = [], []
        for ask in asks[200:]:
            t0, c0 = time.perf_counter(), time.thread_time()
            quote(*ask)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        # CPU time too: on a busy machine wall-clock p99 measures the scheduler, not the quote
        for name, timings in (("wall", wall), ("cpu", cpu)):
            timings.sort()
            p50, p99 = (percentile(timings, q) * 1000 for q in (0.5, 0.99))
            print(
                f"in-process, {label}: {quotes} quotes, {len(setup.warehouses)} warehouses x "
                f"{len(services)} services, moments over {days} days, {name}: "
                f"p50 {p50:.3f} ms, p99 {p99:.3f} ms"
            )


LUA = """
local paths = {%s}
local pause = %f
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Origin"] = "http://localhost:8000"})
end
if pause > 0 then
  -- waits drawn from an exponential of mean `pause` (shoppers arrive at random, not in step);
  -- wrk waits whole milliseconds, so round up with the probability of the fraction
  delay = function()
    local wait = -math.log(1 - math.random()) * pause
    local whole = math.floor(wait)
    return whole + ((math.random() < wait - whole) and 1 or 0)
  end
end
"""


def server_side(base: str) -> str:
    """Time spent inside the app per widget request, from the Prometheus histogram of the
    worker that answers /metrics: what the app costs, without the queueing a loaded machine
    adds (default buckets, so bounds)."""
    text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    pattern = r'shipflow_http_request_seconds_bucket\{endpoint="widget.edd",le="([^"]+)"\} (\S+)'
    counts = {float(le): float(n) for le, n in re.findall(pattern, text)}
    total = counts.get(float("inf"), 0.0)
    if not total:
        return "no samples"

    def bound(q: float) -> str:
        le = min(le for le, n in counts.items() if n >= q * total)
        return f"<= {le * 1000:g} ms"

    return f"p50 {bound(0.5)}, p99 {bound(0.99)} ({total:.0f} requests)"


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server's main process `pid` and workers,
    from /proc (Linux): divided by the requests served, the server's own cost per request,
    which the machine's load does not distort as it does the latency."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for process in (pid, *map(int, children)):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def http(url: str, directory: str, duration: int, connections: int, port: int, rate: int) -> None:
    threads = max(connections // 2, 1)  # a thread per kept-alive connection: none waits
    env = os.environ | {
        "SHIPFLOW_CONFIG": str(ROOT / "config.yaml"),
        "SHIPFLOW_DATABASE_URL": url,
        "SHIPFLOW_SECRET_KEY": secrets.token_urlsafe(32),
        "PYTHONPATH": str(ROOT),
    }
    server_command = [sys.executable, "-m", "benchmarks.edd_speed"]
    server_command += ["--serve", str(threads), "--port", str(port)]
    rng = random.Random(2)
    zips = rng.sample(geo.us_postal_codes(), 2000)
    skus = ["TENT-2P", "LANTERN", "BOOTS-42", "MUG"]
    paths = [
        f"/widget/v1/edd?brand=northwind&sku={rng.choice(skus)}&postal_code={z}&country=US"
        for z in zips
    ]
    base = f"http://127.0.0.1:{port}"

    def run(label: str, pause: float = 0.0, url_list: list[str] = paths, seconds: int = duration):
        """One wrk run on a fresh server; each connection waits `pause` ms between requests."""
        script = Path(directory) / "edd.lua"
        script.write_text(LUA % (", ".join(f'"{p}"' for p in url_list), pause))
        server = subprocess.Popen(server_command, env=env, cwd=ROOT)  # a fresh one per run
        try:
            for _ in range(300):  # wait until it answers (a loaded machine: a minute)
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                raise RuntimeError(f"the server did not answer on {base} within 60 s")
            cpu_before = server_cpu(server.pid)
            command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
            command += ["-s", str(script), base]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            cpu = server_cpu(server.pid) - cpu_before
            served = int(re.search(r"(\d+) requests in", output).group(1))
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
            p50 = re.search(r"50%\s+([\d.]+\w+)", output).group(1)
            p99 = re.search(r"99%\s+([\d.]+\w+)", output).group(1)
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
            print(
                f"http ({label}, {connections} connections, {seconds} s): {rps:.0f} "
                f"requests/s, p50 {p50}, p99 {p99}, non-2xx {errors.group(1) if errors else 0}; "
                f"server CPU {cpu * 1000 / served:.3f} ms a request; in the app (one worker): {server_side(base)}"
            )
            return rps
        finally:
            server.terminate()
            server.wait(timeout=30)

    run("2,000 random ZIPs x 4 SKUs, as fast as it answers")
    run("one ZIP, as fast as it answers", url_list=paths[:1])
    # the target's load: each connection paced so all of them offer `rate` requests a second;
    # short trials correct the pause by the time requests took at about that load
    pause = connections * 1000 / rate
    for trial in (1, 2):
        achieved = run(f"pacing trial {trial} for {rate} requests/s", pause, seconds=5)
        pause = max(pause + connections * 1000 * (1 / rate - 1 / achieved), 0.0)
    run(f"2,000 random ZIPs x 4 SKUs at {rate} requests/s", pause)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10000)
    parser.add_argument("--days", type=int, default=30, help="spread of the ordering moments")
    parser.add_argument("--orders", type=int, default=10000, help="sandbox history to train on")
    parser.add_argument("--http", action="store_true", help="also measure the widget endpoint")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate", type=int, default=1500, help="the paced run's requests/s")
    parser.add_argument("--serve", type=int, metavar="THREADS", help="be the server process")
    args = parser.parse_args()
    if args.serve:
        app = wsgi_app()
        run(web_server("127.0.0.1", args.port, workers=2, threads=args.serve), lambda: app)
        return
    if args.rate <= 0 or args.connections <= 0:
        parser.error("--rate and --connections must be positive")
    with tempfile.TemporaryDirectory() as directory:
        url = prepare_database(directory, args.orders)
        in_process(args.quotes, url, args.days)
        if args.http:
            http(url, directory, args.duration, args.connections, args.port, args.rate)


if __name__ == "__main__":
    main()

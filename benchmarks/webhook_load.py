"""Signed webhooks posted at the app under granian on 127.0.0.1 for a fixed time, by `wrk`
(or a thread pool when wrk is absent), and the figures they give: what the tracking and the
sales-channel benchmarks share. The server is this module run as a script (`--serve`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shipflow.config import load_settings  # noqa: E402
from shipflow.runtime import Runtime  # noqa: E402
from tests.tracking.fake_carrier import register  # noqa: E402


def post_for(
    config: Path, path: str, body: bytes, headers: dict, args, wrk_threads: int = 1
) -> dict:
    """Serve the app of `config` (`args.workers` web workers x `args.threads` threads),
    post `body` with `headers` to `path` from `args.connections` connections for 2 s of
    warm-up, then for `args.seconds`: the run's figures (`run_wrk`), with the server's CPU
    milliseconds per request (`cpu_ms`)."""
    port = free_port()  # other benchmarks may be running on this machine
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(config),
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        cwd=ROOT,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}{path}"
        runner = run_wrk if shutil.which("wrk") else run_pool
        runner(url, body, headers, 2, args.connections, wrk_threads)  # warm-up
        cpu_before = cpu_seconds(server.pid)
        result = runner(url, body, headers, args.seconds, args.connections, wrk_threads)
        result["cpu_ms"] = (cpu_seconds(server.pid) - cpu_before) / result["requests"] * 1000
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


def acknowledged(result: dict) -> str:
    """A run's acknowledgement latency percentiles and errors, as the benchmarks print them."""
    return (
        f"ack p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"{result['errors']} errors"
    )


def serve(config: str, port: int, workers: int, threads: int) -> None:
    """The server process: the real app, plus the test carrier the webhooks are signed for."""
    register()
    from shipflow.server import run, web_server
    from shipflow.web import create_app

    app = create_app(Runtime.from_settings(load_settings(config)))
    run(web_server("127.0.0.1", port, workers, threads), lambda: app)  # no access log


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not come up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the web workers), from /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for each in [pid, *map(int, children)]:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_wrk(
    url: str, body: bytes, headers: dict, seconds: int, connections: int, threads: int
) -> dict:
    """POST the signed `body` with `headers` (and a JSON content type) for `seconds`."""
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        + "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    )
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def millis(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": millis("50%"),
        "p99_ms": millis("99%"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "tool": "wrk",
    }


def run_pool(
    url: str, body: bytes, signed: dict, seconds: int, connections: int, _threads: int
) -> dict:
    headers = {"Content-Type": "application/json", **signed}
    stop_at = time.monotonic() + seconds

    def client() -> list[float]:
        session, latencies = requests.Session(), []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = session.post(url, data=body, headers=headers, timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 202:
                latencies[-1] = -1.0
        return latencies

    started = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        results = [
            lat for f in [pool.submit(client) for _ in range(connections)] for lat in f.result()
        ]
    elapsed = time.monotonic() - started
    ok = sorted(lat for lat in results if lat >= 0)
    return {
        "requests": len(results),
        "per_second": len(results) / elapsed,
        "p50_ms": ok[len(ok) // 2],
        "p99_ms": ok[int(len(ok) * 0.99)],
        "errors": len(results) - len(ok),
        "tool": "thread pool",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="the server process of `post_for`")
    parser.add_argument("--serve", required=True, help="the config.yaml to serve")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    serve(args.serve, args.port, args.workers, args.threads)


if __name__ == "__main__":
    main()

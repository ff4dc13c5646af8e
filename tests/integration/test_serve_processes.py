"""`shipflow serve` on the embedded default, as `make run` starts it: granian's main process, one
web worker and the jobs process beside it (`shipflow.jobs.process`). The jobs process does
the work the web worker wakes it for, is started again if it dies, and stops with the server.
Real processes on a real SQLite file; a signed sandbox webhook as the benchmark sends it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select

from benchmarks.pipeline import SECRET_KEY, bench_config, seed, webhook_requests
from shipflow.jobs.process import NAME
from shipflow.store.tracking_models import WebhookReceipt

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/comm").exists(), reason="needs Linux's /proc to name the processes"
)
SHIPFLOW = str(Path(sys.executable).parent / "shipflow")
LEAKED_ADDRESS = "203.0.113.9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> dict[int, str]:
    """The child processes of `pid`, by their name (comm)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found[int(child)] = Path(f"/proc/{child}/comm").read_text().strip()
    return found


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.1)
    raise AssertionError(f"not true after {timeout}s: {predicate}")


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`shipflow serve` on a fresh SQLite file with one brand and one labelled parcel: one
    server for the module (it takes seconds to start); the last test stops it."""
    tmp_path = tmp_path_factory.mktemp("serve")
    port = free_port()
    url = f"sqlite:///{tmp_path / 'shipflow.db'}"
    config = tmp_path / "config.yaml"
    base = f"http://127.0.0.1:{port}"
    config.write_text(
        yaml.safe_dump(
            bench_config(url, "inprocess", "redis://127.0.0.1:6379/0", free_port(), base)
        )
    )
    env = {
        **os.environ,
        "SHIPFLOW_CONFIG": str(config),
        "SHIPFLOW_SECRET_KEY": SECRET_KEY,
        # granian copies the environment into every request's: not this, which reads as a
        # client's X-Forwarded-For
        "HTTP_X_FORWARDED_FOR": LEAKED_ADDRESS,
    }
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([SHIPFLOW, *command], env=env, cwd=tmp_path, check=True)
    engine = create_engine(url)
    now = datetime.now(UTC)
    _, account_id = seed(engine, 1, now)
    proc = subprocess.Popen(
        [SHIPFLOW, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: ready(f"{base}/readyz"), 60)
        yield (
            proc,
            port,
            engine,
            webhook_requests(range(1), account_id, port, now, scans=1)[0].request(),
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        engine.dispose()


def jobs_processes(server_pid: int) -> list[int]:
    return [pid for pid, name in children(server_pid).items() if name == NAME]


def test_a_jobs_process_that_dies_is_started_again(server):
    proc, *_ = server
    (first,) = wait_for(lambda: jobs_processes(proc.pid))

    os.kill(first, signal.SIGKILL)

    (second,) = wait_for(lambda: [pid for pid in jobs_processes(proc.pid) if pid != first])
    assert gone(first)


def test_a_receipt_stores_the_request_headers_and_none_of_the_process_environment(server):
    _, port, engine, webhook = server
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(webhook)
        assert conn.recv(65536).startswith(b"HTTP/1.1 202")

    with engine.connect() as db:
        headers = db.scalar(select(WebhookReceipt.headers).order_by(WebhookReceipt.id.desc()))
    assert "X-Forwarded-For" not in headers and LEAKED_ADDRESS not in str(headers)
    assert headers["Host"] == f"127.0.0.1:{port}"


def test_the_jobs_run_beside_the_web_worker_and_stop_with_the_server(server):
    proc, port, engine, webhook = server
    processes = wait_for(lambda: len(children(proc.pid)) == 2 and children(proc.pid))
    assert sorted(processes.values()) == sorted([NAME, "shipflow"])  # and the web worker

    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(webhook)
        assert conn.recv(65536).startswith(b"HTTP/1.1 202")

    def processed() -> bool:
        with engine.connect() as db:
            return db.scalar(select(WebhookReceipt.status)) == "processed"

    wait_for(processed)  # the web worker runs no jobs: the jobs process did it, when woken

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(40) == 0
    assert all(gone(pid) for pid in processes)


def test_a_web_worker_stuck_holding_the_gil_exits_with_every_threads_stack():
    """As gunicorn's worker `timeout` did: faulthandler's timer, re-armed by a thread of the
    worker, ends a worker none of whose threads runs Python for `HUNG_S` (then granian starts
    another)."""
    stuck = "from shipflow import server; server.HUNG_S = 1; server.watch_worker(); "
    stuck += "sum(range(10**12))"  # one C loop, the GIL never let go
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", stuck], capture_output=True, timeout=60)
    assert done.returncode == 1 and time.monotonic() - started < 30
    assert b"Thread" in done.stderr and b"<string>" in done.stderr


def ended(pid: int) -> bool:
    """Gone, or a zombie its new parent has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_web_worker_whose_main_process_is_killed_stops():
    """As gunicorn's workers did when their arbiter died (the jobs process does too)."""
    orphan = """if True:
        import os, time
        from shipflow import server
        worker = os.fork()
        if worker == 0:
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1), os.dup2(quiet, 2)  # the test reads the main process's output
            try:
                server.watch_worker()
            finally:
                time.sleep(60)
                os._exit(0)
        print(worker, flush=True)
        time.sleep(1)"""
    main = subprocess.run([sys.executable, "-c", orphan], capture_output=True, timeout=60)
    worker = int(main.stdout)
    wait_for(lambda: ended(worker), 15)

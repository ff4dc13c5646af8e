"""Real processes for the fault tests: the service (`shipflow serve`, Celery worker and beat
through `process_main`), a private Redis and signed webhooks sent over HTTP."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.tracking.fake_carrier import fake_config, sign

ROOT = Path(__file__).resolve().parents[2]
needs_services = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("SHIPFLOW_TEST_POSTGRES_URL"),
        reason="fault tests run real processes on PostgreSQL: set SHIPFLOW_TEST_POSTGRES_URL",
    ),
]
needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp_path: Path, database_url: str, **top: Any) -> Path:
    raw = fake_config(database_url)
    raw.update(top)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def shipflow(config: Path, *args: str, **env: str) -> subprocess.Popen:
    """`shipflow --config CONFIG ARGS...` in its own process group (to kill it whole)."""
    log = (config.parent / f"{args[0]}.log").open("ab")  # read it when a test fails
    return subprocess.Popen(
        [sys.executable, "-m", "tests.tracking.process_main", "--config", str(config), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def serve(config: Path, port: int, **env: str) -> subprocess.Popen:
    process = shipflow(config, "serve", "--host", "127.0.0.1", "--port", str(port), **env)
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=60)
    except BaseException:
        stop(process)
        raise
    return process


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def stop(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the whole process group (the server's main process and workers, Celery's pool)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
    process.wait(timeout=30)


def redis_server(port: int, directory: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until(lambda: _port_open(port), timeout=10)
    return process


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not reached within {timeout} s"
        time.sleep(0.1)


def post_signed(port: int, account_id: str, body: bytes, timeout: float = 10) -> requests.Response:
    return requests.post(
        f"http://127.0.0.1:{port}/webhooks/fake/{account_id}",
        data=body,
        headers={"X-Fake-Signature": sign(body), "Content-Type": "application/json"},
        timeout=timeout,
    )

"""The embedded default's jobs process: `shipflow serve` runs the in-process runner in a
process of its own beside the web worker, so requests and jobs do not share one GIL (sharing
it, one process took 55-90 webhooks/s end to end and fell minutes behind; docs/benchmarks.md).

It is forked from the server's main process (so it shares the settled runtime's pages and the
demo's clock), started again by a thread of that process if it dies, and stopped after the web
workers, finishing the jobs it is running. The web worker reaches it through a datagram socket
made before the fork: `wake` and `submit` are one message each, sent without waiting. A
message the full socket refuses costs a delay, not work: every periodic job's sweep finds what
a wake announced, and `allocation.queued_batches` what a submission did."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipflow.jobs.inprocess import InProcessRunner

if TYPE_CHECKING:
    from shipflow.runtime import Runtime

log = logging.getLogger(__name__)

NAME = "shipflow-jobs"  # the process's name (comm) on Linux
MAX_MESSAGE = 65536
# The GIL's switch interval in the jobs process (Python's default: 5 ms). The e-mail delivery
# waits on its SMTP server four times a message, and each time it wants the GIL back from the
# receipts' and the outbox's threads, which under load hold it for the whole interval: at
# 5 ms one connection sent 6-7 messages a second beside two busy threads, at 1 ms 21-25
# (docs/benchmarks.md, "Batches under load").
SWITCH_INTERVAL_S = 0.001
SUPERVISE_EVERY_S = 1.0  # how often the server's main process looks whether it still runs


class JobsClient:
    """The web worker's runner (`app.extensions["shipflow.jobs"]`): hands work to the jobs
    process and never waits for it."""

    def __init__(self, channel: socket.socket) -> None:
        self._channel = channel

    def submit(self, name: str, **kwargs: Any) -> None:
        self._send({"submit": name, "kwargs": kwargs})

    def wake(self, name: str) -> None:
        self._send({"wake": name})

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self._channel.send(json.dumps(message).encode(), socket.MSG_DONTWAIT)
        except BlockingIOError:
            log.warning("jobs process not keeping up; %s left to its periodic sweep", message)


class JobsProcess:
    def __init__(self, runtime: Runtime, stop_timeout: float = 30.0) -> None:
        self.runtime = runtime
        self.stop_timeout = stop_timeout  # seconds to finish the jobs in flight, then SIGKILL
        self._web_end, self._jobs_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.pid: int | None = None
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    def client(self) -> JobsClient:
        return JobsClient(self._web_end)

    def supervise(self) -> None:
        """Start it, and a thread that starts it again if it dies, until `stop`."""
        self.start()
        self._supervisor = threading.Thread(
            target=self._keep_running, name="shipflow-jobs-supervisor", daemon=True
        )
        self._supervisor.start()

    def start(self) -> None:
        """Fork the jobs process (the server listens in its web workers, not here: nothing
        of theirs to close in it)."""
        pid = os.fork()
        if pid:
            self.pid = pid
            log.info("jobs process started (pid %d)", pid)
            return
        code = 0
        try:
            self._run()
        except BaseException:
            log.exception("jobs process failed")
            code = 1
        finally:
            os._exit(code)

    def _keep_running(self) -> None:
        while not self._stopping.wait(SUPERVISE_EVERY_S):
            pid = self.pid
            if pid is not None and self._exited(pid) and not self._stopping.is_set():
                log.error("jobs process (pid %d) is gone; starting another", pid)
                self.start()

    def stop(self) -> None:
        """SIGTERM: it stops scheduling, finishes the jobs it runs and exits; SIGKILL after
        `stop_timeout` seconds."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join()
        pid, self.pid = self.pid, None
        if pid is None or self._exited(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline:
            if self._exited(pid):
                return
            time.sleep(0.05)
        log.error("jobs process (pid %d) still running after %gs: killed", pid, self.stop_timeout)
        os.kill(pid, signal.SIGKILL)
        self._exited(pid)

    @staticmethod
    def _exited(pid: int) -> bool:
        """Reaped here (or already: a second look after the first reaped it)."""
        try:
            return os.waitpid(pid, os.WNOHANG)[0] == pid
        except ChildProcessError:
            return True

    def _run(self) -> None:
        with contextlib.suppress(OSError):  # Linux: `ps -o comm` and `top` tell it from the web
            Path("/proc/self/comm").write_text(NAME)
        stopping = threading.Event()
        # Stopped by the server's main process (SIGTERM); not by the terminal's Ctrl-C
        # (SIGINT), nor by granian's reload signal (SIGHUP) that the fork copied a handler of.
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        server = os.getppid()
        runner = InProcessRunner(self.runtime).start()
        threading.Thread(
            target=self._listen, args=(runner,), name="shipflow-jobs-channel", daemon=True
        ).start()
        while not stopping.wait(1.0):
            if os.getppid() != server:  # the server died without stopping us
                log.error("jobs process: the server is gone; stopping")
                break
        runner.stop(wait=True)

    def _listen(self, runner: InProcessRunner) -> None:
        while True:
            message = json.loads(self._jobs_end.recv(MAX_MESSAGE))
            if "submit" in message:
                runner.submit(message["submit"], **message["kwargs"])
            else:
                runner.wake(message["wake"])

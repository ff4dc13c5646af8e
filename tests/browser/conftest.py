"""A live shipflow (werkzeug on 127.0.0.1, a thread) on a SQLite file, and Debian's Chromium
driven by Playwright. Reusable by every browser test: `live_server`, `browser`, `page`,
`screenshot`."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from shipflow import geo
from shipflow.config import load_settings
from shipflow.runtime import Runtime
from shipflow.web import create_app
from tests.fakes import TEST_SECRET_KEY

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="Chromium not installed: apt-get install chromium")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


class LiveServer:
    """The app served from a thread; `url(path)` builds addresses on it."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.app = create_app(runtime)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


@pytest.fixture(scope="session")
def _warm_indexes():
    """Build the ZIP index once up front: on a busy machine it takes seconds, which would
    otherwise land on the first page load of some test."""
    geo.locate("US", "10001")


@pytest.fixture
def live_server(tmp_path, sqlite_template, clock, _warm_indexes):
    """A fresh migrated SQLite file per test and the test's FixedClock."""
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    settings = load_settings(
        ROOT / "config.yaml",
        environ={
            "SHIPFLOW_DATABASE_URL": f"sqlite:///{path}",
            "SHIPFLOW_SECRET_KEY": TEST_SECRET_KEY,
        },
    )
    runtime = Runtime.from_settings(settings, clock=clock)
    server = LiveServer(runtime).start()
    yield server
    server.stop()
    runtime.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 420, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.set_default_navigation_timeout(20000)
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name") -> test-artifacts/<test>-<name>.png (full page)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

"""Browser tests: Debian's chromium driven by Playwright against a live server
on the test database. A missing browser fails the run (``make test`` installs
it); it is never skipped."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.db import Urls
from tests.web import close_app, make_app

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` (or apt-get install chromium) installs it")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo_server(module_database):
    """The portal with the demo data, served on a free local port for the module."""
    from portal.demo import load_demo
    load_demo(Urls(app=module_database.app_dsn, owner=module_database.owner_dsn), progress=False)
    app = make_app(module_database, DATABASE_POOL_SIZE=4, TESTING=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", module_database
    server.shutdown()
    thread.join()
    close_app()


@pytest.fixture()
def page(browser):
    """A fresh browser context per test; script errors and console errors (CSP violations
    included) are collected. A 422 is a form answer, not an error: chromium still logs it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []

    def console(message):
        if message.type == "error" and "status of 422" not in message.text:
            page.console_errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # caret="initial": Playwright would otherwise leave style="" on inputs, which the CSP reports
    # when htmx later copies the attribute into a swapped form.
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path

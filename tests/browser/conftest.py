"""Browser tests: Debian's chromium driven by Playwright against a live server
on the test database. A missing browser fails the run (``make test`` installs
it); it is never skipped."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.web import close_app, make_app

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# axe-core, an npm devDependency (package.json): installed by `make setup`, never served by the app.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__axe-core__/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1280, 390)   # a laptop and a phone
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
def demo_server(demo_database):
    """The portal on the module's copy of the demo data (loaded once per run, tests/conftest.py),
    served on a free local port."""
    app = make_app(demo_database, DATABASE_POOL_SIZE=4, TESTING=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", demo_database
    server.shutdown()
    thread.join()
    close_app()


@pytest.fixture(scope="module")
def mail_server(demo_database, tmp_path_factory):
    """The portal on the module's copy of the demo data (as demo_server), with a capture mailbox of
    its own: what the worker sends there (run_email_worker), the server's /dev/mail/ shows."""
    mailbox = tmp_path_factory.mktemp("mail") / "box"
    app = make_app(demo_database, DATABASE_POOL_SIZE=4, TESTING=False, MAIL_BACKEND="capture",
                   MAIL_CAPTURE_DIR=str(mailbox))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", demo_database, mailbox
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


def check_accessibility(page, name: str) -> None:
    """axe-core finds no WCAG 2.1 A or AA violation on the page as it is now, at 1280 and at 390 px wide.

    The page's CSP allows scripts from 'self' only, so axe cannot go in as an inline script
    (``add_script_tag(path=...)`` would be refused and logged as a CSP error): it is served at a
    same-origin address that exists only in this browser (``page.route``), and added by URL.
    axe runs in the page: a context with JavaScript off cannot be checked (the call would wait forever).
    """
    assert AXE.exists(), f"{AXE} is missing: `make setup` (npm ci) installs axe-core"
    if not page.evaluate("typeof window.axe === 'object'"):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        url = origin + AXE_PATH
        page.route(url, lambda route: route.fulfill(path=AXE, content_type="text/javascript"))
        try:
            page.add_script_tag(url=url)
        finally:
            page.unroute(url)
    viewport, scrolled = page.viewport_size, page.evaluate("[scrollX, scrollY]")
    found = []
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": viewport["height"]})
            for violation in page.evaluate(AXE_RUN, WCAG_TAGS):
                found.append(f"{width}px {violation['id']} ({violation['impact']}): {violation['help']}\n"
                             f"    {violation['helpUrl']}\n"
                             + "".join(f"    {target}: {summary}\n" for target, summary in violation["nodes"]))
    finally:
        # The page as it was: its size, and its scroll position, which the narrow layout moved (left
        # moved, chromium's next click lands off its target).
        page.set_viewport_size(viewport)
        page.evaluate("([x, y]) => window.scrollTo(x, y)", scrolled)
    if found:
        raise AssertionError(f"accessibility violations on {name}:\n" + "".join(found))


AXE_RUN = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(results => results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.slice(0, 8).map(n => [n.target.join(' '), (n.failureSummary || '').replace(/\\s+/g, ' ')])
  })))"""


def sign_in(page, base: str, email: str, password: str | None = None, lands: str | None = "/dashboard") -> None:
    """Sign in through the form (the demo's password unless given); then, unless ``lands`` is None,
    expect the page ``lands`` (an instructor's dashboard by default)."""
    from playwright.sync_api import expect

    from portal.demo import DEMO_PASSWORD
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if lands is not None:
        expect(page).to_have_url(f"{base}{lands}")


WORKER = """
import sys
from tests.support import Database
from tests.test_jobs import _run_worker
_run_worker(Database(sys.argv[1], sys.argv[2]), MAIL_BACKEND="capture", MAIL_CAPTURE_DIR=sys.argv[3],
            PORTAL_URL=sys.argv[4])
"""


def run_email_worker(database, mailbox, base: str) -> None:
    """Run every due job of the email queue (tests.test_jobs._run_worker) in a process of its own, as
    in production (in this process its app would rebind the live server's database handle): emails
    go into the capture ``mailbox`` with links to ``base``."""
    done = subprocess.run([sys.executable, "-c", WORKER, database.owner_dsn, database.app_dsn, str(mailbox), base],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]

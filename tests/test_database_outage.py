"""The database out of reach, and a statement that runs too long: 503 pages, never 500s.

The outage test runs the portal as ``python -m portal run`` does (gunicorn, the same
command) against a PostgreSQL of its own, which it stops and starts again under the
running portal: meanwhile every request is a 503 with Retry-After (the message fragment
for htmx) and the log holds one line about it, not a traceback per request; afterwards
the same gunicorn answers again, its pool having dropped the dead connections.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time

import pytest
from flask import jsonify

from portal import db, errors, serve
from tests.web import close_app, htmx, make_app, text

STOP_TIMEOUT = 30  # seconds PostgreSQL may take to shut down


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, headers: dict | None = None):
    """(status, headers, body) of a GET, whatever the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@pytest.fixture()
def own_server(tmp_path, monkeypatch):
    """A PostgreSQL for this test alone (the embedded package's, under tmp_path), migrated."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", os.environ.get("XDG_RUNTIME_DIR", ""))  # start_embedded sets it
    server = db.start_embedded(tmp_path / "pg")
    urls = db.prepare(db.embedded_admin_dsn(server))
    db.migrate(urls.owner)
    yield server, urls
    server.cleanup()


def stop(server) -> None:
    """Fast shutdown (SIGINT to the postmaster), then wait until the postmaster is gone."""
    pid = server.get_pid()
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)  # polling for the process to exit, bounded by the deadline
    raise AssertionError(f"PostgreSQL (pid {pid}) did not stop within {STOP_TIMEOUT} s")


@pytest.fixture()
def portal(own_server, tmp_path):
    """gunicorn serving the portal (one worker) on the test's own server; its log in a file."""
    server, urls = own_server
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    environment = dict(os.environ, DATABASE_URL=urls.app, SECRET_KEY="test-secret-" + "x" * 32)
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(serve.gunicorn_command("127.0.0.1", port, 1), env=environment,
                                   cwd=str(db.ROOT), stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            serve.wait_until_listening("127.0.0.1", port, process)
            yield server, port, log_path
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_an_outage_is_a_503_and_the_portal_recovers_without_a_restart(portal):
    """Up: 200. Down: 503 + Retry-After (page and htmx fragment), logged once. Up again: 200. And a
    restart between two requests: the pooled connection it killed is dropped, not handed out."""
    server, port, log_path = portal
    assert get(port, "/catalog/")[0] == 200  # the pool now holds a connection

    stop(server)
    for _ in range(3):
        status, headers, body = get(port, "/catalog/")
        assert status == 503 and headers["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
        assert "<html" in body and errors.UNREACHABLE[1] in body
        assert "Content-Security-Policy" in headers
    status, headers, body = get(port, "/catalog/", htmx())
    assert status == 503 and "Retry-After" in headers and headers["HX-Retarget"] == "#messages"
    assert "<html" not in body and errors.UNREACHABLE[0] in body
    log = log_path.read_text()
    assert log.count("database unreachable") == 1, log
    assert "Traceback" not in log, log

    server.ensure_postgres_running()
    status, _, body = get(port, "/catalog/")
    assert status == 200, body
    log = log_path.read_text()
    assert "database reachable again" in log and "Traceback" not in log, log

    stop(server)  # no request while it is down: the pool still holds the dead connection
    server.ensure_postgres_running()
    status, _, body = get(port, "/catalog/")
    assert status == 200, body
    assert log_path.read_text() == log, "nothing failed, so nothing was logged"


# --- the statement timeout ----------------------------------------------------------------

@pytest.fixture()
def slow_app(database):
    """The app with a 200 ms statement timeout, one pooled connection, and two probe routes."""
    app = make_app(database, DATABASE_POOL_SIZE=1, DATABASE_STATEMENT_TIMEOUT_MS=200, PROPAGATE_EXCEPTIONS=False)

    @app.route("/_slow")
    def slow():
        db.database.execute_sql("SELECT pg_sleep(60)")  # cancelled by the timeout long before
        return "finished"

    @app.route("/_setting")
    def setting():
        timeout, pid = db.database.execute_sql("SELECT current_setting('statement_timeout'), "
                                               "pg_backend_pid()").fetchone()
        return jsonify(timeout=timeout, pid=pid)

    yield app
    close_app()


def test_a_statement_over_the_timeout_is_a_503_and_the_connection_is_kept(slow_app):
    """The request's statement_timeout cancels a runaway statement: a 503 page ("took too long"),
    a fragment for htmx, and the same pooled connection serves the next request."""
    client = slow_app.test_client()
    before = client.get("/_setting").get_json()
    assert before["timeout"] == "200ms"
    response = client.get("/_slow")
    assert response.status_code == 503 and response.headers["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert errors.TOO_SLOW[0] in text(response) and "<html" in text(response)
    fragment = client.get("/_slow", headers=htmx())
    assert fragment.status_code == 503 and "<html" not in text(fragment)
    assert fragment.headers["HX-Retarget"] == "#messages"
    assert client.get("/_setting").get_json() == before, "the connection was kept, not dropped"
    with slow_app.app_context():
        db.database.connect(reuse_if_open=True)
        try:
            outside = db.database.execute_sql("SELECT current_setting('statement_timeout')").fetchone()[0]
        finally:
            db.database.close()
    assert outside == "0", "the timeout is transaction-local: the pooled connection keeps none"


def test_gunicorn_waits_longer_than_the_statement_timeout(monkeypatch):
    """`python -m portal run` gives gunicorn a --timeout above the database's statement timeout."""
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "45000")
    command = serve.gunicorn_command("127.0.0.1", 5000, 1)
    assert int(command[command.index("--timeout") + 1]) > 45

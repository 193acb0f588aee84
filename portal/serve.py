"""``python -m portal run``: the whole portal from one command.

Starts the embedded PostgreSQL (unless ``DATABASE_URL`` names a server),
migrates, loads the demo data on the first run, and serves the app with
gunicorn on 127.0.0.1, with one job worker beside it, until Ctrl-C, which stops
gunicorn, the worker and the embedded server together.
"""

from __future__ import annotations

import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

import click

from portal import assets, config, db

READY_TIMEOUT = 60  # seconds gunicorn may take to accept connections


def worker_count() -> int:
    """gunicorn's rule of thumb, 2 x cores + 1, capped so the pools stay small."""
    return min(2 * (os.cpu_count() or 1) + 1, 9)


def gunicorn_timeout(statement_timeout_ms: int) -> int:
    """Seconds gunicorn lets a worker spend on one request before killing it: well above the
    database's statement timeout, so that a slow statement is cancelled by PostgreSQL (a 503
    page, the connection kept) long before gunicorn would kill the worker (a dropped connection)."""
    return math.ceil(statement_timeout_ms / 1000) + 30


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--timeout", str(gunicorn_timeout(config.statement_timeout_ms())),
            "--access-logfile", "-", "--log-level", "warning", "wsgi:app"]


def development_secret() -> str:
    """A random secret kept under instance/ (mode 0600), so sessions survive
    restarts without a secret in the repository or a shared default."""
    path = db.INSTANCE_DIR / "secret_key"
    if not path.exists():
        db.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def wait_until_listening(host: str, port: int, process: subprocess.Popen) -> None:
    """Return once ``host:port`` accepts connections; fail if gunicorn exits first."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"gunicorn exited with status {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)  # a readiness poll, not a wait for a race
    raise click.ClickException(f"gunicorn did not listen on {host}:{port} within {READY_TIMEOUT} s")


class Supervised:
    """A child process started again whenever it stops, until ``stop()`` (the job worker: a lost
    database connection, for one, ends procrastinate's run)."""

    RESTART_DELAY = 2  # seconds between a stop and the next start, so a failing start does not spin

    def __init__(self, command: list[str], environment: dict):
        self.command, self.environment = command, environment
        self.stopping = threading.Event()
        self.process = self._start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, env=self.environment, cwd=str(db.ROOT), stdout=subprocess.DEVNULL)

    def _watch(self) -> None:
        while True:
            status = self.process.wait()
            if self.stopping.wait(self.RESTART_DELAY):
                return
            click.echo(f"the job worker stopped (status {status}); starting it again", err=True)
            self.process = self._start()

    def stop(self) -> None:
        self.stopping.set()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=worker_count(), show_default=True, type=int, help="gunicorn workers.")
@click.option("--demo/--no-demo", default=None,
              help="Load the demo data if it is missing (default: yes for the embedded server only).")
def run(host: str, port: int, workers: int, demo: bool | None) -> None:
    """Set up and serve the portal; print its URL and demo sign-ins."""
    from portal import demo as demo_data

    started = time.monotonic()
    if assets.missing():
        raise click.ClickException(f"front-end files missing ({', '.join(assets.missing())}): run `make setup`")
    urls, server = db.database_urls()
    applied = db.migrate(urls.owner)
    if applied:
        click.echo(f"applied migrations: {', '.join(applied)}")
    with_demo = demo if demo is not None else server is not None
    if with_demo:
        click.echo("loading demo data (first run only)...")
        if not demo_data.load_demo(urls):
            click.echo("demo data already present")

    environment = dict(os.environ, DATABASE_URL=urls.app)
    if "SECRET_KEY" not in environment and environment.get("PORTAL_ENV") != "production":
        environment["SECRET_KEY"] = development_secret()

    environment.setdefault("PORTAL_URL", f"http://{host}:{port}")
    process = subprocess.Popen(gunicorn_command(host, port, workers), env=environment, cwd=str(db.ROOT))
    # One job worker beside gunicorn (emails, reminders, the schedule); `python -m portal worker`
    # runs more, here or on other machines.
    jobs = Supervised([sys.executable, "-m", "portal", "worker"], environment)
    # SIGTERM (from a supervisor) stops everything the way Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        wait_until_listening(host, port, process)
        click.echo(f"\nThe portal is running at http://{host}:{port}/ "
                   f"(ready in {time.monotonic() - started:.1f} s, {workers} workers, 1 job worker)")
        if with_demo:
            click.echo("\n".join(demo_data.login_lines()))
        if environment.get("PORTAL_ENV") != "production" and environment.get("MAIL_BACKEND", "capture") == "capture":
            click.echo(f"Emails are not sent in development: read them at http://{host}:{port}/dev/mail/")
        click.echo("Ctrl-C stops the portal and its database.\n")
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        jobs.stop()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        click.echo("stopped")
    # The embedded server stops when this process exits (cleanup_mode="stop").

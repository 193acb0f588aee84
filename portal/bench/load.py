"""The HTTP side: gunicorn serving ``portal.bench.wsgi`` on a free loopback port,
signed in as the largest instructor, and a bounded load from 8 threads.

Every number is bounded: a fixed number of requests per page, a per-request
socket timeout, and a time budget per page after which no new request
starts. A page that times out or fails is reported with its error count
instead of stopping the run. Server time is read from the ``Server-Timing``
header the bench WSGI adds; client time (which includes queueing behind the
other threads and this process's own CPU) is reported beside it.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass

from portal import db, serve
from portal.bench.timing import ms, percentile

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
USER_AGENT = "portal-bench/1"
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app_url: str, bare_course, workers: int, timeout: int):
    """gunicorn on a free loopback port with the bench WSGI; stopped on exit. Yields the port."""
    port = free_port()
    environment = dict(os.environ, DATABASE_URL=app_url, SECRET_KEY=secrets.token_urlsafe(48),
                       BENCH_BARE_COURSE=str(bare_course), PORTAL_ENV="development")
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", str(workers),
               "--timeout", str(timeout), "--log-level", "warning", "portal.bench.wsgi:app"]
    process = subprocess.Popen(command, env=environment, cwd=str(db.ROOT))
    try:
        serve.wait_until_listening(HOST, port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _cookies(response, jar: dict) -> None:
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]


def sign_in(port: int, email: str, password: str) -> str:
    """The Cookie header of a signed-in session (through the real sign-in form)."""
    jar: dict = {}
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("GET", "/sign-in", headers={"User-Agent": USER_AGENT})
    response = conn.getresponse()
    page = response.read().decode()
    _cookies(response, jar)
    token = CSRF_FIELD.search(page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password})
    conn.request("POST", "/sign-in", body=body, headers={
        "User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    response = conn.getresponse()
    response.read()
    _cookies(response, jar)
    conn.close()
    if response.status not in (302, 303):
        raise RuntimeError(f"sign-in as {email} answered {response.status}")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


@dataclass
class Outcome:
    server: list
    client: list
    errors: dict
    seconds: float

    def report(self) -> dict:
        return {"requests": len(self.client), "errors": self.errors,
                "server_p50_ms": ms(percentile(self.server, 0.5)), "server_p95_ms": ms(percentile(self.server, 0.95)),
                "client_p50_ms": ms(percentile(self.client, 0.5)), "client_p95_ms": ms(percentile(self.client, 0.95)),
                "throughput_rps": round(len(self.client) / self.seconds, 2) if self.seconds else None}


def hammer(port: int, path: str, cookie: str, requests: int, concurrency: int, timeout: float,
           budget: float, headers: dict | None = None) -> Outcome:
    """``requests`` GETs of ``path`` (with ``headers``) from ``concurrency`` threads; none starts after
    ``budget`` seconds."""
    lock = threading.Lock()
    left = [requests]
    server, client, errors = [], [], {}
    deadline = time.monotonic() + budget

    def worker():
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        while True:
            with lock:
                if left[0] <= 0 or time.monotonic() > deadline:
                    break
                left[0] -= 1
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Cookie": cookie, **(headers or {})})
                response = conn.getresponse()
                response.read()
                took = time.perf_counter() - started
                timing = SERVER_TIMING.search(response.getheader("Server-Timing") or "")
                with lock:
                    if response.status == 200:
                        client.append(took)
                        if timing:
                            server.append(float(timing.group(1)) / 1000)
                    else:
                        errors[str(response.status)] = errors.get(str(response.status), 0) + 1
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + budget + 5)
    return Outcome(server, client, errors, time.monotonic() - started)


def throughput(port: int, cookie: str, pages: dict, requests: int, concurrency: int, timeout: float,
               budget: float, rounds: int = 3) -> dict:
    """Requests per second of each page in ``pages`` (name -> path), alternated in rounds; medians."""
    rates: dict = {name: [] for name in pages}
    for round_ in range(rounds):
        order = list(pages.items()) if round_ % 2 == 0 else list(reversed(pages.items()))
        for name, path in order:
            outcome = hammer(port, path, cookie, requests, concurrency, timeout, budget)
            rates[name].append(outcome.report()["throughput_rps"] or 0)
    return {name: sorted(values)[len(values) // 2] for name, values in rates.items()}

"""The WSGI application the benchmark serves with gunicorn: the portal, timed.

Nothing here is part of the product's routes. It wraps ``create_app()`` in a
middleware that adds ``Server-Timing: app;dur=<ms>`` to every response (the
time from the request's arrival to its finished response, measured inside
the worker, so the load generator's own CPU and queueing do not count), and
mounts a bare Flask page at ``/_bench/bare`` that does one primary-key
SELECT through the same pool: the floor against which the dashboard's
throughput is compared.

    gunicorn portal.bench.wsgi:app      (BENCH_BARE_COURSE: the course the bare page reads)
"""

from __future__ import annotations

import os
import time

from flask import Flask, abort
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from portal import create_app, db
from portal.models import Course


class ServerTiming:
    """Adds the server time of each response as a Server-Timing header.

    Flask calls ``start_response`` once the view has run, the template is
    rendered and the transaction committed, so the duration covers all of it.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        started = time.perf_counter()

        def timed(status, headers, exc_info=None):
            headers.append(("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.2f}"))
            return start_response(status, headers, exc_info)

        return self.app(environ, timed)


def bare_app() -> Flask:
    """One anonymous transaction (role and claims, as every request) and one primary-key SELECT."""
    bare = Flask("portal_bench_bare")
    course_id = os.environ.get("BENCH_BARE_COURSE")

    @bare.route("/bare")
    def page():
        with db.request_context(None):
            course = Course.select(Course.id, Course.title).where(Course.id == course_id).first()
        if course is None:
            abort(404)
        return course.title

    return bare


portal = create_app()
app = ServerTiming(DispatcherMiddleware(portal, {"/_bench": bare_app()}))

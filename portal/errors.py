"""Error pages: full pages for browsers, fragments for htmx.

A refused database write never becomes a 500: a constraint violation is a
422 with a plain message, and a row-level security refusal is a 404 (what
one may not touch does not exist). Both roll the request's transaction back.

A database out of reach (down, restarting, a broken connection) is a 503 with
``Retry-After``, and so is a statement cancelled by the request's
``statement_timeout`` ("this page took too long"). The 503 page stands alone
(no signed-in header, which would need the database). An outage is logged in
one line when it starts and one when the database answers again, per process,
not a traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import g, render_template, request
from flask_wtf.csrf import CSRFError
from peewee import DataError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException

from portal import db
from portal.web import is_partial

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
UNREACHABLE = ("Temporarily unavailable", "The portal cannot reach its database just now. Nothing was saved; "
                                          "please try again in a moment.")
TOO_SLOW = ("This page took too long", "It was stopped so that the portal stays quick for everyone. Nothing "
                                       "was saved; please try again in a moment.")

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "You do not have access to this."),
    404: ("Not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "What you sent is too large."),
    422: ("Please check your input", "Some of what you entered was not accepted."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: ("Something went wrong", "We could not finish that. Nothing was saved; please try again."),
}


def error_response(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, MESSAGES[500])
    if "transaction" not in g:  # a static file: no database, no page around the error
        return f"{status} {title}", status, {"Content-Type": "text/plain; charset=utf-8"}
    context = {"status": status, "title": title, "message": message or default}
    if is_partial():
        # htmx swaps error fragments into the message area (see base.html's htmx-config).
        body = render_template("errors/_error.html", **context)
        return body, status, {"HX-Retarget": "#messages", "HX-Reswap": "beforeend"}
    return render_template("errors/error.html", **context), status


class Outage:
    """Whether this process found the database out of reach, so that an outage is logged
    once when it starts (``begin``) and once when a request gets through again (``end``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.since: float | None = None

    def begin(self, exc: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        original = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        reason = (str(original).strip().splitlines() or [type(original).__name__])[0]
        log.error("database unreachable, answering 503 until it is back: %s", reason)

    def end(self) -> None:
        if self.since is None:  # the usual case: one attribute read per request
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            log.warning("database reachable again after %.1f s", time.monotonic() - since)


outage = Outage()


def unavailable(title: str, message: str):
    """The 503 answer: the standalone page, or the message fragment for htmx."""
    context = {"status": 503, "title": title, "message": message}
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_partial():
        headers.update({"HX-Retarget": "#messages", "HX-Reswap": "beforeend"})
        return render_template("errors/_error.html", **context), 503, headers
    return render_template("errors/unavailable.html", **context), 503, headers


def database_trouble(exc: BaseException):
    """The 503 answer to a statement timeout or a database out of reach; None for any other error."""
    if db.sqlstate(exc) == db.QUERY_CANCELED:
        log.warning("statement timeout: %s %s", request.method, request.path)
        return unavailable(*TOO_SLOW)
    if isinstance(exc, InterfaceError) or db.connection_lost(exc):
        outage.begin(exc)
        return unavailable(*UNREACHABLE)
    return None


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        return error_response(400, "This form has expired or was not sent from this site. "
                                   "Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc):
        return error_response(exc.code or 500)

    @app.errorhandler(IntegrityError)
    @app.errorhandler(DataError)
    def refused_value(exc):
        g.database_failed = True
        log.info("database refused a value: %s", db.sqlstate(exc))
        return error_response(422)

    @app.errorhandler(ProgrammingError)
    def refused_access(exc):
        g.database_failed = True
        if db.sqlstate(exc) == db.INSUFFICIENT_PRIVILEGE:
            return error_response(404)
        raise exc

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_failed(exc):
        g.database_failed = True
        answer = database_trouble(exc)
        if answer is None:
            raise exc  # a deadlock or the like: the 500 page, with its traceback in the log
        return answer

    @app.errorhandler(500)
    def server_error(exc):
        return error_response(500)

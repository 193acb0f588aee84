"""Error pages: full pages for browsers, fragments for htmx.

A refused database write never becomes a 500: a constraint violation is a
422 with a plain message, and a row-level security refusal is a 404 (what
one may not touch does not exist). Both roll the request's transaction back.
"""

from __future__ import annotations

import logging

from flask import g, render_template
from flask_wtf.csrf import CSRFError
from peewee import DataError, IntegrityError, ProgrammingError
from werkzeug.exceptions import HTTPException, NotFound

from portal import db
from portal.web import is_partial

log = logging.getLogger(__name__)

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

    @app.errorhandler(500)
    def server_error(exc):
        return error_response(500)

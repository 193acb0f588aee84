"""The instructor portal: ``create_app()`` builds the Flask application.

Every request is one database transaction that first sets the role
(``anon`` or ``authenticated``) and the claims: row-level security in the
database decides what the request may see. See ``portal.db``.
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, abort, g, make_response, request, session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from peewee import InterfaceError, OperationalError

from portal import config as portal_config
from portal import db, errors, forms

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
# "strong": a session cookie replayed from another browser is dropped.
login_manager.session_protection = "strong"

# Endpoints that never touch the database (no transaction is opened).
STATIC_ENDPOINTS = {"static", "assets.vendor", "health.live"}

BLUEPRINTS = ("auth", "dashboard", "courses", "workshops", "students", "revenue", "reviews",
              "settings", "account", "catalog", "learning", "enrollment", "admin", "organization", "notifications",
              "health", "outreach", "moderation", "audit",
              "discussions")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.update(portal_config.from_environment())
    app.config.update(config or {})
    portal_config.check(app.config)

    db.open_database(app.config["DATABASE_URL"], max_connections=app.config["DATABASE_POOL_SIZE"],
                     statement_timeout_ms=app.config["DATABASE_STATEMENT_TIMEOUT_MS"])
    # Flask runs after_request hooks last-registered first: registered before the
    # transaction's, this one runs after it, so a response that replaces a failed
    # commit carries the headers too.
    app.after_request(_security_headers)
    # First, so that every later hook (CSRF included) runs inside the transaction.
    _register_request_transaction(app)
    app.before_request(_refuse_nul_in_path)
    app.before_request(forms.drop_nul_from_query)  # and BaseForm cleans every form: portal/forms.py
    csrf.init_app(app)
    login_manager.init_app(app)
    from portal.auth.queries import load_user  # here: the areas import this package's csrf
    login_manager.user_loader(load_user)

    from portal import assets
    app.register_blueprint(assets.bp)
    for name in BLUEPRINTS:
        module = __import__(f"portal.{name}", fromlist=["bp"])
        app.register_blueprint(module.bp)
    errors.register(app)
    _register_template_helpers(app)
    logging.getLogger("portal").setLevel(logging.INFO)
    return app


# No inline script or style anywhere (htmx runs with allowEval off), so the
# policy can be strict. Images and lesson videos may come from the
# instructor's https hosts (thumbnails, video lessons).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
                           "media-src 'self' https:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")  # pages hold private figures
    return response


def _refuse_nul_in_path():
    """No address of the portal holds a NUL character (PostgreSQL refuses one in text):
    such a request is a 404, answered before any view reads its arguments."""
    if "\x00" in request.path:
        abort(404)


def _session_user_id():
    """The user id the session claims, if it is a well-formed one."""
    raw = session.get("_user_id")
    try:
        return uuid.UUID(raw) if raw else None
    except (ValueError, TypeError):
        return None


def _register_request_transaction(app: Flask) -> None:
    """One request, one transaction: role and claims first, commit or roll back last."""

    @app.before_request
    def open_transaction():
        if request.endpoint in STATIC_ENDPOINTS:
            return
        db.database.connect(reuse_if_open=True)
        transaction = db.database.atomic()
        transaction.__enter__()
        g.transaction = transaction  # only once BEGIN went through: the hooks below end what began
        user_id = _session_user_id()
        db.set_request_role(user_id)
        # Load the user now, under their own claims; an account that is gone
        # or deactivated makes the request anonymous again.
        if user_id and not current_user.is_authenticated:
            session.pop("_user_id", None)
            db.set_request_role(None)
        errors.outage.end()  # the database answered

    @app.after_request
    def finish_transaction(response):
        transaction = g.pop("transaction", None)
        if transaction is None:
            return response
        failed = response.status_code >= 500 or g.get("database_failed", False)
        try:
            if failed:
                transaction.__exit__(RuntimeError, RuntimeError("request failed"), None)
            else:
                transaction.__exit__(None, None, None)  # commit
        except (OperationalError, InterfaceError) as exc:
            if failed:  # the rollback found the connection gone: nothing was kept either way
                return response
            answer = errors.database_trouble(exc)  # the commit did not happen
            if answer is None:
                raise
            return make_response(answer)
        return response

    @app.teardown_request
    def release_connection(exc):
        transaction = g.pop("transaction", None)
        if transaction is not None:  # the view raised: nothing it did is kept
            transaction.__exit__(type(exc) if exc else RuntimeError, exc, None)
        if not db.database.is_closed():
            db.database.close()  # back to the pool, with no role and no claims


def _unread_notices() -> int:
    """The bell's count (base.html), read only where the full page is rendered; none on the page
    of a request whose database work failed (a 422 or a refusal's 404: its transaction answers
    nothing more)."""
    from portal.notifications.queries import unread_count

    if not current_user.is_authenticated or g.get("database_failed"):
        return 0
    return unread_count(current_user.id)


def _register_template_helpers(app: Flask) -> None:
    from portal import assets, formatting
    from portal.web import is_partial

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(is_partial=is_partial, navigation=formatting.navigation,
                                 vendor_version=assets.package_version, csrf_field=forms.csrf_field,
                                 unread_notices=_unread_notices)
    app.jinja_env.filters.update(money=formatting.money, number=formatting.number,
                                 percent=formatting.percent, rating=formatting.rating, when=formatting.when,
                                 ago=formatting.ago)
    from portal.outreach.mail import plain_text
    app.jinja_env.filters["plain_text"] = plain_text  # 015: an announcement's excerpt in its email

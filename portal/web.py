"""The few helpers every view uses: one way to render, redirect and guard.

* ``is_partial()``: an htmx request that wants a fragment (not boosted, not a
  history restore).
* ``render(page, partial=None, **context)``: the fragment for partial
  requests, the full page otherwise, with ``Vary: HX-Request``.
* ``redirect_to(url)``: ``HX-Redirect`` for htmx, 303 otherwise.
* ``notify(response, message, kind)``: the one way to confirm an action
  (or say why it failed): an ``HX-Trigger`` ``notify`` event for htmx,
  which static/js/notify.js shows in the message region at the top of the
  page; a flashed message, shown there on the next page, otherwise.
* ``role_required(*roles)``: anonymous users go to sign-in; a signed-in user
  of another role gets a 404 (a page one may not see does not exist).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException, MethodNotAllowed


def is_partial() -> bool:
    headers = request.headers
    return (headers.get("HX-Request") == "true"
            and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render(page: str, partial: str | None = None, status: int = 200, **context):
    """Render ``partial`` for an htmx request when given, else the full ``page``."""
    template = partial if partial and is_partial() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str):
    """After a successful POST: htmx follows ``HX-Redirect``; a plain form gets a 303."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


NOTIFY_KINDS = ("success", "info", "error")


def notify(response, message: str, kind: str = "success"):
    """Tell the person what their action did, in the message region near the top of the page
    (base.html: role="status" for success and info, role="alert" for an error).

    An htmx answer that stays on the page carries ``HX-Trigger: {"notify": {"message", "kind"}}``
    (merged with any other event already set) and static/js/notify.js shows it; a redirect
    (a plain form's 303, or htmx's ``HX-Redirect``) leaves the page, so the message is
    flashed and base.html renders it on the next one (post/redirect/get). Returns ``response``.
    """
    if kind not in NOTIFY_KINDS:
        raise ValueError(f"notify kind must be one of {NOTIFY_KINDS}, not {kind!r}")
    leaves = (300 <= response.status_code < 400 or "HX-Redirect" in response.headers
              or "HX-Location" in response.headers or response.headers.get("HX-Refresh") == "true")
    if leaves or request.headers.get("HX-Request") != "true":
        flash(message, kind)
        return response
    raw = response.headers.get("HX-Trigger", "").strip()
    if raw.startswith("{"):
        events = json.loads(raw)
    else:  # "a, b": events without details
        events = {name.strip(): None for name in raw.split(",") if name.strip()}
    events["notify"] = {"message": message, "kind": kind}
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a page of this site a browser can open (a GET), else ``default``:
    no open redirect, and no coming back to a form's action after signing in (a 405)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")) \
            or "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    try:
        current_app.url_map.bind("").match(parts.path, method="GET")
    except MethodNotAllowed:
        return default
    except HTTPException:  # not found, or a redirect (a slash): the page itself answers that
        pass
    return target


def found(value):
    """``value``, or a 404 when the query found nothing: what row-level security hides does not
    exist for the caller (the one way every view turns "not found" into a page)."""
    if value is None:
        abort(404)
    return value


def _after_sign_in() -> str:
    """Where to come back after signing in: this address; for a form that was posted (enroll,
    approve...) the page it was posted from when that is a page of this site, since the browser
    comes back with a GET, which the action does not answer (``safe_next`` drops such a target)."""
    here = request.full_path.rstrip("?")
    if request.method == "GET":
        return here
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host:
        return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""), here)
    return here


def role_required(*roles: str):
    """Signed-in users of ``roles`` only: others get 404, anonymous users sign in first."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect_to(url_for("auth.sign_in", next=_after_sign_in()))
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)
        return guarded
    return decorate


@contextmanager
def acting_as(user_id):
    """Act as ``user_id`` inside the block (a signed link is their credential: unsubscribing, confirming
    an address), and as the caller again after it, whoever the caller is (signed out, or signed in
    as someone else). Yields the person's role, or answers 404 when their account is gone or
    deactivated."""
    from portal import db
    from portal.auth.queries import my_role

    db.set_request_role(user_id)
    try:
        yield found(my_role())
    finally:
        db.set_request_role(current_user.id if current_user.is_authenticated else None)


def home_for(user) -> str:
    """Where a user lands after signing in: the first page of their role."""
    if not user.is_authenticated:
        return url_for("catalog.index")
    return url_for({"instructor": "dashboard.index", "student": "learning.index",
                    "org_admin": "organization.index", "admin": "admin.index"}[user.role])


def placeholder(title: str, summary: str):
    """The page of an area whose screens come with a later issue."""
    return render("placeholder.html", title=title, summary=summary)

"""The few helpers every view uses: one way to render, redirect and guard.

* ``is_partial()``: an htmx request that wants a fragment (not boosted, not a
  history restore).
* ``render(page, partial=None, **context)``: the fragment for partial
  requests, the full page otherwise, with ``Vary: HX-Request``.
* ``redirect_to(url)``: ``HX-Redirect`` for htmx, 303 otherwise.
* ``role_required(*roles)``: anonymous users go to sign-in; a signed-in user
  of another role gets a 404 (a page one may not see does not exist).
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user


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


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")) \
            or "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target


def role_required(*roles: str):
    """Signed-in users of ``roles`` only: others get 404, anonymous users sign in first."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect_to(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)
        return guarded
    return decorate


def home_for(user) -> str:
    """Where a user lands after signing in: the first page of their role."""
    if not user.is_authenticated:
        return url_for("catalog.index")
    return url_for({"instructor": "dashboard.index", "student": "learning.index",
                    "org_admin": "admin.index", "admin": "admin.index"}[user.role])


def placeholder(title: str, summary: str):
    """The page of an area whose screens come with a later issue."""
    return render("placeholder.html", title=title, summary=summary)

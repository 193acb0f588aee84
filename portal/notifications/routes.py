"""The bell's pages: the caller's notices (newest first, by position), open one (it
is marked read and leads where it is about), mark one or all read; unsubscribing
from one kind of email through the signed link it carries; and, in development
only, the captured mailbox.
"""

from __future__ import annotations

import email.policy
from email import message_from_bytes

from flask import Response, abort, current_app, redirect, request, url_for
from flask_login import current_user

from portal import csrf, mail
from portal.formatting import viewer_zone
from portal.listing import Spec
from portal.notifications import bp, events, queries
from portal.models import USER_ROLES
from portal.web import acting_as, found, is_partial, notify, redirect_to, render, role_required



def _describe(row: dict) -> dict:
    tz = viewer_zone()
    return {**row, "summary": events.summary(row["event_type"], row["payload"], tz),
            "href": url_for("notifications.open_notice", notice_id=row["id"])}


@bp.route("/notifications/")
@role_required(*USER_ROLES)
def index():
    listing = queries.notices(current_user.id, queries.LIST.read(request.args)).link("notifications.index")
    listing.rows = [_describe(row) for row in listing.rows]
    return render("notifications/index.html", "notifications/_list.html", listing=listing,
                  unread=queries.unread_count(current_user.id))


@bp.route("/notifications/<uuid:notice_id>")
@role_required(*USER_ROLES)
def open_notice(notice_id):
    """Mark the notice read and go where it is about (a link, so it opens in a new tab too)."""
    row = found(queries.notice(current_user.id, notice_id))
    queries.mark_read(current_user.id, notice_id)
    return redirect(events.link(row["event_type"], row["payload"]), code=303)


@bp.route("/notifications/<uuid:notice_id>/read", methods=["POST"])
@role_required(*USER_ROLES)
def read_one(notice_id):
    row = found(queries.notice(current_user.id, notice_id))
    queries.mark_read(current_user.id, notice_id)
    if is_partial():
        row = _describe({**row, "unread": False})
        return render("notifications/_notice.html", "notifications/_notice.html", notice=row, oob_bell=True,
                      unread=queries.unread_count(current_user.id))
    return notify(redirect_to(_back()), "Marked as read.")


@bp.route("/notifications/read", methods=["POST"])
@role_required(*USER_ROLES)
def read_all():
    unread = queries.unread_count(current_user.id)
    if not unread:
        return notify(redirect_to(_back()), "Nothing was unread.", "info")
    queries.mark_all_read()
    shown = f"{queries.BELL_LIMIT}+" if unread > queries.BELL_LIMIT else str(unread)
    return notify(redirect_to(_back()), f"{shown} notice{'s' if unread != 1 else ''} marked as read.")


def _back() -> str:
    show = request.form.get("show")
    return url_for("notifications.index", show="unread" if show == "unread" else None)


# --- unsubscribe: the link in every email ---------------------------------------------------

def _link_or_404(token: str) -> tuple[str, str, str]:
    """(user id, event type, the event's label) a link names; 404 for a forged, damaged or too long one."""
    named = events.read_unsubscribe_token(token) if len(token) <= 300 else None
    if named is None:
        abort(404)
    user_id, event_type = named
    return user_id, event_type, found(queries.event_label(event_type))


@bp.route("/notifications/unsubscribe/<token>")
def unsubscribe(token):
    user_id, _, label = _link_or_404(token)
    with acting_as(user_id):  # a 404 unless their account is there to unsubscribe
        pass
    return render("notifications/unsubscribe.html", token=token, label=label, done=False)


@bp.route("/notifications/unsubscribe/<token>", methods=["POST"])
@csrf.exempt
def unsubscribe_confirm(token):
    """Turn the link's event email off for the link's person. No CSRF token: the signed link is the
    credential, not the session (whoever holds it may use it), so a forged cross-site POST could do
    nothing its holder could not; and a mail provider's one-click unsubscribe (RFC 8058: a POST of
    ``List-Unsubscribe=One-Click`` to the List-Unsubscribe address) carries none."""
    user_id, event_type, label = _link_or_404(token)
    with acting_as(user_id) as role:
        queries.unsubscribe(user_id, role, event_type)
    return render("notifications/unsubscribe.html", token=token, label=label, done=True)


# --- development: the captured mailbox -----------------------------------------------------

MAILBOX = Spec(page_size=20)


LOOPBACK = ("127.0.0.1", "::1")


def _development_only():
    """The mailbox holds everyone's emails: development only, and to this machine only."""
    if current_app.config["PORTAL_ENV"] == "production" or current_app.config["MAIL_BACKEND"] != "capture" \
            or request.remote_addr not in LOOPBACK:
        abort(404)


def _captured(key: str):
    box = mail.capture_box(current_app)
    if len(key) > 200 or key not in box:
        abort(404)
    return message_from_bytes(box.get_bytes(key), policy=email.policy.default)


@bp.route("/dev/mail/")
def mailbox():
    """Every email the portal has sent in development, newest first (no mail server needed)."""
    _development_only()
    box = mail.capture_box(current_app)
    view = MAILBOX.read(request.args)
    keys = sorted(box.keys(), reverse=True)  # a Maildir key starts with its delivery time
    listing = MAILBOX.page(view, [], len(keys)).link("notifications.mailbox")
    start = (listing.page - 1) * MAILBOX.page_size
    listing.rows = [{"key": key, **_headers(_captured(key))} for key in keys[start:start + MAILBOX.page_size]]
    return render("notifications/mailbox.html", listing=listing)


def _headers(message) -> dict:
    return {"subject": message["Subject"], "to": message["To"], "date": message["Date"] or ""}


@bp.route("/dev/mail/<key>")
def mail_message(key):
    _development_only()
    message = _captured(key)
    text = message.get_body(preferencelist=("plain",))
    return render("notifications/mail_message.html", key=key, message=_headers(message),
                  text=text.get_content() if text else "", unsubscribe=message["List-Unsubscribe"] or "")


@bp.route("/dev/mail/<key>.html")
def mail_html(key):
    """The HTML part as sent, in a sandbox of its own (no script, no same origin)."""
    _development_only()
    html = _captured(key).get_body(preferencelist=("html",))
    if html is None:
        abort(404)
    response = Response(html.get_content(), mimetype="text/html")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response

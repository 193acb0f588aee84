"""The account page and its actions: thin views over the account queries. Every action that
could hand the account to someone else (a new address, a new password, closing it) asks for
the current password, checked like a sign-in (and throttled with it)."""

from __future__ import annotations

import datetime

from flask import current_app, make_response, request, session, url_for
from flask_login import current_user
from peewee import IntegrityError

from portal import db, passwords, refusals
from portal.account import bp, queries
from portal.account.forms import DeleteAccountForm, EmailChangeForm, NameForm, PasswordChangeForm
from portal.auth import queries as auth
from portal.auth.routes import forget_this_browser
from portal.models import USER_ROLES
from portal.notifications import events
from portal.web import found, notify, redirect_to, render, role_required

WRONG_PASSWORD = "That is not your current password."
THROTTLED = "Too many wrong passwords. Please wait a few minutes and try again."


def _password_ok(field) -> bool:
    """Whether ``field`` holds the caller's current password; a wrong one counts as a failed
    sign-in (so a borrowed session cannot guess it), and errors are put on the field."""
    address = request.remote_addr or "unknown"
    if auth.sign_in_throttled(current_user.email, address, current_app.config):
        field.errors.append(THROTTLED)
        return False
    found_credentials = auth.credentials_for(current_user.email)
    if found_credentials and str(found_credentials[0]) == str(current_user.id) \
            and passwords.verify_password(found_credentials[1], field.data):
        return True
    auth.record_sign_in_failure(current_user.email, address)
    field.errors.append(WRONG_PASSWORD)
    return False


def _page(status: int = 200, **forms):
    person = queries.details()
    forms.setdefault("name_form", NameForm(formdata=None, data={"full_name": person["full_name"],
                                                                "avatar_url": person["avatar_url"]}))
    forms.setdefault("email_form", EmailChangeForm(formdata=None))
    forms.setdefault("password_form", PasswordChangeForm(formdata=None))
    return render("account/index.html", person=person, pending=queries.pending_email_change(),
                  sessions=queries.sessions(), this_session=session.get("sid"), status=status, **forms)


def _sessions(count: int) -> str:
    return "One other session was signed out." if count == 1 else f"{count} other sessions were signed out."


def _done(message: str):
    return notify(redirect_to(url_for("account.index")), message)


@bp.route("/")
@role_required(*USER_ROLES)
def index():
    return _page()


@bp.route("/name", methods=["POST"])
@role_required(*USER_ROLES)
def save_name():
    form = NameForm()
    if not form.validate():
        return _page(422, name_form=form)
    queries.save_name(form.full_name.data, form.avatar_url.data)
    return _done("Your name and photo are saved.")


@bp.route("/email", methods=["POST"])
@role_required(*USER_ROLES)
def change_email():
    form = EmailChangeForm()
    if not form.validate() or not _password_ok(form.email_password):
        return _page(422, email_form=form)
    try:
        with db.database.atomic():
            queries.request_email_change(current_user.id, form.new_email.data)
    except IntegrityError as exc:
        form.new_email.errors.append(refusals.message(exc))
        return _page(422, email_form=form)
    return _done(f"We sent a link to {form.new_email.data}. Your address changes when you follow it "
                 "(within 24 hours).")


@bp.route("/email/cancel", methods=["POST"])
@role_required(*USER_ROLES)
def cancel_email_change():
    queries.cancel_email_change()
    return _done("The change of address is cancelled: the link we sent no longer works.")


@bp.route("/password", methods=["POST"])
@role_required(*USER_ROLES)
def change_password():
    form = PasswordChangeForm()
    if not form.validate() or not _password_ok(form.current):
        return _page(422, password_form=form)
    ended = queries.change_password(current_user.id, passwords.hash_password(form.password.data), session.get("sid"))
    return _done("Your password is changed." + (f" {_sessions(ended)}" if ended else ""))


@bp.route("/sessions/<uuid:session_id>/end", methods=["POST"])
@role_required(*USER_ROLES)
def end_session(session_id):
    if str(session_id) == session.get("sid"):  # this one: that is signing out
        return sign_out_everywhere_here(only_here=True)
    found(auth.end_sessions(only=str(session_id)) or None)
    return _done("That session is signed out.")


@bp.route("/sessions/end-others", methods=["POST"])
@role_required(*USER_ROLES)
def end_other_sessions():
    ended = auth.end_sessions(keep=session.get("sid"))
    return _done(_sessions(ended) if ended else "There was no other session.")


@bp.route("/sessions/end-all", methods=["POST"])
@role_required(*USER_ROLES)
def end_all_sessions():
    return sign_out_everywhere_here(only_here=False)


def sign_out_everywhere_here(only_here: bool):
    """End this session (or every one), sign this browser out, and go to sign-in."""
    auth.end_sessions(only=session.get("sid") if only_here else None)
    forget_this_browser()
    return notify(redirect_to(url_for("auth.sign_in")),
                  "You have signed out." if only_here else "You are signed out everywhere.", "info")


@bp.route("/export")
@role_required(*USER_ROLES)
def export():
    """Everything the portal holds about you, as a JSON download."""
    response = make_response(queries.export())
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="instructor-portal-data-{datetime.date.today().isoformat()}.json"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/delete", methods=["GET", "POST"])
@role_required(*USER_ROLES)
def delete():
    """Close the account, after the current password and a tick (what happens: README, and 011's
    account_deletion_outcome: an admin cannot; an instructor with sales, students or
    registrations is deactivated; everyone else is anonymised)."""
    outcome = queries.deletion_outcome()
    form = DeleteAccountForm()
    if request.method == "GET" or outcome == "refused":
        return render("account/delete.html", form=DeleteAccountForm(formdata=None), outcome=outcome,
                      status=200 if request.method == "GET" else 422)
    if not form.validate() or not _password_ok(form.delete_password):
        return render("account/delete.html", form=form, outcome=outcome, status=422)
    result = queries.delete(current_user.id)
    forget_this_browser()
    return notify(redirect_to(url_for("catalog.index")),
                  "Your account is closed and your personal data erased." if result == "deleted" else
                  "Your account is deactivated: you are signed out everywhere and your public pages are "
                  "hidden. The records of your sales and students are kept, as the platform must.", "info")


# --- the link of an email change (a signed (user, change) pair: the link is the credential) ------

def _change_or_404(token: str) -> tuple[str, str]:
    return found(events.read_email_change_token(token) if len(token) <= 400 else None)


@bp.route("/email/confirm/<change>", methods=["GET", "POST"])
def confirm_email_change(change):
    """Ask before confirming (a mail scanner that follows links changes nothing); then the change
    is made for the link's person, whoever is signed in here."""
    user_id, change_id = _change_or_404(change)
    if request.method == "GET":
        return render("account/confirm_email_change.html", change=change, done=None)
    try:
        with db.database.atomic():
            new_email = queries.confirm_email_change(user_id, change_id)
    except IntegrityError as exc:
        return render("account/confirm_email_change.html", change=change, done=None,
                      refused=refusals.message(exc), status=422)
    if current_user.is_authenticated and str(current_user.id) == user_id:
        current_user.email = new_email
    return render("account/confirm_email_change.html", change=change, done=new_email)

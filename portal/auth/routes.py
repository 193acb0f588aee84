"""Sign-up, sign-in and sign-out: thin views over the auth queries."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, request, session, url_for
from flask_login import current_user, login_user, logout_user
from peewee import IntegrityError

from portal import db, passwords
from portal.auth import queries
from portal.auth.forms import ForgotPasswordForm, ResetPasswordForm, SignInForm, SignUpForm
from portal.notifications import events
from portal.web import found, home_for, redirect_to, render, safe_next
from portal.auth import bp

log = logging.getLogger(__name__)

WRONG_CREDENTIALS = "That email and password do not match an account."
THROTTLED = "Too many failed sign-ins. Please wait a few minutes and try again."


def _start_session(user_id) -> None:
    """A fresh session for the signed-in user: nothing from before survives
    (no session fixation), a new server-side session is opened (the cookie
    carries its id: 011), and the request continues under their claims."""
    session.clear()
    db.set_request_role(user_id)
    session["sid"] = queries.start_session((request.user_agent.string or "")[:300],
                                           request.remote_addr or "unknown")
    login_user(queries.load_user(user_id))
    session.permanent = True


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    next_url = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated:
        return redirect_to(next_url or home_for(current_user))
    form = SignInForm()
    if not form.validate_on_submit():
        return render("auth/sign_in.html", "auth/_sign_in_form.html", form=form, next_url=next_url,
                      status=422 if form.is_submitted() else 200)
    email, address = form.email.data, request.remote_addr or "unknown"
    if queries.sign_in_throttled(email, address, current_app.config):
        log.warning("sign-in throttled for an account or address")
        form.form_errors.append(THROTTLED)
        return render("auth/sign_in.html", "auth/_sign_in_form.html", form=form, next_url=next_url,
                      status=429)
    found = queries.credentials_for(email)
    if not passwords.verify_password(found[1] if found else None, form.password.data):
        queries.record_sign_in_failure(email, address)
        form.form_errors.append(WRONG_CREDENTIALS)
        return render("auth/sign_in.html", "auth/_sign_in_form.html", form=form, next_url=next_url,
                      status=422)
    user_id, stored_hash = found
    _start_session(user_id)
    if passwords.needs_rehash(stored_hash):
        queries.set_password_hash(user_id, passwords.hash_password(form.password.data))
    flash(f"Welcome back, {current_user.first_name}.", "success")
    return redirect_to(next_url or home_for(current_user))


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up():
    if current_user.is_authenticated:
        return redirect_to(home_for(current_user))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            with db.database.atomic():  # a savepoint: a refused insert leaves the request usable
                user_id = queries.sign_up(form.email.data, passwords.hash_password(form.password.data),
                                          form.full_name.data, form.role.data)
        except IntegrityError as exc:
            if db.sqlstate(exc) != db.UNIQUE_VIOLATION:
                raise  # any other refused value becomes the generic 422 (portal.errors)
            form.email.errors.append("An account with this email already exists. Sign in instead.")
        else:
            _start_session(user_id)
            flash("Your account is ready. We sent a link to confirm your email address: until you follow "
                  "it, the portal emails you nothing else." + (" Start by creating your first course."
                                                              if form.role.data == "instructor" else ""),
                  "success")
            return redirect_to(home_for(current_user))
    return render("auth/sign_up.html", "auth/_sign_up_form.html", form=form,
                  status=422 if form.is_submitted() else 200)


def forget_this_browser() -> None:
    """Sign this browser out: its cookie forgets the person, and the rest of the request is
    anonymous (ending the server-side session, when it should end, is the caller's)."""
    logout_user()
    session.clear()
    db.set_request_role(None)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    if current_user.is_authenticated:
        queries.end_sessions(only=session.get("sid"))
    forget_this_browser()
    flash("You have signed out.", "info")
    return redirect_to(url_for("auth.sign_in"))


# --- confirming an address: the link of the confirmation email (010) -----------------------------

def _confirmation_or_404(token: str) -> tuple[str, str]:
    named = events.read_confirmation_token(token) if len(token) <= 400 else None
    if named is None:
        abort(404)
    return named


@bp.route("/sign-up/confirm/<confirmation>")
def confirm_email(confirmation):
    """Ask before confirming (a mail scanner that follows links confirms nothing)."""
    _, email = _confirmation_or_404(confirmation)
    return render("auth/confirm_email.html", confirmation=confirmation, email=email, done=False)


@bp.route("/sign-up/confirm/<confirmation>", methods=["POST"])
def confirm_email_save(confirmation):
    """Confirm the link's address for the link's person (the signed link is their credential,
    whoever is signed in here); an address changed since, or confirmed already, is said so."""
    user_id, email = _confirmation_or_404(confirmation)
    confirmed = queries.confirm_email(user_id, email)
    return render("auth/confirm_email.html", confirmation=confirmation, email=email, done=True,
                  confirmed=confirmed)


# --- a forgotten password (011) ------------------------------------------------------------------

RESET_SENT = ("If an account uses {email}, we sent it a link to choose a new password. The link works "
              "once, for {minutes} minutes. Check your spam folder if nothing arrives.")
RESET_THROTTLED = "Too many reset requests for this address or from your network. Please wait and try again."


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """The same answer whether an account uses the address or not; throttled per address and per
    network address (the counts do not depend on an account existing either)."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render("auth/forgot_password.html", form=form, sent=None,
                      status=422 if form.is_submitted() else 200)
    if not queries.request_password_reset(form.email.data, request.remote_addr or "unknown",
                                          current_app.config):
        form.form_errors.append(RESET_THROTTLED)
        return render("auth/forgot_password.html", form=form, sent=None, status=429)
    return render("auth/forgot_password.html", form=form, sent=RESET_SENT.format(
        email=form.email.data, minutes=current_app.config["PASSWORD_RESET_TTL_MINUTES"]))


def _reset_email_or_404(token: str) -> str:
    return found(queries.password_reset_target(token) if 20 <= len(token) <= 100 else None)


@bp.route("/reset-password/<reset>", methods=["GET", "POST"])
def reset_password(reset):
    """Choose a new password from the emailed link (good once, for a limited time): every session
    of the account ends, and this browser is signed in afresh."""
    email = _reset_email_or_404(reset)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return render("auth/reset_password.html", form=form, email=email, reset=reset,
                      status=422 if form.is_submitted() else 200)
    user_id = found(queries.complete_password_reset(reset, passwords.hash_password(form.password.data)))
    if current_user.is_authenticated:
        logout_user()
    _start_session(user_id)
    flash("Your password is changed and you are signed in. Every other session of your account was "
          "signed out.", "success")
    return redirect_to(home_for(current_user))

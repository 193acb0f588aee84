"""An invitation's link and the student's announcements (issue 15)."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user
from peewee import IntegrityError

from portal import db, passwords
from portal.auth import queries as auth_queries
from portal.courses.markdown import render_markdown
from portal.enrollment.queries import Refused
from portal.outreach import bp, queries
from portal.outreach.forms import InvitationSignUpForm
from portal.web import found, home_for, redirect_to, render, role_required

TAKEN = "An account already uses this address: sign in to accept the invitation."
GONE = "This invitation is no longer valid: it was used, or it expired. Ask your instructor for a new one."


def _page(invitation: str, target: dict, form=None, status: int = 200, error: str | None = None):
    return render("outreach/invitation.html", invitation=invitation, target=target, form=form, error=error,
                  sign_in=url_for("auth.sign_in", next=request.path), status=status)


def _accepted(target: dict, slug: str | None):
    if slug is None:
        flash(GONE, "error")
        return redirect_to(home_for(current_user))
    state = queries.enrollment_state(slug)
    if state and state[0] == "pending" and state[1] in ("pending", "failed"):
        flash(f"Your place in {target['course_title']} is held: it needs payment before you can start "
              "(Complete your payment, on My learning).", "info")
    elif state and state[0] == "pending":
        flash(f"Your request to join {target['course_title']} is waiting for the instructor's approval.", "info")
    else:
        flash(f"Welcome to {target['course_title']}.", "success")
    return redirect_to(url_for("learning.index") if current_user.role == "student"
                       else url_for("catalog.course", slug=slug))


@bp.route("/invitations/<invitation>", methods=["GET", "POST"])
def invitation(invitation):
    """The link of an invitation email: the course and who invites; signed in, accept it; signed
    out, create the account (for the invited address) or sign in first. The token is the
    credential: a wrong, used or expired one is a 404."""
    target = found(queries.invitation(invitation))
    form = None if current_user.is_authenticated else InvitationSignUpForm()
    if request.method == "GET":
        return _page(invitation, target, form)
    if current_user.is_authenticated:
        try:
            return _accepted(target, queries.accept(invitation))
        except Refused as refused:
            return _page(invitation, target, status=422, error=str(refused))
    if not form.validate_on_submit():
        return _page(invitation, target, form, status=422)
    try:
        with db.database.atomic():
            user_id = auth_queries.sign_up(target["email"], passwords.hash_password(form.password.data),
                                           form.full_name.data, "student")
    except IntegrityError as exc:
        if db.sqlstate(exc) != db.UNIQUE_VIOLATION:
            raise
        return _page(invitation, target, form, status=422, error=TAKEN)
    from portal.auth.routes import _start_session
    _start_session(user_id)
    return _accepted(target, queries.accept(invitation))


# Anyone signed in may be enrolled somewhere (an instructor in another's course): the list is of the
# courses one is enrolled in, whatever one's role (one's own courses' are on the Students pages).
READERS = ("student", "instructor", "org_admin", "admin")


@bp.route("/announcements/")
@role_required(*READERS)
def announcements():
    """The announcements of one's courses, newest first."""
    listing = queries.announcements(queries.LIST.read(request.args)).link("outreach.announcements")
    return render("outreach/announcements.html", "outreach/_announcements.html", listing=listing,
                  markdown=render_markdown)


@bp.route("/announcements/<uuid:announcement_id>")
@role_required(*READERS)
def announcement(announcement_id):
    row = found(queries.announcement(announcement_id))
    return render("outreach/announcement.html", row=row, body=render_markdown(row["body"]))

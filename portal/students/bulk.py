"""Bulk enrollment (issue 15): a list of addresses for one course, pasted or as a CSV file;
a preview first, then "Enroll" applies it. The preview carries the normalized list in the form
(hidden) and the database classifies it again when it is applied (bulk_enroll), so a list
edited in between is judged as it is then. Neither step says which address has an account
(015's header): "will be enrolled, or invited" stands for both."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import abort, current_app, request, url_for

from portal.enrollment.queries import Refused
from portal.students import bp
from portal.students import outreach_queries as queries
from portal.students.forms import BulkEnrollForm
from portal.web import found, notify, redirect_to, render, role_required


PAID_NEEDS_GRANT = "This course has a price: tick this to enroll the students free of charge."


def _page(form: BulkEnrollForm, status: int = 200, **context):
    return render("students/bulk_enroll.html", "students/_bulk_enroll.html", status=status, form=form,
                  outcomes=queries.OUTCOMES, **context)


def _limit() -> int:
    return int(current_app.config["BULK_ENROLL_PER_DAY"])


@bp.route("/enroll", methods=["GET", "POST"])
@role_required("instructor")
def bulk_enroll():
    """The list's form; POST previews it (``step=preview``) or applies it (``step=apply``)."""
    form = BulkEnrollForm(queries.manageable_courses())
    if request.method == "GET":
        return _page(form, left=queries.additions_left(_limit()))
    if not form.validate_on_submit():
        return _page(form, status=422, left=queries.additions_left(_limit()))
    course_id = form.course.data
    paid = (queries.course_price(course_id) or 0) > 0
    if paid and not form.grant_access.data:
        form.grant_access.errors = [*form.grant_access.errors, PAID_NEEDS_GRANT]
        return _page(form, status=422, left=queries.additions_left(_limit()))
    apply = request.form.get("step") == "apply"
    try:
        lines = (queries.apply(course_id, form.addresses, bool(form.grant_access.data), _limit()) if apply
                 else queries.preview(course_id, form.addresses))
    except Refused as refused:
        form.form_errors.append(str(refused))
        return _page(form, status=422, left=queries.additions_left(_limit()))
    counts = queries.counts(lines)
    course_title = form.known_courses.get(course_id, "the course")
    if apply:
        added = counts.get("add", 0)
        response = render("students/bulk_enroll_done.html", "students/_bulk_enroll_done.html", lines=lines,
                          counts=counts, outcomes={**queries.OUTCOMES, **queries.DONE}, course_title=course_title)
        return notify(response, f"{added} address{'es' if added != 1 else ''} enrolled or invited in {course_title}; "
                                "nothing else changed." if added else
                                f"Nothing to do: every address was enrolled or invited in {course_title} already, "
                                "or could not be.", "success" if added else "info")
    form.emails.data = ",".join(line["email"] for line in lines if line["outcome"] == "add")
    return _page(form, lines=lines, counts=counts, course_title=course_title, paid=paid,
                 left=queries.additions_left(_limit()))


# --- open invitations: listed by course, revoked after a confirmation ------------------------

@bp.route("/invitations")
@role_required("instructor")
def invitations():
    """The open invitations of the courses whose students the caller manages (or of one), newest
    first; each may be revoked. Nothing to resend: an expired address is invited again by a new list."""
    courses = queries.announceable_courses()
    course = request.args.get("course", "")
    course = course if course in courses else ""
    listing = queries.open_invitations(queries.INVITATIONS.read(request.args), course or None)
    listing.link("students.invitations", **({"course": course} if course else {}))
    return render("students/invitations.html", "students/_invitations.html", listing=listing, courses=courses,
                  course=course, now=datetime.now(timezone.utc), lifetime=timedelta(days=14))


@bp.route("/invitations/<uuid:invitation_id>/revoke", methods=["GET", "POST"])
@role_required("instructor")
def revoke_invitation(invitation_id):
    """A confirmation, then the invitation's link stops working (revoke_invitation)."""
    invitation = found(queries.open_invitation(invitation_id))
    if request.method == "GET":
        return render("students/invitation_revoke.html", invitation=invitation)
    try:
        queries.revoke(invitation_id)
    except Refused:
        abort(404)
    return notify(redirect_to(url_for("students.invitations")),
                  f"The invitation to {invitation['email']} is revoked: its link no longer works.")

"""Students: the approval queue (the roster is in ``roster_views``).

The queue: pending enrollments of the courses where the instructor may manage
students (``queries``, under the request's role); approve or decline each,
htmx or plain, with a confirmation before declining.
"""

from __future__ import annotations

from datetime import date

from flask import abort, request, url_for

from portal.formatting import when
from portal.listing import csv_response
from portal.students import bp, queries
from portal.web import found, is_partial, notify, redirect_to, render, role_required


# --- the approval queue ------------------------------------------------------------------

def _queue_page(status: int = 200):
    queue = queries.approval_queue(queries.QUEUE.read(request.args)).link("students.approvals")
    awaiting = queries.awaiting_payment(queries.AWAITING.read(request.args)).link("students.approvals")
    return render("students/approvals.html", "students/_approvals.html", status=status, queue=queue,
                  awaiting=awaiting)


@bp.route("/approvals")
@role_required("instructor")
def approvals():
    """Pending enrollments of the courses where the instructor may manage students."""
    return _queue_page()


@bp.route("/approvals/export.csv")
@role_required("instructor")
def export_approvals():
    """Every waiting enrollment (all pages) as a CSV file."""
    return csv_response(f"waiting-enrollments-{date.today().isoformat()}", queries.EXPORT_HEADER,
                        queries.export_queue(lambda at: when(at, "%Y-%m-%d %H:%M")))


def _decidable_or_404(enrollment_id) -> dict:
    return found(queries.decidable(enrollment_id))


def _back_to_queue() -> str:
    page = request.form.get("page", type=int)
    return url_for("students.approvals", page=page if page and page > 1 else None)


def _answer(row: dict, outcome: str, message: str, category: str = "success"):
    """The decided row for htmx, or a 303 back to the queue; the message either way (notify)."""
    if is_partial():
        return notify(render("students/approvals.html", "students/_approval_done.html", row=row,
                             outcome=outcome, message=message), message, category)
    return notify(redirect_to(_back_to_queue()), message, category)


def _student(row: dict) -> str:
    return row["student_name"] or "The student"


def _course_title(row: dict) -> str:
    return f"“{row['course_title']}”" if row["course_title"] else "your course"


def _stale(row: dict):
    """The enrollment was decided already (another tab, a co-instructor)."""
    moved = {"enrolled": "approved", "in_progress": "approved", "completed": "approved",
             "cancelled": "declined"}.get(row["status"], row["status"])
    return _answer(row, "stale", f"{_student(row)}’s enrollment in {_course_title(row)} was already {moved}.",
                   "info")


def _why(refused) -> str:
    """The guard refuses a move that is no longer one (a refund or another decision landed
    between the page and the click): say that, not "no access"."""
    if refused.reason == "not_permitted":
        return "It changed in the meantime (a refund or another decision): reload the queue to see where it stands."
    return str(refused)


@bp.route("/approvals/<uuid:enrollment_id>/approve", methods=["POST"])
@role_required("instructor")
def approve(enrollment_id):
    """Approve a pending enrollment whose payment is settled (or free)."""
    row = _decidable_or_404(enrollment_id)
    if row["status"] != "pending":
        return _stale(row)
    if row["payment_status"] != "completed":
        return _answer(row, "unpaid", f"{_student(row)} has not paid for {_course_title(row)} yet: "
                                      "approve once the payment is confirmed.", "error")
    try:
        touched = queries.decide(enrollment_id, "enrolled")
    except queries.Refused as refused:
        return _answer(row, "unpaid", f"This enrollment cannot be approved. {_why(refused)}", "error")
    if not touched:
        abort(404)
    return _answer(dict(row, status="enrolled"), "approved",
                   f"Approved: {_student(row)} is enrolled in {_course_title(row)}.")


@bp.route("/approvals/<uuid:enrollment_id>/decline", methods=["POST"])
@role_required("instructor")
def decline_enrollment(enrollment_id):
    """Decline a pending enrollment once confirmed (the row's confirm button, or the confirm page)."""
    row = _decidable_or_404(enrollment_id)
    if row["status"] != "pending":
        return _stale(row)
    if request.form.get("confirm") != "yes":
        return render("students/decline_confirm.html", "students/_approval_confirm.html", row=row,
                      back_page=request.form.get("page", type=int))
    try:
        touched = queries.decide(enrollment_id, "cancelled")
    except queries.Refused as refused:
        return _answer(row, "refused", f"This enrollment cannot be declined. {_why(refused)}", "error")
    if not touched:
        abort(404)
    return _answer(dict(row, status="cancelled"), "declined",
                   f"Declined: {_student(row)}’s enrollment in {_course_title(row)} is cancelled.")

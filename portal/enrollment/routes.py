"""Enrolling and paying, the payment webhook, and the instructor's approval queue.

Views are thin: ``queries`` calls the database's own doors under the
request's role, and the database decides status, price and who may do what.
A refusal the student can understand (already enrolled, refunded, a course
that is not open) comes back from a savepoint as a flash message on the
course page; what row-level security hides is a 404.

Payments go through ``portal.payments``: the provider names the checkout page
(ours in test mode, the processor's otherwise), and every payment event, the
test provider's included, is verified and applied by ``payments.receive``.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import Blueprint, abort, current_app, flash, jsonify, request, url_for
from flask_login import current_user

from portal import csrf, payments
from portal.enrollment import forms, queries
from portal.listing import csv_response
from portal.models import CourseEnrollment
from portal.web import is_partial, notify, redirect_to, render, role_required

log = logging.getLogger(__name__)

bp = Blueprint("enrollment", __name__)


def _provider():
    return payments.provider_for(current_app.config)


def _course_or_404(slug: str):
    course = queries.visible_course(slug)
    if course is None:
        abort(404)
    return course


def _course_page(course) -> str:
    return url_for("catalog.course", slug=course.slug)


def _resume(course) -> str:
    return url_for("learning.resume", slug=course.slug)


def _owes(enrollment) -> bool:
    """A pending enrollment whose payment has not gone through (yet, or at the last try)."""
    return (enrollment is not None and enrollment.status == "pending"
            and enrollment.payment_status in ("pending", "failed"))


def _to_checkout(course, enrollment_id):
    """Start (or resume) paying and send the student to the provider's page."""
    provider = _provider()
    try:
        checkout_id = queries.start_checkout(enrollment_id, provider.name)
    except queries.Refused as refused:
        log.info("checkout refused for enrollment %s: %s", enrollment_id, refused)
        return _explain(course) or redirect_to(_course_page(course))
    if checkout_id is None:  # the course became free while the enrollment waited: settled, nothing owed
        flash(f"“{course.title}” is free now: there is nothing to pay.", "info")
        return _after_enrolling(course, enrollment_id)
    return redirect_to(provider.checkout_url(checkout_id))


def _explain(course):
    """Say where the student stands with ``course`` and send them on (nothing is written)."""
    enrollment = queries.my_enrollment(current_user.id, course.id)
    if enrollment is None or enrollment.status == "cancelled":
        flash(f"You are not enrolled in “{course.title}”.", "info")
        return redirect_to(_course_page(course))
    if enrollment.status in CourseEnrollment.ACTIVE:
        flash(f"You are already enrolled in “{course.title}”: continue where you left off.", "info")
        return redirect_to(_course_page(course))
    if enrollment.status == "refunded":
        flash(f"Your enrollment in “{course.title}” was refunded, so it cannot be restarted here. "
              "Ask support to restore it.", "error")
        return redirect_to(_course_page(course))
    if enrollment.payment_status == "completed":
        flash(f"Your enrollment in “{course.title}” is waiting for approval by the instructor.", "info")
        return redirect_to(_course_page(course))
    return None


def _after_enrolling(course, enrollment_id):
    enrollment = queries.my_enrollment(current_user.id, course.id)
    if enrollment.status in CourseEnrollment.ACTIVE:
        flash(f"You are enrolled in “{course.title}”. Enjoy the course!", "success")
        return redirect_to(_resume(course))
    if enrollment.payment_status == "completed":
        flash(f"Your enrollment in “{course.title}” is waiting for approval by the instructor. "
              "You can start as soon as it is approved.", "info")
        return redirect_to(_course_page(course))
    return _to_checkout(course, enrollment_id)


@bp.route("/catalog/<slug>/enroll", methods=["POST"])
@role_required("student")
def enroll(slug):
    """Enroll in a published course: free enrolls (or queues), paid goes to checkout."""
    course = _course_or_404(slug)
    try:
        enrollment_id = queries.enroll(course.id)
    except queries.Refused as refused:
        if refused.reason == "course_not_open":
            flash(f"“{course.title}” is not open for enrollment.", "error")
            return redirect_to(_course_page(course))
        if refused.reason == "own_course":
            flash("Instructors do not enroll in their own course.", "error")
            return redirect_to(_course_page(course))
        if refused.reason in ("already_enrolled", "enrollment_refunded"):
            # A pending, unpaid enrollment resumes its checkout rather than be refused.
            enrollment = queries.my_enrollment(current_user.id, course.id)
            if _owes(enrollment):
                return _to_checkout(course, enrollment.id)
            return _explain(course) or redirect_to(_course_page(course))
        log.warning("enrollment in %s refused: %s", course.id, refused)
        flash(f"We could not enroll you in “{course.title}”. {refused}", "error")
        return redirect_to(_course_page(course))
    return _after_enrolling(course, enrollment_id)


@bp.route("/catalog/<slug>/checkout", methods=["POST"])
@role_required("student")
def retry(slug):
    """Start or resume paying for the student's pending enrollment in the course."""
    course = _course_or_404(slug)
    enrollment = queries.my_enrollment(current_user.id, course.id)
    if _owes(enrollment):
        return _to_checkout(course, enrollment.id)
    return _explain(course) or redirect_to(_course_page(course))


# --- the checkout page (the test provider's, and the return page of a hosted one) ----------------

def _checkout_or_404(checkout_id) -> queries.CheckoutView:
    view = queries.my_checkout(current_user.id, checkout_id)
    if view is None:
        abort(404)
    return view


def _checkout_page(view: queries.CheckoutView, form=None, status: int = 200):
    provider = _provider()
    test_mode = view.checkout.provider == "test"
    return render("enrollment/checkout.html", "enrollment/_checkout.html", status=status, view=view,
                  checkout=view.checkout, course=view.course, form=form or forms.DeclineForm(formdata=None),
                  test_mode=test_mode, can_pay=test_mode and provider.takes_test_payments,
                  hosted_url=None if test_mode or provider.takes_test_payments
                  else provider.checkout_url(view.checkout.id))


@bp.route("/checkout/<uuid:checkout_id>")
@role_required("student")
def checkout(checkout_id):
    """The student's own checkout: pay or decline (test mode), its outcome, a retry."""
    return _checkout_page(_checkout_or_404(checkout_id))


def _test_checkout_or_404(checkout_id) -> queries.CheckoutView:
    """The student's own checkout of the test provider, while the test provider is on."""
    if current_app.config.get("PAYMENT_PROVIDER") != "test":
        abort(404)
    view = _checkout_or_404(checkout_id)
    if view.checkout.provider != "test":
        abort(404)
    return view


def _settled_already(view: queries.CheckoutView):
    flash("This payment is already settled.", "info")
    return redirect_to(url_for("enrollment.checkout", checkout_id=view.checkout.id))


@bp.route("/checkout/<uuid:checkout_id>/pay", methods=["POST"])
@role_required("student")
def pay(checkout_id):
    """Test provider: the payment succeeds (a signed event through the webhook's path)."""
    view = _test_checkout_or_404(checkout_id)
    if view.checkout.status != "open":
        return _settled_already(view)
    payments.settle_as_test_provider(current_app.config, view.checkout.id, "payment.succeeded")
    view = _checkout_or_404(checkout_id)
    title = view.course.title if view.course else "the course"
    if view.active and view.course is not None:
        flash(f"Payment received. You are enrolled in “{title}”.", "success")
        return redirect_to(_resume(view.course))
    if view.awaiting_approval and view.course is not None:
        flash(f"Payment received. Your enrollment in “{title}” is waiting for approval by the instructor.",
              "success")
        return redirect_to(_course_page(view.course))
    flash("Payment received.", "success")
    return redirect_to(url_for("enrollment.checkout", checkout_id=view.checkout.id))


@bp.route("/checkout/<uuid:checkout_id>/decline", methods=["POST"])
@role_required("student")
def decline(checkout_id):
    """Test provider: the payment fails with the given reason; the page then offers a retry."""
    view = _test_checkout_or_404(checkout_id)
    if view.checkout.status != "open":
        return _settled_already(view)
    form = forms.DeclineForm()
    if not form.validate_on_submit():
        return _checkout_page(view, form, status=422)
    payments.settle_as_test_provider(current_app.config, view.checkout.id, "payment.failed",
                                     form.reason.data or None)
    flash("The payment was declined. Nothing was charged; you can try again.", "error")
    return redirect_to(url_for("enrollment.checkout", checkout_id=view.checkout.id))


# --- the webhook -------------------------------------------------------------------------


def _webhook_error(message: str, status: int = 400):
    return jsonify(error=message), status


@bp.route("/payments/webhook", methods=["POST"])
def webhook():
    """A processor's signed payment event: verified, then applied once per event id.

    Anonymous and CSRF-exempt (the processor has no session); the signature is
    the authentication. Bad input is a 400 with a JSON error, never a 500.
    """
    if request.mimetype != "application/json":
        return _webhook_error("send the event as application/json", 415)
    config = current_app.config
    try:
        result = payments.receive(config["PAYMENT_WEBHOOK_SECRET"], request.headers.get(payments.SIGNATURE_HEADER),
                                  request.get_data(cache=False), tolerance=config["PAYMENT_WEBHOOK_TOLERANCE"])
    except payments.SignatureError as exc:
        log.warning("payment webhook refused: %s", exc)
        return _webhook_error(f"signature refused: {exc}")
    except payments.EventError as exc:
        log.warning("payment webhook: malformed event: %s", exc)
        return _webhook_error(f"malformed event: {exc}")
    return jsonify(result=result), 200


csrf.exempt(webhook)


# --- the instructor's approval queue ------------------------------------------------------


def _queue_page(status: int = 200):
    queue = queries.approval_queue(queries.QUEUE.read(request.args)).link("enrollment.approvals")
    return render("enrollment/approvals.html", "enrollment/_approvals.html", status=status, queue=queue)


@bp.route("/students/approvals")
@role_required("instructor")
def approvals():
    """Pending enrollments of the courses where the instructor may manage students."""
    return _queue_page()


@bp.route("/students/approvals/export.csv")
@role_required("instructor")
def export_approvals():
    """Every waiting enrollment (all pages) as a CSV file."""
    return csv_response(f"waiting-enrollments-{date.today().isoformat()}", queries.EXPORT_HEADER,
                        queries.export_queue())


def _decidable_or_404(enrollment_id) -> dict:
    row = queries.decidable(enrollment_id)
    if row is None:
        abort(404)
    return row


def _back_to_queue() -> str:
    page = request.form.get("page", type=int)
    return url_for("enrollment.approvals", page=page if page and page > 1 else None)


def _answer(row: dict, outcome: str, message: str, category: str = "success"):
    """The decided row for htmx, or a 303 back to the queue; the message either way (notify)."""
    if is_partial():
        return notify(render("enrollment/approvals.html", "enrollment/_approval_done.html", row=row,
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


@bp.route("/students/approvals/<uuid:enrollment_id>/approve", methods=["POST"])
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
        return _answer(row, "unpaid", f"This enrollment cannot be approved. {refused}", "error")
    if not touched:
        abort(404)
    return _answer(dict(row, status="enrolled"), "approved",
                   f"Approved: {_student(row)} is enrolled in {_course_title(row)}.")


@bp.route("/students/approvals/<uuid:enrollment_id>/decline", methods=["POST"])
@role_required("instructor")
def decline_enrollment(enrollment_id):
    """Decline a pending enrollment once confirmed (the row's confirm button, or the confirm page)."""
    row = _decidable_or_404(enrollment_id)
    if row["status"] != "pending":
        return _stale(row)
    if request.form.get("confirm") != "yes":
        return render("enrollment/decline_confirm.html", "enrollment/_approval_confirm.html", row=row,
                      back_page=request.form.get("page", type=int))
    try:
        touched = queries.decide(enrollment_id, "cancelled")
    except queries.Refused as refused:
        return _answer(row, "refused", f"This enrollment cannot be declined. {refused}", "error")
    if not touched:
        abort(404)
    return _answer(dict(row, status="cancelled"), "declined",
                   f"Declined: {_student(row)}’s enrollment in {_course_title(row)} is cancelled.")

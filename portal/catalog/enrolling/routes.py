"""Enrolling from a course's catalog page: free enrolls (or waits for approval), paid goes to
the checkout (POST /catalog/<slug>/enroll), and a pending, unpaid enrollment resumes it
(POST /catalog/<slug>/checkout).

Views are thin: ``portal.enrollment.queries`` calls the database's own doors under the
request's role, and the database decides status, price and who may do what. A refusal the
student can understand (already enrolled, refunded, a course that is not open) comes back
from a savepoint as a message on the course page; what row-level security hides is a 404.
"""

from __future__ import annotations

import logging

from flask import current_app, flash, url_for
from flask_login import current_user

from portal import payments
from portal.catalog import bp
from portal.enrollment import queries
from portal.models import CourseEnrollment
from portal.web import found, redirect_to, role_required

log = logging.getLogger(__name__)


def _provider():
    return payments.provider_for(current_app.config)


def _course_or_404(slug: str):
    return found(queries.visible_course(slug))


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

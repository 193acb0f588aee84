"""Named queries of enrolling, paying and approving.

Everything runs inside the request's transaction under its role and claims:
row-level security decides which courses, enrollments and checkouts exist
for the user. The three writes go through the database's own doors:
``enroll_in_course()`` and ``start_checkout()`` (SECURITY DEFINER functions
that decide status and price), and an ``UPDATE`` of ``course_enrollments.status``
that the ``course_enrollments_update`` policy and the ``guard_enrollments``
trigger allow only to the course's owner or a co-instructor with
manage_students. Each write that may be refused runs in a savepoint
(``database.atomic()``) so that the view can turn the refusal into a message.

Student-side reads select explicit course columns: ``total_revenue`` is the
instructor's business and is never read here for a student.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from peewee import DatabaseError

from portal import refusals
from portal.db import QUERY_CANCELED, connection_lost, database, sqlstate
from portal.models import Checkout, Course, CourseEnrollment, Workshop


class Refused(Exception):
    """The database refused an enrollment step: ``reason`` is its stable code (portal.refusals),
    ``str()`` the user's message."""

    def __init__(self, reason: str | None, message: str):
        super().__init__(message)
        self.reason = reason

    @classmethod
    def from_error(cls, exc: DatabaseError) -> "Refused":
        """A refused statement as Refused; anything else (an outage, a timeout) goes on up."""
        if connection_lost(exc) or sqlstate(exc) == QUERY_CANCELED:
            raise exc
        return cls(refusals.code(exc), refusals.message(exc))


# --- the student's side ---------------------------------------------------------------

COURSE_COLUMNS = (Course.id, Course.title, Course.slug, Course.status, Course.price_amount, Course.currency)


def visible_course(slug: str) -> Course | None:
    """The course at ``slug`` as the student may see it (explicit columns only), or None."""
    return Course.select(*COURSE_COLUMNS).where(Course.slug == slug).first()


def my_enrollment(user_id, course_id) -> CourseEnrollment | None:
    return (CourseEnrollment.select(CourseEnrollment.id, CourseEnrollment.status, CourseEnrollment.payment_status,
                                    CourseEnrollment.paid())
            .where((CourseEnrollment.course == course_id) & (CourseEnrollment.user == user_id))
            .first())


def enroll(course_id) -> uuid.UUID:
    """``enroll_in_course()`` for the caller: the enrollment id, or Refused."""
    try:
        with database.atomic():
            (enrollment_id,) = database.execute_sql("SELECT enroll_in_course(%s)", (str(course_id),)).fetchone()
    except DatabaseError as exc:
        raise Refused.from_error(exc) from exc
    return enrollment_id


def start_checkout(enrollment_id, provider: str) -> uuid.UUID:
    """``start_checkout()``: the enrollment's open checkout (a new one, or the one already open)."""
    try:
        with database.atomic():
            (checkout_id,) = database.execute_sql("SELECT start_checkout(%s, %s)",
                                                  (str(enrollment_id), provider)).fetchone()
    except DatabaseError as exc:
        raise Refused.from_error(exc) from exc
    return checkout_id


@dataclass
class CheckoutView:
    """A checkout with its course and the enrollment's state, for the checkout page."""
    checkout: Checkout
    course: Course | None        # None when the course is no longer visible to the student
    enrollment: CourseEnrollment | None
    workshop: dict | None = None  # 021: a workshop seat's checkout (title, slug), else None

    @property
    def paid(self) -> bool:
        return self.enrollment is not None and self.enrollment.payment_status == "completed"

    @property
    def active(self) -> bool:
        return self.enrollment is not None and self.enrollment.status in CourseEnrollment.ACTIVE

    @property
    def awaiting_approval(self) -> bool:
        return self.paid and self.enrollment.status == "pending"

    @property
    def can_retry(self) -> bool:
        return (self.course is not None and self.enrollment is not None and self.enrollment.status == "pending"
                and self.enrollment.payment_status in ("pending", "failed"))


def my_checkout(user_id, checkout_id) -> CheckoutView | None:
    """The student's own checkout (RLS, and narrowed to the buyer: staff who may read a
    course's checkouts still do not get the buyer's payment page)."""
    checkout = (Checkout.select(Checkout.id, Checkout.enrollment, Checkout.course, Checkout.workshop, Checkout.provider,
                                Checkout.amount, Checkout.currency, Checkout.status, Checkout.failure_reason,
                                Checkout.settled_at, Checkout.created_at)
                .where((Checkout.id == checkout_id) & (Checkout.user == user_id))
                .first())
    if checkout is None:
        return None
    if checkout.workshop_id is not None:  # 021: a workshop seat
        workshop = (Workshop.select(Workshop.title, Workshop.slug).where(Workshop.id == checkout.workshop_id)
                    .dicts().first())
        return CheckoutView(checkout, None, None, workshop)
    course = Course.select(*COURSE_COLUMNS).where(Course.id == checkout.course_id).first()
    enrollment = (CourseEnrollment.select(CourseEnrollment.id, CourseEnrollment.status,
                                          CourseEnrollment.payment_status, CourseEnrollment.paid())
                  .where(CourseEnrollment.id == checkout.enrollment_id).first())
    return CheckoutView(checkout, course, enrollment)

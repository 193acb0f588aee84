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

from peewee import JOIN, Case, DatabaseError, Tuple

from portal import refusals
from portal.db import QUERY_CANCELED, connection_lost, database, sqlstate
from portal.models import Checkout, Course, CourseEnrollment, User, caller_courses
from portal.listing import Page, Spec, View, batches, page_of

PAGE_SIZE = 20



class Refused(Exception):
    """The database refused an enrollment step: ``reason`` is its stable code (portal.refusals),
    ``str()`` the user's message."""

    def __init__(self, reason: str | None, message: str):
        super().__init__(message)
        self.reason = reason


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


def _refusal(exc: DatabaseError) -> Refused:
    """A refused statement as Refused; anything else (an outage, a timeout) goes on up."""
    if connection_lost(exc) or sqlstate(exc) == QUERY_CANCELED:
        raise exc
    return Refused(refusals.code(exc), refusals.message(exc))


def enroll(course_id) -> uuid.UUID:
    """``enroll_in_course()`` for the caller: the enrollment id, or Refused."""
    try:
        with database.atomic():
            (enrollment_id,) = database.execute_sql("SELECT enroll_in_course(%s)", (str(course_id),)).fetchone()
    except DatabaseError as exc:
        raise _refusal(exc) from exc
    return enrollment_id


def start_checkout(enrollment_id, provider: str) -> uuid.UUID:
    """``start_checkout()``: the enrollment's open checkout (a new one, or the one already open)."""
    try:
        with database.atomic():
            (checkout_id,) = database.execute_sql("SELECT start_checkout(%s, %s)",
                                                  (str(enrollment_id), provider)).fetchone()
    except DatabaseError as exc:
        raise _refusal(exc) from exc
    return checkout_id


@dataclass
class CheckoutView:
    """A checkout with its course and the enrollment's state, for the checkout page."""
    checkout: Checkout
    course: Course | None        # None when the course is no longer visible to the student
    enrollment: CourseEnrollment | None

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
    checkout = (Checkout.select(Checkout.id, Checkout.enrollment, Checkout.course, Checkout.provider,
                                Checkout.amount, Checkout.currency, Checkout.status, Checkout.failure_reason,
                                Checkout.settled_at, Checkout.created_at)
                .where((Checkout.id == checkout_id) & (Checkout.user == user_id))
                .first())
    if checkout is None:
        return None
    course = Course.select(*COURSE_COLUMNS).where(Course.id == checkout.course_id).first()
    enrollment = (CourseEnrollment.select(CourseEnrollment.id, CourseEnrollment.status,
                                          CourseEnrollment.payment_status, CourseEnrollment.paid())
                  .where(CourseEnrollment.id == checkout.enrollment_id).first())
    return CheckoutView(checkout, course, enrollment)


# --- the instructor's approval queue --------------------------------------------------


def _may_approve():
    """Enrollments of courses where the caller may manage students: the caller's set,
    computed once per statement (the test of course_enrollments_update, 007)."""
    return caller_courses(CourseEnrollment.course, "manage_students")


QUEUE = Spec(page_size=PAGE_SIZE)


def _decidable(*columns):
    # Every course the caller may decide for is readable to them (006 adds manage_students
    # to courses_read); the outer join keeps a row whose course could not be read anyway.
    return (CourseEnrollment.select(*columns)
            .join(Course, JOIN.LEFT_OUTER, on=(Course.id == CourseEnrollment.course))
            .switch(CourseEnrollment)
            .join(User, JOIN.LEFT_OUTER, on=(User.id == CourseEnrollment.user))
            .where(_may_approve()))


def _queue_query(*columns):
    return _decidable(*columns).where(CourseEnrollment.status == "pending")


ROW_COLUMNS = (CourseEnrollment.id, CourseEnrollment.status, CourseEnrollment.payment_status,
               CourseEnrollment.paid(), CourseEnrollment.enrolled_at, CourseEnrollment.course_id,
               Course.title.alias("course_title"), Course.slug.alias("course_slug"),
               Course.currency.alias("currency"), User.full_name.alias("student_name"),
               User.email.alias("student_email"))


def _ready():
    return Case(None, ((CourseEnrollment.payment_status == "completed", 0),), 1)


def waiting_count() -> int:
    """How many pending enrollments the caller may decide (the dashboard's reminder):
    the kept pending counts of their courses, whatever the platform's size (008)."""
    return database.execute_sql("SELECT pending_approvals_count()").fetchone()[0]


def approval_queue(view: View) -> Page:
    """Pending enrollments the caller may decide, ready ones first, oldest first; 20 a page."""
    total = waiting_count()
    query = _queue_query(*ROW_COLUMNS).order_by(_ready(), CourseEnrollment.enrolled_at, CourseEnrollment.id)
    return QUEUE.page(view, page_of(view, query.dicts(), total), total, total=total)


EXPORT_HEADER = ("Student", "Email", "Course", "Requested", "Payment", "Paid", "Currency")


def export_queue():
    """Every waiting enrollment, in the queue's order, as CSV rows, read in keyset batches."""
    ready = _ready()
    query = (_queue_query(*ROW_COLUMNS, ready.alias("ready"))
             .order_by(ready, CourseEnrollment.enrolled_at, CourseEnrollment.id).dicts())
    for row in batches(query, key=lambda row: (row["ready"], row["enrolled_at"], row["id"]),
                       after=lambda at: Tuple(ready, CourseEnrollment.enrolled_at, CourseEnrollment.id) > Tuple(*at)):
        yield (row["student_name"], row["student_email"], row["course_title"], row["enrolled_at"].isoformat(),
               row["payment_status"], row["amount_paid"], row["currency"])


def decidable(enrollment_id) -> dict | None:
    """One enrollment the caller may decide (any status, so a stale button can say what
    happened), or None when it does not exist for them."""
    return _decidable(*ROW_COLUMNS).where(CourseEnrollment.id == enrollment_id).dicts().first()


def decide(enrollment_id, status: str) -> int:
    """Move a pending enrollment to ``status`` (enrolled or cancelled); rows touched.

    Row-level security (course_enrollments_update) and guard_enrollments decide;
    a refusal of the guard comes back as Refused, a row the policy hides as 0.
    """
    try:
        with database.atomic():
            return (CourseEnrollment.update(status=status)
                    .where((CourseEnrollment.id == enrollment_id) & (CourseEnrollment.status == "pending"))
                    .execute())
    except DatabaseError as exc:
        raise _refusal(exc) from exc

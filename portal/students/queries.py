"""Named queries of the students area: the approval queue of pending enrollments.

Everything runs inside the request's transaction under its role and claims:
the queue is the pending enrollments of the courses where the caller may
manage students, and a decision is an ``UPDATE`` of ``course_enrollments.status``
that the ``course_enrollments_update`` policy and the ``guard_enrollments``
trigger allow only to the course's owner or a co-instructor with
manage_students (a refusal of the guard comes back as ``Refused``).
"""

from __future__ import annotations

from peewee import JOIN, Case, DatabaseError

from portal.db import database
from portal.enrollment.queries import Refused
from portal.listing import Page, Spec, View, page_of, stream
from portal.models import Course, CourseEnrollment, User, caller_courses

PAGE_SIZE = 20


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


def _paid():
    """Approvable: the payment went through (a free enrollment's is 'completed' too)."""
    return CourseEnrollment.payment_status == "completed"


def waiting_count() -> int:
    """How many pending enrollments the caller may approve now (the dashboard's reminder): paid or
    free ones only, an index-only count of what waits (pending_approvals_count, 013)."""
    return database.execute_sql("SELECT pending_approvals_count()").fetchone()[0]


def awaiting_payment_count() -> int:
    """Pending enrollments of the caller's courses whose payment has not gone through: shown apart,
    never counted as waiting for approval (awaiting_payment_count, 013)."""
    return database.execute_sql("SELECT awaiting_payment_count()").fetchone()[0]


def _queue_order():
    return (CourseEnrollment.enrolled_at, CourseEnrollment.id)


AWAITING = Spec(page_size=PAGE_SIZE, page_arg="awaiting_page")


def _queue_page(view: View, ready: bool, total: int) -> Page:
    """One page of the pending enrollments the caller may decide, paid (``ready``) or awaiting their
    payment, oldest first.

    The page's ids first (the enrollments alone, by their pending index), then those rows with
    their course and student: joined before the sort, every waiting enrollment of the
    instructor was joined to its student under the users' policy before the 20 were kept
    (2,301 rows at 1M: 35 ms, against 3 ms for the ids and a few for their 20 rows)."""
    paid = _paid() if ready else ~_paid()
    ids = [row.id for row in page_of(view, CourseEnrollment.select(CourseEnrollment.id)
                                     .where(_may_approve() & (CourseEnrollment.status == "pending") & paid)
                                     .order_by(*_queue_order()), total)]
    rows = list(_queue_query(*ROW_COLUMNS).where(CourseEnrollment.id.in_(ids)).order_by(*_queue_order())
                .dicts()) if ids else []
    return view.spec.page(view, rows, total, total=total)


def approval_queue(view: View) -> Page:
    """Pending enrollments the caller may approve now (paid or free), oldest first; 20 a page."""
    return _queue_page(view, True, waiting_count())


def awaiting_payment(view: View) -> Page:
    """Pending enrollments still waiting for their payment, oldest first; 20 a page, apart."""
    return _queue_page(view, False, awaiting_payment_count())


EXPORT_HEADER = ("Student", "Email", "Course", "Requested", "Payment", "Paid", "Currency")
PAYMENT_LABELS = {"completed": "Paid", "failed": "Payment failed", "pending": "Awaiting payment",
                  "refunded": "Refunded"}


def export_queue(when):
    """Every waiting enrollment, approvable ones first, then those awaiting payment, as CSV rows
    (one server-side cursor): labelled as the page labels them, times by ``when`` (the viewer's zone), and an amount
    the caller may not see left out ("Settled")."""
    query = _queue_query(*ROW_COLUMNS).order_by(Case(None, ((_paid(), 0),), 1), *_queue_order()).dicts()
    for row in stream(query):
        paid, amount = row["payment_status"] == "completed", row["amount_paid"]
        label = PAYMENT_LABELS.get(row["payment_status"], row["payment_status"])
        if paid:  # as the page says it: the amount is NULL for a co-instructor without view_revenue
            label = "Settled" if amount is None else ("Free" if amount == 0 else "Paid")
        yield (row["student_name"], row["student_email"], row["course_title"], when(row["enrolled_at"]),
               label, amount if paid and amount else None, row["currency"])


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
        raise Refused.from_error(exc) from exc

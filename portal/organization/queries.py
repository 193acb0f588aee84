"""Named queries of the organization admin's home, under the request's role and claims.

Everything is read through the org admin's own row-level security (007): courses_read,
workshops_read, course_enrollments_read and revenue_transactions_read let them read their
organization's rows (``organization_id = rls.admin_org()``); users_read and
instructor_profiles_read their members. But a published course or workshop is readable by
anyone, so every query here also says ``organization_id = (SELECT rls.admin_org())``: an
instructor's standalone work (organization NULL), published or not, never appears, and its money
is not theirs to read anyway (course_revenue / workshop_revenue answer NULL for it). The caller's
organization is computed once per statement (an initplan), never per row.

Figures come from kept counters on courses and workshops (enrolled_count, completed_count...,
008's triggers) and the nightly monthly statistics for the months (``org_revenue_by_month``, 017);
the one drill-down that reads rows is a course's enrollments by status (that course's rows, by
idx_course_enrollments_course).
"""

from __future__ import annotations

from peewee import JOIN, SQL, NodeList, fn

from portal.db import database
from portal.listing import Choice, Page, Spec, Text, View, page_of, stream
from portal.models import Course, CourseEnrollment, InstructorProfile, Organization, User, Workshop

MY_ORG = SQL("(SELECT rls.admin_org())")
COURSE_STATUSES = {"published": "Published", "draft": "Draft", "archived": "Archived"}
COURSES = Spec(filters=(Text("q", "Title", max_length=100, placeholder="Course title"),
                        Choice("status", "Status", COURSE_STATUSES, any_label="Any status")),
               sorts={"title": "Title", "enrolled": "Most enrolled"}, default_sort="title", page_size=20)
WORKSHOPS = Spec(filters=(Text("q", "Title", max_length=100, placeholder="Workshop title"),),
                 page_size=20)
INSTRUCTORS = Spec(filters=(Text("q", "Name or email", max_length=100, placeholder="Name or email"),),
                   page_size=20)
# One instructor's page: their organization courses and workshops, two lists of one page each.
THEIR_COURSES = Spec(page_size=20, page_arg="courses_page")
THEIR_WORKSHOPS = Spec(page_size=20, page_arg="workshops_page")
ENROLLMENT_STATUSES = ("pending", "enrolled", "in_progress", "completed", "cancelled", "refunded")


def _instructor(field, active: str = "NULL"):
    """``field = ANY (the caller's organization's instructors)``: rls.org_instructor_ids (017; role
    and active flag are hidden from the org admin by the column grants), once per statement.
    ``active``: NULL any, true the active, false the deactivated."""
    return NodeList((field, SQL(f"= ANY ((SELECT rls.org_instructor_ids({active}))::uuid[])")))


def organization_name() -> str | None:
    return Organization.select(Organization.name).where(Organization.id == MY_ORG).scalar()


# --- the home's figures -------------------------------------------------------------------------

def figures() -> dict:
    courses = (Course.select(fn.count(Course.id).alias("courses"),
                             fn.count(Course.id).filter(Course.status == "published").alias("published"),
                             fn.coalesce(fn.sum(Course.enrolled_count), 0).alias("enrolled"),
                             fn.coalesce(fn.sum(Course.active_enrollment_count), 0).alias("active"),
                             fn.coalesce(fn.sum(Course.completed_count), 0).alias("completed"))
               .where(Course.organization == MY_ORG).dicts().get())
    workshops = (Workshop.select(fn.count(Workshop.id).alias("workshops"),
                                 fn.coalesce(fn.sum(Workshop.enrolled_count), 0).alias("registered"))
                 .where(Workshop.organization == MY_ORG).dicts().get())
    instructors = instructors_query(None).where(_instructor(User.id, "true")).count()
    # the kept totals summed once as the owner, for the caller's organization only (023)
    course_revenue, workshop_revenue = database.execute_sql("SELECT * FROM org_revenue_totals()").fetchone()
    return {**courses, **workshops, "instructors": instructors, "course_revenue": course_revenue,
            "workshop_revenue": workshop_revenue, "revenue": course_revenue + workshop_revenue}


def revenue_by_month() -> list[dict]:
    cursor = database.execute_sql("SELECT month, gross_revenue, platform_fees, net_revenue, transaction_count, "
                                  "new_enrollments FROM org_revenue_by_month(12)")
    return [dict(month=m, gross=g, fees=f, net=n, transactions=t, enrollments=e)
            for m, g, f, n, t, e in cursor.fetchall()]


# --- courses ------------------------------------------------------------------------------------------

def _course_columns():
    return (Course.id, Course.title, Course.status, Course.enrolled_count, Course.completed_count,
            Course.active_enrollment_count, Course.average_rating, Course.review_count, Course.currency,
            Course.created_at, Course.instructor.alias("instructor_id"),
            fn.coalesce(User.full_name, "").alias("instructor_name"),
            fn.course_revenue(Course.id).coerce(False).alias("revenue"))


def courses_query(view: View | None, instructor=None):
    query = (Course.select(*_course_columns())
             .join(User, JOIN.LEFT_OUTER, on=(User.id == Course.instructor))
             .where(Course.organization == MY_ORG))
    if instructor is not None:
        query = query.where(Course.instructor == instructor)
    if view is not None:
        if view.q:
            query = query.where(fn.lower(Course.title).contains(view.q.lower()))
        if view.status:
            query = query.where(Course.status == view.status)
    return query


def _course_order(view: View | None):
    if view is not None and view.sort == "enrolled":
        return (Course.enrolled_count.desc(), Course.title, Course.id)
    return (Course.title, Course.id)


def courses(view: View) -> Page:
    query = courses_query(view)
    matching = query.count()
    rows = page_of(view, query.order_by(*_course_order(view)).dicts(), matching)
    return view.spec.page(view, rows, matching)


COURSES_HEADER = ("Title", "Instructor", "Status", "Enrolled", "Active", "Completed", "Average rating", "Reviews",
                  "Revenue", "Currency", "Created")


def course_rows(view: View):
    for row in stream(courses_query(view).order_by(*_course_order(view)).dicts()):
        yield (row["title"], row["instructor_name"], row["status"], row["enrolled_count"],
               row["active_enrollment_count"], row["completed_count"], row["average_rating"], row["review_count"],
               row["revenue"], row["currency"], row["created_at"].date().isoformat())


def course(course_id) -> dict | None:
    return courses_query(None).where(Course.id == course_id).dicts().first()


def enrollments_by_status(course_id) -> list[tuple[str, int]]:
    """(status, count) of one of the organization's courses, every status (zeros too)."""
    counted = dict(CourseEnrollment.select(CourseEnrollment.status, fn.count(CourseEnrollment.id))
                   .where(CourseEnrollment.course == course_id)
                   .group_by(CourseEnrollment.status).tuples())
    return [(status, counted.get(status, 0)) for status in ENROLLMENT_STATUSES]


# --- workshops ------------------------------------------------------------------------------------------

def workshops_query(view: View | None, instructor=None):
    query = (Workshop.select(Workshop.id, Workshop.title, Workshop.status, Workshop.start_time, Workshop.capacity,
                             Workshop.enrolled_count, Workshop.attended_count, Workshop.currency,
                             fn.coalesce(User.full_name, "").alias("instructor_name"),
                             fn.workshop_revenue(Workshop.id).coerce(False).alias("revenue"))
             .join(User, JOIN.LEFT_OUTER, on=(User.id == Workshop.instructor))
             .where(Workshop.organization == MY_ORG))
    if instructor is not None:
        query = query.where(Workshop.instructor == instructor)
    if view is not None and view.q:
        query = query.where(fn.lower(Workshop.title).contains(view.q.lower()))
    return query


def workshops(view: View) -> Page:
    query = workshops_query(view)
    matching = query.count()
    rows = page_of(view, query.order_by(Workshop.start_time.desc(), Workshop.id).dicts(), matching)
    return view.spec.page(view, rows, matching)


# --- instructors ------------------------------------------------------------------------------------------

def instructors_query(view: View | None):
    """The organization's instructors (members whose role is instructor: a member demoted to student
    keeps a hidden profile but is not listed), deactivated ones marked, and how many of the
    organization's courses and workshops each owns (their standalone work is not counted)."""
    org_courses = (Course.select(fn.count(Course.id)).where((Course.instructor == User.id)
                                                            & (Course.organization == MY_ORG)))
    org_workshops = (Workshop.select(fn.count(Workshop.id)).where((Workshop.instructor == User.id)
                                                                  & (Workshop.organization == MY_ORG)))
    query = (User.select(User.id, User.full_name, User.email, InstructorProfile.visibility,
                         InstructorProfile.is_verified, org_courses.alias("courses"),
                         org_workshops.alias("workshops"), _instructor(User.id, "false").alias("deactivated"))
             .join(InstructorProfile, on=(InstructorProfile.user == User.id))
             .where(_instructor(User.id)))
    if view is not None and view.q:
        needle = view.q.lower()
        query = query.where(fn.lower(User.full_name).contains(needle) | fn.lower(User.email).contains(needle))
    return query


def instructors(view: View) -> Page:
    query = instructors_query(view)
    matching = query.count()
    rows = page_of(view, query.order_by(User.full_name, User.id).dicts(), matching)
    return view.spec.page(view, rows, matching)


INSTRUCTORS_HEADER = ("Name", "Email", "Courses in the organization", "Workshops in the organization", "Verified",
                      "Status")


def instructor_rows(view: View):
    for row in stream(instructors_query(view).order_by(User.full_name, User.id).dicts()):
        yield (row["full_name"], row["email"], row["courses"], row["workshops"], "yes" if row["is_verified"] else "no",
               "deactivated" if row["deactivated"] else "active")


def instructor(user_id) -> dict | None:
    return instructors_query(None).where(User.id == user_id).dicts().first()


def their_courses(view: View, instructor) -> Page:
    query = courses_query(None, instructor=instructor)
    matching = query.count()
    return view.spec.page(view, page_of(view, query.order_by(Course.title, Course.id).dicts(), matching), matching)


def their_workshops(view: View, instructor) -> Page:
    query = workshops_query(None, instructor=instructor)
    matching = query.count()
    return view.spec.page(view, page_of(view, query.order_by(Workshop.start_time.desc(), Workshop.id).dicts(),
                                        matching), matching)

"""Named queries of the reviews inbox, under the request's role and claims.

The inbox is the reviews of the caller's courses: those they own and those they co-teach with
view_content or respond_reviews (the set ``course_reviews_read`` lets them read, 007), computed
once per statement (``caller_courses``), so a 100k-student instructor's inbox is an index scan
and not a policy per row. Reviews hidden by moderation are left out: they count in no figure
and the moderation queue is where they are dealt with. Answering is one UPDATE of
``instructor_response``: the guard trigger stamps who and when, ``course_reviews_update``
lets only the owner and co-teachers with respond_reviews touch the row (anyone else touches
none), and ``notify_review`` tells the student of the first answer (010).
"""

from __future__ import annotations

import uuid

from peewee import JOIN, SQL, NodeList, fn

from portal.db import database
from portal.listing import Choice, Page, Spec, View, keyset_page
from portal.models import Course, CourseReview, ReviewAuthor, caller_courses

READERS = ("view_content", "respond_reviews")  # who reads a course's reviews (course_reviews_read)
RESPONDERS = ("respond_reviews",)               # who answers them (course_reviews_update)
STARS = {str(n): f"{n} star{'' if n == 1 else 's'}" for n in range(5, 0, -1)}
LIST = Spec(filters=(Choice("course", "Course", open=True, any_label="All your courses", max_length=36),
                     Choice("rating", "Rating", STARS, any_label="Any rating"),
                     Choice("answered", "Answered", {"unanswered": "Unanswered", "answered": "Answered"},
                            any_label="Answered or not"),
                     Choice("reported", "Reports", {"reported": "Reported"}, any_label="Reported or not")),
            page_size=20, keyset=True)
TREND_MONTHS = 12


def _reported():
    """The review has open reports (reported_review_ids, 012: computed once per statement)."""
    return NodeList((CourseReview.id, SQL("= ANY ((SELECT reported_review_ids())::uuid[])")))


_UNANSWERED = CourseReview.instructor_response.is_null()
# Unanswered first, then newest: the list's order and its keyset (a unique key, all descending).
KEYS = ((_UNANSWERED, "unanswered", bool), (CourseReview.created_at, "created_at"), (CourseReview.id, "id"))


def course_id(view: View) -> uuid.UUID | None:
    """The course filter as a uuid; anything else is no filter."""
    try:
        return uuid.UUID(view.course) if view.course else None
    except ValueError:
        return None


def courses() -> dict:
    """The caller's courses whose reviews they read: {id as text: title}, by title."""
    rows = (Course.select(Course.id, Course.title).where(caller_courses(Course.id, *READERS))
            .order_by(Course.title, Course.id).tuples())
    return {str(course): title for course, title in rows}


def answerable() -> set[str]:
    """Ids (as text) of the caller's courses whose reviews they may answer."""
    return {str(course) for (course,) in Course.select(Course.id)
            .where(caller_courses(Course.id, *RESPONDERS)).tuples()}


def _mine(course: uuid.UUID | None = None):
    condition = caller_courses(CourseReview.course, *READERS) & CourseReview.is_visible
    if course is not None:
        condition &= CourseReview.course == course
    return condition


def _columns():
    return (CourseReview.id, CourseReview.course.alias("course_id"), Course.title.alias("course_title"),
            CourseReview.rating, CourseReview.title, CourseReview.review_text,
            CourseReview.instructor_response, CourseReview.instructor_responded_at,
            CourseReview.created_at, CourseReview.updated_at, _UNANSWERED.alias("unanswered"),
            _reported().alias("reported"),
            fn.coalesce(ReviewAuthor.display_name, "A student").alias("author"))


def _query(*where):
    query = (CourseReview.select(*_columns())
             .join(Course, on=(Course.id == CourseReview.course))
             .join(ReviewAuthor, JOIN.LEFT_OUTER, on=(ReviewAuthor.review == CourseReview.id)))
    for condition in where:
        query = query.where(condition)
    return query.dicts()


def inbox(view: View) -> Page:
    """One page of the inbox: unanswered first, then newest, by position; with the course choices,
    and the rating distribution and trend of the filtered course (or all the caller's courses)."""
    view.choices["course"] = courses()
    course = course_id(view)
    conditions = [_mine(course)]
    if view.rating:
        conditions.append(CourseReview.rating == int(view.rating))
    if view.answered:
        conditions.append(_UNANSWERED if view.answered == "unanswered" else ~_UNANSWERED)
    if view.reported:
        conditions.append(_reported())
    # The page's positions first, from the reviews alone (an index scan of the caller's courses); then
    # the page's rows with their course and author, for those ids only: joined before the limit, the
    # author's lookup ran for every review of the caller's courses (5,500 at 1M: 45 ms instead of 13).
    positions = CourseReview.select(CourseReview.id, CourseReview.created_at, _UNANSWERED.alias("unanswered"))
    for condition in conditions:
        positions = positions.where(condition)
    page = keyset_page(view, positions.dicts(), KEYS, descending=True, matching=0)
    if page.rows:
        full = {row["id"]: row for row in _query(_mine(), CourseReview.id.in_([row["id"] for row in page.rows]))}
        page.rows = [full[row["id"]] for row in page.rows if row["id"] in full]
    return page


def review(review_id) -> dict | None:
    """One review of the caller's courses (None when RLS hides it, or it is not theirs to read)."""
    return _query(_mine(), CourseReview.id == review_id).first()


def respond(review_id, text: str) -> int:
    """Write (or rewrite) the response to a visible review of a course the caller answers for: the
    rows touched (0 otherwise; course_reviews_update would filter the row out anyway)."""
    return (CourseReview.update(instructor_response=text)
            .where((CourseReview.id == review_id) & CourseReview.is_visible
                   & caller_courses(CourseReview.course, *RESPONDERS))
            .execute())


def unanswered_count() -> int:
    """Visible reviews of the caller's courses with no response yet (the dashboard's figure; the
    partial index idx_course_reviews_inbox_unanswered, 012)."""
    return (CourseReview.select(fn.count(SQL("*")))
            .where(_mine() & _UNANSWERED).scalar())


DISTRIBUTION = """
    SELECT s.rating, count(r.id)::integer
    FROM generate_series(1, 5) AS s(rating)
    LEFT JOIN course_reviews r
      ON r.rating = s.rating AND r.is_visible
     AND r.course_id = ANY ((SELECT rls.course_ids(%(readers)s))::uuid[])
     AND (%(course)s::uuid IS NULL OR r.course_id = %(course)s::uuid)
    GROUP BY s.rating ORDER BY s.rating DESC
"""

# The average rating of each of the last 12 months in the viewer's time zone (months without a
# review have none), oldest first.
TREND = """
    WITH months AS (
        SELECT generate_series(date_trunc('month', now() AT TIME ZONE %(tz)s) - interval '11 months',
                               date_trunc('month', now() AT TIME ZONE %(tz)s), interval '1 month') AS month
    ), reviews AS (
        SELECT date_trunc('month', r.created_at AT TIME ZONE %(tz)s) AS month,
               round(avg(r.rating), 2) AS average, count(*)::integer AS n
        FROM course_reviews r
        WHERE r.is_visible
          AND r.course_id = ANY ((SELECT rls.course_ids(%(readers)s))::uuid[])
          AND (%(course)s::uuid IS NULL OR r.course_id = %(course)s::uuid)
          AND r.created_at >= now() - interval '13 months'
        GROUP BY 1
    )
    SELECT months.month::date, reviews.average, coalesce(reviews.n, 0)
    FROM months LEFT JOIN reviews USING (month)
    ORDER BY months.month
"""


def distribution(course: uuid.UUID | None) -> list[dict]:
    """[{rating, count}] from 5 stars down to 1."""
    cursor = database.execute_sql(DISTRIBUTION, {"readers": list(READERS), "course": course})
    return [dict(rating=rating, count=count) for rating, count in cursor.fetchall()]


def trend(course: uuid.UUID | None, zone: str) -> list[dict]:
    """[{month, average, reviews}] over the last TREND_MONTHS months, oldest first."""
    cursor = database.execute_sql(TREND, {"readers": list(READERS), "course": course, "tz": zone})
    return [dict(month=month, average=average, reviews=n) for month, average, n in cursor.fetchall()]

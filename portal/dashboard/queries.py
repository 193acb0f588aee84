"""Named queries of the dashboard. Each runs under the request's role and
claims, so the database decides what the instructor may see."""

from __future__ import annotations

import re
from datetime import datetime

from peewee import SQL, Select, fn

from portal.db import database
from portal.listing import Spec
from portal.formatting import percent
from portal.models import Course, StudentActivity, Workshop

ACTIVITY_PAGE = 20
# The timeline pages by position (newest first: after the last row shown).
ACTIVITY = Spec(page_size=ACTIVITY_PAGE, keyset=True)
# The timeline's position: a row's time and id (get_instructor_recent_activity pages by them).
ACTIVITY_KEYS = ((StudentActivity.occurred_at, "occurred_at"), (StudentActivity.id, "activity_id"))

# Every card of the dashboard, in order: (field of get_instructor_dashboard_stats, label, kind).
CARDS = (
    ("total_students", "Students", "number"),
    ("total_courses", "Courses", "number"),
    ("total_workshops", "Workshops", "number"),
    ("total_revenue", "Total earnings", "money"),
    ("pending_revenue", "Pending payout", "money"),
    ("average_rating", "Average rating", "rating"),
    ("total_reviews", "Reviews", "number"),
    ("active_enrollments", "Active enrollments", "number"),
    ("upcoming_workshops", "Upcoming workshops", "number"),
)


def _table_function(function, *columns):
    """``SELECT columns FROM function`` as a Peewee query returning dicts."""
    return Select(from_list=[function], columns=columns or [SQL("*")]).bind(database).dicts()


def dashboard_stats(instructor_id) -> dict | None:
    return _table_function(fn.get_instructor_dashboard_stats(instructor_id)).first()


def has_teaching(instructor_id) -> bool:
    """Whether the instructor has made any course or workshop yet (drafts too)."""
    return (Course.select().where(Course.instructor == instructor_id).exists()
            or Workshop.select().where(Workshop.instructor == instructor_id).exists())


# get_instructor_recent_activity() (SQL) writes a quiz score into the text as stored, "80.00%";
# the portal shows every percentage one way (formatting.percent: "80%", "66.7%"). The score sits
# at a fixed place: after the student's name ("<name> scored 66.67% on "<lesson>"") or at the end
# ("<name> passed "<lesson>" with 80.00%"), so a lesson title holding a "%" is left alone.
_SCORE = re.compile(r"(-?[0-9]+(?:\.[0-9]+)?)%")
_PASSED_SCORE = re.compile(r" with (-?[0-9]+(?:\.[0-9]+)?)%$")


def _with_scores_shown(row: dict) -> dict:
    text = row.get("description") or ""
    if row["activity_type"] == "quiz_failed":
        head = f"{row.get('student_name') or 'A student'} scored "
        found = _SCORE.match(text, len(head)) if text.startswith(head) else None
    elif row["activity_type"] == "quiz_passed":
        found = _PASSED_SCORE.search(text)
    else:
        return row
    if found:
        row["description"] = text[:found.start(1)] + percent(found.group(1)) + text[found.end(1) + 1:]
    return row


def older_activity(instructor_id, before: datetime | None = None, before_id=None,
                   limit: int = ACTIVITY_PAGE) -> tuple[list[dict], bool]:
    """One page of the timeline, newest first, and whether there is more."""
    rows = list(_table_function(fn.get_instructor_recent_activity(instructor_id, limit + 1, before, before_id)))
    return [_with_scores_shown(row) for row in rows[:limit]], len(rows) > limit


def newer_activity(instructor_id, since: datetime, since_id) -> list[dict]:
    """What happened after (since, since_id), newest first (at most one page)."""
    rows, _ = older_activity(instructor_id, limit=ACTIVITY_PAGE)
    return [row for row in rows if (row["occurred_at"], str(row["activity_id"])) > (since, str(since_id))]


# Enrollments in the instructor's own courses and their settled earnings, per
# day of the last 30 in the viewer's time zone (days without any are zero).
DAILY_TREND = """
    WITH days AS (
        SELECT generate_series((now() AT TIME ZONE %(tz)s)::date - 29,
                               (now() AT TIME ZONE %(tz)s)::date, interval '1 day')::date AS day
    ), enrollments AS (
        SELECT (e.enrolled_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS n
        FROM course_enrollments e JOIN courses c ON c.id = e.course_id
        WHERE c.instructor_id = %(instructor)s AND e.enrolled_at >= now() - interval '31 days'
        GROUP BY 1
    ), earnings AS (
        SELECT (r.transaction_date AT TIME ZONE %(tz)s)::date AS day, sum(r.instructor_earnings) AS amount
        FROM revenue_transactions r
        WHERE r.instructor_id = %(instructor)s AND r.payment_status = 'completed'
          AND r.transaction_date >= now() - interval '31 days'
        GROUP BY 1
    )
    SELECT days.day, coalesce(enrollments.n, 0)::integer AS enrollments,
           coalesce(earnings.amount, 0)::numeric(12,2) AS earnings
    FROM days LEFT JOIN enrollments USING (day) LEFT JOIN earnings USING (day)
    ORDER BY days.day
"""


def daily_trend(instructor_id, zone: str) -> list[dict]:
    cursor = database.execute_sql(DAILY_TREND, {"tz": zone, "instructor": instructor_id})
    return [dict(day=day, enrollments=n, earnings=amount) for day, n, amount in cursor.fetchall()]

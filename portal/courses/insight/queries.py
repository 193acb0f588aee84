"""Named queries of the course insight page. Each runs under the request's role
and claims (the page needs ``view_content``, which RLS lets read the course's
modules, lessons, enrollments, progress and every review of it), and each is
one statement whatever the size of the course, reading kept figures (the
course's counts, 008's per-lesson and per-module completions) rather than the
course's history.

Who counts as a student here: an *active* enrollment, whose status is
enrolled, in_progress or completed (as ``courses.enrolled_count`` counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from portal.db import database
from portal.models import Course

TREND_DAYS = 90


def share(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a percentage with one decimal, None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# New enrollments (any status: each was made that day) per day of the last
# 90 in the viewer's time zone, days without any as zero. As the dashboard's
# DAILY_TREND, for one course.
ENROLLMENT_TREND = """
    WITH days AS (
        SELECT generate_series((now() AT TIME ZONE %(tz)s)::date - (%(days)s - 1),
                               (now() AT TIME ZONE %(tz)s)::date, interval '1 day')::date AS day
    ), enrollments AS (
        SELECT (e.enrolled_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS n
        FROM course_enrollments e
        WHERE e.course_id = %(course)s AND e.enrolled_at >= now() - make_interval(days => %(days)s + 1)
        GROUP BY 1
    )
    SELECT days.day, coalesce(enrollments.n, 0)::integer AS enrollments
    FROM days LEFT JOIN enrollments USING (day)
    ORDER BY days.day
"""


def enrollment_trend(course_id, zone: str, days: int = TREND_DAYS) -> list[dict]:
    cursor = database.execute_sql(ENROLLMENT_TREND, {"tz": zone, "course": course_id, "days": days})
    return [dict(day=day, enrollments=n) for day, n in cursor.fetchall()]


def active_students(course_id) -> int:
    """The course's kept enrolled_count (enrolled, in progress or completed): one
    row, however many students the course has."""
    return Course.select(Course.enrolled_count).where(Course.id == course_id).scalar() or 0


# What the course's inactive enrollments (cancelled or refunded, a few) completed:
# the kept counts on lessons and modules (008) count every enrollment, and the
# page counts active students, so these are subtracted (inactive_completions()
# reads the inactive enrollments only, never the course's whole history).
INACTIVE_DONE = "SELECT kind, item, n FROM inactive_completions(%(course)s)"


def _inactive_done(course_id) -> dict:
    cursor = database.execute_sql(INACTIVE_DONE, {"course": course_id})
    return {(kind, str(item)): n for kind, item, n in cursor.fetchall()}


# Per module, in order: its lessons, and how many active students completed
# every one of them (a module without lessons has no one to count).
MODULE_FUNNEL = """
    SELECT m.id, m.title, m.position,
           (SELECT count(*) FROM course_lessons l WHERE l.module_id = m.id)::integer AS lessons,
           m.completed_count
    FROM course_modules m
    WHERE m.course_id = %(course)s
    ORDER BY m.position, m.id
"""


def module_funnel(course_id, inactive: dict | None = None) -> list[dict]:
    inactive = _inactive_done(course_id) if inactive is None else inactive
    cursor = database.execute_sql(MODULE_FUNNEL, {"course": course_id})
    return [dict(id=id_, title=title, position=position, lessons=lessons,
                 completed=done - inactive.get(("module", str(id_)), 0) if lessons else 0)
            for id_, title, position, lessons, done in cursor.fetchall()]


# Per lesson, in course order (module, then lesson): how many active students completed it.
LESSON_COMPLETION = """
    SELECT l.id, l.title, m.title AS module_title, m.position AS module_position, l.position,
           l.completed_count
    FROM course_lessons l
    JOIN course_modules m ON m.id = l.module_id
    WHERE l.course_id = %(course)s
    ORDER BY m.position, m.id, l.position, l.id
"""


def lesson_completion(course_id, inactive: dict | None = None) -> list[dict]:
    inactive = _inactive_done(course_id) if inactive is None else inactive
    cursor = database.execute_sql(LESSON_COMPLETION, {"course": course_id})
    return [dict(id=id_, title=title, module_title=module_title, module_position=module_position,
                 position=position, completed=done - inactive.get(("lesson", str(id_)), 0))
            for id_, title, module_title, module_position, position, done in cursor.fetchall()]


# Reviews per rating 1..5: the visible ones (what average_rating and
# review_count count) and the hidden ones (moderated; readable by the
# course's teachers, not counted in the figures).
RATING_DISTRIBUTION = """
    SELECT r.rating,
           (count(cr.id) FILTER (WHERE cr.is_visible))::integer AS visible,
           (count(cr.id) FILTER (WHERE NOT cr.is_visible))::integer AS hidden
    FROM generate_series(1, 5) AS r(rating)
    LEFT JOIN course_reviews cr ON cr.course_id = %(course)s AND cr.rating = r.rating
    GROUP BY r.rating
    ORDER BY r.rating
"""


def rating_distribution(course_id) -> list[dict]:
    cursor = database.execute_sql(RATING_DISTRIBUTION, {"course": course_id})
    return [dict(rating=rating, visible=visible, hidden=hidden) for rating, visible, hidden in cursor.fetchall()]


@dataclass(frozen=True)
class Insight:
    students: int                 # active enrollments now
    trend: list[dict]             # [{day, enrollments}] oldest first
    modules: list[dict]           # [{id, title, lessons, completed, share}]
    lessons: list[dict]           # [{id, title, module_title, completed, share}]
    ratings: list[dict]           # [{rating, visible, hidden}] 1..5

    @property
    def trend_total(self) -> int:
        return sum(day["enrollments"] for day in self.trend)

    @property
    def has_students(self) -> bool:
        return self.students > 0 or self.trend_total > 0

    @property
    def visible_reviews(self) -> int:
        return sum(r["visible"] for r in self.ratings)

    @property
    def hidden_reviews(self) -> int:
        return sum(r["hidden"] for r in self.ratings)


def course_insight(course_id, zone: str) -> Insight:
    """Everything the insight page draws, in six statements."""
    students = active_students(course_id)
    inactive = _inactive_done(course_id)
    modules = module_funnel(course_id, inactive)
    for module in modules:
        module["share"] = share(module["completed"], students) if module["lessons"] else None
    lessons = lesson_completion(course_id, inactive)
    for lesson in lessons:
        lesson["share"] = share(lesson["completed"], students)
    return Insight(students=students, trend=enrollment_trend(course_id, zone), modules=modules,
                   lessons=lessons, ratings=rating_distribution(course_id))

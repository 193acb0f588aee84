"""Named queries of the roster: every enrollment of the caller's courses with its progress, who is
at risk and why, and the roster and a course's progress as CSV rows.

Scope: the courses the caller owns, and those they co-teach with view_content or
manage_students (``rls.course_ids``, computed once per statement), which is exactly what
``student_progress_read``, ``course_enrollments_read`` and ``users_read`` let them read (007);
an org admin or a platform admin, whom the policies let read more, still get only the courses
they teach here. Everything runs under the request's role and claims.

Speed (100k students, 1M enrollments): a page in an order is read course by course, each
course's first rows from an index that leads with the course and ends with the enrollment id
(013), and merged: about (courses x page size) index entries, whatever the number of students.
A search starts from the caller's students whose name or email contains the text
(``roster_search``, 013: the trigram index, which the caller's own query could not use under
users_read, LIKE not being leakproof) and looks up their enrollments in the caller's courses:
its cost follows the matches, so a page searches only for SEARCH_MIN characters or more and for
at most SEARCH_CAP students (a broader text asks for more characters instead of sorting them
all). The SQL is built here from fixed pieces only (the orders below, the filters' conditions);
every value the user gave is a parameter.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from portal.db import database
from portal.listing import EXPORT_FETCH, Choice, Page, Spec, Text, View, moment, token
from portal.models import Course, CourseLesson, CourseModule, caller_courses

READERS = ("view_content", "manage_students")  # who sees a course's students (student_progress_read)
PAGE_SIZE = 25
SEARCH_MIN = 3       # characters: fewer have no trigram (roster_search answers nothing for them)
SEARCH_CAP = 5000    # matching students a page's search sorts at most; more: "type more"
SHORT_SEARCH = f"Type at least {SEARCH_MIN} characters of a name or email to search."
BROAD_SEARCH = "Too many students match — type more of the name or email."
ACTIVE = ("enrolled", "in_progress")           # the enrollments that can be at risk

STATUSES = {"active": "Active", "completed": "Completed", "pending": "Pending",  # the rows' own word
            "ended": "Cancelled or refunded"}
STATUS_VALUES = {"active": ACTIVE, "completed": ("completed",), "pending": ("pending",),
                 "ended": ("cancelled", "refunded")}
STATUS_LABELS = {"enrolled": "Enrolled", "in_progress": "In progress", "completed": "Completed",
                 "pending": "Pending", "cancelled": "Cancelled", "refunded": "Refunded"}


@dataclass(frozen=True)
class Order:
    """One order of the roster: its key (an indexed expression), the row's column that holds
    the key, and the tie-break (the enrollment id, from the table that drives the index)."""
    label: str
    key: str
    column: str
    tie: str
    descending: bool
    kind: str  # "time" or "number": how a position's value is read back

    def value(self, row: dict):
        value = row[self.column]
        return "-infinity" if value is None else value


_ACTIVITY = "coalesce(s.last_activity_at, '-infinity')"  # idx_student_progress_course_recent (008)
ORDERS = {
    "activity": Order("Last active, most recent first", _ACTIVITY, "last_activity_at", "s.enrollment_id", True, "time"),
    "activity_oldest": Order("Last active, longest ago first", _ACTIVITY, "last_activity_at", "s.enrollment_id",
                             False, "time"),
    "progress": Order("Progress, lowest first", "s.progress_percentage", "progress_percentage", "s.enrollment_id",
                      False, "number"),
    "progress_highest": Order("Progress, highest first", "s.progress_percentage", "progress_percentage",
                              "s.enrollment_id", True, "number"),
    "engagement": Order("Engagement, lowest first", "s.engagement_score", "engagement_score", "s.enrollment_id",
                        False, "number"),
    "engagement_highest": Order("Engagement, highest first", "s.engagement_score", "engagement_score",
                                "s.enrollment_id", True, "number"),
    "enrolled": Order("Enrolled, newest first", "e.enrolled_at", "enrolled_at", "e.id", True, "time"),
    "enrolled_oldest": Order("Enrolled, oldest first", "e.enrolled_at", "enrolled_at", "e.id", False, "time"),
}

LIST = Spec(filters=(Text("q", "Search", max_length=100, placeholder="Name or email"),
                     Choice("course", "Course", open=True, any_label="All your courses", max_length=36),
                     Choice("status", "Status", STATUSES, any_label="Any status"),
                     Choice("risk", "At risk", {"at_risk": "At risk only"}, any_label="Everyone")),
            sorts={name: order.label for name, order in ORDERS.items()}, default_sort="activity",
            page_size=PAGE_SIZE, keyset=True)


@dataclass(frozen=True)
class Thresholds:
    """When the caller counts a student as at risk (instructor_settings, 011)."""
    progress_percent: int = 30
    after_days: int = 7
    inactive_days: int = 14


def thresholds() -> Thresholds:
    """The caller's own thresholds, or the specification's defaults (at_risk_thresholds, 013)."""
    row = database.execute_sql("SELECT * FROM at_risk_thresholds()").fetchone()
    return Thresholds(*row) if row else Thresholds()


def at_risk_count() -> int:
    """How many of the caller's roster students are at risk (the dashboard's figure; at_risk_count,
    013, reads the students active within the inactivity window, not the whole history)."""
    return database.execute_sql("SELECT at_risk_count()").fetchone()[0]


def courses() -> dict:
    """The caller's roster courses: {id as text: title}, by title."""
    rows = (Course.select(Course.id, Course.title).where(caller_courses(Course.id, *READERS))
            .order_by(Course.title, Course.id).tuples())
    return {str(course): title for course, title in rows}


def course_id(view: View) -> uuid.UUID | None:
    try:
        return uuid.UUID(view.course) if view.course else None
    except ValueError:
        return None


# --- the SQL ------------------------------------------------------------------------------------

COLUMNS = """
    s.enrollment_id, s.user_id AS student_id, u.full_name AS student_name, u.email::text AS student_email,
    s.course_id, c.title AS course_title, e.status::text AS status, e.enrolled_at,
    s.progress_percentage, s.completed_lessons, s.total_lessons, s.engagement_score, s.last_activity_at,
    s.total_watch_time_seconds, s.total_quizzes, s.passed_quizzes, s.average_quiz_score,
    public.student_lagging(e.status, e.enrolled_at, s.progress_percentage, %(percent)s, %(after)s, now())
        AS lagging,
    public.student_inactive(e.status, e.enrolled_at, s.last_activity_at, %(inactive)s, now()) AS inactive,
    now() AS judged_at"""

AT_RISK = """(public.student_lagging(e.status, e.enrolled_at, s.progress_percentage, %(percent)s, %(after)s, now())
          OR public.student_inactive(e.status, e.enrolled_at, s.last_activity_at, %(inactive)s, now()))"""

# What the rule implies of student_progress alone (lagging is under the percent; inactive has no
# activity since the window's start): checked on each progress row before its enrollment is looked
# up, so a row that cannot be at risk costs no lookup (the rule itself, on both tables, still
# decides). It narrows no index range: numeric's < is not leakproof, so under student_progress_read
# it is a filter after the row's policy, never an index condition; the orders other than activity
# still read each course's rows until the page is full (README, performance notes).
_WINDOW = "now() - make_interval(hours => 24 * %(inactive)s)"  # the rule's 24-hour days
MAYBE_AT_RISK = (f"(s.progress_percentage < %(percent)s OR s.last_activity_at IS NULL "
                 f"OR s.last_activity_at <= {_WINDOW})")

SCOPE = "(SELECT rls.course_ids(%(readers)s))::uuid[]"
# What the roster's conditions and orders read of each table (the page's lateral lookups).
PROGRESS_COLUMNS = ("s.enrollment_id, s.user_id, s.course_id, s.progress_percentage, s.engagement_score, "
                    "s.last_activity_at")
ENROLLMENT_COLUMNS = "e.id, e.user_id, e.course_id, e.status, e.enrolled_at"


def _filters(view: View, limits: Thresholds) -> tuple[list[str], dict]:
    """The view's conditions on s (student_progress), e (course_enrollments) and u (users), and their
    parameters."""
    params = {"readers": list(READERS), "percent": limits.progress_percent, "after": limits.after_days,
              "inactive": limits.inactive_days}
    conditions = []
    if view.status:
        conditions.append("e.status = ANY (%(statuses)s::public.enrollment_status[])")
        params["statuses"] = list(STATUS_VALUES[view.status])
    if view.risk:
        conditions += [AT_RISK, MAYBE_AT_RISK]
    if view.q:  # roster_search (013): the trigram index, run as the owner for the caller's students only
        params["text"] = view.q
        conditions.append("s.user_id IN (SELECT m.user_id FROM public.roster_search(%(text)s) m)")
    return conditions, params


def _where(conditions: list[str]) -> str:
    return "".join(f"\n      AND {condition}" for condition in conditions)


def _typed(order: Order, value):
    """A position's key read back as its order's type; ValueError when it is not one."""
    if order.kind == "time":
        if value == "-infinity" and order.column == "last_activity_at":
            return value
        return moment(value)  # with an offset PostgreSQL takes (whole minutes, within 15:59)
    number = Decimal(value)
    # numeric(5,2) between 0 and 100: at most two decimals ("1E-999999999" is no such value, and
    # PostgreSQL refuses its exponent)
    if not number.is_finite() or number.as_tuple().exponent < -2 or not 0 <= number <= 100:
        raise ValueError("not a percentage")
    return number


def position(order: Order, values) -> tuple | None:
    """(key, enrollment id) of a keyset position, or None when it is not one of this order (a tampered
    or another order's link starts from the top)."""
    if not isinstance(values, list) or len(values) != 2 or not all(isinstance(v, str) for v in values):
        return None
    try:
        return _typed(order, values[0]), uuid.UUID(values[1])
    except (ValueError, TypeError, ArithmeticError, InvalidOperation):
        return None


def _page_sql(order: Order, conditions: list[str], *, down: bool, after: bool, search: bool,
              course: bool, at_risk: bool = False) -> str:
    direction = "DESC" if down else "ASC"
    conditions = list(conditions)
    if after:
        op = "<" if down else ">"
        cast = "timestamptz" if order.kind == "time" else "numeric"
        conditions.append(f"{order.key} {op}= %(key)s::{cast} "
                          f"AND ({order.key}, {order.tie}) {op} (%(key)s::{cast}, %(id)s::uuid)")
    by = f"ORDER BY {order.key} {direction}, {order.tie} {direction}"
    if search:
        conditions = [c for c in conditions if "roster_search" not in c]
        # From the students whose name or email matches (roster_search, at most SEARCH_CAP of them,
        # read first by ``matches``), to their enrollments in the caller's courses.
        # Each match's enrollments are looked up by (user_id, course_id) (OFFSET 0 keeps it a nested
        # loop: planned as a join, a common name's few hundred matches were hashed against every
        # enrollment of the caller's courses, 170,000 rows at 1M).
        page = f"""
    SELECT s.enrollment_id
    FROM unnest(%(matches)s::uuid[]) m(user_id)
    CROSS JOIN LATERAL (SELECT {ENROLLMENT_COLUMNS} FROM public.course_enrollments e
                        WHERE e.user_id = m.user_id AND e.course_id = ANY ({SCOPE}){' AND e.course_id = %(course)s' if course else ''}
                        OFFSET 0) e
    JOIN public.student_progress s ON s.enrollment_id = e.id
    WHERE true{_where(conditions)}
    {by}
    LIMIT %(limit)s"""
    else:
        # Course by course: each course's first rows in this order from its index, then merged.
        # The table whose index gives the order drives; the other's row is looked up by its key for
        # each row read (OFFSET 0 keeps the lookup a nested loop: the planner estimates a course by the
        # average course, and for a big one a join that hashes the whole course is far slower).
        if order.tie == "e.id":
            driven = f"""public.course_enrollments e
        CROSS JOIN LATERAL (SELECT {PROGRESS_COLUMNS} FROM public.student_progress s
                            WHERE s.enrollment_id = e.id OFFSET 0) s
        WHERE e.course_id = m.course_id"""
        else:
            driven = f"""public.student_progress s
        CROSS JOIN LATERAL (SELECT {ENROLLMENT_COLUMNS} FROM public.course_enrollments e
                            WHERE e.id = s.enrollment_id OFFSET 0) e
        WHERE s.course_id = m.course_id"""

        def branch(extra: list[str], ordered_by: str = by) -> str:
            return f"""(
        SELECT s.enrollment_id, {order.key} AS sort_key
        FROM {driven}{_where(conditions + extra)}
        {ordered_by}
        LIMIT %(limit)s)"""
        def merged(lateral: str) -> str:
            return f"""
    SELECT p.enrollment_id, p.sort_key
    FROM (SELECT x AS course_id FROM unnest({SCOPE}) x{' WHERE x = %(course)s' if course else ''}) m
    CROSS JOIN LATERAL {lateral} p
    ORDER BY p.sort_key {direction}, p.enrollment_id {direction}
    LIMIT %(limit)s"""
        if at_risk and order.column == "last_activity_at":
            # At risk in the order of activity: the recently active are at risk only when lagging, and
            # are few (the inactivity window): a range of idx_student_progress_course_activity (002), on
            # the column itself, because a condition on the coalesce of the order's index is not
            # leakproof and would be a filter after the policy, read to the end of the course. Every
            # active enrollment before the window is at risk (inactive): the order's own index.
            # Every row of one part comes before every row of the other in this order (the recent
            # first going down), so the second part is read only when the first leaves the page short
            # (a one-time filter): a first page of the lagging recent reads no inactive row.
            window = _WINDOW
            recent = branch([f"s.last_activity_at > {window}"],
                            f"ORDER BY s.last_activity_at {direction}, s.enrollment_id {direction}")
            inactive = branch([f"{order.key} <= {window}"])
            head, tail = (recent, inactive) if down else (inactive, recent)
            page = f"""
    WITH head AS ({merged(head)})
    SELECT p.enrollment_id FROM (
        SELECT enrollment_id, sort_key FROM head
        UNION ALL
        SELECT t.enrollment_id, t.sort_key FROM ({merged(tail)}) t
        WHERE (SELECT count(*) FROM head) < %(limit)s) p
    ORDER BY p.sort_key {direction}, p.enrollment_id {direction}
    LIMIT %(limit)s"""
        else:
            page = merged(branch([])).replace("p.enrollment_id, p.sort_key", "p.enrollment_id", 1)
    return f"""
WITH page AS ({page})
SELECT {COLUMNS}
FROM page
JOIN public.student_progress s ON s.enrollment_id = page.enrollment_id
JOIN public.course_enrollments e ON e.id = s.enrollment_id
LEFT JOIN public.courses c ON c.id = s.course_id
LEFT JOIN public.users u ON u.id = s.user_id
{by}"""


def _dicts(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def matches(text: str) -> tuple[list | None, str | None]:
    """The ids of the caller's students whose name or email contains ``text`` (roster_search), and
    None; or None and why no search ran: a text under SEARCH_MIN characters, or one that matches
    more than SEARCH_CAP students (found by asking for one more)."""
    if len(text) < SEARCH_MIN:
        return None, SHORT_SEARCH
    ids = [row[0] for row in database.execute_sql("SELECT user_id FROM public.roster_search(%s, %s)",
                                                  (text, SEARCH_CAP + 1))]
    if len(ids) > SEARCH_CAP:
        return None, BROAD_SEARCH
    return ids, None


def roster(view: View) -> Page:
    """One page of the roster as ``view`` asks (filters, order, position), with the course choices
    and the caller's thresholds (``page.limits``), each row with its at-risk reasons."""
    view.choices["course"] = choices = courses()
    limits = thresholds()
    order = ORDERS[view.sort]
    course = course_id(view)
    size = view.spec.page_size
    at = position(order, view.after or view.before)
    backwards = view.before is not None and at is not None
    down = order.descending != backwards
    conditions, params = _filters(view, limits)
    params["limit"] = size + 1
    if course is not None:
        params["course"] = course
    if at is not None:
        params["key"], params["id"] = at
    rows, note = [], None
    if view.q and choices:
        params["matches"], note = matches(view.q)
    if choices and (view.course == "" or course is not None) and note is None \
            and params.get("matches", True):
        sql = _page_sql(order, conditions, down=down, after=at is not None, search=bool(view.q),
                        course=course is not None, at_risk=bool(view.risk))
        rows = _dicts(database.execute_sql(sql, params))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    for row in rows:
        row["reasons"] = reasons(row)
        row["progress_whole"] = percent(row["progress_percentage"])  # as the reasons say it
        row["status_label"] = STATUS_LABELS.get(row["status"], row["status"])
    # The course picked, as the id it is (an address may spell it in capitals or without dashes).
    picked = course if course is not None and str(course) in choices else None
    page = Page(view=view, rows=rows, matching=0, extra={"limits": limits, "search_note": note,
                                                         "course_id": picked})
    key = lambda row: token([order.value(row), row["enrollment_id"]])  # noqa: E731
    page.next_token = key(rows[-1]) if rows and (more or backwards) else None
    page.prev_token = key(rows[0]) if rows and at is not None and (more or not backwards) else None
    return page


def _days(span: timedelta) -> str:
    days = span.days
    return f"{days} day{'' if days == 1 else 's'}"


def percent(value) -> str:
    """A progress as whole percent, rounded down (12.50 -> "12", 29.99 -> "29": a student under 30%
    never reads "30% done")."""
    return str(int(Decimal(value)))


def reasons(row: dict) -> list[str]:
    """Why a student is at risk, in words ("enrolled 12 days ago, 10% done", "inactive 20 days"),
    from the rule's verdicts (student_lagging, student_inactive) at the moment the database judged."""
    out = []
    if row["lagging"]:
        out.append(f"enrolled {_days(row['judged_at'] - row['enrolled_at'])} ago, "
                   f"{percent(row['progress_percentage'])}% done")
    if row["inactive"]:
        if row["last_activity_at"] is None:
            out.append(f"inactive {_days(row['judged_at'] - row['enrolled_at'])} (no activity since enrolling)")
        else:
            out.append(f"inactive {_days(row['judged_at'] - row['last_activity_at'])}")
    return out


# --- exports ------------------------------------------------------------------------------------

def _streamed(sql: str, params: dict):
    """Every row of ``sql`` through one server-side (named) cursor, EXPORT_FETCH rows a round trip:
    the rows are never all in memory, on either side of the connection."""
    cursor = database.execute_sql(sql, params, named_cursor=True)
    try:
        names = None
        while True:
            batch = cursor.fetchmany(EXPORT_FETCH)
            if not batch:
                return
            if names is None:
                names = [column[0] for column in cursor.description]
            for row in batch:
                yield dict(zip(names, row))
    finally:
        cursor.close()


def _export_sql(order: Order, conditions: list[str], course: bool, extra_columns: str = "",
                extra_joins: str = "") -> str:
    direction = "DESC" if order.descending else "ASC"
    return f"""
SELECT {COLUMNS}{extra_columns}
FROM public.student_progress s
JOIN public.course_enrollments e ON e.id = s.enrollment_id
LEFT JOIN public.courses c ON c.id = s.course_id
LEFT JOIN public.users u ON u.id = s.user_id{extra_joins}
WHERE s.course_id = ANY ({SCOPE}){' AND s.course_id = %(course)s' if course else ''}{_where(conditions)}
ORDER BY {order.key} {direction}, {order.tie.replace('e.id', 's.enrollment_id')} {direction}"""


ROSTER_HEADER = ("Student", "Email", "Course", "Status", "Enrolled", "Last activity", "Progress %",
                 "Lessons completed", "Lessons", "Engagement", "At risk")


def export_roster(view: View, when):
    """The roster as ``view`` filters and orders it, every page, as CSV rows (times by ``when``)."""
    conditions, params = _filters(view, thresholds())
    course = course_id(view)
    if view.course and course is None:
        return
    if course is not None:
        params["course"] = course
    for row in _streamed(_export_sql(ORDERS[view.sort], conditions, course is not None), params):
        yield (row["student_name"], row["student_email"], row["course_title"],
               STATUS_LABELS.get(row["status"], row["status"]), when(row["enrolled_at"]),
               when(row["last_activity_at"]) if row["last_activity_at"] else None,
               row["progress_percentage"], row["completed_lessons"], row["total_lessons"],
               row["engagement_score"], "; ".join(reasons(row)) or None)


def roster_course(course) -> dict | None:
    """One course of the caller's roster ({id, title}), or None when it is not one."""
    return (Course.select(Course.id, Course.title)
            .where((Course.id == course) & caller_courses(Course.id, *READERS)).dicts().first())


def lessons(course) -> list[dict]:
    """The course's lessons in the course's order, as far as the caller may read them (a co-teacher
    with manage_students alone reads no lesson: their export has no lesson columns)."""
    return list(CourseLesson.select(CourseLesson.id, CourseLesson.title, CourseLesson.content_type)
                .join(CourseModule, on=(CourseModule.id == CourseLesson.module))
                .where(CourseLesson.course == course)
                .order_by(CourseModule.position, CourseLesson.position, CourseLesson.id).dicts())


COURSE_HEADER = ("Student", "Email", "Status", "Enrolled", "Last activity", "Progress %", "Lessons completed",
                 "Lessons", "Quizzes passed", "Quizzes", "Average quiz score", "Watch time (seconds)",
                 "Engagement", "Certificate", "At risk")
LESSON_STATES = {"completed": "completed", "in_progress": "in progress", "not_started": "not started"}


def course_header(course_lessons: list[dict]) -> tuple:
    return COURSE_HEADER + tuple(f"Lesson {n}: {lesson['title']}" for n, lesson in enumerate(course_lessons, 1))


def export_course(course, course_lessons: list[dict], when):
    """One course's students, one row each (every status), by name: their figures and each lesson's
    state (lesson_progress, one index range per student, read as the rows stream)."""
    limits = thresholds()
    params = {"readers": list(READERS), "percent": limits.progress_percent, "after": limits.after_days,
              "inactive": limits.inactive_days, "course": course}
    sql = f"""
SELECT {COLUMNS}, s.certificate_url,
       (SELECT coalesce(jsonb_object_agg(lp.lesson_id, lp.status), '{{}}') FROM public.lesson_progress lp
        WHERE lp.enrollment_id = s.enrollment_id) AS lesson_states
FROM public.student_progress s
JOIN public.course_enrollments e ON e.id = s.enrollment_id
LEFT JOIN public.courses c ON c.id = s.course_id
LEFT JOIN public.users u ON u.id = s.user_id
WHERE s.course_id = ANY ({SCOPE}) AND s.course_id = %(course)s
ORDER BY u.full_name, s.enrollment_id"""
    ids = [str(lesson["id"]) for lesson in course_lessons]
    for row in _streamed(sql, params):
        states = row["lesson_states"] or {}
        yield (row["student_name"], row["student_email"], STATUS_LABELS.get(row["status"], row["status"]),
               when(row["enrolled_at"]), when(row["last_activity_at"]) if row["last_activity_at"] else None,
               row["progress_percentage"], row["completed_lessons"], row["total_lessons"], row["passed_quizzes"],
               row["total_quizzes"], row["average_quiz_score"], row["total_watch_time_seconds"],
               row["engagement_score"], "yes" if row["certificate_url"] else "no", "; ".join(reasons(row)) or None,
               *(LESSON_STATES.get(states.get(lesson), "not started") for lesson in ids))


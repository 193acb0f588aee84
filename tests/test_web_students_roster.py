"""The students roster over HTTP (issue 15, part A): who sees which students, filters, search,
every order and its paging by position, the at-risk filter and its reasons, the dashboard's
at-risk count, bad input, and the roster's and a course's progress CSV files checked row by row
against the database, streamed."""

from __future__ import annotations

import csv
import inspect
import io
import re
from datetime import timedelta

import pytest

from portal.students import roster
from tests.support import Actor, enroll, gen_account, gen_course, pay, record_lesson
from tests.web import htmx, sign_in, text

# The roster's routes with an argument (test_web_routes.py: every route is tested).
RULES = {"/students/courses/<uuid:course_id>/progress.csv"}
ROSTER = "/students/"
READERS = ("owner", "co_view", "co_edit", "co_manage")        # view_content or manage_students
OUTSIDERS = ("co_none", "co_revenue", "co_respond", "other_instructor")


def enrolled(world, course, name: str, *, days_ago: int = 0, active_days_ago: int | None = None,
             done: int = 0) -> dict:
    """A new student ``name`` enrolled in ``course`` ``days_ago`` days ago, with ``done`` lessons
    completed and their last activity ``active_days_ago`` days ago (None: none). Dates are set as
    the database owner (no path lets a student write them)."""
    db = world.database
    student, email = gen_account(db, "student", name=name)
    enrollment = enroll(db, student, course.id)
    for lesson in course.lessons[:done]:
        record_lesson(db, student, enrollment, course, lesson)
    db.value("UPDATE course_enrollments SET enrolled_at = now() - %s * interval '1 day' WHERE id = %s "
             "RETURNING id", (days_ago, enrollment))
    db.value("UPDATE student_progress SET last_activity_at = CASE WHEN %s::integer IS NULL THEN NULL "
             "ELSE now() - %s * interval '1 day' END WHERE enrollment_id = %s RETURNING id",
             (active_days_ago, active_days_ago, enrollment))
    return {"student": student, "email": email, "enrollment": enrollment, "name": name}


@pytest.fixture(scope="module")
def course(world):
    """The owner's course (co-taught by every co actor) with four lessons and a class of five."""
    course = world.course(title="Roster Course", modules=(("text", "text"), ("text", "text")))
    world.shared["class"] = [
        enrolled(world, course, "Rita Fresh", days_ago=1, active_days_ago=0, done=0),        # new: fine
        enrolled(world, course, "Leo Lagging", days_ago=12, active_days_ago=1, done=0),      # lagging
        enrolled(world, course, "Ivy Idle", days_ago=40, active_days_ago=20, done=3),        # inactive
        enrolled(world, course, "Bo Both", days_ago=30, active_days_ago=None, done=0),       # both
        enrolled(world, course, "Cy Doing-Well", days_ago=20, active_days_ago=2, done=2),    # fine
    ]
    return course


def names(response) -> list[str]:
    body = text(response)
    return re.findall(r'<tr id="enrollment-[0-9a-f-]{36}"[^>]*>\s*<th scope="row">\s*(?:<a [^>]*>|<span class="roster__name">)([^<]+)<',
                      body)


def table(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    body = text(response)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- who sees what ------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", [*READERS, *OUTSIDERS, "student", "anon"])
def test_the_roster_shows_a_course_s_students_to_its_teachers_only(world, course, actor):
    """Owner and co-teachers with view_content or manage_students see the class; other co-teachers,
    another instructor see none of it; a student gets a 404; anon signs in."""
    response = world.clients[actor].get(ROSTER + f"?course={course.id}")
    if actor == "anon":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
        return
    if actor == "student":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    body = text(response)
    for student in world.shared["class"]:
        assert (student["name"] in body) == (actor in READERS), (actor, student["name"])
        assert (student["email"] in body) == (actor in READERS)


def test_the_roster_rows_carry_status_progress_and_dates(world, course):
    page = text(world.clients["owner"].get(ROSTER + f"?course={course.id}&sort=progress_highest"))
    ivy = page[page.index("Ivy Idle"):]
    ivy = ivy[:ivy.index("</tr>")]
    assert '<progress max="100" value="75.00"' in ivy and "75% · 3/4 lessons" in ivy
    assert "In progress" in ivy and "Roster Course" in ivy


def test_the_progress_figure_is_rounded_down_as_the_reason_says_it(world):
    """29.99% reads "29%" in the progress column and in the at-risk reason (it read "30%" beside
    "29% done"): one rounding, down, so a student under the threshold never shows it."""
    lone = world.course(title="Rounding Course")
    student = enrolled(world, lone, "Ros Rounding", days_ago=12, active_days_ago=1)
    world.database.value("UPDATE student_progress SET progress_percentage = 29.99 WHERE enrollment_id = %s "
                         "RETURNING enrollment_id", (student["enrollment"],))
    body = text(world.clients["owner"].get(ROSTER + f"?course={lone.id}"))
    row = body[body.index("Ros Rounding"):]
    row = row[:row.index("</tr>")]
    assert "29% · " in row and ">29%</progress>" in row and "29% done" in row
    assert "30%" not in row


# --- filters, search, orders ---------------------------------------------------------------------

def test_the_course_filter_and_search(world, course):
    other = world.course(title="Another Roster Course")
    enrolled(world, other, "Zed Elsewhere", days_ago=3)
    client = world.clients["owner"]
    assert "Zed Elsewhere" not in names(client.get(ROSTER + f"?course={course.id}"))
    assert names(client.get(ROSTER + f"?course={other.id}")) == ["Zed Elsewhere"]
    assert names(client.get(ROSTER + "?q=ivy+idle")) == ["Ivy Idle"]
    ivy = world.shared["class"][2]
    assert names(client.get(ROSTER + "?q=" + ivy["email"].upper())) == ["Ivy Idle"]  # email, any case
    assert names(client.get(ROSTER + "?q=100%25_off")) == []  # LIKE's own characters are plain text
    # A course the caller does not teach, or not a course at all: nothing, not an error.
    outsider = gen_course(world.database, world.users["other_instructor"])
    assert names(client.get(ROSTER + f"?course={outsider.id}")) == []
    assert client.get(ROSTER + "?course=not-a-uuid").status_code == 200


def test_a_search_needs_three_characters_and_a_broad_one_asks_for_more(world, course, monkeypatch):
    """Under 3 characters no search runs: the page (200, not an error) says to type more; a text that
    matches more than SEARCH_CAP students says so instead of sorting them all."""
    client = world.clients["owner"]
    calls = []
    real = roster.matches
    monkeypatch.setattr(roster, "matches", lambda text: calls.append(text) or real(text))
    for short in ("iv", "i", "%20iv%20"):
        response = client.get(ROSTER + f"?q={short}")
        assert response.status_code == 200
        assert names(response) == [] and roster.SHORT_SEARCH in text(response)
        assert "No student matches these filters" not in text(response)
    assert names(client.get(ROSTER + "?q=ivy")) == ["Ivy Idle"]
    monkeypatch.setattr(roster, "SEARCH_CAP", 2)
    broad = client.get(ROSTER + "?q=example.test", headers=htmx())  # every student's email
    assert broad.status_code == 200 and names(broad) == []
    assert "Too many students match — type more of the name or email." in text(broad)
    assert names(client.get(ROSTER + "?q=ivy")) == ["Ivy Idle"]
    assert calls == ["iv", "i", "iv", "ivy", "example.test", "ivy"]


def test_a_short_search_never_reaches_the_database(monkeypatch):
    monkeypatch.setattr(roster, "database", None)  # any query would fail
    assert roster.matches("ab") == (None, roster.SHORT_SEARCH)


def test_the_status_filter(world, course):
    done = enrolled(world, course, "Flo Finished", days_ago=50, active_days_ago=40)
    for lesson in course.lessons:
        record_lesson(world.database, done["student"], done["enrollment"], course, lesson)
    client = world.clients["owner"]
    assert names(client.get(ROSTER + f"?course={course.id}&status=completed")) == ["Flo Finished"]
    assert "Flo Finished" not in names(client.get(ROSTER + f"?course={course.id}&status=active"))


ORDER_CHECKS = {
    "progress": ("progress_percentage", False), "progress_highest": ("progress_percentage", True),
    "engagement": ("engagement_score", False), "engagement_highest": ("engagement_score", True),
    "enrolled": ("enrolled_at", True), "enrolled_oldest": ("enrolled_at", False),
    "activity": ("coalesce(last_activity_at, '-infinity')", True),
    "activity_oldest": ("coalesce(last_activity_at, '-infinity')", False),
}


PAGING = [(sort, "") for sort in roster.ORDERS] + [
    ("activity", "risk=at_risk"), ("activity_oldest", "risk=at_risk"), ("progress_highest", "risk=at_risk"),
    ("enrolled", "q=pupil"), ("engagement", "q=pupil&risk=at_risk"), ("progress", "risk=at_risk"),
    ("engagement_highest", "risk=at_risk"), ("enrolled_oldest", "risk=at_risk")]


@pytest.mark.parametrize("sort, query", PAGING)
def test_every_order_pages_by_position_through_every_student_once(world, sort, query):
    """A teacher with 9 students in two courses, pages of 3 (the page size patched): following the
    next links lists every enrollment the filters keep once, in the order's key then enrollment id
    (as the database orders them, the at-risk rule applied by its functions); previous goes back."""
    db = world.database
    teacher, email = gen_account(db, "instructor", name=f"Pager {sort}")
    courses = [gen_course(db, teacher, lessons=("text",) * 4) for _ in range(2)]
    for n in range(9):
        enrolled(world, courses[n % 2], f"Pupil {n} {sort}", days_ago=(n * 7) % 40,
                 active_days_ago=(n * 5) % 30 or None, done=n % 3)
    client = world.app.test_client()
    sign_in(client, email)
    column, descending = ORDER_CHECKS[sort]
    key = {"coalesce(last_activity_at, '-infinity')": "coalesce(s.last_activity_at, '-infinity')",
           "enrolled_at": "e.enrolled_at"}.get(column, f"s.{column}")
    way = "DESC" if descending else "ASC"
    risky = ("AND (student_lagging(e.status, e.enrolled_at, s.progress_percentage, 30, 7, now()) "
             "OR student_inactive(e.status, e.enrolled_at, s.last_activity_at, 14, now()))") if "risk" in query else ""
    expected = [row["full_name"] for row in db.rows(
        f"SELECT u.full_name FROM student_progress s JOIN course_enrollments e ON e.id = s.enrollment_id "
        f"JOIN users u ON u.id = s.user_id WHERE s.course_id = ANY (%s) {risky} "
        f"ORDER BY {key} {way}, s.enrollment_id {way}", ([c.id for c in courses],))]
    assert len(expected) >= 4
    original = roster.LIST
    roster.LIST = roster.Spec(filters=original.filters, sorts=original.sorts, default_sort=original.default_sort,
                              page_size=3, keyset=True)
    try:
        seen, pages, url = [], [], ROSTER + f"?sort={sort}&{query}"
        while url:
            body = text(client.get(url))
            pages.append(url)
            seen += names(client.get(url))
            found = re.search(r'rel="next" href="([^"]+)"', body)
            url = found.group(1).replace("&amp;", "&") if found else None
        assert seen == expected and len(pages) == -(-len(expected) // 3)
        back = re.search(r'rel="prev" href="([^"]+)"', text(client.get(pages[-1]))).group(1).replace("&amp;", "&")
        assert names(client.get(back)) == expected[3 * (len(pages) - 2):3 * (len(pages) - 1)]
    finally:
        roster.LIST = original


def test_an_htmx_filter_gets_the_list_only(world, course):
    response = world.clients["owner"].get(ROSTER + f"?course={course.id}", headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and "Ivy Idle" in body
    assert "HX-Request" in response.headers.get("Vary", "")


@pytest.mark.parametrize("query", [
    "sort=nonsense", "status=graduated", "risk=maybe", "course=%00", "q=" + "x" * 500,
    "after=not-a-token", "before=%%%", "after=WyJ4IiwgInkiXQ",  # ["x", "y"]: a list, not a position
    "sort=progress&after=WyIxMjM0NTYiLCJub3QtYS11dWlkIl0",      # a number out of range, a bad id
    "sort=enrolled&after=WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0",
    "sort=activity&before=WyItaW5maW5pdHkiLCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiXQ",
    "sort=progress&after=WyJOYU4iLCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiXQ",  # NaN
    "q=%25%25%25", "q=%5C",
    "sort=progress&after=WyIxRS05OTk5OTk5OTkiLCAiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0",  # 1E-999999999
    # an offset of +15:59:59.999999
    "sort=enrolled&after=WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzE1OjU5OjU5Ljk5OTk5OSIsICIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiXQ",
])
def test_bad_input_is_ignored_not_a_500(world, course, query):
    """A tampered order, filter or position starts from the top (or matches nothing): never a 500."""
    response = world.clients["owner"].get(f"{ROSTER}?{query}")
    assert response.status_code == 200
    export = world.clients["owner"].get(f"{ROSTER}export.csv?{query}")
    assert export.status_code == 200 and "The export stopped early" not in text(export)


@pytest.mark.parametrize("sort, value", [("progress", "1E-999999999"), ("progress", "0.001"),
                                         ("engagement", "1E+999999999"),
                                         ("enrolled", "2026-01-01T00:00:00+15:59:59.999999"),
                                         ("enrolled_oldest", "2026-01-01T00:00:00+05:30:30")])
def test_a_tampered_position_starts_from_the_top(world, course, sort, value):
    """A number that is no numeric(5,2), an offset PostgreSQL refuses (seconds in it): the first page,
    not a 422 from the database."""
    client = world.clients["owner"]
    top = client.get(ROSTER + f"?sort={sort}")
    tampered = client.get(ROSTER + f"?sort={sort}&after=" + roster.token([value, "00000000-0000-0000-0000-000000000000"]))
    assert tampered.status_code == 200 and names(tampered) == names(top) != []
    assert roster.position(roster.ORDERS[sort], [value, "00000000-0000-0000-0000-000000000000"]) is None


def test_a_position_far_in_the_past_is_read_back_as_its_order_s_type(world, course):
    """An enrolled-order position without a time zone is not one (it would be read in the server's
    zone); the list starts from the top."""
    top = names(world.clients["owner"].get(ROSTER + "?sort=enrolled"))
    tampered = names(world.clients["owner"].get(
        ROSTER + "?sort=enrolled&after=WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0"))
    assert tampered == top


# --- at risk --------------------------------------------------------------------------------------

def test_the_at_risk_filter_and_its_reasons(world, course):
    body = text(world.clients["owner"].get(ROSTER + f"?course={course.id}&risk=at_risk&sort=enrolled_oldest"))
    assert names(world.clients["owner"].get(ROSTER + f"?course={course.id}&risk=at_risk&sort=enrolled_oldest")) \
        == ["Ivy Idle", "Bo Both", "Leo Lagging"]
    assert "At risk: enrolled 12 days ago, 0% done<" in body
    assert "At risk: inactive 20 days<" in body
    assert "At risk: enrolled 30 days ago, 0% done; inactive 30 days (no activity since enrolling)" in body
    for fine in ("Rita Fresh", "Cy Doing-Well"):
        assert fine not in body


def test_thresholds_are_the_viewer_s_own(world, course):
    """The co-teacher's settings decide what they see as at risk, not the owner's."""
    db = world.database
    db.value("UPDATE instructor_settings SET at_risk_progress_percent = 60, at_risk_after_days = 15, "
             "inactive_after_days = 25 WHERE user_id = %s RETURNING user_id", (world.users["co_manage"],))
    try:
        shown = names(world.clients["co_manage"].get(ROSTER + f"?course={course.id}&risk=at_risk&sort=enrolled_oldest"))
        # Ivy: 75% done, inactive 20 < 25 days: fine; Bo: 30 days, 0%: at risk; Leo: 12 < 15 days: fine;
        # Cy: 20 days, 50% < 60%: at risk.
        assert shown == ["Bo Both", "Cy Doing-Well"]
        assert names(world.clients["owner"].get(ROSTER + f"?course={course.id}&risk=at_risk&sort=enrolled_oldest")) \
            == ["Ivy Idle", "Bo Both", "Leo Lagging"]
    finally:
        db.value("UPDATE instructor_settings SET at_risk_progress_percent = 30, at_risk_after_days = 7, "
                 "inactive_after_days = 14 WHERE user_id = %s RETURNING user_id", (world.users["co_manage"],))


def test_the_dashboard_counts_the_at_risk_students_of_the_roster(world, course):
    """The dashboard loads the at-risk banner after the page; its count is the at-risk filter's row
    count, for the owner and a co-teacher; someone with no such student reads that none is."""
    dashboard = text(world.clients["owner"].get("/dashboard"))
    assert 'hx-get="/students/at-risk" hx-trigger="load"' in dashboard
    for actor in ("owner", "co_view"):
        listed = len(roster_all(world, actor, "risk=at_risk"))
        with world.database.act(Actor.user(world.users[actor])) as cur:
            cur.execute("SELECT at_risk_count() AS n")
            counted = cur.fetchone()["n"]
        assert counted == listed and listed >= 3
        banner = world.clients[actor].get("/students/at-risk", headers=htmx())
        body = text(banner)
        assert banner.status_code == 200 and "<html" not in body
        assert f"{counted} students of your courses are at risk" in body
        assert 'href="/students/?risk=at_risk"' in body
    page = text(world.clients["other_instructor"].get("/students/at-risk", headers=htmx()))
    assert "<html" not in page and "No student of your courses is at risk." in page


def test_without_javascript_the_at_risk_students_are_a_link_away(world, course):
    """The dashboard's placeholder (replaced once htmx loads the count) is a plain link, and the
    banner's address opened as a page leads to the roster's at-risk students, not a bare sentence."""
    dashboard = text(world.clients["owner"].get("/dashboard"))
    placeholder = dashboard[dashboard.index('<div id="students-at-risk"'):]
    placeholder = placeholder[:placeholder.index("</div>")]
    assert '<a href="/students/?risk=at_risk">See the students at risk</a>' in placeholder
    page = world.clients["owner"].get("/students/at-risk")
    assert page.status_code == 303 and page.headers["Location"] == "/students/?risk=at_risk"
    assert "HX-Request" in page.headers.get("Vary", "")
    assert names(world.clients["owner"].get(page.headers["Location"] + f"&course={course.id}&sort=enrolled_oldest")) \
        == ["Ivy Idle", "Bo Both", "Leo Lagging"]


def test_one_word_for_pending_and_the_engagement_column_explained(world, course):
    body = text(world.clients["owner"].get(ROSTER + f"?course={course.id}"))
    assert "Waiting for approval" not in body and roster.STATUSES["pending"] == roster.STATUS_LABELS["pending"]
    assert 'aria-describedby="engagement-hint"' in body
    assert re.search(r'id="engagement-hint">Engagement is a score out of 100: half for the lessons completed', body)


@pytest.mark.parametrize("spelling", [str.upper, lambda value: value.replace("-", "")])
def test_a_course_id_spelled_otherwise_still_links_its_progress_export(world, course, spelling):
    response = world.clients["owner"].get(ROSTER + "?course=" + spelling(str(course.id)))
    assert "Ivy Idle" in names(response)
    assert f"/students/courses/{course.id}/progress.csv" in text(response)


def roster_all(world, actor, query) -> list[list[str]]:
    return table(world.clients[actor].get(f"{ROSTER}export.csv?{query}"))[1:]


# --- exports --------------------------------------------------------------------------------------

def test_the_roster_export_is_the_filtered_roster_row_by_row(world, course):
    rows = table(world.clients["owner"].get(f"{ROSTER}export.csv?course={course.id}&sort=enrolled_oldest"))
    assert rows[0] == list(roster.ROSTER_HEADER)
    expected = world.database.rows(
        "SELECT u.full_name, u.email::text AS email, c.title, e.status::text AS status, s.progress_percentage, "
        "s.completed_lessons, s.total_lessons, s.engagement_score FROM student_progress s "
        "JOIN course_enrollments e ON e.id = s.enrollment_id JOIN users u ON u.id = s.user_id "
        "JOIN courses c ON c.id = s.course_id WHERE s.course_id = %s ORDER BY e.enrolled_at, e.id", (course.id,))
    assert len(rows) - 1 == len(expected)
    for row, want in zip(rows[1:], expected):
        assert row[0] == want["full_name"] and row[1] == want["email"] and row[2] == want["title"]
        assert row[3] == roster.STATUS_LABELS[want["status"]]
        assert row[6] == str(want["progress_percentage"]) and row[7] == str(want["completed_lessons"])
        assert row[8] == str(want["total_lessons"]) and row[9] == str(want["engagement_score"])
    risky = {row[0]: row[10] for row in rows[1:]}
    assert risky["Ivy Idle"] == "inactive 20 days" and risky["Rita Fresh"] == ""
    # Filters apply: search and at risk.
    assert [r[0] for r in roster_all(world, "owner", f"course={course.id}&q=leo")] == ["Leo Lagging"]
    # An outsider's export of the same course is empty.
    assert roster_all(world, "other_instructor", f"course={course.id}") == []
    assert roster_all(world, "co_none", f"course={course.id}") == []


def test_a_course_progress_export_has_each_student_and_each_lesson(world, course):
    response = world.clients["owner"].get(f"/students/courses/{course.id}/progress.csv")
    rows = table(response)
    header = rows[0]
    assert header[:len(roster.COURSE_HEADER)] == list(roster.COURSE_HEADER)
    lessons = header[len(roster.COURSE_HEADER):]
    assert len(lessons) == 4 and lessons[0].startswith("Lesson 1: ")
    by_name = {row[0]: row for row in rows[1:]}
    expected = world.database.rows(
        "SELECT u.full_name, s.completed_lessons, s.total_watch_time_seconds, s.passed_quizzes, s.total_quizzes, "
        "s.enrollment_id FROM student_progress s JOIN users u ON u.id = s.user_id WHERE s.course_id = %s",
        (course.id,))
    assert set(by_name) == {row["full_name"] for row in expected}
    for want in expected:
        row = by_name[want["full_name"]]
        assert row[header.index("Lessons completed")] == str(want["completed_lessons"])
        assert row[header.index("Watch time (seconds)")] == str(want["total_watch_time_seconds"])
        assert row[header.index("Quizzes passed")] == str(want["passed_quizzes"])
        states = world.database.rows(
            "SELECT l.id, lp.status::text AS status FROM course_lessons l JOIN course_modules m ON m.id = l.module_id "
            "LEFT JOIN lesson_progress lp ON lp.lesson_id = l.id AND lp.enrollment_id = %s "
            "WHERE l.course_id = %s ORDER BY m.position, l.position", (want["enrollment_id"], course.id))
        assert row[len(roster.COURSE_HEADER):] == [roster.LESSON_STATES.get(s["status"], "not started")
                                                   for s in states]
    assert by_name["Ivy Idle"][len(roster.COURSE_HEADER):] == ["completed"] * 3 + ["not started"]


@pytest.mark.parametrize("actor, expected", [("owner", 200), ("co_view", 200), ("co_manage", 200),
                                             ("co_none", 404), ("co_revenue", 404), ("other_instructor", 404),
                                             ("student", 404), ("anon", 303)])
def test_the_course_progress_export_as_every_actor(world, course, actor, expected):
    response = world.clients[actor].get(f"/students/courses/{course.id}/progress.csv")
    assert response.status_code == expected
    if expected == 303:
        assert response.headers["Location"].startswith("/sign-in?next=")
    if expected == 200:
        rows = table(response)
        assert len(rows) - 1 >= 5
        if actor == "co_manage":  # reads the students, not the lessons: no lesson columns
            assert rows[0] == list(roster.COURSE_HEADER)


def test_an_unknown_course_s_export_is_404(world):
    assert world.clients["owner"].get(
        "/students/courses/00000000-0000-0000-0000-000000000000/progress.csv").status_code == 404


def test_exports_stream_through_a_named_cursor_in_batches(world, course, monkeypatch):
    """The export's rows are a generator reading a server-side cursor EXPORT_FETCH rows at a time:
    with a batch of 2, the course's rows come in several fetches, and the response is streamed."""
    from portal import listing
    calls, fetches = [], []
    real = roster.database

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute_sql(self, sql, params=None, named_cursor=None):
            return spy(sql, params, named_cursor)

    def spy(sql, params=None, named_cursor=None):
        cursor = real.execute_sql(sql, params, named_cursor=named_cursor)
        calls.append(bool(named_cursor))
        if named_cursor:
            fetchmany = cursor.fetchmany

            class Counting:
                def __getattr__(self, name):
                    return getattr(cursor, name)

                def fetchmany(self, size):
                    fetches.append(size)
                    return fetchmany(size)
            return Counting()
        return cursor

    monkeypatch.setattr(roster, "database", Spy())
    monkeypatch.setattr(roster, "EXPORT_FETCH", 2)
    monkeypatch.setattr(listing, "EXPORT_FETCH", 2)
    assert inspect.isgeneratorfunction(roster.export_roster)
    assert inspect.isgeneratorfunction(roster.export_course)
    response = world.clients["owner"].get(f"{ROSTER}export.csv?course={course.id}")
    assert response.is_streamed
    rows = table(response)
    assert len(rows) - 1 >= 5
    assert True in calls and set(fetches) == {2} and len(fetches) >= (len(rows) - 1) // 2


def test_the_roster_links_its_exports_with_the_filters_in_use(world, course):
    body = text(world.clients["owner"].get(ROSTER + f"?course={course.id}&risk=at_risk"))
    assert f"/students/export.csv?course={course.id}&amp;risk=at_risk" in body
    assert f"/students/courses/{course.id}/progress.csv" in body


# --- empty states ---------------------------------------------------------------------------------

def test_empty_states(world):
    db = world.database
    teacher, email = gen_account(db, "instructor", name="New Teacher")
    client = world.app.test_client()
    sign_in(client, email)
    assert "No courses, so no students yet" in text(client.get(ROSTER))
    gen_course(db, teacher)
    assert "No students yet" in text(client.get(ROSTER))
    assert "No student matches these filters" in text(client.get(ROSTER + "?q=nobody"))


def test_the_dashboard_banner_counts_only_what_can_be_approved(world):
    """A paid course with auto-approval off: an unpaid request is "awaiting payment", not waiting for
    approval; once paid it is."""
    db = world.database
    teacher, email = gen_account(db, "instructor", name="Banner Teacher")
    db.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s RETURNING user_id",
             (teacher,))
    paid_course = gen_course(db, teacher, price="25.00")
    student, _ = gen_account(db, "student")
    enrollment = enroll(db, student, paid_course.id)
    client = world.app.test_client()
    sign_in(client, email)
    page = text(client.get("/dashboard"))
    assert "waiting for your approval" not in page and "1 enrollment is awaiting payment" in page
    queue = text(client.get("/students/approvals"))
    assert "No enrollments are waiting for you" in queue and "Awaiting payment (1)" in queue
    pay(db, enrollment)
    page = text(client.get("/dashboard"))
    assert "1 enrollment is waiting for your approval" in page and "awaiting payment" not in page
    assert "Awaiting payment (" not in text(client.get("/students/approvals"))


def test_the_reasons_count_whole_days_and_whole_percent(world, course):
    """The reasons count whole days (12 days 3 hours reads "12 days") and whole percent rounded down."""
    row = {"lagging": True, "inactive": False, "enrolled_at": world.database.value("SELECT now()"),
           "progress_percentage": roster.Decimal("12.50"), "last_activity_at": None}
    row["judged_at"] = row["enrolled_at"] + timedelta(days=12, hours=3)
    assert roster.reasons(row) == ["enrolled 12 days ago, 12% done"]
    row["progress_percentage"] = roster.Decimal("29.99")
    assert roster.reasons(row) == ["enrolled 12 days ago, 29% done"]
    row.update(lagging=False, inactive=True, last_activity_at=row["enrolled_at"])
    row["judged_at"] = row["enrolled_at"] + timedelta(days=1)
    assert roster.reasons(row) == ["inactive 1 day"]


def test_the_bench_measures_the_at_risk_banner_as_htmx_loads_it(world, course):
    """Opened as a page /students/at-risk redirects; the bench asks for it as the dashboard does (htmx),
    so it measures the count's statements, not a redirect."""
    from portal.bench import measure, run
    path = "/students/at-risk"
    assert path in {p for _, p in run.pages("00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001")}
    status, statements = measure.capture(world.clients["owner"], path, run._headers(path))
    assert status == 200 and any("at_risk_count" in sql for sql, _ in statements)
    assert measure.capture(world.clients["owner"], path)[0] == 303

"""The instructor dashboard over HTTP: every figure is the helper function's,
the activity feed pages and polls, and other roles get no dashboard."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest

from tests.support import (Actor, complete_course, enroll, gen_account, gen_course, gen_org, gen_workshop,
                           pay, record_lesson, register)
from tests.web import htmx, sign_in, text

FIGURE = re.compile(r'data-figure="(\w+)" data-value="([^"]*)"')


def _figures(page: str) -> dict:
    return dict(FIGURE.findall(page))


@pytest.fixture()
def teaching(database):
    """An instructor with students, a paid sale, a completion, a review and an upcoming workshop."""
    instructor, email = gen_account(database, "instructor")
    free = gen_course(database, instructor, lessons=("text", "quiz"))
    paid = gen_course(database, instructor, price="49.99")
    students = [gen_account(database, "student")[0] for _ in range(3)]
    complete_course(database, students[0], free)
    with database.act(Actor.user(students[0])) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating, review_text) VALUES (%s, %s, 4, 'Good')",
                    (free.id, students[0]))
    enroll(database, students[1], free.id)
    pay(database, enroll(database, students[2], paid.id))
    register(database, students[1], gen_workshop(database, instructor))
    return instructor, email


def test_every_figure_equals_the_helper_function(database, client, teaching):
    """Each card shows exactly what get_instructor_dashboard_stats returns for the instructor."""
    instructor, email = teaching
    sign_in(client, email)
    shown = _figures(text(client.get("/dashboard")))
    with database.act(Actor.user(instructor)) as cur:
        cur.execute("SELECT * FROM get_instructor_dashboard_stats(%s)", (instructor,))
        expected = cur.fetchone()
    assert set(shown) == set(expected) and len(shown) == 9
    for name, value in expected.items():
        assert shown[name] == ("" if value is None else str(value)), name
    assert Decimal(shown["total_revenue"]) == Decimal("39.99"), "49.99 less the 20% fee (10.00)"
    assert shown["total_students"] == "3" and shown["upcoming_workshops"] == "1"
    page = text(client.get("/dashboard"))
    assert "$39.99" in page and "4.00" in page


def test_trend_counts_todays_enrollments_and_earnings(client, teaching):
    """The 30-day table has 30 days; today holds the enrollments and earnings just made."""
    _, email = teaching
    sign_in(client, email)
    page = text(client.get("/dashboard"))
    rows = re.findall(r'<tr><th scope="row">[^<]+</th><td class="num">(\d+)</td><td class="num">([^<]+)</td></tr>',
                      page)
    assert len(rows) == 30
    assert rows[-1] == ("3", "$39.99")
    assert 'id="trend-chart" role="img"' in page and "3 enrollments and $39.99" in page


def test_activity_feed_pages_on_without_loss_or_repeat(database, client):
    """25 events: the first page shows 20 and a link; the next shows the other 5; together all 25, once."""
    instructor, email = gen_account(database, "instructor")
    course = gen_course(database, instructor)
    for _ in range(25):
        enroll(database, gen_account(database, "student")[0], course.id)
    sign_in(client, email)
    page = text(client.get("/dashboard"))
    first = re.findall(r'<li class="activity__item', page)
    assert len(first) == 20
    link = re.search(r'href="(/dashboard/activity\?after=[^"]+)"', page).group(1).replace("&amp;", "&")
    fragment = client.get(link, headers=htmx())
    assert fragment.status_code == 200 and "<html" not in text(fragment)
    assert "HX-Request" in fragment.headers["Vary"]
    assert len(re.findall(r'<li class="activity__item', text(fragment))) == 5
    assert "Show older activity" not in text(fragment)
    ids = re.findall(r'datetime="([^"]+)"', page) + re.findall(r'datetime="([^"]+)"', text(fragment))
    assert len(ids) == 25
    full = client.get(link)
    assert full.status_code == 200 and "<html" in text(full), "the same URL is a full page on a plain GET"


def test_activity_poll_returns_only_newer_rows(database, client):
    """The poller gets rows newer than its cursor, with the poller again out of band."""
    instructor, email = gen_account(database, "instructor")
    course = gen_course(database, instructor)
    enroll(database, gen_account(database, "student", name="Early Bird")[0], course.id)
    sign_in(client, email)
    page = text(client.get("/dashboard"))
    poll = re.search(r'hx-get="(/dashboard/activity\?since=[^"]+)"', page).group(1).replace("&amp;", "&")
    assert text(client.get(poll, headers=htmx())).strip() == ""
    enroll(database, gen_account(database, "student", name="Late Comer")[0], course.id)
    newer = text(client.get(poll, headers=htmx()))
    assert "Late Comer enrolled" in newer and "Early Bird" not in newer
    assert 'id="activity-poller"' in newer and 'hx-swap-oob="true"' in newer


def test_quiz_scores_in_the_feed_read_as_the_portal_shows_percentages(database, client):
    """The feed's quiz events (whose text SQL writes as "80.00%") read "with 80%" and "scored 33.3%"."""
    instructor, email = gen_account(database, "instructor")
    course = gen_course(database, instructor, lessons=("quiz", "quiz"))
    student = gen_account(database, "student", name="Quinn Quizzer")[0]
    enrollment = enroll(database, student, course.id)
    record_lesson(database, student, enrollment, course, course.lessons[0], score=Decimal("80.00"))
    record_lesson(database, student, enrollment, course, course.lessons[1], status="in_progress",
                  score=Decimal("33.33"))
    sign_in(client, email)
    page = html.unescape(text(client.get("/dashboard")))
    assert 'Quinn Quizzer passed "Lesson 1" with 80%<' in page
    assert 'Quinn Quizzer scored 33.3% on "Lesson 2"<' in page
    assert "80.00%" not in page and "33.33%" not in page


def test_activity_bad_cursor_is_a_400(database, client):
    """A malformed poller cursor is refused with 400, not a 500."""
    _, email = gen_account(database, "instructor")
    sign_in(client, email)
    assert client.get("/dashboard/activity?since=2026-01-01T00:00:00&since_id=not-a-uuid").status_code == 400


@pytest.mark.parametrize("after", ["yesterday", "WyJ5ZXN0ZXJkYXkiLCAieCJd", "%00"])  # the second: ["yesterday", "x"]
def test_activity_position_that_is_not_one_starts_from_the_top(database, client, after):
    """Like every list paged by position, a tampered ``after`` shows the first page (never a 500)."""
    instructor, email = gen_account(database, "instructor")
    enroll(database, gen_account(database, "student")[0], gen_course(database, instructor).id)
    sign_in(client, email)
    response = client.get(f"/dashboard/activity?after={after}")
    assert response.status_code == 200 and len(re.findall(r'<li class="activity__item', text(response))) == 1


def test_another_instructors_activity_is_not_shown(database, client, teaching):
    """An instructor sees none of another instructor's students, activity or figures."""
    _, other_email = gen_account(database, "instructor")
    gen_course(database, gen_account(database, "instructor")[0])
    sign_in(client, other_email)
    page = text(client.get("/dashboard"))
    assert set(_figures(page).values()) <= {"0", "0.00", ""}
    assert "enrolled in" not in text(client.get("/dashboard/activity"))


def test_new_instructor_sees_next_steps(database, client):
    """An instructor with nothing yet gets the empty state with links to begin."""
    _, email = gen_account(database, "instructor")
    sign_in(client, email)
    page = text(client.get("/dashboard"))
    assert "get your teaching started" in page
    assert 'href="/courses/"' in page and 'href="/settings/profile"' in page  # Complete your profile: the editor
    assert "trend-chart" not in page


@pytest.mark.parametrize("role", ["student", "org_admin", "admin"])
def test_other_roles_get_no_instructor_dashboard(database, client, role):
    """A student or an admin asking for the instructor dashboard or its feed gets a 404."""
    org = gen_org(database) if role == "org_admin" else None
    _, email = gen_account(database, role, org=org)
    sign_in(client, email)
    assert client.get("/dashboard").status_code == 404
    assert client.get("/dashboard/activity", headers=htmx()).status_code == 404


def test_htmx_error_comes_back_as_a_fragment(database, client):
    """A 404 to an htmx request is a small fragment retargeted to the message area."""
    _, email = gen_account(database, "student")
    sign_in(client, email)
    response = client.get("/dashboard/activity", headers=htmx())
    assert response.status_code == 404 and "<html" not in text(response)
    assert response.headers["HX-Retarget"] == "#messages"


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/activity"])
def test_anonymous_user_is_sent_to_sign_in(client, path):
    """Anonymous requests for the dashboard go to sign-in, htmx ones through HX-Redirect."""
    assert client.get(path).headers["Location"] == f"/sign-in?next={path}"
    response = client.get(path, headers=htmx())
    assert response.headers["HX-Redirect"] == f"/sign-in?next={path}"


def test_enrollments_waiting_for_approval_are_announced_with_a_link(database, client):
    """With auto-approval off, the dashboard counts the pending enrollments and links to the queue."""
    instructor, email = gen_account(database, "instructor")
    database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                   "RETURNING user_id", (instructor,))
    course = gen_course(database, instructor, lessons=("text",))
    sign_in(client, email)
    assert "waiting for your approval" not in text(client.get("/dashboard"))
    for _ in range(2):
        enroll(database, gen_account(database, "student")[0], course.id)
    page = text(client.get("/dashboard"))
    assert "2 enrollments are waiting for your approval." in page and 'href="/students/approvals"' in page

"""The course insight page over HTTP: its figures are the database's, the
charts count what they say (trend by day in the viewer's zone, completion by
module, lesson drop-off, ratings), revenue only with view_revenue, a fixed
number of queries, and nobody without view_content gets in."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.course_web import PERMISSIONS
from tests.support import Actor, complete_course, enroll, gen_account, gen_course, record_lesson
from tests.web import QueryCounter, htmx, sign_in, text

FIGURE = re.compile(r'data-figure="(\w+)" data-value="([^"]*)"')




def insight(course) -> str:
    return f"/courses/{course.id}/insight"


def figures(page: str) -> dict:
    return dict(FIGURE.findall(page))


def chart_data(page: str, name: str) -> dict:
    block = re.search(rf'<script type="application/json" id="{name}-data">(.*?)</script>', page, re.S)
    assert block, f"no data for the {name} chart"
    return json.loads(block.group(1))


def table_rows(page: str, chart: str) -> list[tuple]:
    """The rows of the table behind a chart: (row header, cell, cell...)."""
    section = page[page.index(f'id="insight-{chart}"'):]
    section = section[:section.index("</section>")]
    body = section[section.index("<tbody>"):section.index("</tbody>")]
    return [tuple(re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S))
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def students(world, n: int) -> list:
    return [gen_account(world.database, "student")[0] for _ in range(n)]


def review(world, student, course, rating: int) -> object:
    with world.database.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, %s) RETURNING id",
                    (course.id, student, rating))
        return cur.fetchone()["id"]


# --- figures ----------------------------------------------------------------------

def test_figures_equal_the_courses_columns(world):
    """Each card shows the course row's trigger-maintained figure; the rate is completed / enrolled."""
    course = world.course(price="40.00", modules=(("text",),))
    first, second, third = students(world, 3)
    complete_course(world.database, first, course)
    review(world, first, course, 4)
    enrollment = enroll(world.database, second, course.id)
    world.database.value("SELECT confirm_course_payment(%s)", (enrollment,))
    enroll(world.database, third, course.id)  # pending payment: not enrolled
    row = world.database.rows("SELECT enrolled_count, completed_count, average_rating, review_count, total_revenue "
                              "FROM courses WHERE id = %s", (course.id,))[0]
    assert (row["enrolled_count"], row["completed_count"], row["review_count"]) == (2, 1, 1)
    response = world.clients["owner"].get(insight(course))
    page = text(response)
    assert response.status_code == 200 and "<html" in page and "HX-Request" in response.headers["Vary"]
    shown = figures(page)
    assert list(shown) == ["enrolled_count", "completed_count", "completion_rate", "average_rating", "review_count",
                           "total_revenue"]
    for name in ("enrolled_count", "completed_count", "average_rating", "review_count", "total_revenue"):
        assert shown[name] == str(row[name]), name
    assert Decimal(shown["total_revenue"]) == Decimal("80.00")
    assert shown["completion_rate"] == "50.0" and "50%" in page and "50.0%" not in page
    assert "$80.00" in page and "4.00" in page


def test_revenue_only_with_view_revenue(world):
    """co_view sees every figure but revenue; a co-instructor with view_content and view_revenue sees it."""
    course = world.course(price="10.00")
    complete_course(world.database, students(world, 1)[0], course)
    page = text(world.clients["co_view"].get(insight(course)))
    assert "total_revenue" not in figures(page) and "$10.00" not in page and "<dt>Revenue</dt>" not in page
    assert set(figures(page)) == {"enrolled_count", "completed_count", "completion_rate", "average_rating",
                                  "review_count"}
    treasurer, email = gen_account(world.database, "instructor", name="Treasurer")
    world.database.value("INSERT INTO course_instructors (course_id, instructor_id, permissions) "
                         "VALUES (%s, %s, %s) RETURNING id",
                         (course.id, treasurer, json.dumps({p: p in ("view_content", "view_revenue")
                                                            for p in PERMISSIONS})))
    client = world.app.test_client()
    sign_in(client, email)
    page = text(client.get(insight(course)))
    assert figures(page)["total_revenue"] == "10.00" and "$10.00" in page


# --- who may ----------------------------------------------------------------------

@pytest.mark.parametrize("actor, status", [
    ("owner", 200), ("co_view", 200), ("co_edit", 200),
    ("co_manage", 404), ("co_revenue", 404), ("co_respond", 404), ("co_none", 404),
    ("other_instructor", 404), ("student", 404),
])
def test_who_may_open_the_insight_page(world, actor, status):
    """view_content opens the page; without it (even with view_revenue), and for others, it is a 404."""
    course = world.course()
    enroll(world.database, world.users["student"], course.id)  # even an enrolled student
    for headers in ({}, htmx()):
        response = world.clients[actor].get(insight(course), headers=headers)
        assert response.status_code == status, (actor, headers)
        assert ("<html" in text(response)) is (not headers)


def test_a_course_nobody_may_see_is_a_404(world):
    """Another instructor's course and an unknown id are 404 for the owner too."""
    foreign = gen_course(world.database, world.users["other_instructor"])
    assert world.clients["owner"].get(insight(foreign)).status_code == 404
    assert world.clients["owner"].get("/courses/00000000-0000-0000-0000-000000000000/insight").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(world):
    """An anonymous visitor goes to sign-in (htmx through HX-Redirect)."""
    course = world.course()
    response = world.clients["anon"].get(insight(course))
    assert response.status_code == 303 and response.headers["Location"] == f"/sign-in?next={insight(course)}"
    assert world.clients["anon"].get(insight(course), headers=htmx()).headers["HX-Redirect"] == \
        f"/sign-in?next={insight(course)}"


def test_htmx_gets_the_fragment_with_header_and_charts(world):
    """An htmx GET answers the page's fragment: header with the tab, figures and the charts' data."""
    course = world.course()
    enroll(world.database, students(world, 1)[0], course.id)
    response = world.clients["owner"].get(insight(course), headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and "HX-Request" in response.headers["Vary"]
    assert re.search(rf'href="{insight(course)}" aria-current="page"', body)
    for name in ("trend", "funnel", "dropoff", "ratings"):
        assert f'id="{name}-title"' in body
    for name in ("trend", "funnel", "dropoff"):
        assert f'<canvas id="{name}-chart" data-chart="{name}" data-source="{name}-data" role="img"' in body
        assert "Show the figures as a table" in body
    full = text(world.clients["owner"].get(insight(course)))
    assert "/static/vendor/chart.umd.min.js?v=" in full and "/static/js/insight.js" in full


# --- the charts -------------------------------------------------------------------

def test_trend_counts_an_enrollment_on_the_viewers_day(world):
    """An enrollment at 02:00 UTC counts on the previous day for a viewer in New York; 90 zero-filled days."""
    teacher, email = gen_account(world.database, "instructor")
    world.database.value("UPDATE instructor_settings SET timezone = 'America/New_York' WHERE user_id = %s "
                         "RETURNING user_id", (teacher,))
    course = gen_course(world.database, teacher)
    enrollment = enroll(world.database, students(world, 1)[0], course.id)
    today = datetime.now(timezone.utc).date()
    moment = datetime.combine(today - timedelta(days=5), datetime.min.time(), timezone.utc) + timedelta(hours=2)
    world.database.value("UPDATE course_enrollments SET enrolled_at = %s WHERE id = %s RETURNING id",
                         (moment, enrollment))
    client = world.app.test_client()
    sign_in(client, email)
    page = text(client.get(insight(course)))
    rows = {day: int(n) for day, n in table_rows(page, "trend")}
    assert len(rows) == 90
    new_york_day = (moment - timedelta(hours=5)).date()  # EST or EDT: either way the day before
    assert rows[new_york_day.strftime("%a %d %b %Y")] == 1
    assert sum(rows.values()) == 1
    data = chart_data(page, "trend")
    assert len(data["labels"]) == 90 and data["labels"][data["values"].index(1)] == new_york_day.isoformat()
    assert data["labels"][-1] in {(today - timedelta(days=1)).isoformat(), today.isoformat()}
    assert "1 enrollment in 90 days" in page


def test_funnel_and_drop_off_count_active_students_who_completed(world):
    """Hand-built progress: module and lesson completion among active students only, in course order."""
    course = world.course(modules=(("text", "text"), ("text",)))
    db = world.database
    a, b, c, d, gone = students(world, 5)
    complete_course(db, a, course)                                       # everything
    eb = enroll(db, b, course.id)                                         # module 1
    record_lesson(db, b, eb, course, course.lessons[0])
    record_lesson(db, b, eb, course, course.lessons[1])
    ec = enroll(db, c, course.id)                                         # lesson 1, lesson 3 started
    record_lesson(db, c, ec, course, course.lessons[0])
    record_lesson(db, c, ec, course, course.lessons[2], status="in_progress")
    enroll(db, d, course.id)                                              # nothing yet
    eg = enroll(db, gone, course.id)                                      # completed 1, then cancelled
    record_lesson(db, gone, eg, course, course.lessons[0])
    db.value("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s RETURNING id", (eg,))

    page = text(world.clients["owner"].get(insight(course)))
    assert table_rows(page, "funnel") == [("1. Module", "2", "2", "50%"), ("2. Module 2", "1", "1", "25%")]
    assert table_rows(page, "dropoff") == [("1.1 Lesson 1", "3", "75%"), ("1.2 Lesson 2", "2", "50%"),
                                           ("2.1 Lesson 3", "1", "25%")]
    funnel = chart_data(page, "funnel")
    assert funnel == {"labels": ["1. Module", "2. Module 2"], "values": [2, 1], "shares": [50.0, 25.0],
                      "students": 4}
    dropoff = chart_data(page, "dropoff")
    assert dropoff["values"] == [75.0, 50.0, 25.0] and dropoff["counts"] == [3, 2, 1]
    assert "Of 4 active students, 50% completed every lesson of the first module and 25% of the last" in page
    assert "fewest for 2.1 Lesson 3 (25%)" in page
    assert "How many of the 4 active students" in page


def test_a_module_without_lessons_has_no_share(world):
    """A module with no lesson shows a dash, not a 0% or a 100%."""
    course = world.course(modules=(("text",), ()))
    complete_course(world.database, students(world, 1)[0], course)
    page = text(world.clients["owner"].get(insight(course)))
    assert table_rows(page, "funnel") == [("1. Module", "1", "1", "100%"), ("2. Module 2", "0", "—", "—")]
    assert chart_data(page, "funnel")["shares"] == [100.0, None]


def test_rating_distribution_counts_visible_reviews_and_says_how_many_are_hidden(world):
    """Ratings 5, 5, 3 with one 5 hidden: the chart counts the visible ones, the table shows both."""
    course = world.course(modules=(("text",),))
    reviewers = students(world, 3)
    ids = []
    for student, rating in zip(reviewers, (5, 5, 3)):
        complete_course(world.database, student, course)
        ids.append(review(world, student, course, rating))
    world.database.value("UPDATE course_reviews SET is_visible = false, moderation_reason = 'spam' "
                         "WHERE id = %s RETURNING id", (ids[0],))
    page = text(world.clients["owner"].get(insight(course)))
    assert table_rows(page, "ratings") == [("5 stars", "1", "1"), ("4 stars", "0", "0"), ("3 stars", "1", "0"),
                                           ("2 stars", "0", "0"), ("1 star", "0", "0")]
    assert chart_data(page, "ratings") == {"labels": ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
                                           "values": [0, 0, 1, 0, 1]}
    assert "1 hidden review is not included" in page
    assert figures(page)["review_count"] == "2" and figures(page)["average_rating"] == "4.00"
    assert "2 visible reviews by rating: 5 stars: 1, 4 stars: 0, 3 stars: 1" in page


def test_no_reviews_yet(world):
    """Students but no review: the rating card says so instead of drawing an empty chart."""
    course = world.course()
    enroll(world.database, students(world, 1)[0], course.id)
    page = text(world.clients["owner"].get(insight(course)))
    assert "No reviews yet" in page and "ratings-chart" not in page


def test_empty_state_before_any_student(world):
    """A course without students shows its figures and an empty state, no charts and no chart script."""
    course = world.course(status="draft")
    page = text(world.clients["owner"].get(insight(course)))
    assert "No students yet" in page and "<canvas" not in page and "insight.js" not in page
    assert figures(page)["enrolled_count"] == "0" and figures(page)["completion_rate"] == ""
    assert "students can enroll once it is published" in page


def test_every_chart_has_a_title_a_summary_and_a_table(world):
    """Each canvas is an image with a summary naming its figures, under a visible title, with a table behind it."""
    course = world.course()
    complete_course(world.database, students(world, 1)[0], course)
    page = text(world.clients["owner"].get(insight(course)))
    for name, title in (("trend", "New enrollments, last 90 days"), ("funnel", "Completion by module"),
                        ("dropoff", "Lesson drop-off")):
        assert f'<h2 id="{name}-title">{title}</h2>' in page
        label = re.search(rf'<canvas id="{name}-chart"[^>]*aria-label="([^"]+)"', page).group(1)
        assert label.startswith(title) and "table below" in label
        section = page[page.index(f'id="insight-{name}"'):]
        assert re.search(r'<details class="chart-table">\s*<summary>', section[:section.index("</section>")])
    assert 'style="' not in page and "onclick" not in page
    assert not re.search(r"<script(?![^>]*(?:src=|type=\"application/json\"))", page), "no inline script"


def test_the_page_issues_the_same_number_of_queries_however_big_the_course(world):
    """One module with one lesson or six modules with five lessons each: the same number of statements."""
    small = world.course(modules=(("text",),))
    big = world.course(modules=tuple(("text",) * 5 for _ in range(6)))
    for course in (small, big):
        complete_course(world.database, students(world, 1)[0], course)
    counts = []
    for course in (small, big):
        with QueryCounter() as counted:
            assert world.clients["owner"].get(insight(course)).status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1] and counts[0] <= 12, counts

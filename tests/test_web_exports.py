"""CSV exports of list pages (portal/listing.py): the list as filtered, every page, only what the
caller may see, spreadsheet formulas neutralised; and who may ask."""

from __future__ import annotations

import csv
import io
import re

import psycopg2
import pytest

from tests.course_web import send, slug
from tests.web import text

COURSES = "/courses/export.csv"
QUEUE = "/students/approvals/export.csv"


@pytest.fixture(scope="module")
def world(world):
    """The shared cast (tests/conftest.py), with the owner approving enrollments by hand."""
    world.database.value("UPDATE instructor_settings SET auto_approve_enrollments = false "
                         "WHERE user_id = %s RETURNING user_id", (world.users["owner"],))
    return world


def table(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    body = text(response)
    assert body.startswith("\ufeff"), "a byte-order mark, so spreadsheets read UTF-8 names right"
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_course_export_is_the_filtered_list_with_revenue_only_for_who_may_see_it(world):
    sold = world.course(title="Export alpha course", price="40.00")
    world.course(title="Export bravo course", status="draft")
    world.database.value("UPDATE courses SET total_revenue = 120 WHERE id = %s RETURNING id", (sold.id,))

    rows = table(world.clients["owner"].get(COURSES + "?q=export+alpha"))
    assert rows[0][:3] == ["Title", "Status", "Your role"]
    assert [row[0] for row in rows[1:]] == ["Export alpha course"]
    assert rows[1][rows[0].index("Revenue")] == "120.00"

    drafts = table(world.clients["owner"].get(COURSES + "?q=export&status=draft"))
    assert [row[0] for row in drafts[1:]] == ["Export bravo course"]

    for actor, shown in (("co_revenue", "120.00"), ("co_view", "")):
        rows = table(world.clients[actor].get(COURSES + "?q=export+alpha"))
        assert [row[0] for row in rows[1:]] == ["Export alpha course"]
        assert rows[1][rows[0].index("Revenue")] == shown, actor
    # Another instructor's export holds none of the owner's courses.
    assert [row[0] for row in table(world.clients["other_instructor"].get(COURSES + "?q=export"))[1:]] == []


def test_the_waiting_enrollments_export_lists_every_page_for_who_may_decide_and_defuses_formulas(world):
    course = world.course(title="Export queue course")
    world.database.value("UPDATE users SET full_name = '=HYPERLINK(\"http://evil.example\")' "
                         "WHERE id = %s RETURNING id", (world.users["other_student"],))
    for actor in ("student", "other_student"):
        response = send(world, actor, f"/catalog/{slug(world, course)}/enroll")
        assert response.status_code == 303
    rows = table(world.clients["owner"].get(QUEUE))
    assert rows[0] == ["Student", "Email", "Course", "Requested", "Payment", "Paid", "Currency"]
    mine = [row for row in rows[1:] if row[2] == "Export queue course"]
    assert sorted(row[1] for row in mine) == sorted([world.emails["student"], world.emails["other_student"]])
    names = {row[0] for row in mine}
    assert "'=HYPERLINK(\"http://evil.example\")" in names, names  # a formula is written as text
    assert {row[4] for row in mine} == {"Free"} and {row[5] for row in mine} == {""}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[3]) for row in mine), mine
    assert len(rows) - 1 == world.database.value(
        "SELECT count(*) FROM course_enrollments e JOIN courses c ON c.id = e.course_id "
        "WHERE c.instructor_id = %s AND e.status = 'pending'", (world.users["owner"],))
    # co_manage decides for the course, so exports it; co_view does not.
    assert any(row[2] == "Export queue course" for row in table(world.clients["co_manage"].get(QUEUE))[1:])
    assert table(world.clients["co_view"].get(QUEUE))[1:] == []


@pytest.mark.parametrize("path", [COURSES, QUEUE, "/students/export.csv"])
def test_exports_are_for_instructors_only(world, path):
    anon = world.clients["anon"].get(path)
    assert anon.status_code in (302, 303) and anon.headers["Location"].startswith("/sign-in")
    assert world.clients["student"].get(path).status_code == 404


def test_the_list_pages_link_their_export_with_the_filters_in_use(world):
    page = text(world.clients["owner"].get("/courses/?q=export&sort=rating"))
    assert 'href="/courses/export.csv?q=export&amp;sort=rating"' in page
    assert 'href="/students/approvals/export.csv"' in text(world.clients["owner"].get("/students/approvals"))


@pytest.mark.parametrize("value", ["\t=HYPERLINK(\"x\")", "\r+1", " @SUM(A1)", "\n-2"])
def test_a_formula_after_leading_blanks_is_written_as_text(value):
    from portal.listing import cell
    assert cell(value) == "'" + value
    assert cell("Plain title") == "Plain title" and cell(None) == "" and cell(12) == 12


def test_a_paid_seat_reads_settled_for_a_co_instructor_who_may_not_see_the_amount(world):
    course = world.course(title="Export settled course", price="40.00")
    response = send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    checkout = response.headers["Location"]
    assert send(world, "student", f"{checkout}/pay").status_code == 303
    owner = [row for row in table(world.clients["owner"].get(QUEUE))[1:] if row[2] == "Export settled course"]
    manager = [row for row in table(world.clients["co_manage"].get(QUEUE))[1:] if row[2] == "Export settled course"]
    assert [row[4:6] for row in owner] == [["Paid", "40.00"]]
    assert [row[4:6] for row in manager] == [["Settled", ""]]
    page = text(world.clients["co_manage"].get("/students/approvals"))
    assert "Settled" in page and "$40.00" not in page


def test_an_export_the_database_stops_answering_ends_with_a_line_that_says_so(world):
    """A statement that fails once the file is being sent cannot change the status any more:
    the file ends with a line that says it is incomplete (here the request's statement timeout,
    while the owner holds a lock on the enrollments)."""
    from portal import db
    previous = db._statement_timeout_ms
    lock = psycopg2.connect(world.database.owner_dsn)
    try:
        with lock.cursor() as cur:
            cur.execute("LOCK TABLE course_enrollments IN ACCESS EXCLUSIVE MODE")
        db._statement_timeout_ms = 300
        body = text(world.clients["owner"].get(QUEUE))
    finally:
        db._statement_timeout_ms = previous
        lock.rollback()
        lock.close()
    assert body.startswith("\ufeffStudent,Email") and body.rstrip().endswith("Please download it again.")


def test_an_export_the_client_stops_reading_closes_its_cursor_in_its_own_transaction(world, monkeypatch):
    """A client that goes away after the first chunk: the rows' server-side cursor is closed before
    the export's transaction ends, not later by the garbage collector on a connection already back in
    the pool (where CLOSE of an unknown cursor failed, left that connection's next transaction aborted
    and reached sys.unraisablehook)."""
    import gc
    import sys

    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    from portal.db import database
    from tests.support import enroll, gen_account, gen_course, gen_user
    from tests.web import sign_in

    db = world.database
    teacher, email = gen_account(db, "instructor", name="Streaming Teacher")
    course = gen_course(db, teacher)
    for n in range(400):  # about 100 kB of names: more than one 64 kB chunk
        enroll(db, gen_user(db, "student", name=f"Student {n:03d} " + "Longname" * 22), course.id)
    client = world.app.test_client()
    sign_in(client, email)
    raised = []
    monkeypatch.setattr(sys, "unraisablehook", raised.append)
    response = client.get("/students/export.csv", buffered=False)
    try:
        assert response.status_code == 200 and response.is_streamed
        first = next(iter(response.response))
    finally:
        response.close()  # the client goes away after one chunk
    assert first.decode().startswith("\ufeffStudent,Email") and 1 < first.count(b"\r\n") < 401
    del response
    gc.collect()
    assert raised == [], [str(u.exc_value) for u in raised]
    idle = [conn for _, _, conn in database.obj._connections]
    assert idle and all(conn.get_transaction_status() == TRANSACTION_STATUS_IDLE for conn in idle)
    # The next export reads on those connections normally.
    rows = table(client.get("/students/export.csv"))
    assert len(rows) == 401

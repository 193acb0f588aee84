"""Issue 15's journey in a real browser: the instructor filters the at-risk students of a course,
opens one, writes a note, exports the list, bulk-enrolls three addresses (one not an address, one
already enrolled) and announces a new module; the student sees the announcement.

The announcement reaches the students through the worker (run_email_worker, a process of its own,
as in production)."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL
from tests.browser.conftest import check_accessibility, run_email_worker, screenshot, sign_in

NEWCOMER = "newcomer.journey@example.test"
TITLE = "New module: testing in production"


def _at_risk_course(database, instructor) -> tuple[str, str]:
    """The instructor's course with the most students at risk (its id and title), by the rule itself."""
    row = database.rows(
        "SELECT c.id::text, c.title FROM student_progress s JOIN course_enrollments e ON e.id = s.enrollment_id "
        "JOIN courses c ON c.id = s.course_id JOIN instructor_settings t ON t.user_id = c.instructor_id "
        "WHERE c.instructor_id = %s AND (student_lagging(e.status, e.enrolled_at, s.progress_percentage, "
        "t.at_risk_progress_percent, t.at_risk_after_days, now()) OR student_inactive(e.status, e.enrolled_at, "
        "s.last_activity_at, t.inactive_after_days, now())) "
        "GROUP BY c.id, c.title ORDER BY count(*) DESC, c.id LIMIT 1", (instructor,))
    assert row, "the demo has students at risk"
    return row[0]["id"], row[0]["title"]


def test_the_instructor_follows_an_at_risk_student_enrolls_a_list_and_announces_a_module(mail_server, browser, page):
    base, database, mailbox = mail_server
    instructor = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    course_id, course_title = _at_risk_course(database, instructor)
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL)

    # 1. The at-risk students of one course (htmx filters; the address follows).
    page.goto(f"{base}/students/")
    page.get_by_label("At risk").select_option("at_risk")
    expect(page).to_have_url(re.compile(r"/students/\?.*risk=at_risk"))
    page.get_by_label("Course").select_option(course_id)
    expect(page).to_have_url(re.compile(rf"/students/\?.*course={course_id}.*risk=at_risk"))
    rows = page.locator(".roster-table tbody tr")
    expect(rows.first).to_contain_text("At risk: ")
    for text in rows.all_inner_texts():
        assert course_title in text and "At risk: " in text
    check_accessibility(page, "roster: one course's students at risk")
    screenshot(page, "students-1-at-risk")

    # 2. The list as CSV: the same students, with the filters applied.
    shown = rows.count()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
    assert exported, "the export has the at-risk students"
    assert len(exported) >= shown  # every page, not only the first
    assert {row.get("Course") or row.get("course") for row in exported} == {course_title}

    # 3. One student's page, and a private note on it.
    link = rows.first.get_by_role("link").first
    name = link.inner_text()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    student = database.value("SELECT id FROM users WHERE full_name = %s ORDER BY created_at LIMIT 1", (name,))
    student_email = database.value("SELECT email::text FROM users WHERE id = %s", (student,))
    page.get_by_label("Note", exact=True).fill("Called on Monday: busy at work until the 20th.")
    page.get_by_role("button", name="Save the note").click()
    expect(page.locator("#notes")).to_contain_text("Called on Monday: busy at work until the 20th.")
    assert database.value("SELECT count(*) FROM instructor_student_notes WHERE instructor_id = %s AND student_id = %s",
                          (instructor, student)) == 1
    check_accessibility(page, "a student's page with a note")
    screenshot(page, "students-2-student-page")

    # 4. Bulk enrollment: one new address, one that is not an address, one already enrolled.
    page.goto(f"{base}/students/enroll")
    page.get_by_label("Course").select_option(course_id)
    page.get_by_label("Email addresses").fill(f"{NEWCOMER}\nnot-an-address\n{student_email}")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".bulk-table tbody tr")
    expect(preview).to_have_count(3)
    expect(page.locator(".bulk-line--add")).to_contain_text(NEWCOMER)
    expect(page.locator(".bulk-line--already_enrolled")).to_contain_text(student_email)
    expect(page.locator(".bulk-line--invalid_email")).to_contain_text("not-an-address")
    check_accessibility(page, "bulk enrollment preview")
    screenshot(page, "students-3-bulk-preview")
    page.get_by_role("button", name="Enroll 1").click()
    expect(page.locator("#bulk-enroll [role=status]")).to_contain_text("1 enrolled or invited")
    screenshot(page, "students-4-bulk-done")
    assert database.value("SELECT count(*) FROM course_invitations WHERE course_id = %s AND email = %s",
                          (course_id, NEWCOMER)) == 1

    # 5. An announcement to the course's students, fanned out by the worker.
    page.goto(f"{base}/students/announcements/new")
    page.get_by_label("Course", exact=True).select_option(course_id)
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Message", exact=True).fill("Module 5 is out: **testing in production**, with two new quizzes.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#messages")).to_contain_text("are being told now")
    run_email_worker(database, mailbox, base)
    announced = database.rows("SELECT recipients, delivered_at FROM course_announcements WHERE title = %s", (TITLE,))
    assert len(announced) == 1 and announced[0]["delivered_at"] is not None, announced
    assert database.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = "
                          "'course_announcement'", (student,)) == 1
    page.goto(f"{base}/students/announcements")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    screenshot(page, "students-5-announcements")

    # 6. The student (the one the note is about) reads it.
    student_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        reader = student_context.new_page()
        sign_in(reader, base, student_email, lands="/learning/")
        reader.goto(f"{base}/announcements/")
        reader.get_by_role("link", name=TITLE).click()
        expect(reader.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(reader.locator("strong", has_text="testing in production")).to_be_visible()
        check_accessibility(reader, "a student's announcement")
        screenshot(reader, "students-6-student-reads")
    finally:
        student_context.close()
    assert page.console_errors == []

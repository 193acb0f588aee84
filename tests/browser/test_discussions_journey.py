"""Issue 19 in a real browser: a student comments (no reload), asks a question and hands in an
assignment; the co-instructor finds the question from the dashboard, answers it, and grades the
work; the student sees the answer and the grade, the lesson completes and the engagement moves."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.support import PASSWORD, enroll, gen_account, gen_course, gen_lesson


def _world(database):
    """The demo instructor's course (a reading, then an assignment passed at 60), a co-instructor who
    reads content and manages students, and an enrolled student."""
    owner = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    course = gen_course(database, owner, lessons=(), title="Writing Clear Briefs")
    gen_lesson(database, course, course.modules[0], "text")
    gen_lesson(database, course, course.modules[0], "assignment")
    database.rows("UPDATE course_lessons SET body = 'Write a one-page brief.', "
                  "passing_score = CASE WHEN content_type = 'assignment' THEN 60 END WHERE course_id = %s",
                  (course.id,))
    co, co_email = gen_account(database, "instructor", name="Casey Coteacher")
    database.value("INSERT INTO course_instructors (course_id, instructor_id, role, permissions) "
                   "VALUES (%s, %s, 'co-instructor', %s) RETURNING id",
                   (course.id, co, json.dumps({"view_content": True, "manage_students": True})))
    student, student_email = gen_account(database, "student", name="Jordan Learner")
    enrollment = enroll(database, student, course.id)
    slug = database.value("SELECT slug::text FROM courses WHERE id = %s", (course.id,))
    return course, slug, enrollment, co_email, student_email


def test_a_student_discusses_and_hands_in_and_the_co_instructor_answers_and_grades(demo_server, page, browser):
    base, database = demo_server
    course, slug, enrollment, co_email, student_email = _world(database)
    engagement = lambda: database.value("SELECT engagement_score FROM student_progress WHERE enrollment_id = %s",  # noqa: E731
                                        (enrollment,))
    start = engagement()

    # The student comments on the first lesson: the comment appears in place, the address stays.
    sign_in(page, base, student_email, PASSWORD, lands="/learning/")
    reading = f"{base}/learn/{slug}/lessons/{course.lessons[0]}"
    page.goto(reading)
    page.get_by_label("Your comment").fill("The example brief helped a lot.")
    page.get_by_role("button", name="Post the comment").click()
    expect(page.locator("#comments .comment-list")).to_contain_text("The example brief helped a lot.")
    assert page.url == reading

    # ...and asks a question about it.
    page.locator("#questions summary").click()
    page.get_by_label("Your question").fill("How long should a brief be?")
    page.get_by_role("button", name="Post the question").click()
    expect(page.locator("#questions .question-list")).to_contain_text("How long should a brief be?")
    check_accessibility(page, "lesson with comments and questions")
    screenshot(page, "discussion-lesson-comment-and-question")

    # The assignment: hand in text and a link.
    page.goto(f"{base}/learn/{slug}/lessons/{course.lessons[1]}")
    page.get_by_role("textbox", name="Your answer").fill("My brief: goals, audience, constraints.")
    page.get_by_label("Link to your work (optional)").fill("https://docs.example.test/brief")
    page.get_by_role("button", name="Hand in your work").click()
    expect(page.locator("#submission")).to_contain_text("waiting for a grade")
    check_accessibility(page, "assignment handed in")
    screenshot(page, "discussion-assignment-handed-in")
    handed_in = engagement()
    assert handed_in > start

    # The co-instructor: the dashboard counts the question; answer it from the inbox.
    teacher = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(teacher, base, co_email, PASSWORD)
    expect(teacher.locator("#unanswered-questions")).to_contain_text("1 student question is waiting")
    teacher.locator("#unanswered-questions").get_by_role("link", name="Answer it").click()
    expect(teacher).to_have_url(f"{base}/discussions/inbox")
    check_accessibility(teacher, "unanswered questions inbox")
    screenshot(teacher, "discussion-inbox")
    teacher.get_by_role("link", name="How long should a brief be?", exact=True).click()
    teacher.get_by_label("Your answer").fill("One page: the reader should finish it in two minutes.")
    teacher.get_by_role("button", name="Post the answer").click()
    expect(teacher.locator("#answers")).to_contain_text("One page: the reader")

    # ...and grade the work from the grading queue.
    teacher.goto(f"{base}/discussions/grading")
    teacher.get_by_role("link", name=re.compile("^Grade")).first.click()
    teacher.get_by_label("Score (0 to 100)").fill("150")
    teacher.get_by_role("button", name="Save the grade").click()
    expect(teacher.locator("#grade")).to_contain_text("A score from 0 to 100.")
    check_accessibility(teacher, "grade form with an error")
    screenshot(teacher, "discussion-grade-form-422")
    teacher.get_by_label("Score (0 to 100)").fill("85")
    teacher.get_by_label("Feedback to the student").fill("Clear goals; name the deadline too.")
    teacher.get_by_role("button", name="Save the grade").click()
    expect(teacher).to_have_url(f"{base}/discussions/grading")
    expect(teacher.locator("body")).to_contain_text("the lesson is completed for them")
    teacher.context.close()

    # The student sees the grade and the feedback; the assignment lesson is complete.
    page.reload()
    expect(page.locator("#submission")).to_contain_text("Grade: 85%")
    expect(page.locator("#submission")).to_contain_text("Clear goals; name the deadline too.")
    expect(page.locator(".lesson-view__meta")).to_contain_text("Completed ✓")
    screenshot(page, "discussion-graded")
    # ...and the answer, which they accept.
    page.goto(reading)
    page.locator("#questions").get_by_role("link", name="How long should a brief be?").click()
    expect(page.locator("#answers")).to_contain_text("One page: the reader")
    page.get_by_role("button", name="Accept this answer").click()
    expect(page.locator("#answers")).to_contain_text("Accepted answer ✓")
    check_accessibility(page, "question with an accepted answer")
    screenshot(page, "discussion-answer-accepted")

    assert database.value("SELECT status::text FROM lesson_progress WHERE enrollment_id = %s AND lesson_id = %s",
                          (enrollment, course.lessons[1])) == "completed"
    assert engagement() > handed_in
    assert database.rows("SELECT * FROM verify_denormalized_figures()") == []
    assert database.rows("SELECT * FROM private.verify_discussion_figures()") == []
    assert page.console_errors == []

"""My learning and resume over HTTP: the student's courses in progress, waiting (payment or
approval) and completed (with their certificate), the empty state, pages, bounded queries;
resume to where the student left off; every actor on both routes."""

from __future__ import annotations

import json
import re

import pytest

from tests.routes_learning import build_learning_world, close_world, lesson_path
from tests.support import Actor, complete_course, enroll, gen_course, gen_user, pay
from tests.web import QueryCounter, text


@pytest.fixture(scope="module")
def world(module_database):
    world = build_learning_world(module_database)
    yield world
    close_world()


def fresh(world, actor: str) -> str:
    world.add_student(actor)
    return actor


# --- My learning ------------------------------------------------------------------------

def test_my_learning_empty_state_links_to_the_catalog(world):
    """A student with no course sees the empty state and a link to the catalog."""
    actor = fresh(world, "empty")
    page = world.get(actor, "/learning/")
    body = text(page)
    assert page.status_code == 200 and "<html" in body and "HX-Request" in page.headers["Vary"]
    assert "You are not enrolled in any course yet" in body and 'href="/catalog/"' in body


def test_my_learning_shows_progress_last_activity_and_continue(world):
    """A course in progress: its progress bar, lessons done, last activity and a Continue button to resume."""
    actor = fresh(world, "learner")
    course = world.course(("text", "text", "text", "text"), title="Rust for Gardeners")
    enroll(world.database, world.users[actor], course.id)
    world.post(actor, lesson_path(course, course.lessons[0], "complete"))
    body = text(world.get(actor, "/learning/"))
    assert "In progress" in body and "Rust for Gardeners" in body and "by Olive Owner" in body
    assert '<progress max="100" value="25.00"' in body and "25% · 1 of 4 lessons" in body
    assert "Last activity just now" in body
    assert f'href="/learn/{course.slug}/">Continue' in body


def test_my_learning_shows_a_new_enrollment_as_not_started(world):
    """An enrollment with no lesson done yet: 0% and a Start button."""
    actor = fresh(world, "starter")
    course = world.course(("text",), title="Fresh Start")
    enroll(world.database, world.users[actor], course.id)
    body = text(world.get(actor, "/learning/"))
    assert "not started yet" in body and f'href="/learn/{course.slug}/">Start' in body


def test_my_learning_shows_pending_enrollments_with_their_state(world):
    """Awaiting payment offers a button that goes straight to the checkout; awaiting approval says so."""
    actor = fresh(world, "waiting")
    paid = world.course(("text",), price="49.00", title="Paid And Unpaid")
    enroll(world.database, world.users[actor], paid.id)
    strict = gen_user(world.database, "instructor", name="Strict Teacher")
    world.database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                         "RETURNING 1", (strict,))
    queued = gen_course(world.database, strict, title="Needs Approval")
    enroll(world.database, world.users[actor], queued.id)
    body = text(world.get(actor, "/learning/"))
    assert "Waiting to start" in body and "Awaiting payment" in body and "Awaiting approval" in body
    slug = world.database.value("SELECT slug FROM courses WHERE id = %s", (paid.id,))
    form = re.search(rf'<form method="post" action="/catalog/{slug}/checkout">(.*?)</form>', body, re.S)
    assert form and 'name="csrf_token"' in form.group(1) and "Complete your payment" in form.group(1)
    assert body.count("/checkout") == 1, "only the unpaid enrollment has it"
    assert f'href="/catalog/{slug}">Complete your payment' not in body and f'href="/learn/{slug}/"' not in body
    assert "Nothing in progress right now." in body and ">Find your next course in the catalog</a>." in body
    started = world.post(actor, f"/catalog/{slug}/checkout")   # what the button sends
    assert started.status_code == 303 and re.fullmatch(r"/checkout/[0-9a-f-]{36}", started.headers["Location"])


def test_my_learning_shows_completed_courses_with_their_certificate(world):
    """A completed course with certificates links its certificate; one without links none."""
    actor = fresh(world, "finisher")
    with_cert = world.course(("text",), certificate=True, title="With Certificate")
    without = world.course(("text",), certificate=False, title="Without Certificate")
    for course in (with_cert, without):
        enroll(world.database, world.users[actor], course.id)
        world.post(actor, lesson_path(course, course.lessons[0], "complete"))
    body = text(world.get(actor, "/learning/"))
    code = world.database.value("SELECT code FROM certificates WHERE course_id = %s", (with_cert.id,))
    assert "Completed" in body and "With Certificate" in body and "Without Certificate" in body
    assert f'href="/certificates/{code}">Certificate' in body and body.count('href="/certificates/') == 1
    assert "100% · 1 of 1 lesson<" in body and "Nothing in progress right now" in body
    assert 'Your completed courses are below; <a href="/catalog/">find your next course in the catalog</a>.' in body
    slug = world.database.value("SELECT slug FROM courses WHERE id = %s", (with_cert.id,))
    assert f'href="/catalog/{slug}/review">Write a review' in body


def test_my_learning_offers_to_edit_a_review_already_written(world):
    """A completed course the student reviewed offers "Edit your review" (the form, filled in);
    one only somebody else reviewed still offers "Write a review"."""
    actor = fresh(world, "reviewer")
    reviewed = world.course(("text",), title="Reviewed By Me")
    theirs = world.course(("text",), title="Reviewed By Another")
    for course, student in ((reviewed, actor), (theirs, actor), (theirs, "other")):
        world.enroll(student, course)
        world.post(student, lesson_path(course, course.lessons[0], "complete"))
    for course, student in ((reviewed, actor), (theirs, "other")):
        with world.database.act(Actor.user(world.users[student])) as cur:
            cur.execute("INSERT INTO course_reviews (course_id, user_id, rating, review_text) "
                        "VALUES (%s, %s, 4, 'Clear and kind')", (course.id, world.users[student]))
    body = text(world.get(actor, "/learning/"))
    assert f'href="/catalog/{reviewed.slug}/review">Edit your review<' in body
    assert f'href="/catalog/{theirs.slug}/review">Write a review<' in body and body.count("Edit your review") == 1
    form = text(world.get(actor, f"/catalog/{reviewed.slug}/review"))
    assert "<h1>Edit your review</h1>" in form and "Clear and kind" in form


def test_my_learning_offers_no_review_where_the_instructor_takes_none(world):
    """With the instructor's reviews turned off, a completed course offers no "Write a review"
    (the form would be a 404); a review written before stays editable."""
    actor = fresh(world, "no-reviews")
    course = world.course(("text",), title="Reviews Turned Off")
    world.enroll(actor, course)
    world.post(actor, lesson_path(course, course.lessons[0], "complete"))
    owner = world.database.value("SELECT instructor_id FROM courses WHERE id = %s", (course.id,))
    world.database.value("UPDATE instructor_settings SET allow_course_reviews = false WHERE user_id = %s "
                         "RETURNING user_id", (owner,))
    try:
        body = text(world.get(actor, "/learning/"))
        assert "Reviews Turned Off" in body and f'href="/catalog/{course.slug}/review"' not in body
        assert world.get(actor, f"/catalog/{course.slug}/review").status_code == 404
    finally:
        world.database.value("UPDATE instructor_settings SET allow_course_reviews = true WHERE user_id = %s "
                             "RETURNING user_id", (owner,))
    assert f'href="/catalog/{course.slug}/review">Write a review' in text(world.get(actor, "/learning/"))


def test_my_learning_leaves_out_cancelled_and_other_students_courses(world):
    """A cancelled enrollment and another student's courses are not listed."""
    actor = fresh(world, "canceller")
    cancelled = world.course(("text",), title="Cancelled Course")
    enrollment = enroll(world.database, world.users[actor], cancelled.id)
    with world.database.act(Actor.user(world.users[actor])) as cur:
        cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    theirs = world.course(("text",), title="Somebody Elses Course")
    world.enroll("other", theirs)
    body = text(world.get(actor, "/learning/"))
    assert "Cancelled Course" not in body and "Somebody Elses Course" not in body
    assert "You are not enrolled in any course yet" in body


def test_my_learning_keeps_archived_courses(world):
    """A course archived after enrolling stays on My learning, marked archived."""
    actor = fresh(world, "archivist")
    course = world.course(("text",), title="Old But Gold")
    enroll(world.database, world.users[actor], course.id)
    world.database.value("UPDATE courses SET status = 'archived' WHERE id = %s RETURNING 1", (course.id,))
    body = text(world.get(actor, "/learning/"))
    assert "Old But Gold" in body and "Archived" in body


def test_my_learning_pages_and_a_bounded_number_of_queries(world):
    """Thirteen courses make two pages of in-progress courses; the page costs the same queries for 2 or 13."""
    actor = fresh(world, "busy")
    courses = [world.course(("text",), title=f"Course number {i:02d}") for i in range(13)]
    for course in courses[:2]:
        enroll(world.database, world.users[actor], course.id)
    with QueryCounter() as few:
        assert world.get(actor, "/learning/").status_code == 200
    for course in courses[2:]:
        enroll(world.database, world.users[actor], course.id)
    with QueryCounter() as many:
        first = text(world.get(actor, "/learning/"))
    assert many.count == few.count
    assert first.count('class="my-course card"') == 12 and "Page 1 of 2" in first
    assert 'href="/learning/?learning_page=2#learning"' in first
    second = text(world.get(actor, "/learning/?learning_page=2"))
    assert second.count('class="my-course card"') == 1 and "Page 2 of 2" in second
    assert text(world.get(actor, "/learning/?learning_page=99")).count('class="my-course card"') == 1


@pytest.mark.parametrize("actor, status", [("owner", 404), ("other_instructor", 404)])
def test_my_learning_is_for_students(world, actor, status):
    """Instructors get a 404 for My learning."""
    assert world.get(actor, "/learning/").status_code == status


def test_my_learning_sends_anonymous_visitors_to_sign_in(world):
    """Anonymous visitors are sent to sign in, and come back to My learning."""
    response = world.get("anon", "/learning/")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in?next=/learning/"


# --- resume ----------------------------------------------------------------------------

def test_resume_goes_to_the_first_lesson_not_completed(world):
    """Resume: the first lesson at first, then the first one not completed (skipping done ones in order)."""
    course = world.course(("text", "text", "text"))
    world.enroll("student", course)
    response = world.get("student", f"/learn/{course.slug}/")
    assert response.status_code == 303 and response.headers["Location"] == lesson_path(course, course.lessons[0])
    world.post("student", lesson_path(course, course.lessons[1], "complete"))
    assert world.get("student", f"/learn/{course.slug}/").headers["Location"] == lesson_path(course, course.lessons[0])
    world.post("student", lesson_path(course, course.lessons[0], "complete"))
    assert world.get("student", f"/learn/{course.slug}/").headers["Location"] == lesson_path(course, course.lessons[2])


def test_resume_after_everything_is_done_goes_to_the_first_lesson(world):
    """A completed course resumes at its first lesson."""
    world.add_student("completer")
    course = world.course(("text", "quiz"))
    complete_course(world.database, world.users["completer"], course)
    assert world.get("completer", f"/learn/{course.slug}/").headers["Location"] \
        == lesson_path(course, course.lessons[0])


def test_resume_skips_to_a_locked_lesson_only_when_nothing_open_is_left(world):
    """With every open lesson done, resume shows the next locked one (which says when it opens)."""
    course = world.course(("text", "text"))
    world.database.value("UPDATE courses SET drip_content = true, drip_schedule = %s WHERE id = %s RETURNING 1",
                         (json.dumps({str(course.lessons[1]): 14}), course.id))
    world.enroll("student", course)
    world.post("student", lesson_path(course, course.lessons[0], "complete"))
    target = world.get("student", f"/learn/{course.slug}/").headers["Location"]
    assert target == lesson_path(course, course.lessons[1])
    assert "This lesson opens on" in text(world.get("student", target))


def test_resume_with_htmx_redirects_with_hx_redirect(world):
    """An htmx resume answers HX-Redirect."""
    course = world.course(("text",))
    world.enroll("student", course)
    response = world.get("student", f"/learn/{course.slug}/", hx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == lesson_path(course, course.lessons[0])


def test_resume_of_a_course_without_lessons_goes_back_to_my_learning(world):
    """A course whose lessons were all removed resumes to My learning with a message."""
    course = world.course(("text",), title="Emptied Course")
    world.enroll("student", course)
    world.database.value("DELETE FROM course_lessons WHERE course_id = %s RETURNING 1", (course.id,))
    response = world.get("student", f"/learn/{course.slug}/")
    assert response.status_code == 303 and response.headers["Location"] == "/learning/"
    assert "“Emptied Course” has no lessons at the moment" in text(world.get("student", "/learning/"))


@pytest.mark.parametrize("actor", ["other", "owner", "other_instructor"])
def test_resume_is_404_unless_enrolled(world, actor):
    """Another student, the course's instructor and another instructor get 404 from resume."""
    course = world.course(("text",))
    world.enroll("student", course)
    assert world.get(actor, f"/learn/{course.slug}/").status_code == 404
    assert world.get("student", "/learn/no-such-course/").status_code == 404


def test_resume_of_a_pending_paid_enrollment_is_404_until_paid(world):
    """Pending payment: 404; once paid, resume goes to the first lesson."""
    course = world.course(("text",), price="19.00")
    enrollment = world.enroll("student", course)
    assert world.get("student", f"/learn/{course.slug}/").status_code == 404
    pay(world.database, enrollment)
    assert world.get("student", f"/learn/{course.slug}/").headers["Location"] == lesson_path(course, course.lessons[0])


def test_resume_sends_anonymous_visitors_to_sign_in(world):
    """Anonymous: resume redirects to sign-in with the way back."""
    course = world.course(("text",))
    response = world.get("anon", f"/learn/{course.slug}/")
    assert response.status_code == 303 and response.headers["Location"] == f"/sign-in?next=/learn/{course.slug}/"

"""The lesson player over HTTP: lessons of each kind, Mark complete, watch reports, quizzes,
drip locks and early unlocks, and every actor on every player route (anonymous, the
student, another student, the instructors), missing CSRF tokens and bad input."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from tests.routes_learning import (ONE_OF_THREE, QUIZ, RIGHT, TWO_OF_THREE, VIDEO_MINUTES, build_learning_world,
                                   close_world, lesson_path)
from tests.support import Actor, enroll, mismatches
from tests.web import notified, text


@pytest.fixture(scope="module")
def world(module_database):
    world = build_learning_world(module_database)
    yield world
    close_world()


def progress(world, enrollment_id) -> dict:
    return world.database.rows("SELECT progress_percentage, completed_lessons, total_lessons, certificate_url "
                               "FROM student_progress WHERE enrollment_id = %s", (enrollment_id,))[0]


def lock_module(world, course, rule) -> None:
    """Turn drip on with ``rule`` (days or an ISO date) on the course's first module (as the owner would)."""
    world.database.value("UPDATE courses SET drip_content = true, drip_schedule = %s WHERE id = %s RETURNING 1",
                         (json.dumps({str(course.modules[0]): rule}), course.id))


def lock_lesson(world, course, lesson_id, rule) -> None:
    world.database.value("UPDATE courses SET drip_content = true, drip_schedule = %s WHERE id = %s RETURNING 1",
                         (json.dumps({str(lesson_id): rule}), course.id))


# --- the lessons ----------------------------------------------------------------------

def test_text_lesson_renders_sanitized_markdown_with_curriculum_and_progress(world):
    """A text lesson: sanitized Markdown, the curriculum with every lesson, the progress bar, Mark complete."""
    course = world.course()
    world.enroll("student", course)
    page = world.get("student", lesson_path(course, course.lessons[0]))
    body = text(page)
    assert page.status_code == 200 and "<html" in body and "HX-Request" in page.headers["Vary"]
    assert "<strong>bold</strong>" in body and "<script>alert" not in body
    for number in range(1, 5):
        assert f"Lesson {number}</span>" in body
    assert 'id="course-progress"' in body and '<progress class="course-progress__bar" max="100" value="0.00"' in body
    assert 'aria-current="page"' in body and "Mark complete and continue" in body
    assert f'href="/learn/{course.slug}/lessons/{course.lessons[1]}"' in body  # next
    assert "/static/css/learning.css" in body and "/static/js/player.js" in body


def test_opening_a_lesson_writes_nothing(world):
    """GET is safe: opening lessons of every kind records no progress and no activity."""
    course = world.course()
    world.enroll("student", course)
    activity = world.activity_count(course)
    for lesson in course.lessons:
        assert world.get("student", lesson_path(course, lesson)).status_code == 200
    assert world.progress_rows(course) == [] and world.activity_count(course) == activity


def test_htmx_get_answers_the_player_fragment(world):
    """An htmx GET of a lesson gets the #player fragment only."""
    course = world.course()
    world.enroll("student", course)
    fragment = world.get("student", lesson_path(course, course.lessons[0]), hx=True)
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body and "HX-Request" in fragment.headers["Vary"]
    assert '<div class="player" id="player">' in body and body.count('id="player"') == 1


def test_video_lesson_plays_with_a_link_and_reports_to_the_watch_url(world):
    """A video lesson: a <video> with the URL, a plain link, the watch URL for player.js and media allowed by the CSP."""
    course = world.course(("video",))
    world.enroll("student", course)
    page = world.get("student", lesson_path(course, course.lessons[0]))
    body = text(page)
    assert page.status_code == 200
    assert '<video controls preload="metadata" src="https://video.example.test/v"' in body
    assert f'data-watch-url="{lesson_path(course, course.lessons[0], "watch")}"' in body
    assert 'href="https://video.example.test/v"' in body
    assert "media-src 'self' https:" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_every_player_page_allows_the_video_host(world):
    """A text lesson's page allows https media too: htmx may swap a video lesson into it."""
    course = world.course(("text", "video"))
    world.enroll("student", course)
    page = world.get("student", lesson_path(course, course.lessons[0]))
    assert "media-src 'self' https:" in page.headers["Content-Security-Policy"]


def test_a_playable_videos_mark_complete_is_marked_to_wait_for_watching(world):
    """Under a video the page plays, Mark complete is in the page (no JavaScript: it works) and marked
    for player.js to hold back until watched, with the note saying so; a text lesson's is not marked."""
    course = world.course(("video", "text"))
    world.enroll("student", course)
    video = text(world.get("student", lesson_path(course, course.lessons[0])))
    form = re.search(r'<form method="post" action="[^"]+/complete"[^>]*>', video).group(0)
    assert "data-after-watching" in form and "Mark complete and continue" in video
    assert re.search(r'<p class="muted watch-note" data-watch-note role="status" hidden>Watch the video', video)
    reading = text(world.get("student", lesson_path(course, course.lessons[1])))
    assert "Mark complete" in reading and "data-after-watching" not in reading and "data-watch-note" not in reading


def test_a_video_lesson_is_completed_without_watch_time_on_the_server(world):
    """The server does not refuse an unwatched video (the student may have watched it through the link):
    the rule lives in the player, and is a nudge."""
    course = world.course(("video",))
    world.enroll("student", course)
    assert world.post("student", lesson_path(course, course.lessons[0], "complete")).status_code == 303
    assert [(r["status"], r["watch_time_seconds"]) for r in world.progress_rows(course)] == [("completed", 0)]


def test_plain_http_video_is_offered_as_a_link_only(world):
    """An http:// video (which an https page may not load) gets no <video>, only the plain link."""
    course = world.course(("video",))
    world.database.value("UPDATE course_lessons SET video_url = 'http://old.example.test/v' WHERE course_id = %s "
                         "RETURNING 1", (course.id,))
    world.enroll("student", course)
    body = text(world.get("student", lesson_path(course, course.lessons[0])))
    assert "<video" not in body and 'href="http://old.example.test/v"' in body and "Mark complete" in body
    assert "data-after-watching" not in body, "nothing here could tell it was watched: the button stays"


def test_quiz_lesson_shows_choices_but_never_the_answer(world):
    """A quiz: every question with radio choices q0..q2, nothing that tells which choice is right."""
    course = world.course(("quiz",))
    world.enroll("student", course)
    body = text(world.get("student", lesson_path(course, course.lessons[0])))
    assert body.count('type="radio"') == sum(len(q["choices"]) for q in QUIZ["questions"])
    for i, question in enumerate(QUIZ["questions"]):
        assert question["prompt"] in body and f'name="q{i}"' in body
    assert " checked" not in body and "answer\"" not in body and "correct" not in body.lower()
    # Right and wrong choices are marked up alike: only the value differs.
    choices = re.findall(r'<label class="choice"><input type="radio" name="q0" value="(\d)">', body)
    assert choices == ["0", "1", "2"]
    assert "Pass mark: 70%" in body and "Mark complete" not in body


def test_assignment_shows_instructions_and_the_hand_in_form_not_mark_complete(world):
    """An assignment: its instructions (Markdown) and the hand-in form; a passing grade completes it,
    so there is no Mark complete button and posting one is refused (a 404, nothing written)."""
    course = world.course(("assignment",))
    world.enroll("student", course)
    body = text(world.get("student", lesson_path(course, course.lessons[0])))
    assert "Instructions" in body and "<strong>bold</strong>" in body and "Mark complete" not in body
    assert 'href="#submission"' in body and "Hand in your work</button>" in body
    assert world.post("student", lesson_path(course, course.lessons[0], "complete")).status_code == 404
    assert world.progress_rows(course) == [] or all(r["status"] != "completed" for r in world.progress_rows(course))


def test_previous_and_next_links(world):
    """The middle lesson links to the previous and the next lesson."""
    course = world.course(("text", "text", "text"))
    world.enroll("student", course)
    body = text(world.get("student", lesson_path(course, course.lessons[1])))
    assert f'rel="prev" href="{lesson_path(course, course.lessons[0])}"' in body
    assert f'rel="next" href="{lesson_path(course, course.lessons[2])}"' in body


def test_unknown_lesson_or_lesson_of_another_course_is_404(world):
    """A lesson id that is not in the course (unknown, or another course's) is a 404."""
    course, elsewhere = world.course(), world.course()
    world.enroll("student", course)
    world.enroll("student", elsewhere)
    assert world.get("student", lesson_path(course, "00000000-0000-0000-0000-000000000000")).status_code == 404
    assert world.get("student", lesson_path(course, elsewhere.lessons[0])).status_code == 404
    assert world.post("student", lesson_path(course, elsewhere.lessons[0], "complete")).status_code == 404
    assert world.progress_rows(elsewhere) == []


def test_archived_course_stays_open_to_its_students(world):
    """A course archived after the student enrolled still plays for them."""
    course = world.course()
    world.enroll("student", course)
    world.database.value("UPDATE courses SET status = 'archived' WHERE id = %s RETURNING 1", (course.id,))
    page = world.get("student", lesson_path(course, course.lessons[0]))
    assert page.status_code == 200 and "Archived" in text(page)
    assert world.post("student", lesson_path(course, course.lessons[0], "complete")).status_code == 303


# --- Mark complete --------------------------------------------------------------------

def test_mark_complete_records_and_goes_to_the_next_lesson(world):
    """Without htmx: 303 to the next lesson; the lesson is completed and the progress moves on."""
    course = world.course(("text", "text", "text", "text"))
    enrollment = world.enroll("student", course)
    response = world.post("student", lesson_path(course, course.lessons[0], "complete"))
    assert response.status_code == 303 and response.headers["Location"] == lesson_path(course, course.lessons[1])
    rows = world.progress_rows(course)
    assert [(r["lesson_id"], r["status"]) for r in rows] == [(course.lessons[0], "completed")]
    assert progress(world, enrollment)["progress_percentage"] == Decimal("25.00")
    assert world.database.value("SELECT status FROM course_enrollments WHERE id = %s", (enrollment,)) == "in_progress"
    body = text(world.get("student", lesson_path(course, course.lessons[1])))
    assert 'value="25.00"' in body and "25% complete" in body and "1 of 4 lessons" in body


def test_mark_complete_with_htmx_swaps_in_the_next_lesson_and_the_new_progress(world):
    """With htmx: the next lesson's player fragment, its URL pushed, the progress bar updated."""
    course = world.course(("text", "text"))
    world.enroll("student", course)
    response = world.post("student", lesson_path(course, course.lessons[0], "complete"), hx=True)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and 'id="player"' in body
    assert response.headers["HX-Push-Url"] == lesson_path(course, course.lessons[1])
    assert '<h1 id="lesson-title" tabindex="-1">Lesson 2</h1>' in body
    assert 'value="50.00"' in body and "50% complete" in body


def test_mark_complete_twice_changes_nothing(world):
    """A second Mark complete (double click, another tab) writes nothing new."""
    course = world.course(("text", "text"))
    world.enroll("student", course)
    path = lesson_path(course, course.lessons[0], "complete")
    world.post("student", path)
    before = world.database.rows("SELECT completed_at, updated_at FROM lesson_progress WHERE course_id = %s", (course.id,))
    activity = world.activity_count(course)
    assert world.post("student", path).status_code == 303
    after = world.database.rows("SELECT completed_at, updated_at FROM lesson_progress WHERE course_id = %s", (course.id,))
    assert before == after and world.activity_count(course) == activity


def test_mark_complete_on_a_quiz_is_refused(world):
    """A quiz is completed by passing it: Mark complete on it is a 404 and writes nothing."""
    course = world.course(("quiz",))
    world.enroll("student", course)
    assert world.post("student", lesson_path(course, course.lessons[0], "complete")).status_code == 404
    assert world.progress_rows(course) == []


def test_last_lesson_completes_the_course_and_shows_the_certificate(world):
    """Completing the last lesson stays on it, says the course is complete and links the certificate."""
    course = world.course(("text", "text"), certificate=True)
    enrollment = world.enroll("student", course)
    world.post("student", lesson_path(course, course.lessons[0], "complete"))
    response = world.post("student", lesson_path(course, course.lessons[1], "complete"), hx=True)
    body = text(response)
    assert response.status_code == 200 and "HX-Push-Url" not in response.headers
    assert notified(response) == {"message": "You have completed the course. Well done!", "kind": "success"}
    assert "Your certificate</a>" in body
    code = world.database.value("SELECT code FROM certificates WHERE enrollment_id = %s", (enrollment,))
    assert f'href="/certificates/{code}"' in body and f'href="/certificates/{code}.pdf"' in body
    assert progress(world, enrollment)["certificate_url"] == f"/certificates/{code}"
    plain = world.post("student", lesson_path(course, course.lessons[1], "complete"))
    assert plain.headers["Location"] == lesson_path(course, course.lessons[1])  # already complete: stays


# --- watch reports ---------------------------------------------------------------------

def test_watch_report_is_bounded_by_the_lesson_length_and_never_goes_back(world):
    """99999 s stores the video's length; a lower report keeps it; each answer is 204."""
    course = world.course(("video", "text"))
    world.enroll("student", course)
    path = lesson_path(course, course.lessons[0], "watch")
    first = world.post("student", path, {"position": "30"}, hx=True)
    assert first.status_code == 204 and first.get_data() == b""
    rows = world.progress_rows(course)
    assert [(r["status"], r["watch_time_seconds"]) for r in rows] == [("in_progress", 30)]
    assert world.post("student", path, {"position": "99999"}).status_code == 204
    assert world.progress_rows(course)[0]["watch_time_seconds"] == VIDEO_MINUTES * 60
    assert world.post("student", path, {"position": "45"}).status_code == 204
    assert world.progress_rows(course)[0]["watch_time_seconds"] == VIDEO_MINUTES * 60
    body = text(world.get("student", lesson_path(course, course.lessons[0])))
    assert f'data-resume-at="{VIDEO_MINUTES * 60}"' in body


def test_watch_report_repeated_is_idempotent(world):
    """The same position twice leaves the row as the first report left it."""
    course = world.course(("video",))
    world.enroll("student", course)
    path = lesson_path(course, course.lessons[0], "watch")
    world.post("student", path, {"position": "120"})
    before = world.database.rows("SELECT * FROM lesson_progress WHERE course_id = %s", (course.id,))
    activity = world.activity_count(course)
    world.post("student", path, {"position": "120"})
    assert world.database.rows("SELECT * FROM lesson_progress WHERE course_id = %s", (course.id,)) == before
    assert world.activity_count(course) == activity


def test_watch_then_complete_a_video(world):
    """A watched video is completed with Mark complete; its watch time stays."""
    course = world.course(("video", "text"))
    world.enroll("student", course)
    world.post("student", lesson_path(course, course.lessons[0], "watch"), {"position": "200"})
    assert world.post("student", lesson_path(course, course.lessons[0], "complete")).status_code == 303
    assert [(r["status"], r["watch_time_seconds"]) for r in world.progress_rows(course)] == [("completed", 200)]


@pytest.mark.parametrize("position", ["", "abc", "-5", "1.5", "1e3", "10 s", "9999999999"])
def test_watch_bad_position_is_422_and_writes_nothing(world, position):
    """A position that is not a whole number of seconds (0 or more) is refused with 422."""
    course = world.course(("video",))
    world.enroll("student", course)
    response = world.post("student", lesson_path(course, course.lessons[0], "watch"), {"position": position})
    assert response.status_code == 422 and "position" in text(response)
    assert world.progress_rows(course) == []


def test_watch_on_a_lesson_that_is_not_a_video_is_404(world):
    """Watch reports are for videos only."""
    course = world.course(("text", "quiz"))
    world.enroll("student", course)
    for lesson in course.lessons:
        assert world.post("student", lesson_path(course, lesson, "watch"), {"position": "5"}).status_code == 404
    assert world.progress_rows(course) == []


# --- quizzes ---------------------------------------------------------------------------

def test_quiz_fail_then_pass_keeps_the_best_score(world):
    """2 of 3 fails (66.67, in progress, try again); 3 of 3 passes; a worse retry lowers nothing."""
    course = world.course(("quiz", "text"))
    enrollment = world.enroll("student", course)
    path = lesson_path(course, course.lessons[0], "quiz")
    failed = world.post("student", path, TWO_OF_THREE, hx=True)
    body = text(failed)
    assert failed.status_code == 200 and "You scored <strong>66.7%</strong>" in body and "Try again" in body
    assert "66.67%" not in body and ".00%" not in body
    assert "below the pass mark of 70%" in body and body.count("Not right last time") == 1
    assert body.count("Right last time.") == 2 and " checked" not in body  # a retry starts clean
    assert [(r["status"], r["quiz_score"]) for r in world.progress_rows(course)] == [("in_progress", Decimal("66.67"))]

    passed = world.post("student", path, RIGHT, hx=True)
    assert passed.status_code == 200 and "You scored <strong>100%</strong>" in text(passed)
    assert "You passed." in text(passed)
    assert [(r["status"], r["quiz_score"]) for r in world.progress_rows(course)] == [("completed", Decimal("100.00"))]

    worse = world.post("student", path, ONE_OF_THREE, hx=True)
    assert "(best score 100%)" in text(worse) and "33.3%" in text(worse) and "already passed this quiz" in text(worse)
    assert [(r["status"], r["quiz_score"]) for r in world.progress_rows(course)] == [("completed", Decimal("100.00"))]
    assert progress(world, enrollment)["completed_lessons"] == 1
    kinds = [r["activity_type"] for r in world.database.rows(
        "SELECT activity_type FROM student_activity WHERE course_id = %s AND activity_type IN "
        "('quiz_failed', 'quiz_passed') ORDER BY occurred_at, id", (course.id,))]
    assert sorted(kinds) == ["quiz_failed", "quiz_passed"]


def test_quiz_without_htmx_redirects_and_shows_the_result_once(world):
    """A plain quiz POST is a 303 to the lesson, which shows the result once (then the plain quiz)."""
    course = world.course(("quiz",))
    world.enroll("student", course)
    response = world.post("student", lesson_path(course, course.lessons[0], "quiz"), TWO_OF_THREE)
    assert response.status_code == 303 and response.headers["Location"] == lesson_path(course, course.lessons[0])
    shown = text(world.get("student", lesson_path(course, course.lessons[0])))
    assert "You scored <strong>66.7%</strong>" in shown and "Not right last time" in shown
    again = text(world.get("student", lesson_path(course, course.lessons[0])))
    assert "You scored" not in again and "Your best score so far: 66.7%" in again


@pytest.mark.parametrize("answers, missing", [
    ({"q0": "1"}, 2),
    ({"q0": "1", "q1": "0", "q2": "9"}, 1),      # not one of the choices
    ({"q0": "1", "q1": "x", "q2": "2"}, 1),      # not a number
    ({"q0": "-1", "q1": "0", "q2": "2"}, 1),
    ({}, 3),
])
def test_quiz_bad_or_missing_answers_are_422_with_answers_kept(world, answers, missing):
    """Unanswered (or impossible) answers: 422, the valid answers kept, a message per question, nothing written."""
    course = world.course(("quiz",))
    world.enroll("student", course)
    for hx in (False, True):
        response = world.post("student", lesson_path(course, course.lessons[0], "quiz"), answers, hx=hx)
        body = text(response)
        assert response.status_code == 422 and body.count("Choose an answer.") == missing
        assert ("<html" in body) is (not hx)
        if answers.get("q0") == "1":
            assert 'name="q0" value="1" checked' in body
    assert world.progress_rows(course) == []


def test_quiz_post_on_a_lesson_that_is_not_a_quiz_is_404(world):
    """Quiz answers for a text lesson are refused."""
    course = world.course(("text",))
    world.enroll("student", course)
    assert world.post("student", lesson_path(course, course.lessons[0], "quiz"), RIGHT).status_code == 404
    assert world.progress_rows(course) == []


def test_quiz_without_questions_is_finished_by_submitting(world):
    """A quiz lesson with no questions yet scores 100 when submitted, so it never blocks the course."""
    course = world.course(("quiz",))
    world.database.value("UPDATE course_lessons SET quiz = NULL WHERE course_id = %s RETURNING 1", (course.id,))
    world.enroll("student", course)
    assert "no questions yet" in text(world.get("student", lesson_path(course, course.lessons[0])))
    assert world.post("student", lesson_path(course, course.lessons[0], "quiz")).status_code == 303
    assert [(r["status"], r["quiz_score"]) for r in world.progress_rows(course)] == [("completed", Decimal("100.00"))]


# --- drip -----------------------------------------------------------------------------

def _refused_everywhere(world, course, lesson_id, actor="student"):
    activity = world.activity_count(course)
    assert world.post(actor, lesson_path(course, lesson_id, "complete")).status_code == 404
    assert world.post(actor, lesson_path(course, lesson_id, "quiz"), RIGHT).status_code == 404
    assert world.post(actor, lesson_path(course, lesson_id, "watch"), {"position": "10"}).status_code == 404
    assert world.progress_rows(course) == [] and world.activity_count(course) == activity


@pytest.mark.parametrize("kind", ["text", "video", "quiz"])
def test_lesson_locked_by_a_days_rule_is_refused_by_direct_url(world, kind):
    """A module released 7 days after enrolling: the page says when it opens, without the content; every POST is a 404."""
    course = world.course((kind,))
    lock_module(world, course, 7)
    world.enroll("student", course)
    page = world.get("student", lesson_path(course, course.lessons[0]))
    body = text(page)
    assert page.status_code == 403 and "This lesson opens on" in body and "Opens " in body
    for content in ("<strong>bold</strong>", "video.example.test", QUIZ["questions"][0]["prompt"], 'type="radio"'):
        assert content not in body
    assert "Mark complete" not in body
    _refused_everywhere(world, course, course.lessons[0])


def test_lesson_locked_until_a_date_shows_the_date(world):
    """A lesson dated 2099-01-01 shows that date and is refused; the other lessons stay open."""
    course = world.course(("text", "text"))
    lock_lesson(world, course, course.lessons[1], "2099-01-01")
    world.enroll("student", course)
    body = text(world.get("student", lesson_path(course, course.lessons[1])))
    assert "This lesson opens on 01 January 2099" in body and "<strong>bold</strong>" not in body
    assert "Opens 01 Jan 2099" in text(world.get("student", lesson_path(course, course.lessons[0])))
    _refused_everywhere(world, course, course.lessons[1])
    assert world.post("student", lesson_path(course, course.lessons[0], "complete")).status_code == 303


def test_early_unlock_opens_a_locked_lesson(world):
    """An early unlock for the student (drip_unlocks) opens the lesson: content shown, completion recorded."""
    course = world.course(("text",))
    lock_module(world, course, 30)
    enrollment = world.enroll("student", course)
    assert world.get("student", lesson_path(course, course.lessons[0])).status_code == 403
    world.database.value(
        "INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, lesson_id, unlocked_by) "
        "VALUES (%s, %s, %s, %s, NULL) RETURNING id", (enrollment, world.users["student"], course.id, course.lessons[0]))
    page = world.get("student", lesson_path(course, course.lessons[0]))
    assert page.status_code == 200 and "<strong>bold</strong>" in text(page)
    assert world.post("student", lesson_path(course, course.lessons[0], "complete")).status_code == 303
    assert [r["status"] for r in world.progress_rows(course)] == ["completed"]


def test_unlock_is_per_student(world):
    """One student's early unlock leaves the lesson locked for another."""
    course = world.course(("text",))
    lock_module(world, course, 30)
    enrollment = world.enroll("student", course)
    world.enroll("other", course)
    world.database.value("INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, unlocked_by) "
                         "VALUES (%s, %s, %s, NULL) RETURNING id", (enrollment, world.users["student"], course.id))
    assert world.get("student", lesson_path(course, course.lessons[0])).status_code == 200
    assert world.get("other", lesson_path(course, course.lessons[0])).status_code == 403
    _refused_everywhere(world, course, course.lessons[0], actor="other")


# --- who may use the player -------------------------------------------------------------

def _all_requests(course):
    lesson = course.lessons[0]
    return [("GET", lesson_path(course, lesson), None), ("GET", f"/learn/{course.slug}/", None),
            ("POST", lesson_path(course, lesson, "complete"), {}),
            ("POST", lesson_path(course, course.lessons[1], "watch"), {"position": "5"}),
            ("POST", lesson_path(course, course.lessons[2], "quiz"), RIGHT)]


def _send(world, actor, method, path, data):
    return world.get(actor, path) if method == "GET" else world.post(actor, path, data)


@pytest.mark.parametrize("actor", ["other", "owner", "other_instructor"])
def test_player_routes_are_404_for_anyone_but_the_enrolled_student(world, actor):
    """Another student (not enrolled) and the instructors (theirs or not) get 404 everywhere; nothing is written."""
    course = world.course(("text", "video", "quiz"))
    world.enroll("student", course)
    for method, path, data in _all_requests(course):
        assert _send(world, actor, method, path, data).status_code == 404, (method, path)
    assert world.progress_rows(course) == []


def test_player_routes_send_anonymous_visitors_to_sign_in(world):
    """Anonymous: every player route (GET, and POST with a valid token) redirects to sign-in; nothing is written."""
    course = world.course(("text", "video", "quiz"))
    for method, path, data in _all_requests(course):
        response = _send(world, "anon", method, path, data)
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next="), path
    assert world.progress_rows(course) == []


@pytest.mark.parametrize("actor", ["student", "other", "owner", "anon"])
def test_player_posts_without_csrf_token_are_400(world, actor):
    """Every player POST without its CSRF token is refused with 400, and writes nothing."""
    course = world.course(("text", "video", "quiz"))
    world.enroll("student", course)
    for method, path, data in _all_requests(course):
        if method == "POST":
            assert world.post(actor, path, data, csrf=False).status_code == 400, path
            assert world.post(actor, path, data, csrf=False, hx=True).status_code == 400, path
    assert world.progress_rows(course) == []


def test_another_students_progress_is_not_shown(world):
    """Two students of one course each see their own progress only."""
    course = world.course(("text", "text"))
    world.enroll("student", course)
    world.enroll("other", course)
    world.post("student", lesson_path(course, course.lessons[0], "complete"))
    theirs = text(world.get("other", lesson_path(course, course.lessons[0])))
    assert "0% complete" in theirs and "Mark complete and continue" in theirs
    mine = text(world.get("student", lesson_path(course, course.lessons[0])))
    assert "50% complete" in mine and "You have completed this lesson." in mine


@pytest.mark.parametrize("state", ["pending_payment", "cancelled"])
def test_enrollment_that_is_not_active_is_404(world, state):
    """A pending (unpaid) or cancelled enrollment opens no lesson."""
    course = world.course(("text", "text"), price="0" if state == "cancelled" else "49.00")
    enrollment = world.enroll("student", course)
    if state == "cancelled":
        with world.database.act(Actor.user(world.users["student"])) as cur:
            cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    assert world.get("student", lesson_path(course, course.lessons[0])).status_code == 404
    assert world.get("student", f"/learn/{course.slug}/").status_code == 404
    assert world.post("student", lesson_path(course, course.lessons[0], "complete")).status_code == 404
    assert world.progress_rows(course) == []


# --- the whole journey --------------------------------------------------------------------

def test_free_journey_over_http_to_a_verified_certificate(world):
    """Enroll; text, video (watch then complete), quiz (fail then pass), assignment; 100%, completed,
    a certificate anyone can verify, and every kept figure right."""
    world.add_student("journey", name="Grace Journey")
    course = world.course(("text", "video", "quiz", "assignment"), certificate=True, title="Journey Course")
    enrollment = enroll(world.database, world.users["journey"], course.id)
    text_lesson, video, quiz, assignment = course.lessons

    start = world.get("journey", f"/learn/{course.slug}/")
    assert start.status_code == 303 and start.headers["Location"] == lesson_path(course, text_lesson)
    assert world.post("journey", lesson_path(course, text_lesson, "complete")).headers["Location"] \
        == lesson_path(course, video)
    assert world.post("journey", lesson_path(course, video, "watch"), {"position": "90"}).status_code == 204
    assert world.post("journey", lesson_path(course, video, "watch"), {"position": "99999"}).status_code == 204
    assert world.post("journey", lesson_path(course, video, "complete"), hx=True).headers["HX-Push-Url"] \
        == lesson_path(course, quiz)
    assert world.get("journey", f"/learn/{course.slug}/").headers["Location"] == lesson_path(course, quiz)
    assert "66.7%" in text(world.post("journey", lesson_path(course, quiz, "quiz"), TWO_OF_THREE, hx=True))
    assert "You passed." in text(world.post("journey", lesson_path(course, quiz, "quiz"), RIGHT, hx=True))
    # the assignment: handed in, then a passing grade completes it (no self-completion)
    handed = world.post("journey", f"/discussions/lessons/{assignment}/submission", {"body": "My work", "link_url": ""})
    assert handed.status_code == 303
    with world.database.act(Actor.user(world.users["owner"])) as cur:
        cur.execute("SELECT grade_assignment(id, 90, 'Well done') AS passed FROM assignment_submissions "
                    "WHERE enrollment_id = %s AND lesson_id = %s", (enrollment, assignment))
        assert cur.fetchone()["passed"] is True
    final = text(world.get("journey", lesson_path(course, assignment)))
    assert "You have completed this course" in final and "Your certificate</a>" in final

    figures = progress(world, enrollment)
    assert figures["progress_percentage"] == Decimal("100.00") and figures["completed_lessons"] == 4
    assert world.database.value("SELECT status FROM course_enrollments WHERE id = %s", (enrollment,)) == "completed"
    rows = {r["lesson_id"]: r for r in world.progress_rows(course)}
    assert rows[video]["watch_time_seconds"] == VIDEO_MINUTES * 60 and rows[quiz]["quiz_score"] == Decimal("100.00")
    code = world.database.value("SELECT code FROM certificates WHERE enrollment_id = %s", (enrollment,))
    assert figures["certificate_url"] == f"/certificates/{code}"
    verified = world.get("anon", f"/certificates/{code}")
    assert verified.status_code == 200 and "Grace Journey" in text(verified) and "Journey Course" in text(verified)
    assert "Valid." in text(verified)
    mine = text(world.get("journey", "/learning/"))
    assert f'href="/certificates/{code}"' in mine
    assert world.get("journey", f"/learn/{course.slug}/").headers["Location"] == lesson_path(course, text_lesson)
    assert mismatches(world.database) == []


def test_a_pass_after_the_pass_mark_was_lowered_completes_the_quiz(world):
    """66.67 fails at 70; the owner lowers the mark to 60; the same score again passes and completes."""
    course = world.course(("quiz", "text"))
    world.enroll("student", course)
    path = lesson_path(course, course.lessons[0], "quiz")
    world.post("student", path, TWO_OF_THREE, hx=True)
    world.database.value("UPDATE course_lessons SET passing_score = 60 WHERE id = %s RETURNING id",
                         (course.lessons[0],))
    again = world.post("student", path, TWO_OF_THREE, hx=True)
    assert "You passed." in text(again)
    assert [(r["status"], r["quiz_score"]) for r in world.progress_rows(course)] == [("completed", Decimal("66.67"))]


@pytest.mark.parametrize("answer", ["²", "١", "+1", "1.0", "9999"])
def test_quiz_answers_that_are_not_choice_numbers_are_422(world, answer):
    """Only ASCII digits naming a choice are answers (a superscript two is not)."""
    course = world.course(("quiz",))
    world.enroll("student", course)
    response = world.post("student", lesson_path(course, course.lessons[0], "quiz"),
                          {**RIGHT, "q0": answer}, hx=True)
    assert response.status_code == 422 and world.progress_rows(course) == []


def test_completing_into_a_locked_lesson_answers_as_its_address_does(world):
    """Mark complete, then the next lesson is drip-locked: the swapped-in player says so with a 403."""
    course = world.course(("text", "text"))
    lock_lesson(world, course, course.lessons[1], 30)
    world.enroll("student", course)
    response = world.post("student", lesson_path(course, course.lessons[0], "complete"), hx=True)
    assert response.status_code == 403 and "opens" in text(response)
    assert world.get("student", lesson_path(course, course.lessons[1])).status_code == 403

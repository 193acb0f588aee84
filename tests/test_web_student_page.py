"""A student's page, the instructor's private notes and the activity timeline over HTTP: every route
as every actor (a student who is not the caller's is a 404, whether the account exists or not),
what the page shows against the database, notes added, edited and deleted in place (htmx) or by
plain forms, bad input (422, the value kept), missing CSRF, and paging by position (complete, in
order, no row twice) for the student's activity, the notes and the timeline, with its live refresh."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.course_web import send
from tests.support import Actor, complete_course, enroll, gen_account, gen_course, record_lesson
from tests.web import htmx, notified, text

# The routes with an argument, or POST only (test_web_routes.py: every route is tested).
RULES = {"/students/<uuid:student_id>", "/students/<uuid:student_id>/activity",
         "/students/<uuid:student_id>/notes", "/students/<uuid:student_id>/notes/<uuid:note_id>",
         "/students/<uuid:student_id>/notes/<uuid:note_id>/delete"}
READERS = ("owner", "co_view", "co_edit", "co_manage")     # view_content or manage_students
WRITERS = ("owner", "co_manage")                           # manage_students (notes)
OUTSIDERS = ("co_none", "co_revenue", "co_respond", "other_instructor")


@pytest.fixture(scope="module")
def learner(world):
    """A student (``student``) in a course of the owner's (text, quiz, video), partway: the text
    lesson completed, the quiz taken twice (50 then 100), 5 minutes of the 10-minute video watched;
    and a second course of the owner's, completed with a certificate, that no co-instructor teaches."""
    db, users = world.database, world.users
    course = world.course(title="Learner Course", modules=(("text", "quiz"), ("video",)))
    enrollment = enroll(db, users["student"], course.id)
    text_lesson, quiz, video = course.lessons
    record_lesson(db, users["student"], enrollment, course, text_lesson)
    record_lesson(db, users["student"], enrollment, course, quiz, status="in_progress", score=50)
    record_lesson(db, users["student"], enrollment, course, quiz, score=100)
    record_lesson(db, users["student"], enrollment, course, video, status="in_progress", watch=300)
    solo = world.course(title="Solo Course", modules=(("text",),), co=False)
    db.rows("UPDATE courses SET certificate_enabled = true WHERE id = %s", (solo.id,))
    complete_course(db, users["student"], solo)
    return {"id": users["student"], "course": course, "solo": solo, "enrollment": enrollment}


def page_of(world, actor, path, **kwargs):
    return world.clients[actor].get(path, **kwargs)


def add_note(world, actor, student_id, body="Needs a nudge", course="", headers=None, csrf=True):
    return send(world, actor, f"/students/{student_id}/notes", {"body": body, "course": course},
                headers=headers or {}, csrf=csrf)


def notes_of(world, author, student_id) -> list[dict]:
    return world.database.rows("SELECT id, body, course_id FROM instructor_student_notes "
                               "WHERE instructor_id = %s AND student_id = %s ORDER BY created_at DESC, id DESC",
                               (world.users[author], student_id))


def signs_in(response) -> bool:
    return response.status_code == 303 and response.headers["Location"].startswith("/sign-in")


# --- who may open the student's page -------------------------------------------------------------

@pytest.mark.parametrize("actor", [*READERS, *OUTSIDERS, "student", "other_student", "anon"])
def test_the_page_opens_for_the_students_teachers_only(world, learner, actor):
    """Owner and co-instructors with view_content or manage_students: 200; any other instructor, the
    student themself and other students: 404; anon signs in."""
    for path in (f"/students/{learner['id']}", f"/students/{learner['id']}/activity",
                 f"/students/{learner['id']}/notes"):
        response = page_of(world, actor, path)
        if actor == "anon":
            assert signs_in(response)
        elif actor in READERS:
            assert response.status_code == 200, (path, actor)
            assert "Student" in text(response)
        else:
            assert response.status_code == 404, (path, actor)


@pytest.mark.parametrize("who", ["a stranger", "nobody"])
def test_a_student_who_is_not_yours_is_a_404_whether_or_not_they_exist(world, learner, who):
    target = world.users["other_student"] if who == "a stranger" else uuid.uuid4()
    for path in (f"/students/{target}", f"/students/{target}/activity", f"/students/{target}/notes"):
        assert page_of(world, "owner", path).status_code == 404
    assert add_note(world, "owner", target).status_code == 404
    assert notes_of(world, "owner", target) == []


def test_a_co_instructor_sees_only_the_courses_they_co_teach(world, learner):
    page = text(page_of(world, "co_view", f"/students/{learner['id']}"))
    assert "Learner Course" in page and "Solo Course" not in page
    assert page_of(world, "co_view", f"/students/{learner['id']}?course={learner['solo'].id}").status_code == 404
    owner = text(page_of(world, "owner", f"/students/{learner['id']}"))
    assert "Learner Course" in owner and "Solo Course" in owner


def test_focus_on_one_course(world, learner):
    focused = text(page_of(world, "owner", f"/students/{learner['id']}?course={learner['solo'].id}"))
    assert 'id="course-%s"' % learner["solo"].id in focused
    assert 'id="course-%s"' % learner["course"].id not in focused
    assert page_of(world, "owner", f"/students/{learner['id']}?course={uuid.uuid4()}").status_code == 404
    # the student's activity checks the focus the same way: a course that is not one of theirs with the caller
    # (the other instructor's, a course the co-instructor does not teach, none at all) is a 404, not "Nothing older."
    stranger, _ = gen_account(world.database, "instructor")
    elsewhere = gen_course(world.database, stranger, lessons=("text",)).id
    enroll(world.database, learner["id"], elsewhere)  # the student's course, but not the owner's
    for actor, course in (("owner", elsewhere), ("owner", uuid.uuid4()), ("co_view", learner["solo"].id)):
        assert page_of(world, actor, f"/students/{learner['id']}/activity?course={course}").status_code == 404
    assert page_of(world, "owner",
                   f"/students/{learner['id']}/activity?course={learner['solo'].id}").status_code == 200
    # a value that is no course id is no focus (as a list's filter)
    both = text(page_of(world, "owner", f"/students/{learner['id']}?course=nosuch"))
    assert 'id="course-%s"' % learner["solo"].id in both and 'id="course-%s"' % learner["course"].id in both


# --- what the page shows ---------------------------------------------------------------------------

def section(page: str, course_id) -> str:
    start = page.index(f'id="course-{course_id}"')
    return page[start:page.index("</section>", start)]


def test_progress_lessons_quizzes_watch_time_and_engagement(world, learner):
    db, course = world.database, learner["course"]
    stored = db.rows("SELECT * FROM student_progress WHERE enrollment_id = %s", (learner["enrollment"],))[0]
    part = section(text(page_of(world, "owner", f"/students/{learner['id']}")), course.id)
    assert stored["completed_lessons"] == 2 and stored["total_lessons"] == 3
    assert "Progress: <strong>66.7%</strong> (2 of 3 lessons)" in part
    assert "5 min 00 s" in part                                     # watch time
    # the lessons in the course's order, each with its status
    titles = db.rows("SELECT l.title FROM course_lessons l JOIN course_modules m ON m.id = l.module_id "
                     "WHERE l.course_id = %s ORDER BY m.position, l.position", (course.id,))
    rows = re.findall(r'<tr class="student-lesson student-lesson--(\w+)">\s*<th scope="row">([^<]+)', part)
    assert [(t.strip(), s) for s, t in rows] == list(zip([r["title"] for r in titles],
                                                         ["completed", "completed", "started"]))
    # the quiz: its best score and the scores recorded (each beat the best)
    assert "best 100% (pass 70%)" in part and "2 recorded scores: 50%, 100%" in part
    # engagement: 50 x 2/3 + 30 x 300/600 + 20 x 100/100 = 33.33 + 15 + 20 = 68.33, as kept
    assert stored["engagement_score"] == Decimal("68.33")
    for points in ("33.33", "15.00", "20.00", "68.33"):
        assert f'<td class="num">{points}</td>' in part
    assert "Not issued" in part


def test_the_certificate_links_to_its_public_page(world, learner):
    code = world.database.value("SELECT code FROM certificates WHERE course_id = %s AND user_id = %s",
                                (learner["solo"].id, learner["id"]))
    part = section(text(page_of(world, "owner", f"/students/{learner['id']}")), learner["solo"].id)
    assert f'href="/certificates/{code}"' in part


def test_a_co_instructor_without_view_content_sees_progress_without_lesson_titles(world, learner):
    part = section(text(page_of(world, "co_manage", f"/students/{learner['id']}")), learner["course"].id)
    assert "A lesson you cannot read" in part and "Progress: <strong>66.7%</strong>" in part
    assert "not shown: the lessons of this course are not yours to read" in part
    assert '<td class="num">68.33</td>' in part  # the kept score stands


# --- notes -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", WRITERS)
def test_add_a_note_plain_then_htmx(world, learner, actor):
    student = learner["id"]
    response = add_note(world, actor, student, f"Plain note by {actor}", course=str(learner["course"].id))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/students/{student}#notes")
    again = add_note(world, actor, student, f"Htmx note by {actor}", headers=htmx())
    assert again.status_code == 200 and notified(again)["message"] == "Your note is saved."
    assert f"Htmx note by {actor}" in text(again) and f"Plain note by {actor}" in text(again)
    stored = notes_of(world, actor, student)
    assert [n["body"] for n in stored[:2]] == [f"Htmx note by {actor}", f"Plain note by {actor}"]
    assert stored[1]["course_id"] == learner["course"].id and stored[0]["course_id"] is None


def test_notes_are_private_to_their_author(world, learner):
    add_note(world, "owner", learner["id"], "Owner secret")
    add_note(world, "co_manage", learner["id"], "Co secret")
    owner = text(page_of(world, "owner", f"/students/{learner['id']}"))
    co = text(page_of(world, "co_manage", f"/students/{learner['id']}"))
    viewer = text(page_of(world, "co_view", f"/students/{learner['id']}"))
    assert "Owner secret" in owner and "Co secret" not in owner
    assert "Co secret" in co and "Owner secret" not in co
    assert "secret" not in viewer and "Notes are written on the courses where you manage students." in viewer


def test_a_reader_without_manage_students_writes_no_note(world, learner):
    response = add_note(world, "co_view", learner["id"], "Only a reader")
    assert response.status_code == 422 and "manage students" in text(response)
    assert notes_of(world, "co_view", learner["id"]) == []
    again = add_note(world, "co_view", learner["id"], "Only a reader", headers=htmx())
    assert again.status_code == 422 and notified(again)["kind"] == "error"


def test_a_note_names_only_a_course_where_the_author_manages_the_student(world, learner):
    """The co-instructor may not name the owner's solo course (not theirs): a field error, nothing written."""
    response = add_note(world, "co_manage", learner["id"], "Wrong course", course=str(learner["solo"].id))
    assert response.status_code == 422 and "Wrong course" in text(response)
    assert [n for n in notes_of(world, "co_manage", learner["id"]) if n["body"] == "Wrong course"] == []


@pytest.mark.parametrize("actor", [*OUTSIDERS, "student", "other_student"])
def test_outsiders_get_a_404_for_every_note_route(world, learner, actor):
    note = notes_of(world, "owner", learner["id"]) or [{"id": None}]
    if note[0]["id"] is None:
        add_note(world, "owner", learner["id"], "For the outsiders")
        note = notes_of(world, "owner", learner["id"])
    note_id = note[0]["id"]
    base = f"/students/{learner['id']}/notes"
    for path, data in ((base, {"body": "x"}), (f"{base}/{note_id}", {"body": "x"}),
                       (f"{base}/{note_id}/delete", {"confirm": "yes"})):
        assert send(world, actor, path, data).status_code == 404, (actor, path)
    assert world.database.value("SELECT body FROM instructor_student_notes WHERE id = %s", (note_id,)) != "x"


def test_another_author_cannot_edit_or_delete_my_note(world, learner):
    add_note(world, "owner", learner["id"], "Mine alone")
    note_id = notes_of(world, "owner", learner["id"])[0]["id"]
    base = f"/students/{learner['id']}/notes/{note_id}"
    assert send(world, "co_manage", base, {"body": "Taken over"}).status_code == 404
    assert send(world, "co_manage", f"{base}/delete", {"confirm": "yes"}).status_code == 404
    assert world.database.value("SELECT body FROM instructor_student_notes WHERE id = %s", (note_id,)) == "Mine alone"


def test_anonymous_visitors_sign_in_and_missing_csrf_is_400(world, learner):
    add_note(world, "owner", learner["id"], "Guarded")
    note_id = notes_of(world, "owner", learner["id"])[0]["id"]
    base = f"/students/{learner['id']}/notes"
    for path, data in ((base, {"body": "x"}), (f"{base}/{note_id}", {"body": "x"}),
                       (f"{base}/{note_id}/delete", {"confirm": "yes"})):
        assert send(world, "owner", path, data, csrf=False).status_code == 400
        assert signs_in(send(world, "anon", path, data))
    assert world.database.value("SELECT body FROM instructor_student_notes WHERE id = %s", (note_id,)) == "Guarded"


@pytest.mark.parametrize("body, message", [("   ", "Write the note"), ("x" * 5001, "At most 5,000")])
def test_bad_input_is_422_with_the_value_kept(world, learner, body, message):
    before = len(notes_of(world, "owner", learner["id"]))
    for headers in ({}, htmx()):
        response = add_note(world, "owner", learner["id"], body, headers=headers)
        assert response.status_code == 422 and message in text(response)
        if body.strip():
            assert body in text(response)
    assert len(notes_of(world, "owner", learner["id"])) == before
    add_note(world, "owner", learner["id"], "To edit")
    note_id = notes_of(world, "owner", learner["id"])[0]["id"]
    edited = send(world, "owner", f"/students/{learner['id']}/notes/{note_id}", {"body": body}, headers=htmx())
    assert edited.status_code == 422 and message in text(edited) and notified(edited)["kind"] == "error"
    assert world.database.value("SELECT body FROM instructor_student_notes WHERE id = %s", (note_id,)) == "To edit"


def test_the_longest_note_the_column_takes_is_accepted(world, learner):
    assert add_note(world, "owner", learner["id"], "y" * 5000).status_code == 303
    assert notes_of(world, "owner", learner["id"])[0]["body"] == "y" * 5000


def test_edit_in_place_and_by_a_plain_form(world, learner):
    add_note(world, "owner", learner["id"], "First draft")
    note_id = notes_of(world, "owner", learner["id"])[0]["id"]
    path = f"/students/{learner['id']}/notes/{note_id}"
    response = send(world, "owner", path, {"body": "Second draft"}, headers=htmx())
    assert response.status_code == 200 and notified(response)["message"] == "Your note is updated."
    assert "Second draft" in text(response) and "<html" not in text(response)
    plain = send(world, "owner", path, {"body": "Third draft"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"#note-{note_id}")
    assert world.database.value("SELECT body FROM instructor_student_notes WHERE id = %s", (note_id,)) == "Third draft"


def test_focus_follows_the_notes_flows(world, learner):
    """The confirmation's "Delete the note" takes the focus (as the approvals' confirmation); the card just
    added or saved takes it, and so does "Note deleted." once the card is gone; each "Edit" says which note."""
    student = learner["id"]
    added = text(add_note(world, "owner", student, "Focus me", headers=htmx()))
    note_id = notes_of(world, "owner", student)[0]["id"]
    cards = re.findall(r'<article class="note card" id="note-([0-9a-f-]{36})" tabindex="-1"( autofocus)?>', added)
    assert [c for c, focused in cards if focused] == [str(note_id)] and len(cards) > 1
    assert re.search(r'<summary>Edit<span class="visually-hidden"> the note of [^<]+</span></summary>', added)
    saved = text(send(world, "owner", f"/students/{student}/notes/{note_id}", {"body": "Focus me again"},
                      headers=htmx()))
    assert f'<article class="note card" id="note-{note_id}" tabindex="-1" autofocus>' in saved
    asked = text(send(world, "owner", f"/students/{student}/notes/{note_id}/delete", {}, headers=htmx()))
    assert re.search(r'<button[^>]*type="submit" autofocus>Delete the note</button>', asked)
    gone = text(send(world, "owner", f"/students/{student}/notes/{note_id}/delete", {"confirm": "yes"},
                     headers=htmx()))
    assert 'role="status" tabindex="-1" autofocus>Note deleted.' in gone
    plain = text(page_of(world, "owner", f"/students/{student}"))
    assert "autofocus" not in plain.split('id="notes"')[1].split("</section>")[0]


@pytest.mark.parametrize("partial", [True, False])
def test_delete_asks_first(world, learner, partial):
    add_note(world, "owner", learner["id"], "Soon gone")
    note_id = notes_of(world, "owner", learner["id"])[0]["id"]
    path = f"/students/{learner['id']}/notes/{note_id}/delete"
    headers = htmx() if partial else {}
    asked = send(world, "owner", path, {}, headers=headers)
    assert asked.status_code == 200 and "Delete this note for good?" in text(asked)
    assert ("<html" in text(asked)) is not partial
    assert world.database.value("SELECT count(*) FROM instructor_student_notes WHERE id = %s", (note_id,)) == 1
    done = send(world, "owner", path, {"confirm": "yes"}, headers=headers)
    if partial:
        assert done.status_code == 200 and notified(done)["message"] == "Your note is deleted."
    else:
        assert done.status_code == 303
    assert world.database.value("SELECT count(*) FROM instructor_student_notes WHERE id = %s", (note_id,)) == 0
    assert send(world, "owner", path, {"confirm": "yes"}).status_code == 404


def timeline_ids(page: str) -> list[str]:
    return re.findall(r'data-activity="([0-9a-f-]{36})"', page)


def note_ids(page: str) -> list[str]:
    return re.findall(r'<article class="note card" id="note-([0-9a-f-]{36})"', page)


def test_notes_page_by_position_completely_and_in_order(world):
    db, users = world.database, world.users
    student, _ = gen_account(db, "student")
    course = world.course(title="Many Notes", modules=(("text",),))
    enroll(db, student, course.id)
    for n in range(23):
        assert add_note(world, "owner", student, f"Note {n:02d}").status_code == 303
    expected = [str(n["id"]) for n in notes_of(world, "owner", student)]
    first = text(page_of(world, "owner", f"/students/{student}"))
    seen = note_ids(first)
    assert len(seen) == 20
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert urlsplit(following).path == f"/students/{student}/notes"
    rest = text(page_of(world, "owner", following))
    seen += note_ids(rest)
    assert seen == expected and 'rel="next"' not in rest
    del users  # (the cast is the module's)


# --- the student's activity ------------------------------------------------------------------------

def test_the_students_activity_pages_by_position(world, learner):
    """Every row of the student's activity in the owner's courses, newest first, over the pages (one
    more page at a time, in place); a co-instructor's covers the co-taught course only."""
    db = world.database
    student, _ = gen_account(db, "student", name="Busy Student")
    busy = world.course(title="Busy Course", modules=(("text",) * 15,))
    solo = world.course(title="Busy Solo", modules=(("text",),), co=False)
    complete_course(db, student, busy)
    complete_course(db, student, solo)
    expected = [str(r["id"]) for r in db.rows(
        "SELECT id FROM student_activity WHERE student_id = %s ORDER BY occurred_at DESC, id DESC", (student,))]
    assert len(expected) > 25  # more than one page
    path = f"/students/{student}"
    page = text(page_of(world, "owner", path))
    seen = timeline_ids(page)
    more = re.search(r'class="activity__more">\s*<a class="button button--quiet" href="([^"]+)"', page)
    while more:
        chunk = text(page_of(world, "owner", more.group(1).replace("&amp;", "&"), headers=htmx()))
        assert "<html" not in chunk
        seen += timeline_ids(chunk)
        more = re.search(r'class="activity__more">\s*<a class="button button--quiet" href="([^"]+)"', chunk)
    assert seen == expected
    co = timeline_ids(text(page_of(world, "co_view", path)))
    solo_rows = {str(r["id"]) for r in db.rows("SELECT id FROM student_activity WHERE course_id = %s", (solo.id,))}
    assert co and not set(co) & solo_rows


# --- the activity timeline -------------------------------------------------------------------------

def test_the_timeline_opens_for_instructors_only(world):
    assert page_of(world, "owner", "/students/activity").status_code == 200
    assert page_of(world, "co_none", "/students/activity").status_code == 200
    assert page_of(world, "student", "/students/activity").status_code == 404
    assert signs_in(page_of(world, "anon", "/students/activity"))


def expected_timeline(world, actor, **filters) -> list[str]:
    args = ", ".join(f"p_{k} => %({k})s" for k in filters)
    sql = f"SELECT activity_id FROM instructor_activity_page({args}{', ' if args else ''}p_limit => 200)"
    with world.database.attempt(Actor.user(world.users[actor])) as cur:
        cur.execute(sql, filters)
        return [str(r["activity_id"]) for r in cur.fetchall()]


def walk(world, actor, path) -> list[str]:
    """Every row over the pages (the pager's next links), in order."""
    seen = []
    while path:
        page = text(page_of(world, actor, path))
        seen += timeline_ids(page)
        following = re.search(r'rel="next" href="([^"]+)"', page)
        path = following.group(1).replace("&amp;", "&") if following else None
    return seen


@pytest.mark.parametrize("actor", ["owner", "co_view", "co_manage", "co_none"])
def test_the_timeline_is_the_callers_activity_complete_and_in_order(world, learner, actor):
    expected = expected_timeline(world, actor)
    assert walk(world, actor, "/students/activity") == expected
    if actor == "co_none":
        assert expected == []
    else:
        assert expected


def test_the_timeline_filters(world, learner):
    course = str(learner["course"].id)
    assert walk(world, "owner", f"/students/activity?course={course}") == expected_timeline(
        world, "owner", course_id=learner["course"].id)
    quizzes = walk(world, "owner", "/students/activity?type=quiz_passed")
    assert quizzes and quizzes == expected_timeline(world, "owner", type="quiz_passed")
    mine = walk(world, "owner", f"/students/activity?student={learner['id']}")
    assert mine == expected_timeline(world, "owner", student_id=learner["id"])
    page = text(page_of(world, "owner", f"/students/activity?student={learner['id']}"))
    assert "Only <strong>Student</strong> · <a href=\"/students/%s\">their page</a>" % learner["id"] in page
    # a co-instructor naming a course they do not teach gets nothing of it
    assert walk(world, "co_view", f"/students/activity?course={learner['solo'].id}") == []


@pytest.mark.parametrize("who", ["a stranger", "nobody"])
def test_a_student_filter_is_always_shown_with_its_way_out(world, learner, who):
    """A student filter naming someone who is not the caller's student (or nobody) was applied invisibly,
    with no way to clear it: it is shown, labelled by any name the caller may read (else "a student"),
    without a link to a page that would be a 404, with "every student"."""
    target = world.users["other_student"] if who == "a stranger" else uuid.uuid4()
    page = text(page_of(world, "owner", f"/students/activity?student={target}"))
    assert timeline_ids(page) == []
    shown = re.search(r'<p class="activity-filter">Only <strong>([^<]+)</strong>(.*?)</p>', page, re.S)
    assert shown, "the filter is shown"
    with world.database.attempt(Actor.user(world.users["owner"])) as cur:
        cur.execute("SELECT full_name FROM users WHERE id = %s", (target,))
        name = (cur.fetchone() or {}).get("full_name")
    assert shown.group(1) == (name or "a student")
    assert "every student" in shown.group(2) and "their page" not in shown.group(2)
    every = re.search(r'href="([^"]+)"[^>]*>every student', shown.group(2)).group(1).replace("&amp;", "&")
    assert "student" not in parse_qs(urlsplit(every).query)


def test_going_back_a_page_gives_the_page_before(world, learner):
    first = text(page_of(world, "owner", "/students/activity"))
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text(page_of(world, "owner", following))
    back = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert timeline_ids(text(page_of(world, "owner", back))) == timeline_ids(first)


def test_the_live_refresh_prepends_what_happened_since_the_newest_row(world, learner):
    db, users = world.database, world.users
    first = text(page_of(world, "owner", "/students/activity"))
    poller = re.search(r'<div id="activity-poller"[^>]*hx-get="([^"]+)"[^>]*hx-trigger="every 15s"', first)
    assert poller and "data-live" in first
    since = poller.group(1).replace("&amp;", "&")
    plain = page_of(world, "owner", since)  # the poller's address opened as a page: the page
    assert plain.status_code == 200 and "<html" in text(plain) and timeline_ids(text(plain))
    nothing = page_of(world, "owner", since, headers=htmx())
    assert nothing.status_code == 200 and timeline_ids(text(nothing)) == []
    newcomer, _ = gen_account(db, "student", name="Newcomer")
    enroll(db, newcomer, learner["course"].id)
    fresh = text(page_of(world, "owner", since, headers=htmx()))
    new_rows = timeline_ids(fresh)
    assert len(new_rows) == 1 and "Newcomer enrolled in Learner Course" in fresh
    assert 'hx-swap-oob="true"' in fresh  # the poller again, from the new row
    moved = re.search(r'hx-get="([^"]+)"', fresh.split('id="activity-poller"')[1]).group(1).replace("&amp;", "&")
    assert timeline_ids(text(page_of(world, "owner", moved, headers=htmx()))) == []
    # the filters ride along: a poller of another course's activity gets nothing of this one
    other = text(page_of(world, "owner", f"/students/activity?course={learner['solo'].id}"))
    other_since = re.search(r'<div id="activity-poller"[^>]*hx-get="([^"]+)"', other).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(other_since).query)["course"] == [str(learner["solo"].id)]
    del users


@pytest.mark.parametrize("query", ["since=yesterday", "since=2020-01-01T00:00:00%2B00:00&since_id=nope",
                                   "since=2020-01-01T00:00:00%2B20:00",   # an offset PostgreSQL refuses (not a 422)
                                   "since=2020-01-01T00:00:00-16:00&since_id=00000000-0000-0000-0000-000000000000"])
def test_a_bad_poller_position_is_a_400(world, query):
    assert page_of(world, "owner", f"/students/activity?{query}").status_code == 400


def test_an_empty_view_polls_from_now_and_its_empty_text_goes_when_rows_arrive(world, learner):
    """An empty view (a quiet course) polls from the database's time the page was drawn, not from 1970 (a
    rare type's filter read the whole timeline every 15 s); the first rows the poller brings remove the
    "nothing here" text (out of band), later answers do not carry it again."""
    db = world.database
    quiet = world.course(title="Quiet Course", modules=(("text",),))
    drawn_after = db.value("SELECT now()")
    page = text(page_of(world, "owner", f"/students/activity?course={quiet.id}"))
    assert timeline_ids(page) == [] and 'id="activity-empty"' in page
    since = re.search(r'<div id="activity-poller"[^>]*hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(since).query)
    assert query["course"] == [str(quiet.id)]
    assert db.value("SELECT %s::timestamptz >= %s", (query["since"][0], drawn_after)) is True
    assert timeline_ids(text(page_of(world, "owner", since, headers=htmx()))) == []
    newcomer, _ = gen_account(db, "student", name="Quiet Newcomer")
    enroll(db, newcomer, quiet.id)
    fresh = text(page_of(world, "owner", since, headers=htmx()))
    assert len(timeline_ids(fresh)) == 1 and '<p id="activity-empty" hx-swap-oob="true" hidden></p>' in fresh
    moved = re.search(r'hx-get="([^"]+)"', fresh.split('id="activity-poller"')[1]).group(1).replace("&amp;", "&")
    other, _ = gen_account(db, "student", name="Quiet Second")
    enroll(db, other, quiet.id)
    later = text(page_of(world, "owner", moved, headers=htmx()))
    assert len(timeline_ids(later)) == 1 and "activity-empty" not in later


def test_the_live_refresh_shows_a_row_that_committed_late_once(world, learner):
    """occurred_at is the inserting transaction's start: a row may commit after rows stamped later were
    shown. The poller looks again at the minute before its position and prepends what it had not shown,
    once; a row older than the window is out of reach (the documented limit)."""
    db = world.database
    course = world.course(title="Late Course", modules=(("text",),))
    first, _ = gen_account(db, "student", name="Early Bird")
    enroll(db, first, course.id)
    page = text(page_of(world, "owner", f"/students/activity?course={course.id}"))
    shown = timeline_ids(page)
    assert len(shown) == 1
    since = re.search(r'<div id="activity-poller"[^>]*hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(since).query)["seen"] == shown
    newest = db.value("SELECT occurred_at FROM student_activity WHERE id = %s", (shown[0],))
    late_student, _ = gen_account(db, "student", name="Late Committer")
    lost_student, _ = gen_account(db, "student", name="Long Lost")
    insert = ("INSERT INTO student_activity (activity_type, instructor_id, student_id, course_id, occurred_at) "
              "VALUES ('enrolled', %s, %s, %s, %s) RETURNING id")
    late = str(db.value(insert, (world.users["owner"], late_student, course.id, newest - timedelta(seconds=10))))
    lost = str(db.value(insert, (world.users["owner"], lost_student, course.id, newest - timedelta(seconds=120))))
    fresh = text(page_of(world, "owner", since, headers=htmx()))
    assert timeline_ids(fresh) == [late] and lost not in fresh
    moved = re.search(r'hx-get="([^"]+)"', fresh.split('id="activity-poller"')[1]).group(1).replace("&amp;", "&")
    assert set(parse_qs(urlsplit(moved).query)["seen"][0].split(",")) == {shown[0], late}
    assert timeline_ids(text(page_of(world, "owner", moved, headers=htmx()))) == []


@pytest.mark.parametrize("query", ["seen=nope", "seen=" + ",".join([str(uuid.UUID(int=1))] * 51)])
def test_a_bad_seen_list_is_a_400(world, query):
    assert page_of(world, "owner", "/students/activity?since=2020-01-01T00:00:00%2B00:00&" + query,
                   headers=htmx()).status_code == 400


@pytest.mark.parametrize("side", ["after", "before"])
@pytest.mark.parametrize("value", ["x", "WzEsMl0", "WyIyMDIwLTAxLTAxIiwibm8iXQ"])
def test_a_tampered_position_starts_from_the_top(world, learner, side, value):
    top = timeline_ids(text(page_of(world, "owner", "/students/activity")))
    response = page_of(world, "owner", f"/students/activity?{side}={value}")
    assert response.status_code == 200 and timeline_ids(text(response)) == top


def test_notes_follow_the_teaching(world):
    """A co-instructor who keeps view_content but loses manage_students still reads the student's page,
    but no longer their notes: the note is not shown, editing and deleting it are a 404 (as in SQL, where
    the database hides it), and a new one is refused (422). With the permission back, the note is back."""
    db = world.database
    student, _ = gen_account(db, "student", name="Moved Student")
    course = world.course(title="Permissions Course", modules=(("text",),))
    enroll(db, student, course.id)
    assert add_note(world, "co_manage", student, "Before the change").status_code == 303
    note_id = notes_of(world, "co_manage", student)[0]["id"]

    def manages(flag: bool):
        db.rows("UPDATE course_instructors SET permissions = permissions || jsonb_build_object("
                "'manage_students', %s, 'view_content', true) WHERE course_id = %s AND instructor_id = %s "
                "RETURNING id", (flag, course.id, world.users["co_manage"]))

    manages(False)
    page = page_of(world, "co_manage", f"/students/{student}")
    assert page.status_code == 200 and "Before the change" not in text(page)
    assert "Notes are written on the courses where you manage students." in text(page)
    assert send(world, "co_manage", f"/students/{student}/notes/{note_id}", {"body": "After the change"},
                headers=htmx()).status_code == 404
    assert send(world, "co_manage", f"/students/{student}/notes/{note_id}/delete",
                {"confirm": "yes"}).status_code == 404
    assert add_note(world, "co_manage", student, "A new one").status_code == 422
    assert db.value("SELECT body FROM instructor_student_notes WHERE id = %s", (note_id,)) == "Before the change"
    manages(True)
    assert "Before the change" in text(page_of(world, "co_manage", f"/students/{student}"))
    assert send(world, "co_manage", f"/students/{student}/notes/{note_id}/delete",
                {"confirm": "yes"}).status_code == 303
    assert notes_of(world, "co_manage", student) == []


def test_the_live_window_holds_at_most_seen_max_ids_and_a_minute():
    """The poller's address stays bounded: a busier minute narrows the window to the newest SEEN_MAX rows
    shown, and a row older than a minute before the position is outside it."""
    from datetime import datetime, timezone

    from portal.students import learner_queries as q
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = [{"occurred_at": now - timedelta(seconds=n), "activity_id": uuid.UUID(int=n + 1)} for n in range(70)]
    rows.append({"occurred_at": now - timedelta(seconds=90), "activity_id": uuid.UUID(int=999)})
    start, ids = q.live_window(rows, (now, uuid.UUID(int=1)), None)
    assert ids == [uuid.UUID(int=n + 1) for n in range(q.SEEN_MAX)]
    assert start == (now - timedelta(seconds=q.SEEN_MAX), uuid.UUID(int=q.SEEN_MAX + 1))
    start, ids = q.live_window(rows[:5] + rows[-1:], (now, uuid.UUID(int=1)), None)
    assert len(ids) == 5 and start == (now - q.LATE_WINDOW, q.NO_ROW)
    start, ids = q.live_window(rows[:5], (now, uuid.UUID(int=1)), (now - timedelta(seconds=2), uuid.UUID(int=3)))
    assert ids == [uuid.UUID(int=1), uuid.UUID(int=2)] and start == (now - timedelta(seconds=2), uuid.UUID(int=3))

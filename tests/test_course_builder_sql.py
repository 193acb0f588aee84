"""Migration 004: the course lifecycle, dense positions (also under concurrent
moves), drip rules and early unlocks, co-instructors by email, quiz shapes.

Actions run as the API roles (``db.act``), exactly as a request does; the
world is built as the owner.
"""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import psycopg2
import pytest

from tests.support import (Actor, enroll, gen_account, gen_course, gen_lesson, gen_module, gen_user,
                           set_context)


def act(db, user, sql, params=()):
    with db.act(Actor.user(user)) as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else cur.rowcount


def refused(db, user, sql, params=()):
    """The SQLSTATE a statement raises as ``user`` (nothing is kept)."""
    with pytest.raises(psycopg2.Error) as caught:
        act(db, user, sql, params)
    return caught.value.pgcode


def module_positions(db, course_id):
    return [r["position"] for r in db.rows(
        "SELECT position FROM course_modules WHERE course_id = %s ORDER BY position", (course_id,))]


def module_order(db, course_id):
    return [r["id"] for r in db.rows(
        "SELECT id FROM course_modules WHERE course_id = %s ORDER BY position", (course_id,))]


def lesson_order(db, module_id):
    return [r["id"] for r in db.rows(
        "SELECT id FROM course_lessons WHERE module_id = %s ORDER BY position", (module_id,))]


def lesson_positions(db, module_id):
    return [r["position"] for r in db.rows(
        "SELECT position FROM course_lessons WHERE module_id = %s ORDER BY position", (module_id,))]


def new_draft(db, teacher, title="A new course"):
    return act(db, teacher, "INSERT INTO courses (instructor_id, title, slug) VALUES (%s, %s, %s) RETURNING id",
               (teacher, title, f"draft-{teacher.hex[:12]}-{len(title)}"))[0]["id"]


def co_teach(db, course_id, teacher, **permissions):
    db.value("INSERT INTO course_instructors (course_id, instructor_id, permissions) VALUES (%s, %s, %s) "
             "RETURNING id", (course_id, teacher, json.dumps(permissions)))


# --- lifecycle ----------------------------------------------------------------------

def test_a_course_is_published_only_with_a_description_and_a_lesson(database):
    """Publishing an empty draft is refused with a reason; with content it publishes."""
    teacher = gen_user(database, "instructor")
    course = new_draft(database, teacher)
    publish = "UPDATE courses SET status = 'published' WHERE id = %s"
    assert refused(database, teacher, publish, (course,)) == "23514"
    module = act(database, teacher, "INSERT INTO course_modules (course_id, title, position) "
                                    "VALUES (%s, 'Start', 0) RETURNING id", (course,))[0]["id"]
    act(database, teacher, "UPDATE courses SET description = 'Learn it.' WHERE id = %s", (course,))
    assert refused(database, teacher, publish, (course,)) == "23514"   # a module, but no lesson
    act(database, teacher, "INSERT INTO course_lessons (module_id, course_id, title, position) "
                           "VALUES (%s, %s, 'One', 0)", (module, course))
    assert act(database, teacher, publish, (course,)) == 1
    assert database.value("SELECT published_at IS NOT NULL FROM courses WHERE id = %s", (course,))


def test_status_moves_follow_the_lifecycle(database):
    """Draft to published to archived and back to published; never back to draft, never created published."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, status="draft")
    move = "UPDATE courses SET status = %s WHERE id = %s"
    assert refused(database, teacher, move, ("archived", course.id)) == "23514"
    for status in ("published", "archived", "published"):
        assert act(database, teacher, move, (status, course.id)) == 1
    assert refused(database, teacher, move, ("draft", course.id)) == "23514"
    assert refused(database, teacher, "INSERT INTO courses (instructor_id, title, slug, status) "
                                      "VALUES (%s, 'Straight out', 'straight-out', 'published')",
                   (teacher,)) == "23514"


def test_a_published_course_keeps_its_slug(database):
    """A draft may change its slug; once published (even if archived since) it may not."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, status="draft")
    rename = "UPDATE courses SET slug = %s WHERE id = %s"
    assert act(database, teacher, rename, (f"renamed-{course.id.hex[:8]}", course.id)) == 1
    act(database, teacher, "UPDATE courses SET status = 'published' WHERE id = %s", (course.id,))
    assert refused(database, teacher, rename, (f"again-{course.id.hex[:8]}", course.id)) == "23514"
    act(database, teacher, "UPDATE courses SET status = 'archived' WHERE id = %s", (course.id,))
    assert refused(database, teacher, rename, (f"again-{course.id.hex[:8]}", course.id)) == "23514"


# --- positions ---------------------------------------------------------------------

def test_inserts_append_whatever_position_is_sent(database):
    """A new module or lesson goes to the end of its list."""
    teacher = gen_user(database, "instructor")
    course = new_draft(database, teacher)
    for title in ("A", "B", "C"):
        act(database, teacher, "INSERT INTO course_modules (course_id, title, position) VALUES (%s, %s, 7)",
            (course, title))
    assert [r["title"] for r in database.rows(
        "SELECT title FROM course_modules WHERE course_id = %s ORDER BY position", (course,))] == ["A", "B", "C"]
    assert module_positions(database, course) == [0, 1, 2]


def test_moves_keep_positions_dense_and_unique(database):
    """move_module / shift_module / move_lesson / shift_lesson reorder and renumber 0..n-1."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, lessons=("text", "text", "text"))
    for n in range(3):
        gen_module(database, course, f"M{n}")
    a, b, c, d = module_order(database, course.id)
    act(database, teacher, "SELECT move_module(%s, 0)", (d,))
    assert module_order(database, course.id) == [d, a, b, c]
    act(database, teacher, "SELECT move_module(%s, 99)", (d,))           # clamped to the end
    assert module_order(database, course.id) == [a, b, c, d]
    act(database, teacher, "SELECT shift_module(%s, -1)", (c,))
    assert module_order(database, course.id) == [a, c, b, d]
    act(database, teacher, "SELECT shift_module(%s, -1)", (a,))          # already first: stays
    assert module_order(database, course.id) == [a, c, b, d]
    assert module_positions(database, course.id) == [0, 1, 2, 3]

    l1, l2, l3 = lesson_order(database, a)
    act(database, teacher, "SELECT shift_lesson(%s, 1)", (l1,))
    assert lesson_order(database, a) == [l2, l1, l3]
    act(database, teacher, "SELECT move_lesson(%s, %s, 0)", (l3, b))       # into another module
    assert lesson_order(database, a) == [l2, l1] and lesson_order(database, b) == [l3]
    assert lesson_positions(database, a) == [0, 1] and lesson_positions(database, b) == [0]


def test_deletes_close_the_gap_and_forget_drip_rules(database):
    """Deleting a module or a lesson renumbers its siblings and drops its drip rule."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, status="draft", lessons=("text", "text", "text"))
    gen_module(database, course, "Second")
    gen_module(database, course, "Third")
    first, second, third = module_order(database, course.id)
    l1, l2, l3 = lesson_order(database, first)
    act(database, teacher, "UPDATE courses SET drip_content = true, drip_schedule = %s WHERE id = %s",
        (json.dumps({str(second): 7, str(l2): "2030-01-01"}), course.id))
    act(database, teacher, "SELECT delete_module(%s)", (second,))
    act(database, teacher, "DELETE FROM course_lessons WHERE id = %s", (l2,))   # a plain DELETE too
    assert module_order(database, course.id) == [first, third] and module_positions(database, course.id) == [0, 1]
    assert lesson_order(database, first) == [l1, l3] and lesson_positions(database, first) == [0, 1]
    assert database.value("SELECT drip_schedule FROM courses WHERE id = %s", (course.id,)) == {}


def test_moves_need_edit_content(database):
    """A co-instructor who may only view, and a stranger, cannot reorder: 42501, order unchanged."""
    teacher, viewer, editor, stranger = (gen_user(database, "instructor") for _ in range(4))
    course = gen_course(database, teacher, lessons=("text",))
    gen_module(database, course, "Second")
    co_teach(database, course.id, viewer, view_content=True)
    co_teach(database, course.id, editor, view_content=True, edit_content=True)
    first, second = module_order(database, course.id)
    for who in (viewer, stranger):
        assert refused(database, who, "SELECT move_module(%s, 0)", (second,)) == "42501"
        assert refused(database, who, "SELECT delete_module(%s)", (second,)) == "42501"
        assert refused(database, who, "SELECT shift_lesson(%s, 1)", (course.lessons[0],)) == "42501"
    assert module_order(database, course.id) == [first, second]
    act(database, editor, "SELECT move_module(%s, 0)", (second,))
    assert module_order(database, course.id) == [second, first]


def test_a_lesson_moves_only_within_its_course(database):
    """Moving a lesson into another course's module is refused."""
    teacher = gen_user(database, "instructor")
    mine, other = gen_course(database, teacher), gen_course(database, teacher)
    assert refused(database, teacher, "SELECT move_lesson(%s, %s, 0)",
                   (mine.lessons[0], other.modules[0])) == "23514"


def _concurrent(database, teacher, calls):
    """Run each (sql, params) in its own connection at once, behind a barrier."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(sql, params):
        conn = database.connect_app()
        try:
            barrier.wait()
            with conn, conn.cursor() as cur:
                set_context(cur, Actor.user(teacher))
                cur.execute(sql, params)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("round_", range(5))
def test_two_concurrent_moves_both_apply_and_keep_positions_dense(database, round_):
    """Two people moving modules of one course at the same moment: both moves land, positions stay 0..n-1."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, lessons=("text", "text", "text", "text"))
    for n in range(4):
        gen_module(database, course, f"M{n}")
    a, b, c, d, e = module_order(database, course.id)
    errors = _concurrent(database, teacher, [("SELECT shift_module(%s, -1)", (e,)),
                                             ("SELECT shift_module(%s, -1)", (e,))])
    assert errors == []
    # Both shifts applied, one after the other: e moved up two places.
    assert module_order(database, course.id) == [a, b, e, c, d]
    assert module_positions(database, course.id) == [0, 1, 2, 3, 4]

    l1, l2, l3, l4 = lesson_order(database, a)
    errors = _concurrent(database, teacher, [("SELECT move_lesson(%s, %s, 0)", (l4, a)),
                                             ("SELECT move_lesson(%s, %s, 0)", (l3, b)),
                                             ("SELECT delete_lesson(%s)", (l1,)),
                                             ("INSERT INTO course_lessons (module_id, course_id, title, position) "
                                              "VALUES (%s, %s, 'Late', 0)", (a, course.id))])
    assert errors == []
    assert lesson_positions(database, a) == [0, 1, 2] and lesson_positions(database, b) == [0]
    (late,) = set(lesson_order(database, a)) - {l2, l4}
    assert database.value("SELECT title FROM course_lessons WHERE id = %s", (late,)) == "Late"
    assert lesson_order(database, b) == [l3]


# --- drip release -------------------------------------------------------------------

def _readable(database, student, course):
    rows = act(database, student, "SELECT id FROM course_lessons WHERE course_id = %s", (course.id,))
    return {r["id"] for r in rows}


def test_drip_rules_by_days_and_by_date_and_per_lesson(database):
    """Module and lesson rules (days after enrollment, a date) decide what an enrolled student reads."""
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    course = gen_course(database, teacher, lessons=("text", "text"))
    later = gen_module(database, course, "Later")
    l3 = gen_lesson(database, course, later)
    enrollment = enroll(database, student, course.id)
    l1, l2 = course.lessons[:2]
    assert _readable(database, student, course) == {l1, l2, l3}

    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    schedule = {str(later): 30, str(l2): tomorrow}
    act(database, teacher, "UPDATE courses SET drip_content = true, drip_schedule = %s WHERE id = %s",
        (json.dumps(schedule), course.id))
    assert _readable(database, student, course) == {l1}
    # Back-date the enrollment 31 days: the module opens; the dated lesson still waits.
    database.rows("UPDATE course_enrollments SET enrolled_at = now() - interval '31 days' WHERE id = %s",
                  (enrollment,))
    assert _readable(database, student, course) == {l1, l3}
    schedule[str(l2)] = (date.today() - timedelta(days=2)).isoformat()
    act(database, teacher, "UPDATE courses SET drip_schedule = %s WHERE id = %s", (json.dumps(schedule), course.id))
    assert _readable(database, student, course) == {l1, l2, l3}
    act(database, teacher, "UPDATE courses SET drip_content = false WHERE id = %s", (course.id,))
    assert _readable(database, student, course) == {l1, l2, l3}


def test_an_early_unlock_opens_content_for_one_student_only(database):
    """Unlocking a module (or the course) for one enrollment opens it for that student alone."""
    teacher = gen_user(database, "instructor")
    first, second = gen_user(database, "student"), gen_user(database, "student")
    course = gen_course(database, teacher, lessons=("text",))
    later = gen_module(database, course, "Later")
    late_lesson = gen_lesson(database, course, later)
    enrollment, _ = enroll(database, first, course.id), enroll(database, second, course.id)
    act(database, teacher, "UPDATE courses SET drip_content = true, drip_schedule = %s WHERE id = %s",
        (json.dumps({str(later): 30}), course.id))
    assert late_lesson not in _readable(database, first, course)
    act(database, teacher, "INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, module_id) "
                           "VALUES (%s, %s, %s, %s)", (enrollment, first, course.id, later))
    assert late_lesson in _readable(database, first, course)
    assert late_lesson not in _readable(database, second, course)
    assert database.value("SELECT unlocked_by FROM drip_unlocks WHERE enrollment_id = %s", (enrollment,)) == teacher
    # The same unlock twice is one unlock.
    assert refused(database, teacher, "INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, module_id) "
                                      "VALUES (%s, %s, %s, %s)", (enrollment, first, course.id, later)) == "23505"


@pytest.mark.parametrize("schedule", [
    {"not-an-id": 3}, {"00000000-0000-0000-0000-000000000000": -1},
    {"00000000-0000-0000-0000-000000000000": 1.5}, {"00000000-0000-0000-0000-000000000000": 4000},
    {"00000000-0000-0000-0000-000000000000": "2026-02-30"}, {"00000000-0000-0000-0000-000000000000": "soon"},
    {"00000000-0000-0000-0000-000000000000": True}, [],
])
def test_a_malformed_drip_rule_is_refused(database, schedule):
    """Rules are whole days (0 to 3650) or real dates, keyed by an id."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, status="draft")
    assert refused(database, teacher, "UPDATE courses SET drip_schedule = %s WHERE id = %s",
                   (json.dumps(schedule), course.id)) == "23514"


# --- co-instructors -----------------------------------------------------------------

def test_the_owner_adds_a_co_instructor_by_email(database):
    """add_course_instructor finds an active instructor by email (any case); others get a clear refusal."""
    owner = gen_user(database, "instructor")
    co, co_email = gen_account(database, "instructor", email="Co.Teacher@example.test")
    _, student_email = gen_account(database, "student")
    stranger = gen_user(database, "instructor")
    course = gen_course(database, owner)
    add = "SELECT add_course_instructor(%s, %s, %s, %s)"
    perms = json.dumps({"view_content": True})
    (row,) = act(database, owner, add, (course.id, "  co.teacher@EXAMPLE.test ", "assistant", perms))
    assert database.value("SELECT instructor_id FROM course_instructors WHERE id = %s",
                          (row["add_course_instructor"],)) == co
    assert refused(database, owner, add, (course.id, co_email, "co-instructor", perms)) == "23505"
    assert refused(database, owner, add, (course.id, student_email, "co-instructor", perms)) == "23514"
    assert refused(database, owner, add, (course.id, "nobody@example.test", "co-instructor", perms)) == "23514"
    assert refused(database, owner, add, (course.id, co_email, "primary", perms)) == "23514"
    assert refused(database, stranger, add, (course.id, co_email, "assistant", perms)) == "42501"
    assert refused(database, co, add, (course.id, co_email, "assistant", perms)) == "42501"


@pytest.mark.parametrize("permissions", [{"edit_everything": True}, {"view_content": "yes"}, []])
def test_permissions_are_the_known_flags(database, permissions):
    """A co-instructor's permissions are the five named booleans."""
    owner, co = gen_user(database, "instructor"), gen_user(database, "instructor")
    course = gen_course(database, owner)
    assert refused(database, owner, "INSERT INTO course_instructors (course_id, instructor_id, permissions) "
                                    "VALUES (%s, %s, %s)", (course.id, co, json.dumps(permissions))) == "23514"


# --- quizzes ------------------------------------------------------------------------

GOOD_QUIZ = {"questions": [{"prompt": "Two plus two?", "choices": ["3", "4"], "answer": 1}]}


@pytest.mark.parametrize("quiz, accepted", [
    (GOOD_QUIZ, True),
    ({"questions": []}, True),
    ({"questions": [{"prompt": "", "choices": ["a", "b"], "answer": 0}]}, False),
    ({"questions": [{"prompt": "Q", "choices": ["only one"], "answer": 0}]}, False),
    ({"questions": [{"prompt": "Q", "choices": ["a", "b"], "answer": 2}]}, False),
    ({"questions": [{"prompt": "Q", "choices": ["a", "b"], "answer": -1}]}, False),
    ({"questions": [{"prompt": "Q", "choices": ["a", 2], "answer": 0}]}, False),
    ({"questions": [{"prompt": "Q", "choices": ["a", "b"]}]}, False),
    ({"items": []}, False),
])
def test_quiz_shape(database, quiz, accepted):
    """Quizzes hold questions with a prompt, 2 to 10 text choices and the index of the right one."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, lessons=("quiz",))
    sql = "UPDATE course_lessons SET quiz = %s WHERE id = %s"
    params = (json.dumps(quiz), course.lessons[0])
    if accepted:
        assert act(database, teacher, sql, params) == 1
    else:
        assert refused(database, teacher, sql, params) == "23514"

"""014 in SQL, as the API roles: the instructor's private notes on a student (who reads and writes
them, the forgeries), and instructor_activity_page (whose activity each caller gets, the filters and
paging by position both ways). The RLS matrix (test_rls_matrix) has the table's row; these are the
cases one statement per table cannot show."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.support import Actor, enroll, gen_course, gen_user, gen_workshop, record_lesson, register

PERMISSIONS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")
NOTE = "INSERT INTO instructor_student_notes (instructor_id, student_id, course_id, body) " \
       "VALUES (%s, %s, %s, %s) RETURNING id"


def co_teach(db, course, instructor, *granted):
    db.value("INSERT INTO course_instructors (course_id, instructor_id, role, permissions) "
             "VALUES (%s, %s, 'co-instructor', %s) RETURNING id",
             (course.id, instructor, json.dumps({p: p in granted for p in PERMISSIONS})))


@pytest.fixture(scope="module")
def w(module_database):
    db = module_database
    u = {name: gen_user(db, role, name=name.replace("_", " ").title())
         for name, role in (("owner", "instructor"), ("co_manage", "instructor"), ("co_view", "instructor"),
                            ("other", "instructor"), ("s1", "student"), ("s2", "student"), ("s3", "student"),
                            ("admin", "admin"))}
    course = gen_course(db, u["owner"], lessons=("text", "quiz", "video"), title="Notes Course")
    second = gen_course(db, u["owner"], lessons=("text",), title="Second Course")
    elsewhere = gen_course(db, u["other"], lessons=("text",), title="Elsewhere")
    co_teach(db, course, u["co_manage"], "manage_students")
    co_teach(db, course, u["co_view"], "view_content")
    e = {"s1": enroll(db, u["s1"], course.id), "s2": enroll(db, u["s2"], course.id),
         "s3_else": enroll(db, u["s3"], elsewhere.id), "s1_second": enroll(db, u["s1"], second.id)}
    for lesson in course.lessons:
        record_lesson(db, u["s1"], e["s1"], course, lesson, score=80 if lesson == course.lessons[1] else None)
    record_lesson(db, u["s2"], e["s2"], course, course.lessons[0], status="in_progress")
    record_lesson(db, u["s1"], e["s1_second"], second, second.lessons[0])
    record_lesson(db, u["s3"], e["s3_else"], elsewhere, elsewhere.lessons[0])
    workshop = gen_workshop(db, u["owner"], title="Notes Clinic")
    register(db, u["s3"], workshop)
    return {"db": db, "u": u, "course": course, "second": second, "elsewhere": elsewhere, "e": e,
            "workshop": workshop}


def as_(w, who, sql, params=None):
    """``sql`` as ``who`` (a user name, 'anon' or 'service'), rolled back; the rows, or the SQLSTATE."""
    actor = {"anon": Actor.anon(), "service": Actor.service()}.get(who) or Actor.user(w["u"][who])
    with w["db"].attempt(actor) as cur:
        try:
            cur.execute(sql, params)
        except psycopg2.Error as exc:
            return exc.pgcode
        return cur.fetchall() if cur.description else cur.rowcount


def keep(w, who, sql, params=None):
    """``sql`` as ``who``, committed; the first value."""
    with w["db"].act(Actor.user(w["u"][who])) as cur:
        cur.execute(sql, params)
        return next(iter(cur.fetchone().values())) if cur.description else cur.rowcount


@pytest.fixture(scope="module")
def notes(w):
    u, course = w["u"], w["course"]
    return {"owner": keep(w, "owner", NOTE, (u["owner"], u["s1"], course.id, "Struggles with quizzes")),
            "owner_general": keep(w, "owner", NOTE, (u["owner"], u["s1"], None, "Prefers email")),
            "co": keep(w, "co_manage", NOTE, (u["co_manage"], u["s1"], course.id, "Asked about the video"))}


# --- notes: who reads --------------------------------------------------------------------------

@pytest.mark.parametrize("who, expected", [("owner", {"owner", "owner_general"}), ("co_manage", {"co"}),
                                           ("co_view", set()), ("other", set()), ("s1", set()),
                                           ("s2", set()), ("admin", set())])
def test_notes_are_read_by_their_author_only(w, notes, who, expected):
    """Co-instructors do not share notes; the student never reads notes about themself; an admin
    reads none (the access model is silent: deny)."""
    rows = as_(w, who, "SELECT id FROM instructor_student_notes")
    assert {r["id"] for r in rows} == {notes[k] for k in expected}


@pytest.mark.parametrize("who", ["anon", "service"])
def test_anon_and_service_role_hold_no_grant(w, notes, who):
    assert as_(w, who, "SELECT id FROM instructor_student_notes") == "42501"


# --- notes: who writes, and the forgeries --------------------------------------------------------

@pytest.mark.parametrize("who, student, course, expected", [
    ("owner", "s2", "course", 1),             # a student of theirs, on their course
    ("owner", "s2", None, 1),                 # about the student, no course named
    ("co_manage", "s2", "course", 1),         # a co-instructor with manage_students
    ("co_view", "s2", "course", "42501"),     # reads the student's page, writes no note
    ("other", "s2", "course", "42501"),       # not their course
    ("other", "s2", None, "42501"),           # not their student
    ("owner", "s3", None, "42501"),           # S3 is another instructor's student (and a workshop's)
    ("owner", "s2", "elsewhere", "42501"),    # a course that is not theirs
    ("owner", "s2", "second", "42501"),       # their course, but S2 is not enrolled there
    ("s1", "s2", "course", "42501"),          # a student writes about another
])
def test_who_may_write_a_note_about_whom(w, who, student, course, expected):
    u = w["u"]
    course_id = w[course].id if course else None
    got = as_(w, who, NOTE, (u[who], u[student], course_id, "A note"))
    assert (len(got) if isinstance(got, list) else got) == expected


def test_an_author_cannot_forge_another_instructor_as_author(w, notes):
    u = w["u"]
    assert as_(w, "co_manage", NOTE, (u["owner"], u["s1"], w["course"].id, "Forged")) == "42501"
    assert as_(w, "s1", NOTE, (u["owner"], u["s1"], None, "Forged by the student")) == "42501"


def test_a_note_about_oneself_is_refused(w):
    u = w["u"]
    assert as_(w, "owner", NOTE, (u["owner"], u["owner"], None, "Me")) in ("42501", "23514")


@pytest.mark.parametrize("who", ["co_manage", "co_view", "other", "s1", "admin"])
def test_only_the_author_edits_or_deletes(w, notes, who):
    assert as_(w, who, "UPDATE instructor_student_notes SET body = 'Changed' WHERE id = %s",
               (notes["owner"],)) == 0
    assert as_(w, who, "DELETE FROM instructor_student_notes WHERE id = %s", (notes["owner"],)) == 0
    assert w["db"].value("SELECT body FROM instructor_student_notes WHERE id = %s",
                         (notes["owner"],)) == "Struggles with quizzes"


def test_the_author_edits_the_body_only_and_the_stamp_follows(w, notes):
    before = w["db"].value("SELECT updated_at FROM instructor_student_notes WHERE id = %s", (notes["owner"],))
    rows = as_(w, "owner", "UPDATE instructor_student_notes SET body = 'Better now' WHERE id = %s "
                           "RETURNING body, updated_at > %s AS stamped", (notes["owner"], before))
    assert rows == [{"body": "Better now", "stamped": True}]
    for column, value in (("instructor_id", w["u"]["co_manage"]), ("student_id", w["u"]["s2"]),
                          ("course_id", w["second"].id), ("created_at", "2020-01-01"),
                          ("updated_at", "2020-01-01")):
        assert as_(w, "owner", f"UPDATE instructor_student_notes SET {column} = %s WHERE id = %s",
                   (value, notes["owner"])) == "42501", column
    assert as_(w, "owner", "INSERT INTO instructor_student_notes (instructor_id, student_id, body, created_at) "
                           "VALUES (%s, %s, 'x', '2020-01-01')", (w["u"]["owner"], w["u"]["s1"])) == "42501"


def test_the_author_deletes_their_note(w, notes):
    assert as_(w, "co_manage", "DELETE FROM instructor_student_notes WHERE id = %s", (notes["co"],)) == 1


@pytest.mark.parametrize("body", ["", "   \n\t", "x" * 5001])
def test_the_body_is_not_blank_and_at_most_5000_characters(w, body):
    u = w["u"]
    assert as_(w, "owner", NOTE, (u["owner"], u["s1"], None, body)) == "23514"
    assert len(as_(w, "owner", NOTE, (u["owner"], u["s1"], None, "x" * 5000))) == 1


def delete_account(db, user) -> str:
    with db.act(Actor.sign_in()) as cur:
        cur.execute("SELECT delete_account(%s) AS outcome", (user,))
        return cur.fetchone()["outcome"]


def test_a_student_who_deletes_their_account_takes_the_notes_about_them_along(module_database):
    db = module_database
    owner, student, other_student = (gen_user(db, "instructor"), gen_user(db, "student"),
                                     gen_user(db, "student"))
    course = gen_course(db, owner, lessons=("text",))
    for who in (student, other_student):
        enroll(db, who, course.id)
    with db.act(Actor.user(owner)) as cur:
        for who in (student, other_student):
            cur.execute(NOTE, (owner, who, course.id, "Kept until the account goes"))
    assert delete_account(db, student) == "deleted"
    assert db.value("SELECT count(*) FROM instructor_student_notes WHERE student_id = %s", (student,)) == 0
    assert db.value("SELECT count(*) FROM instructor_student_notes WHERE student_id = %s", (other_student,)) == 1


def test_an_instructor_with_students_who_closes_their_account_takes_their_notes_along(module_database):
    """The review's repro: an instructor with a student is only "deactivated" (011 erases nothing else),
    and still the notes they wrote go, and those about them (as someone else's student) too; the
    other authors' notes stay."""
    db = module_database
    owner, teacher, student = gen_user(db, "instructor"), gen_user(db, "instructor"), gen_user(db, "student")
    course = gen_course(db, owner, lessons=("text",))
    theirs = gen_course(db, teacher, lessons=("text",))
    enroll(db, student, course.id)
    enroll(db, owner, theirs.id)  # the owner learns in another instructor's course
    enroll(db, student, theirs.id)
    with db.act(Actor.user(owner)) as cur:
        cur.execute(NOTE, (owner, student, course.id, "Written by the closing account"))
    with db.act(Actor.user(teacher)) as cur:
        cur.execute(NOTE, (teacher, owner, theirs.id, "About the closing account"))
        cur.execute(NOTE, (teacher, student, theirs.id, "Someone else's, stays"))
    assert delete_account(db, owner) == "deactivated"
    assert db.value("SELECT count(*) FROM instructor_student_notes WHERE instructor_id = %s OR student_id = %s",
                    (owner, owner)) == 0
    assert db.value("SELECT body FROM instructor_student_notes WHERE instructor_id = %s",
                    (teacher,)) == "Someone else's, stays"


def test_an_admin_deactivating_an_account_erases_no_note(module_database):
    """Deactivation by an admin is no deletion (the account may come back): the notes stay."""
    db = module_database
    owner, student = gen_user(db, "instructor"), gen_user(db, "student")
    course = gen_course(db, owner, lessons=("text",))
    enroll(db, student, course.id)
    with db.act(Actor.user(owner)) as cur:
        cur.execute(NOTE, (owner, student, course.id, "Through a deactivation"))
    db.rows("UPDATE users SET is_active = false WHERE id = %s RETURNING id", (student,))
    assert db.value("SELECT count(*) FROM instructor_student_notes WHERE student_id = %s", (student,)) == 1


def set_manages(db, course, instructor, manages: bool):
    db.rows("UPDATE course_instructors SET permissions = permissions || jsonb_build_object('manage_students', %s) "
            "WHERE course_id = %s AND instructor_id = %s RETURNING id", (manages, course.id, instructor))


def test_notes_follow_the_teaching_in_sql(module_database):
    """An author who no longer manages the student (the permission withdrawn, or the enrollment gone)
    neither reads, rewrites nor deletes their note in SQL, as the portal (404); it comes back with
    the permission. A note naming a course follows that course."""
    db = module_database
    owner, co, student = gen_user(db, "instructor"), gen_user(db, "instructor"), gen_user(db, "student")
    course = gen_course(db, owner, lessons=("text",))
    db.value("INSERT INTO course_instructors (course_id, instructor_id, role, permissions) "
             "VALUES (%s, %s, 'co-instructor', %s) RETURNING id",
             (course.id, co, json.dumps({p: p in ("view_content", "manage_students") for p in PERMISSIONS})))
    enroll(db, student, course.id)
    with db.act(Actor.user(co)) as cur:
        cur.execute(NOTE, (co, student, None, "General note"))
        general = next(iter(cur.fetchone().values()))
        cur.execute(NOTE, (co, student, course.id, "On the course"))
        on_course = next(iter(cur.fetchone().values()))

    def sees():
        with db.attempt(Actor.user(co)) as cur:
            cur.execute("SELECT id FROM instructor_student_notes")
            read = {r["id"] for r in cur.fetchall()}
            cur.execute("UPDATE instructor_student_notes SET body = body || '!' WHERE id = %s", (general,))
            updated = cur.rowcount
            cur.execute("DELETE FROM instructor_student_notes WHERE id = %s", (on_course,))
            return read, updated, cur.rowcount

    assert sees() == ({general, on_course}, 1, 1)
    set_manages(db, course, co, False)   # still reads the student's page (view_content), manages no more
    assert sees() == (set(), 0, 0)
    set_manages(db, course, co, True)
    assert sees() == ({general, on_course}, 1, 1)
    # the owner's note naming their second course, where the student's enrollment is then removed
    second = gen_course(db, owner, lessons=("text",))
    enrollment = enroll(db, student, second.id)
    with db.act(Actor.user(owner)) as cur:
        cur.execute(NOTE, (owner, student, second.id, "On the second course"))
        named = next(iter(cur.fetchone().values()))
    db.rows("DELETE FROM course_enrollments WHERE id = %s RETURNING id", (enrollment,))
    with db.attempt(Actor.user(owner)) as cur:
        cur.execute("SELECT id FROM instructor_student_notes WHERE id = %s", (named,))
        assert cur.fetchall() == []
        cur.execute("DELETE FROM instructor_student_notes WHERE id = %s", (named,))
        assert cur.rowcount == 0
    assert db.value("SELECT count(*) FROM instructor_student_notes WHERE id = %s", (named,)) == 1


# --- instructor_activity_page ----------------------------------------------------------------------

PAGE = "SELECT * FROM instructor_activity_page(p_course_id => %(course)s, p_type => %(type)s, " \
       "p_student_id => %(student)s, p_limit => %(limit)s, p_before => %(before)s, p_before_id => %(before_id)s, " \
       "p_after => %(after)s, p_after_id => %(after_id)s, p_courses_only => %(courses_only)s)"


def page(w, who, **kw):
    params = {"course": None, "type": None, "student": None, "limit": 50, "before": None, "before_id": None,
              "after": None, "after_id": None, "courses_only": False, **kw}
    return as_(w, who, PAGE, params)


def stored(w, where, params=()):
    return [r["id"] for r in w["db"].rows(
        f"SELECT id FROM student_activity WHERE {where} ORDER BY occurred_at DESC, id DESC", params)]


@pytest.mark.parametrize("who, scope", [
    ("owner", "instructor_id = %(owner)s"),
    ("co_manage", "course_id = %(course)s"),
    ("co_view", "course_id = %(course)s"),
    ("other", "instructor_id = %(other)s"),
    ("s1", "false"), ("admin", "false"),
])
def test_each_caller_gets_the_activity_of_their_teaching(w, who, scope):
    """The owner their whole timeline (courses and workshops); a co-instructor the courses they
    co-teach (the owner's id is on those rows: 008's function gives them nothing); a student or
    an admin nothing (no instructor argument to lie about)."""
    ids = {"owner": w["u"]["owner"], "other": w["u"]["other"], "course": w["course"].id}
    rows = page(w, who, limit=200)
    assert [r["activity_id"] for r in rows] == stored(w, scope % {k: f"'{v}'" for k, v in ids.items()})
    if who == "owner":
        assert {r["workshop_title"] for r in rows} >= {"Notes Clinic"}
        assert any(r["description"].startswith("S1 passed") for r in rows)


def test_anon_cannot_call_it(w):
    assert page(w, "anon") == "42501"


def test_the_filters(w):
    u, course = w["u"], w["course"]
    by_course = page(w, "owner", course=course.id, limit=200)
    assert [r["activity_id"] for r in by_course] == stored(w, "course_id = %s", (course.id,))
    assert page(w, "co_manage", course=w["second"].id) == [], "a course they do not teach gives nothing"
    assert page(w, "owner", course=w["elsewhere"].id) == []
    quizzes = page(w, "owner", type="quiz_passed", limit=200)
    assert quizzes and {r["activity_type"] for r in quizzes} == {"quiz_passed"}
    assert [r["activity_id"] for r in quizzes] == stored(
        w, "instructor_id = %s AND activity_type = 'quiz_passed'", (u["owner"],))
    s1 = page(w, "owner", student=u["s1"], limit=200)
    assert [r["activity_id"] for r in s1] == stored(w, "student_id = %s AND instructor_id = %s",
                                                    (u["s1"], u["owner"]))
    # the co-instructor gets S1's rows of the co-taught course only (not of the second course)
    co = page(w, "co_manage", student=u["s1"], limit=200)
    assert [r["activity_id"] for r in co] == stored(w, "student_id = %s AND course_id = %s", (u["s1"], course.id))
    # S3: a student of another instructor's course and of the owner's workshop
    assert {r["workshop_title"] for r in page(w, "owner", student=u["s3"])} == {"Notes Clinic"}
    assert page(w, "owner", student=u["s3"], courses_only=True) == []
    assert page(w, "other", student=u["s1"]) == []


def test_paging_by_position_both_ways_is_complete_and_in_order(w):
    everything = stored(w, "instructor_id = %s", (w["u"]["owner"],))
    assert len(everything) > 6
    seen, position = [], {}
    while True:
        rows = page(w, "owner", limit=3, **position)
        if not rows:
            break
        seen += [r["activity_id"] for r in rows]
        position = {"before": rows[-1]["occurred_at"], "before_id": rows[-1]["activity_id"]}
    assert seen == everything
    # newer than a row: the next ones up, oldest first (the live refresh's order)
    oldest = w["db"].rows("SELECT id, occurred_at FROM student_activity WHERE id = %s", (everything[-1],))[0]
    newer = page(w, "owner", limit=3, after=oldest["occurred_at"], after_id=oldest["id"])
    assert [r["activity_id"] for r in newer] == list(reversed(everything[-4:-1]))
    newest = w["db"].rows("SELECT id, occurred_at FROM student_activity WHERE id = %s", (everything[0],))[0]
    assert page(w, "owner", after=newest["occurred_at"], after_id=newest["id"]) == []


@pytest.mark.parametrize("limit, expected", [(0, 1), (-5, 1), (None, 50), (1000, 200)])
def test_the_page_size_is_bounded(w, limit, expected):
    rows = page(w, "owner", limit=limit)
    assert len(rows) == min(expected, len(stored(w, "instructor_id = %s", (w["u"]["owner"],))))


def scans_of_the_timeline(db, instructor, **args) -> int:
    """How many scans of student_activity one call of instructor_activity_page starts (this transaction's
    statistics: pg_stat_xact_user_tables), less the join back to the rows picked (one per row)."""
    call = ", ".join(f"{k} => %({k})s" for k in args)
    with db.attempt(Actor.user(instructor)) as cur:
        cur.execute("SELECT seq_scan + coalesce(idx_scan, 0) AS n FROM pg_stat_xact_user_tables "
                    "WHERE relid = 'public.student_activity'::regclass")
        before = cur.fetchone()["n"]
        cur.execute(f"SELECT count(*) AS picked FROM instructor_activity_page({call})", args)
        picked = cur.fetchone()["picked"]
        cur.execute("SELECT seq_scan + coalesce(idx_scan, 0) AS n FROM pg_stat_xact_user_tables "
                    "WHERE relid = 'public.student_activity'::regclass")
        return cur.fetchone()["n"] - before - picked


def test_the_owners_workshops_are_read_with_their_timeline_not_one_scan_each(module_database):
    """The review's 102 ms with 1,000 workshops: every owned workshop was read again on its own (its rows
    are the timeline's already). The owner's timeline is one scan however many workshops they own; a
    workshop they only facilitate is one more."""
    db = module_database
    owner, host, student = gen_user(db, "instructor"), gen_user(db, "instructor"), gen_user(db, "student")
    workshops = [gen_workshop(db, owner, title=f"Owned {n}") for n in range(6)]
    for workshop in workshops:
        register(db, student, workshop)
    assert scans_of_the_timeline(db, owner, p_limit=1) == 1
    hosted = gen_workshop(db, host, title="Hosted")
    db.rows("INSERT INTO workshop_facilitators (workshop_id, facilitator_id) VALUES (%s, %s) RETURNING id",
            (hosted, owner))
    register(db, student, hosted)
    assert scans_of_the_timeline(db, owner, p_limit=1) == 2
    got = as_({"db": db, "u": {"owner": owner}}, "owner",
              "SELECT workshop_id FROM instructor_activity_page(p_limit => 50)")
    assert {r["workshop_id"] for r in got} == {*workshops, hosted}

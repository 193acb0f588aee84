"""022 in SQL, as the API roles: comments, questions and answers, assignment submissions and
grades (issue 19). Who reads and writes what, the course's and the instructor's switches (nothing
readable when off), the edit window, one level of replies, grading by permission, the grade
completing the lesson, the engagement formula kept by deltas and checked by the verifiers, the
notifications, and reports joining moderation. The RLS matrix (test_rls_matrix) has each table's
row; these are the cases one statement per table cannot show."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg2
import pytest

from tests.support import Actor, enroll, gen_course, gen_user, mismatches, record_lesson

PERMISSIONS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")
COMMENT = "INSERT INTO lesson_comments (course_id, lesson_id, parent_id, body) VALUES (%s, %s, %s, %s) RETURNING id"
QUESTION = "INSERT INTO course_questions (course_id, lesson_id, title, body) VALUES (%s, %s, %s, %s) RETURNING id"
ANSWER = "INSERT INTO question_answers (question_id, course_id, body) VALUES (%s, %s, %s) RETURNING id"


def co_teach(db, course, instructor, *granted):
    db.value("INSERT INTO course_instructors (course_id, instructor_id, role, permissions) "
             "VALUES (%s, %s, 'co-instructor', %s) RETURNING id",
             (course.id, instructor, json.dumps({p: p in granted for p in PERMISSIONS})))


@pytest.fixture(scope="module")
def w(module_database):
    db = module_database
    u = {name: gen_user(db, role, name=name.replace("_", " ").title())
         for name, role in (("owner", "instructor"), ("co_grade", "instructor"), ("co_view", "instructor"),
                            ("other", "instructor"), ("s1", "student"), ("s2", "student"),
                            ("outsider", "student"), ("admin", "admin"))}
    course = gen_course(db, u["owner"], lessons=("text", "assignment", "video"), title="Talk Course")
    db.value("UPDATE course_lessons SET passing_score = 60 WHERE id = %s RETURNING id", (course.lessons[1],))
    elsewhere = gen_course(db, u["other"], lessons=("text",), title="Elsewhere")
    co_teach(db, course, u["co_grade"], "view_content", "manage_students")
    co_teach(db, course, u["co_view"], "view_content")
    e = {"s1": enroll(db, u["s1"], course.id), "s2": enroll(db, u["s2"], course.id),
         "outsider": enroll(db, u["outsider"], elsewhere.id)}
    record_lesson(db, u["s1"], e["s1"], course, course.lessons[0])
    return {"db": db, "u": u, "course": course, "elsewhere": elsewhere, "e": e}


def as_(w, who, sql, params=None):
    """``sql`` as ``who`` (a user name or 'anon'), rolled back; the rows, or the SQLSTATE."""
    actor = Actor.anon() if who == "anon" else Actor.user(w["u"][who])
    with w["db"].attempt(actor) as cur:
        try:
            cur.execute(sql, params)
        except psycopg2.Error as exc:
            return exc.pgcode
        return cur.fetchall() if cur.description else cur.rowcount


def keep(w, who, sql, params=None):
    with w["db"].act(Actor.user(w["u"][who])) as cur:
        cur.execute(sql, params)
        return next(iter(cur.fetchone().values())) if cur.description else cur.rowcount


def n(got):
    return len(got) if isinstance(got, list) else got


@pytest.fixture(scope="module")
def posts(w):
    c, lessons = w["course"], w["course"].lessons
    top = keep(w, "s1", COMMENT, (c.id, lessons[0], None, "Great lesson"))
    reply = keep(w, "owner", COMMENT, (c.id, lessons[0], top, "Thanks!"))
    question = keep(w, "s1", QUESTION, (c.id, lessons[0], "How do I start?", "Details"))
    answer = keep(w, "co_view", ANSWER, (question, c.id, "Open the first lesson."))
    return {"top": top, "reply": reply, "question": question, "answer": answer}


# --- reading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who, sees", [("s1", True), ("s2", True), ("owner", True), ("co_view", True),
                                       ("co_grade", True), ("admin", True), ("other", False),
                                       ("outsider", False), ("anon", None)])
@pytest.mark.parametrize("table", ["lesson_comments", "course_questions", "question_answers"])
def test_participants_read_the_course_discussion_and_nobody_else(w, posts, who, sees, table):
    got = as_(w, who, f"SELECT id FROM {table}")
    if sees is None:
        assert got == "42501"
    else:
        assert (n(got) > 0) == sees


@pytest.mark.parametrize("column, table", [("allow_comments", "lesson_comments"),
                                           ("allow_qa", "course_questions"), ("allow_qa", "question_answers")])
def test_nothing_is_readable_or_writable_when_the_course_turns_it_off(w, posts, column, table):
    db, c = w["db"], w["course"]
    db.value(f"UPDATE courses SET {column} = false WHERE id = %s RETURNING id", (c.id,))
    try:
        for who in ("s1", "s2", "owner", "co_view"):
            assert as_(w, who, f"SELECT id FROM {table}") == []
        if table == "lesson_comments":
            assert as_(w, "s2", COMMENT, (c.id, c.lessons[0], None, "Off?")) == "42501"
        else:
            assert as_(w, "s2", QUESTION, (c.id, None, "Off topic?", "")) == "42501"
        assert n(as_(w, "admin", f"SELECT id FROM {table}")) > 0   # moderation still reads
    finally:
        db.value(f"UPDATE courses SET {column} = true WHERE id = %s RETURNING id", (c.id,))


def test_the_instructors_setting_turns_questions_off(w, posts):
    db, c = w["db"], w["course"]
    db.value("INSERT INTO instructor_settings (user_id, allow_student_questions) VALUES (%s, false) "
             "ON CONFLICT (user_id) DO UPDATE SET allow_student_questions = false RETURNING user_id",
             (w["u"]["owner"],))
    try:
        assert as_(w, "s1", "SELECT id FROM course_questions") == []
        assert as_(w, "s1", "SELECT id FROM question_answers") == []
        assert as_(w, "s2", QUESTION, (c.id, None, "Allowed?", "")) == "42501"
        assert as_(w, "owner", "SELECT unanswered_questions_count() AS n")[0]["n"] == 0
        assert n(as_(w, "s1", "SELECT id FROM lesson_comments")) > 0   # comments are another switch
    finally:
        db.value("UPDATE instructor_settings SET allow_student_questions = true WHERE user_id = %s "
                 "RETURNING user_id", (w["u"]["owner"],))


# --- writing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who, expected", [("s2", 1), ("owner", 1), ("co_view", 1), ("other", "42501"),
                                           ("outsider", "42501"), ("anon", "42501")])
def test_who_comments(w, who, expected):
    c = w["course"]
    assert n(as_(w, who, COMMENT, (c.id, c.lessons[0], None, "Hello"))) == expected


def test_a_comment_cannot_name_a_lesson_of_another_course(w):
    c, e = w["course"], w["elsewhere"]
    assert as_(w, "s1", COMMENT, (c.id, e.lessons[0], None, "Sneaky")) in ("42501", "23503")
    assert as_(w, "owner", COMMENT, (c.id, e.lessons[0], None, "Sneaky")) == "23503"   # the key refuses


def test_replies_are_one_level_deep(w, posts):
    c = w["course"]
    assert n(as_(w, "s2", COMMENT, (c.id, c.lessons[0], posts["top"], "Me too"))) == 1
    assert as_(w, "s2", COMMENT, (c.id, c.lessons[0], posts["reply"], "Deeper")) == "23514"


def test_the_author_edits_within_the_window_and_nobody_else_edits(w, posts):
    assert as_(w, "s1", "UPDATE lesson_comments SET body = 'Edited' WHERE id = %s", (posts["top"],)) == 1
    assert as_(w, "s2", "UPDATE lesson_comments SET body = 'Vandal' WHERE id = %s", (posts["top"],)) == 0
    w["db"].value("UPDATE lesson_comments SET created_at = now() - interval '1 hour' WHERE id = %s RETURNING id",
                  (posts["reply"],))
    assert as_(w, "owner", "UPDATE lesson_comments SET body = 'Late' WHERE id = %s", (posts["reply"],)) == "23514"


def test_only_an_admin_hides(w, posts):
    assert as_(w, "s1", "UPDATE lesson_comments SET is_visible = false WHERE id = %s", (posts["top"],)) == "42501"
    assert as_(w, "owner", "UPDATE lesson_comments SET is_visible = false WHERE id = %s", (posts["top"],)) == 0
    assert as_(w, "admin", "UPDATE lesson_comments SET is_visible = false WHERE id = %s", (posts["top"],)) == 1


@pytest.mark.parametrize("who, expected", [("owner", 1), ("s1", 0), ("s2", 0), ("admin", 1)])
def test_who_deletes_a_comment(w, posts, who, expected):
    """A reply (a thread's first comment with replies is blanked instead: see below)."""
    assert as_(w, who, "DELETE FROM lesson_comments WHERE id = %s", (posts["reply"],)) == expected


@pytest.mark.parametrize("who, expected", [("s2", 1), ("owner", "42501"), ("outsider", "42501")])
def test_students_ask_questions(w, who, expected):
    c = w["course"]
    assert n(as_(w, who, QUESTION, (c.id, None, "A question?", ""))) == expected


@pytest.mark.parametrize("who, expected", [("s2", 1), ("owner", 1), ("co_view", 1), ("outsider", "42501")])
def test_teachers_and_classmates_answer(w, posts, who, expected):
    assert n(as_(w, who, ANSWER, (posts["question"], w["course"].id, "An answer"))) == expected


@pytest.mark.parametrize("who, expected", [("s1", 1), ("s2", "42501"), ("owner", "42501"), ("co_grade", "42501")])
def test_only_the_asker_accepts_an_answer(w, posts, who, expected):
    got = as_(w, who, "UPDATE course_questions SET accepted_answer_id = %s WHERE id = %s",
              (posts["answer"], posts["question"]))
    assert got == expected or (expected == "42501" and got == 0)


def test_an_accepted_answer_is_one_of_the_questions_own(w, posts):
    c = w["course"]
    other_q = keep(w, "s2", QUESTION, (c.id, None, "Another one?", ""))
    other_a = keep(w, "owner", ANSWER, (other_q, c.id, "Elsewhere"))
    assert as_(w, "s1", "UPDATE course_questions SET accepted_answer_id = %s WHERE id = %s",
               (other_a, posts["question"])) == "23503"   # accepted_answer_of_question


def test_a_student_cannot_report_their_own_and_reports_join_moderation(w, posts):
    c = w["course"]
    q = keep(w, "s2", QUESTION, (c.id, None, "Reportable?", ""))
    assert as_(w, "s2", "INSERT INTO discussion_reports (question_id, reason) VALUES (%s, 'spam')", (q,)) == "42501"
    assert as_(w, "outsider", "INSERT INTO discussion_reports (question_id, reason) VALUES (%s, 'spam')",
               (q,)) == "42501"
    keep(w, "s1", "INSERT INTO discussion_reports (question_id, reason) VALUES (%s, 'spam') RETURNING id", (q,))
    row = w["db"].rows("SELECT open_report_count, first_open_report_at FROM course_questions WHERE id = %s", (q,))[0]
    assert row["open_report_count"] == 1 and row["first_open_report_at"] is not None
    assert as_(w, "s2", "DELETE FROM course_questions WHERE id = %s", (q,)) == 0   # under report: stays
    keep(w, "admin", "UPDATE discussion_reports SET resolved_at = now() WHERE question_id = %s", (q,))
    assert w["db"].value("SELECT open_report_count FROM course_questions WHERE id = %s", (q,)) == 0
    assert w["db"].rows("SELECT * FROM private.verify_discussion_figures()") == []


# --- assignments --------------------------------------------------------------------------------

def test_submissions_grades_completion_and_engagement(w):
    db, u, c, e = w["db"], w["u"], w["course"], w["e"]
    assignment = c.lessons[1]
    score = lambda: db.value("SELECT engagement_score FROM student_progress WHERE enrollment_id = %s", (e["s2"],))
    before = score()
    sub = keep(w, "s2", "SELECT submit_assignment(%s, %s, %s)", (assignment, "My essay", "https://example.test/x"))
    assert score() == before + 5
    # resubmit until graded: the same row
    assert keep(w, "s2", "SELECT submit_assignment(%s, %s, %s)", (assignment, "Better essay", "")) == sub
    assert as_(w, "s2", "SELECT submit_assignment(%s, 'x', NULL)", (c.lessons[0],)) == "23514"   # not an assignment
    assert as_(w, "outsider", "SELECT submit_assignment(%s, 'x', NULL)", (assignment,)) == "42501"
    # reading
    assert n(as_(w, "s1", "SELECT id FROM assignment_submissions WHERE id = %s", (sub,))) == 0
    assert n(as_(w, "co_view", "SELECT id FROM assignment_submissions WHERE id = %s", (sub,))) == 1
    # grading: the permission, never the student
    for who in ("s2", "s1", "co_view", "other"):
        assert as_(w, who, "SELECT grade_assignment(%s, 100, 'self')", (sub,)) == "42501", who
    assert as_(w, "co_grade", "SELECT grade_assignment(%s, 101, NULL)", (sub,)) == "23514"
    # below the mark: graded, not completed
    assert keep(w, "co_grade", "SELECT grade_assignment(%s, 40, 'Try harder')", (sub,)) is False
    status = lambda: db.value("SELECT status FROM lesson_progress WHERE enrollment_id = %s AND lesson_id = %s",
                              (e["s2"], assignment))
    assert status() == "in_progress"
    assert as_(w, "s2", "SELECT submit_assignment(%s, 'again', NULL)", (assignment,)) == "23514"   # graded
    assert keep(w, "co_grade", "SELECT grade_assignment(%s, 75, 'Good')", (sub,)) is True
    assert status() == "completed"
    row = db.rows("SELECT score, feedback, graded_by, passing_score FROM assignment_submissions WHERE id = %s",
                  (sub,))[0]
    assert (row["score"], row["feedback"], row["graded_by"], row["passing_score"]) == \
        (Decimal("75.00"), "Good", u["co_grade"], 60)
    activity = db.rows("SELECT metadata FROM student_activity WHERE student_id = %s "
                       "AND activity_type = 'assignment_graded' ORDER BY occurred_at", (u["s2"],))
    assert [a["metadata"]["score"] for a in activity] == [40, 75]
    kinds = [r["event_type"] for r in db.rows("SELECT event_type FROM notifications WHERE user_id = %s",
                                              (u["s2"],))]
    assert kinds.count("assignment_graded") == 2
    # one hand-in notice per submission (the hand-in again refreshed it), to every teacher who manages
    # the students (the owner and co_grade), not to a co-instructor who only views content
    handed = lambda who: db.rows("SELECT payload FROM notifications WHERE user_id = %s "
                                 "AND event_type = 'new_submission'", (u[who],))
    assert [len(handed(x)) for x in ("owner", "co_grade", "co_view")] == [1, 1, 0]
    assert handed("owner")[0]["payload"]["resubmitted"] is True
    assert mismatches(db) == []
    assert db.rows("SELECT * FROM private.verify_discussion_figures()") == []


def test_engagement_is_the_formula_and_verified(w, posts):
    """Taking part adds 2 a comment, 3 a question or answer, 5 a submission, at most 20, on top of
    002's learning part, and never past 100; the verifiers agree after every act."""
    db, c, e = w["db"], w["course"], w["e"]
    learning = db.value("SELECT engagement_score FROM progress_figures(%s)", (e["s2"],))
    got = db.rows("SELECT comment_count, question_count, answer_count, submission_count, engagement_score "
                  "FROM student_progress WHERE enrollment_id = %s", (e["s2"],))[0]
    assert got["engagement_score"] == learning
    keep(w, "s2", COMMENT, (c.id, c.lessons[0], None, "One"))
    keep(w, "s2", ANSWER, (posts["question"], c.id, "Two"))
    after = db.rows("SELECT comment_count, answer_count, engagement_score FROM student_progress "
                    "WHERE enrollment_id = %s", (e["s2"],))[0]
    assert after["comment_count"] == got["comment_count"] + 1
    assert after["answer_count"] == got["answer_count"] + 1
    assert after["engagement_score"] - got["engagement_score"] == 5   # a comment and an answer
    assert db.value("SELECT engagement_score(3, 0, 0, 600, 0, NULL, 1, 1, 1, 1)") == Decimal("13.00")
    assert db.value("SELECT engagement_score(3, 3, 0, 600, 0, NULL, 5, 5, 5, 5)") == Decimal("90.00")
    assert db.value("SELECT engagement_score(3, 3, 600, 600, 0, NULL, 5, 5, 5, 5)") == Decimal("100.00")
    assert db.value("SELECT engagement_score(3, 0, 0, 600, 0, NULL, 10, 10, 0, 0)") == Decimal("20.00")
    assert mismatches(db) == []
    assert db.rows("SELECT * FROM private.verify_discussion_figures()") == []


def test_unanswered_questions_are_counted_for_the_teachers(w):
    db, c = w["db"], w["course"]
    count = lambda who: as_(w, who, "SELECT unanswered_questions_count() AS n")[0]["n"]
    start = count("owner")
    q = keep(w, "s1", QUESTION, (c.id, None, "Anyone?", ""))
    assert count("owner") == start + 1 and count("co_view") == start + 1
    assert count("s1") == 0 and count("other") == 0
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'new_question' "
                    "AND payload ->> 'question_id' = %s", (w["u"]["owner"], str(q))) == 1
    keep(w, "owner", ANSWER, (q, c.id, "Me"))
    assert count("owner") == start
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'question_answered'",
                    (w["u"]["s1"],)) >= 1
    assert db.rows("SELECT * FROM private.verify_discussion_figures()") == []


@pytest.mark.parametrize("who, sees", [("s2", True), ("co_view", True), ("admin", True), ("other", False),
                                       ("outsider", False)])
def test_authors_names_go_to_the_discussions_participants_only(w, posts, who, sees):
    u = w["u"]
    rows = as_(w, who, "SELECT user_id, display_name, is_teacher FROM discussion_author_names(%s, %s)",
               (w["course"].id, [u["s1"], u["owner"], u["co_grade"]]))
    # the pairs' form (the inbox's) answers the same, course by course
    pairs = as_(w, who, "SELECT course_id, user_id, display_name, is_teacher FROM discussion_author_names_in(%s, %s)",
                ([w["course"].id] * 3, [u["s1"], u["owner"], u["co_grade"]]))
    assert sorted((r["course_id"], r["user_id"], r["display_name"], r["is_teacher"]) for r in pairs) == \
        sorted((w["course"].id, r["user_id"], r["display_name"], r["is_teacher"]) for r in rows)
    if not sees:
        assert rows == []
        return
    names = {r["user_id"]: (r["display_name"], r["is_teacher"]) for r in rows}
    assert names[u["s1"]] == ("S1", False) and names[u["owner"]] == ("Owner", True)
    assert u["co_grade"] not in names   # wrote nothing here


def test_the_rebuild_puts_back_what_a_drift_broke(w, posts):
    """Maintenance rewrites the per-post figures (and the refresh the four counts and the score): what
    verify_discussion_figures finds after a drift, private.rebuild_discussion_figures corrects."""
    db, c = w["db"], w["course"]
    db.rows("UPDATE course_questions SET answer_count = answer_count + 5 WHERE id = %s RETURNING id",
            (posts["question"],))
    db.rows("UPDATE courses SET unanswered_question_count = 42 WHERE id = %s RETURNING id", (c.id,))
    db.rows("UPDATE student_progress SET comment_count = comment_count + 3 WHERE enrollment_id = %s RETURNING id",
            (w["e"]["s1"],))
    assert len(db.rows("SELECT * FROM private.verify_discussion_figures()")) == 3
    assert db.value("SELECT private.rebuild_discussion_figures(%s)", (w["u"]["owner"],)) == 2
    assert db.value("SELECT rebuild_denormalized_figures(%s)", (w["u"]["owner"],)) >= 1
    assert db.rows("SELECT * FROM private.verify_discussion_figures()") == [] and mismatches(db) == []


def test_deleting_a_lesson_takes_its_comments_and_hand_ins_and_keeps_its_questions(module_database):
    """A lesson deleted by its owner (through delete_lesson, 004): its comments and hand-ins go (the counts
    and the score follow), its questions stay on the course; every checker agrees."""
    db = module_database
    owner, student = gen_user(db, "instructor"), gen_user(db, "student")
    course = gen_course(db, owner, lessons=("text", "assignment", "text"))
    e = enroll(db, student, course.id)
    with db.act(Actor.user(student)) as cur:
        cur.execute(COMMENT, (course.id, course.lessons[1], None, "On the assignment"))
        cur.execute(QUESTION, (course.id, course.lessons[1], "About the assignment?", ""))
        cur.execute("SELECT submit_assignment(%s, 'Work', NULL)", (course.lessons[1],))
    assert db.value("SELECT comment_count + question_count + submission_count FROM student_progress "
                    "WHERE enrollment_id = %s", (e,)) == 3
    with db.act(Actor.user(owner)) as cur:
        cur.execute("SELECT delete_lesson(%s)", (course.lessons[1],))
    row = db.rows("SELECT comment_count, question_count, submission_count FROM student_progress "
                  "WHERE enrollment_id = %s", (e,))[0]
    assert (row["comment_count"], row["question_count"], row["submission_count"]) == (0, 1, 0)
    assert db.value("SELECT lesson_id FROM course_questions WHERE title = 'About the assignment?'") is None
    assert mismatches(db) == [] and db.rows("SELECT * FROM private.verify_discussion_figures()") == []


def test_the_persons_export_holds_what_they_wrote_and_handed_in(w, posts):
    with w["db"].attempt(Actor.user(w["u"]["s1"])) as cur:
        cur.execute("SELECT export_my_data() AS x")
        export = cur.fetchone()["x"]
    assert "Great lesson" in [c["body"] for c in export["lesson_comments"]]
    assert "How do I start?" in [q["title"] for q in export["course_questions"]]
    assert "author_id" not in export["lesson_comments"][0]
    assert {"question_answers", "assignment_submissions", "discussion_reports"} <= set(export)


# --- under concurrent load --------------------------------------------------------------------

def test_concurrent_posting_answering_grading_and_a_lesson_added_keep_every_figure_exact(database):
    """Eight students at once comment, reply to one thread, answer one question, ask, and hand in, while
    a co-instructor answers and grades what arrives and the owner adds a lesson (which locks every
    enrollment of the course): no deadlock, no lost delta; the counts and the checkers agree."""
    import threading

    from tests.support import set_context
    owner, grader = gen_user(database, "instructor"), gen_user(database, "instructor")
    course = gen_course(database, owner, lessons=("text", "assignment"))
    co_teach(database, course, grader, "view_content", "manage_students")
    students = [gen_user(database) for _ in range(8)]
    enrollments = [enroll(database, s, course.id) for s in students]
    with database.act(Actor.user(students[0])) as cur:
        cur.execute(COMMENT, (course.id, course.lessons[0], None, "Thread"))
        thread = cur.fetchone()["id"]
        cur.execute(QUESTION, (course.id, None, "Shared question?", ""))
        shared = cur.fetchone()["id"]
    barrier, errors = threading.Barrier(len(students) + 2), []

    def one(conn, who, sql, params=()):
        with conn, conn.cursor() as cur:
            set_context(cur, Actor.user(who))
            cur.execute(sql, params)

    def student(me):
        conn = database.connect_app()
        try:
            barrier.wait()
            one(conn, me, COMMENT, (course.id, course.lessons[0], None, "Mine"))
            one(conn, me, COMMENT, (course.id, course.lessons[0], thread, "A reply"))
            one(conn, me, ANSWER, (shared, course.id, "An answer"))
            one(conn, me, QUESTION, (course.id, course.lessons[0], "My own question?", ""))
            one(conn, me, "SELECT submit_assignment(%s, 'Work', NULL)", (course.lessons[1],))
            one(conn, me, "SELECT complete_lesson(%s)", (course.lessons[0],))
        except psycopg2.Error as exc:
            errors.append(f"student: {exc.pgcode} {exc.pgerror}")
        finally:
            conn.close()

    def teacher():
        conn = database.connect_app()
        try:
            barrier.wait()
            graded = set()
            for _ in range(40):
                with conn, conn.cursor() as cur:
                    set_context(cur, Actor.user(grader))
                    cur.execute("SELECT id FROM assignment_submissions WHERE status = 'submitted'")
                    waiting = [r["id"] if isinstance(r, dict) else r[0] for r in cur.fetchall()]
                for sub in waiting:
                    one(conn, grader, "SELECT grade_assignment(%s, 90, 'Good')", (sub,))
                    graded.add(sub)
                with conn, conn.cursor() as cur:
                    set_context(cur, Actor.user(grader))
                    cur.execute("SELECT id FROM course_questions WHERE answer_count = 0 LIMIT 3")
                    open_ = [r["id"] if isinstance(r, dict) else r[0] for r in cur.fetchall()]
                for q in open_:
                    one(conn, grader, ANSWER, (q, course.id, "Teacher here"))
        except psycopg2.Error as exc:
            errors.append(f"teacher: {exc.pgcode} {exc.pgerror}")
        finally:
            conn.close()

    def builder():
        conn = database.connect_app()
        try:
            barrier.wait()
            one(conn, owner, "INSERT INTO course_lessons (module_id, course_id, title, position) "
                             "VALUES (%s, %s, 'Added live', 10)", (course.modules[0], course.id))
        except psycopg2.Error as exc:
            errors.append(f"builder: {exc.pgcode} {exc.pgerror}")
        finally:
            conn.close()

    threads = [threading.Thread(target=student, args=(s,)) for s in students]
    threads += [threading.Thread(target=teacher), threading.Thread(target=builder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # what arrived after the teacher's last look, graded now (the same call, alone)
    with database.act(Actor.user(grader)) as cur:
        cur.execute("SELECT grade_assignment(id, 90, 'Good') FROM assignment_submissions WHERE status = 'submitted'")
    assert database.value("SELECT count(*) FROM lesson_progress WHERE lesson_id = %s AND status = 'completed'",
                          (course.lessons[1],)) == len(students)
    rows = database.rows("SELECT comment_count, question_count, answer_count, submission_count FROM student_progress "
                         "WHERE enrollment_id = ANY (%s::uuid[]) ORDER BY enrollment_id", ([str(e) for e in enrollments],))
    assert all(r["comment_count"] >= 2 and r["answer_count"] == 1 and r["question_count"] >= 1
               and r["submission_count"] == 1 for r in rows)
    assert database.value("SELECT reply_count FROM lesson_comments WHERE id = %s", (thread,)) == len(students)
    assert database.value("SELECT answer_count FROM course_questions WHERE id = %s", (shared,)) >= len(students)
    assert mismatches(database) == [] and database.rows("SELECT * FROM private.verify_discussion_figures()") == []


@pytest.mark.parametrize("what", ["submit", "grade"])
def test_handing_in_or_grading_while_the_lesson_is_deleted_never_deadlocks(database, what):
    """delete_lesson locks the lesson, then (the recount) every enrollment of the course; handing in
    and grading take the lesson first too, so one waits for the other: the deletion goes through
    and the hand-in (or grade) is refused as gone, never a deadlock (40P01)."""
    import threading

    from tests.support import set_context
    owner, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, owner, lessons=("text", "assignment"))
    enroll(database, student, course.id)
    lesson = course.lessons[1]
    with database.act(Actor.user(student)) as cur:
        cur.execute("SELECT submit_assignment(%s, 'w', NULL) AS id", (lesson,))
        sub = cur.fetchone()["id"]
    deleter, worker = database.connect_app(), database.connect_app()
    errors = []
    try:
        cur2 = deleter.cursor()
        set_context(cur2, Actor.user(owner))
        cur2.execute("SELECT 1 FROM course_lessons WHERE id = %s FOR UPDATE", (lesson,))  # the deletion's first lock

        def act():
            try:
                with worker, worker.cursor() as cur:
                    if what == "submit":
                        set_context(cur, Actor.user(student))
                        cur.execute("SELECT submit_assignment(%s, 'again', NULL)", (lesson,))
                    else:
                        set_context(cur, Actor.user(owner))
                        cur.execute("SELECT grade_assignment(%s, 90, 'ok')", (sub,))
            except psycopg2.Error as exc:
                errors.append((exc.pgcode, exc.diag.constraint_name))

        pid = worker.get_backend_pid()
        thread = threading.Thread(target=act)
        thread.start()
        for _ in range(100000):   # until it waits on a lock (pg_locks: granted false)
            if database.value("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", (pid,)):
                break
            assert thread.is_alive(), errors   # it must wait for the lesson, not finish or fail first
        else:
            raise AssertionError("the hand-in never waited for the lesson")
        cur2.execute("SELECT delete_lesson(%s)", (lesson,))
        deleter.commit()
        thread.join()
    finally:
        deleter.close()
        worker.close()
    assert errors == [("42501", "lesson_not_found" if what == "submit" else "submission_not_found")]
    assert database.value("SELECT count(*) FROM course_lessons WHERE id = %s", (lesson,)) == 0
    assert mismatches(database) == [] and database.rows("SELECT * FROM private.verify_discussion_figures()") == []


# --- review fixes (issue 19's second pass) ----------------------------------------------------------

def test_a_student_cannot_complete_an_assignment_only_a_passing_grade_does(w):
    """complete_lesson refuses an assignment lesson (assignment_completed_by_grade); a text lesson
    still completes by the student's hand."""
    c = w["course"]
    assert as_(w, "s2", "SELECT complete_lesson(%s)", (c.lessons[1],)) == "23514"
    with w["db"].attempt(Actor.user(w["u"]["s2"])) as cur:
        with pytest.raises(psycopg2.Error) as refused:
            cur.execute("SELECT complete_lesson(%s)", (c.lessons[1],))
    assert refused.value.diag.constraint_name == "assignment_completed_by_grade"
    assert as_(w, "s2", "SELECT complete_lesson(%s)", (c.lessons[0],)) != "23514"


def test_a_locked_lesson_s_comments_questions_answers_and_names_stay_hidden_until_it_opens(w):
    """Drip: a student reads no comment, question or answer of a lesson not released to them (nor its
    authors' names); teachers read them; the course-wide questions stay readable."""
    db, c, u = w["db"], w["course"], w["u"]
    locked = c.lessons[2]
    hint = keep(w, "owner", COMMENT, (c.id, locked, None, "Answer key hint"))
    q = keep(w, "s1", QUESTION, (c.id, locked, "About the video?", ""))
    keep(w, "owner", ANSWER, (q, c.id, "The key is 42"))
    general = keep(w, "s1", QUESTION, (c.id, None, "About the whole course?", ""))
    db.value("UPDATE courses SET drip_content = true, drip_schedule = %s WHERE id = %s RETURNING id",
             (json.dumps({str(locked): 30}), c.id))
    try:
        assert as_(w, "s2", "SELECT id FROM course_lessons WHERE id = %s", (locked,)) == []
        assert as_(w, "s2", "SELECT id FROM lesson_comments WHERE id = %s", (hint,)) == []
        assert as_(w, "s2", "SELECT id FROM course_questions WHERE id = %s", (q,)) == []
        assert as_(w, "s2", "SELECT id FROM question_answers WHERE question_id = %s", (q,)) == []
        assert n(as_(w, "s2", "SELECT id FROM course_questions WHERE id = %s", (general,))) == 1
        for teacher in ("owner", "co_view"):
            assert n(as_(w, teacher, "SELECT id FROM lesson_comments WHERE id = %s", (hint,))) == 1
            assert n(as_(w, teacher, "SELECT id FROM question_answers WHERE question_id = %s", (q,))) == 1
        lone = gen_user(db, "student", name="Lone Writer")
        enroll(db, lone, c.id)
        db.value("UPDATE courses SET drip_content = false WHERE id = %s RETURNING id", (c.id,))
        keep_as = Actor.user(lone)
        with db.act(keep_as) as cur:
            cur.execute(COMMENT, (c.id, locked, None, "Only here"))
        db.value("UPDATE courses SET drip_content = true WHERE id = %s RETURNING id", (c.id,))
        names = lambda who: as_(w, who, "SELECT user_id FROM discussion_author_names(%s, %s::uuid[])",
                                (c.id, [str(lone)]))
        assert names("s2") == [] and n(names("owner")) == 1
    finally:
        db.value("UPDATE courses SET drip_content = false, drip_schedule = '{}' WHERE id = %s RETURNING id", (c.id,))
    assert n(as_(w, "s2", "SELECT id FROM lesson_comments WHERE id = %s", (hint,))) == 1


def test_a_new_question_tells_every_teacher_who_manages_students_and_questions_are_limited(w):
    db, c, u = w["db"], w["course"], w["u"]
    asker = gen_user(db, "student", name="Busy Asker")
    enroll(db, asker, c.id)
    told = lambda who: db.value("SELECT count(*) FROM notifications n JOIN course_questions q "
                                "ON q.id = (n.payload ->> 'question_id')::uuid WHERE n.user_id = %s "
                                "AND n.event_type = 'new_question' AND q.author_id = %s", (u[who], asker))
    codes = []
    for i in range(12):
        try:
            with db.act(Actor.user(asker)) as cur:
                cur.execute(QUESTION, (c.id, None, f"Question number {i}", ""))
            codes.append("ok")
        except psycopg2.Error as exc:
            codes.append(exc.diag.constraint_name)
    assert codes == ["ok"] * 10 + ["question_rate_limit"] * 2
    assert [told(x) for x in ("owner", "co_grade", "co_view")] == [10, 10, 0]


def test_nobody_answers_a_hidden_question(w):
    db, c = w["db"], w["course"]
    q = keep(w, "s1", QUESTION, (c.id, None, "Soon hidden", ""))
    db.value("UPDATE course_questions SET is_visible = false WHERE id = %s RETURNING id", (q,))
    for who in ("s2", "owner", "s1"):
        assert as_(w, who, ANSWER, (q, c.id, "Still answering")) == "42501", who


def test_grading_checks_the_student_the_grader_and_the_lesson_and_rounds_as_stored(w):
    """A cancelled student's work is not graded; an assignment turned into text is not graded;
    69.999 is stored 70.00 and passes a mark of 70."""
    db, c, u = w["db"], w["course"], w["u"]
    quitter = gen_user(db, "student", name="Quit Ter")
    e_q = enroll(db, quitter, c.id)
    with db.act(Actor.user(quitter)) as cur:
        cur.execute("SELECT submit_assignment(%s, 'w', NULL) AS id", (c.lessons[1],))
        sub_q = cur.fetchone()["id"]
        cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (e_q,))
    with db.attempt(Actor.user(u["co_grade"])) as cur:
        with pytest.raises(psycopg2.Error) as refused:
            cur.execute("SELECT grade_assignment(%s, 100, 'x')", (sub_q,))
    assert refused.value.diag.constraint_name == "grade_not_active_student"

    rounder = gen_user(db, "student", name="Round Er")
    e_r = enroll(db, rounder, c.id)
    with db.act(Actor.user(rounder)) as cur:
        cur.execute("SELECT submit_assignment(%s, 'w', NULL) AS id", (c.lessons[1],))
        sub_r = cur.fetchone()["id"]
    db.value("UPDATE course_lessons SET passing_score = 70 WHERE id = %s RETURNING id", (c.lessons[1],))
    try:
        db.value("UPDATE course_lessons SET content_type = 'text' WHERE id = %s RETURNING id", (c.lessons[1],))
        with db.attempt(Actor.user(u["co_grade"])) as cur:
            with pytest.raises(psycopg2.Error) as refused:
                cur.execute("SELECT grade_assignment(%s, 90, 'x')", (sub_r,))
        assert refused.value.diag.constraint_name == "not_an_assignment"
        db.value("UPDATE course_lessons SET content_type = 'assignment' WHERE id = %s RETURNING id", (c.lessons[1],))
        assert keep(w, "co_grade", "SELECT grade_assignment(%s, %s, 'ok')", (sub_r, Decimal("69.999"))) is True
        assert db.value("SELECT score FROM assignment_submissions WHERE id = %s", (sub_r,)) == Decimal("70.00")
        assert db.value("SELECT status FROM lesson_progress WHERE enrollment_id = %s AND lesson_id = %s",
                        (e_r, c.lessons[1])) == "completed"
    finally:
        db.value("UPDATE course_lessons SET passing_score = 60, content_type = 'assignment' WHERE id = %s "
                 "RETURNING id", (c.lessons[1],))
    assert mismatches(db) == [] and db.rows("SELECT * FROM private.verify_discussion_figures()") == []


def test_deleting_a_replied_comment_blanks_it_and_keeps_the_thread_reports_and_points(w):
    """The author deletes their thread's first comment: it becomes "[deleted]" (deleted_at), and its
    replies (a classmate's reported one, a hidden one) stay with their reports and their points; a
    comment without replies is deleted outright; the blanked one cannot be edited back."""
    db, c, e = w["db"], w["course"], w["e"]
    top = keep(w, "s1", COMMENT, (c.id, c.lessons[0], None, "Thread to delete"))
    reported = keep(w, "s2", COMMENT, (c.id, c.lessons[0], top, "A reply someone reports"))
    hidden = keep(w, "s2", COMMENT, (c.id, c.lessons[0], top, "A reply a moderator hides"))
    keep(w, "owner", "INSERT INTO discussion_reports (comment_id, reason) VALUES (%s, 'spam') RETURNING id", (reported,))
    keep(w, "admin", "UPDATE lesson_comments SET is_visible = false WHERE id = %s", (hidden,))
    points = lambda who: db.rows("SELECT comment_count, engagement_score FROM student_progress "
                                 "WHERE enrollment_id = %s", (e[who],))[0]
    before = points("s2")
    assert as_(w, "s1", "DELETE FROM lesson_comments WHERE id = %s", (top,)) == 0
    keep(w, "s1", "DELETE FROM lesson_comments WHERE id = %s", (top,))
    row = db.rows("SELECT body, deleted_at, reply_count FROM lesson_comments WHERE id = %s", (top,))[0]
    assert row["body"] == "[deleted]" and row["deleted_at"] is not None and row["reply_count"] == 2
    assert db.value("SELECT count(*) FROM lesson_comments WHERE id IN (%s, %s)", (reported, hidden)) == 2
    assert db.value("SELECT count(*) FROM discussion_reports WHERE comment_id = %s", (reported,)) == 1
    assert points("s2") == before
    assert as_(w, "s1", "UPDATE lesson_comments SET body = 'Back again' WHERE id = %s", (top,)) == "42501"
    alone = keep(w, "s1", COMMENT, (c.id, c.lessons[0], None, "No replies"))
    keep(w, "s1", "DELETE FROM lesson_comments WHERE id = %s", (alone,))
    assert db.value("SELECT count(*) FROM lesson_comments WHERE id = %s", (alone,)) == 0
    assert mismatches(db) == [] and db.rows("SELECT * FROM private.verify_discussion_figures()") == []


def test_answers_are_reportable_and_a_hidden_or_reported_answer_stays(w, posts):
    db, c = w["db"], w["course"]
    a = keep(w, "s2", ANSWER, (posts["question"], c.id, "An answer to report"))
    assert as_(w, "s2", "INSERT INTO discussion_reports (answer_id, reason) VALUES (%s, 'spam')", (a,)) == "42501"
    assert as_(w, "outsider", "INSERT INTO discussion_reports (answer_id, reason) VALUES (%s, 'spam')", (a,)) == "42501"
    assert as_(w, "s1", "INSERT INTO discussion_reports (answer_id, question_id, reason) VALUES (%s, %s, 'spam')",
               (a, posts["question"])) == "23514"   # one subject
    report = keep(w, "s1", "INSERT INTO discussion_reports (answer_id, reason) VALUES (%s, 'spam') RETURNING id", (a,))
    assert db.value("SELECT open_report_count FROM question_answers WHERE id = %s", (a,)) == 1
    assert as_(w, "s2", "DELETE FROM question_answers WHERE id = %s", (a,)) == 0    # under report: stays
    keep(w, "admin", "UPDATE question_answers SET is_visible = false WHERE id = %s", (a,))
    keep(w, "admin", "UPDATE discussion_reports SET resolved_at = now() WHERE id = %s", (report,))
    assert db.value("SELECT open_report_count FROM question_answers WHERE id = %s", (a,)) == 0
    assert as_(w, "s2", "DELETE FROM question_answers WHERE id = %s", (a,)) == 0    # hidden: stays
    assert db.value("SELECT action FROM audit_log WHERE entity_id = %s", (report,)) == "discussion_report.resolved"
    assert db.rows("SELECT * FROM private.verify_discussion_figures()") == []

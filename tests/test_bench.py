"""The benchmark's generator at its smallest size: every row valid, every figure right, the skew kept."""

from __future__ import annotations

import pytest

from portal.bench import generate as generator
from portal.bench.plan import SIZES, make_plan
from portal.passwords import verify_password
from tests.support import gen_user

SMOKE = SIZES["smoke"]


@pytest.fixture()
def generated(database):
    """The smoke dataset in this test's database."""
    return generator.generate(database.owner_dsn, SMOKE)


def test_smoke_dataset_has_the_planned_shape(database, generated):
    """Row counts follow the plan, and the largest instructor is instructor 1 with the biggest course."""
    plan = make_plan(SMOKE)
    assert generated.counts["course_enrollments"] == SMOKE.enrollments
    assert generated.counts["courses"] == SMOKE.courses
    assert generated.counts["lesson_progress"] > SMOKE.enrollments
    assert generated.counts["student_activity"] > generated.counts["lesson_progress"]
    top = database.rows("""SELECT u.email, p.total_students FROM instructor_profiles p JOIN users u ON u.id = p.user_id
                           ORDER BY p.total_students DESC LIMIT 2""")
    assert top[0]["email"] == generated.top_email == "instructor1@bench.test"
    assert top[0]["total_students"] == plan.instructors[0].pool_size > top[1]["total_students"]
    biggest = database.value("""SELECT count(*) FROM course_enrollments e JOIN courses c ON c.id = e.course_id
                                WHERE c.slug = 'bench-course-1'""")
    assert biggest == plan.biggest_course.enrollments == max(c.enrollments for c in plan.courses)


def test_smoke_dataset_is_consistent(database, generated):
    """Figures verify, one progress row per enrollment, paid rows have their sale, triggers are back on."""
    assert generated.figures["rebuilt"] == 0
    assert database.value("SELECT count(*) FROM verify_denormalized_figures()") == 0
    # 020: the money rules hold: every paid row in one paid payout whose totals are its rows'
    assert database.value("SELECT count(*) FROM private.verify_money()") == 0
    assert database.value("SELECT count(*) FROM payouts") > 0
    assert database.value("""SELECT count(*) FROM course_enrollments e
                             LEFT JOIN student_progress s ON s.enrollment_id = e.id WHERE s.id IS NULL""") == 0
    assert database.value("SELECT count(*) FROM student_progress") == SMOKE.enrollments
    assert database.value("""SELECT count(*) FROM course_enrollments e WHERE e.amount_paid > 0
                               AND e.status IN ('enrolled', 'in_progress', 'completed')
                               AND NOT EXISTS (SELECT 1 FROM revenue_transactions r
                                               WHERE r.enrollment_id = e.id
                                                 AND r.transaction_type = 'course_enrollment')""") == 0
    assert database.value("""SELECT count(*) FROM course_enrollments e JOIN courses c ON c.id = e.course_id
                             JOIN student_progress s ON s.enrollment_id = e.id
                             WHERE e.status = 'completed' AND s.completed_lessons <> s.total_lessons""") == 0
    # Every trigger is on again, but the two NOTIFY triggers of the job queue 010 turns off for good.
    assert database.rows("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O' "
                         "ORDER BY tgname") == [{"tgname": "procrastinate_jobs_notify_queue_job_aborted_v1"},
                                                {"tgname": "procrastinate_jobs_notify_queue_job_inserted_v1"}]


def test_smoke_dataset_has_discussions_whose_figures_verify(database, generated):
    """022's posts: comments with replies, questions answered and not (some accepted), hand-ins graded
    and waiting, open reports; their kept figures verify, the largest instructor has their share."""
    counts = generated.counts
    assert counts["lesson_comments"] > 0 and counts["course_questions"] > 0 and counts["question_answers"] > 0
    assert counts["assignment_submissions"] > 0 and counts["discussion_reports"] > 0
    assert generated.figures["rebuilt"] == 0
    assert database.value("SELECT count(*) FROM private.verify_discussion_figures()") == 0
    shape = database.rows("""
        SELECT (SELECT count(*) FROM lesson_comments WHERE parent_id IS NOT NULL) AS replies,
               (SELECT count(*) FROM lesson_comments WHERE reply_count > 0) AS replied,
               (SELECT count(*) FROM course_questions WHERE accepted_answer_id IS NOT NULL) AS accepted,
               (SELECT count(*) FROM course_questions WHERE lesson_id IS NULL) AS course_wide,
               (SELECT count(*) FROM assignment_submissions WHERE status = 'graded') AS graded,
               (SELECT count(*) FROM lesson_comments WHERE open_report_count > 0) AS reported,
               (SELECT sum(engagement_score) FILTER (WHERE comment_count + question_count + answer_count
                                                           + submission_count > 0) FROM student_progress) AS taking_part
        """)[0]
    assert all(shape.values()), shape
    top = database.rows("""
        SELECT (SELECT sum(c.unanswered_question_count) FROM courses c WHERE c.instructor_id = u.id) AS unanswered,
               (SELECT count(*) FROM assignment_submissions s JOIN courses c ON c.id = s.course_id
                WHERE c.instructor_id = u.id AND s.status = 'submitted') AS waiting,
               (SELECT count(*) FROM lesson_comments m JOIN courses c ON c.id = m.course_id
                WHERE c.slug = 'bench-course-1') AS biggest_course_comments
        FROM users u WHERE u.email = %s""", (generated.top_email,))[0]
    assert all(top.values()), top
    # an assignment is completed by a passing grade only (022): every completed one has one
    assert database.value("""SELECT count(*) FROM lesson_progress p JOIN course_lessons l ON l.id = p.lesson_id
                             WHERE l.content_type = 'assignment' AND p.status = 'completed'
                               AND NOT EXISTS (SELECT 1 FROM assignment_submissions s
                                               WHERE s.enrollment_id = p.enrollment_id AND s.lesson_id = l.id
                                                 AND s.status = 'graded' AND s.score >= s.passing_score)""") == 0


def test_the_bench_measures_the_discussion_pages_on_posts(database, generated):
    """The measured discussion pages (run.pages with subjects()' first lesson of the biggest course)
    answer the largest instructor with posts on them, not the empty states."""
    from portal.bench import run
    from tests.web import close_app, make_app, sign_in, text
    ids = run.subjects(database.owner_dsn)
    assert ids["lesson"] == database.value("""SELECT l.id FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
                                              WHERE l.course_id = %s ORDER BY m.position, l.position LIMIT 1""",
                                           (ids["course"],))
    measured = dict((path, name) for name, path in run.pages(ids["course"], ids["student"], ids["lesson"])
                    if path.startswith("/discussions/"))
    assert set(measured) == {"/discussions/inbox", "/discussions/grading",
                             f"/discussions/courses/{ids['course']}/questions",
                             f"/discussions/lessons/{ids['lesson']}/comments",
                             f"/discussions/lessons/{ids['lesson']}/questions"}
    # what each page lists (at the smoke size the first lesson may have no question of its own yet)
    lesson_questions = database.value("SELECT count(*) FROM course_questions WHERE lesson_id = %s", (ids["lesson"],))
    shows = {"/discussions/inbox": 'href="/discussions/questions/',
             "/discussions/grading": 'href="/discussions/submissions/',
             f"/discussions/courses/{ids['course']}/questions": 'href="/discussions/questions/',
             f"/discussions/lessons/{ids['lesson']}/comments": 'id="comment-',
             f"/discussions/lessons/{ids['lesson']}/questions":
                 'href="/discussions/questions/' if lesson_questions else "No questions about this lesson yet."}
    client = make_app(database).test_client()
    try:
        sign_in(client, generated.top_email, generated.password)
        for path, shown in shows.items():
            response = client.get(path)
            assert response.status_code == 200 and shown in text(response), path
    finally:
        close_app()


def test_generated_users_sign_in(database, generated):
    """Every user has the one hash of the printed password."""
    stored = database.value("SELECT password_hash FROM private.user_credentials c JOIN users u ON u.id = c.user_id "
                            "WHERE u.email = %s", (generated.top_email,))
    assert verify_password(stored, generated.password)


def test_generator_refuses_other_data(database):
    """A database with users the benchmark did not make is left alone unless forced."""
    gen_user(database, "student", email="someone@example.test")
    with pytest.raises(generator.NotABenchDatabase):
        generator.generate(database.owner_dsn, SMOKE)
    assert database.value("SELECT count(*) FROM users") == 1

"""The demo dataset: loaded through the users' paths, complete, consistent, idempotent and deterministic.

The run's one load at scale 1 (copied for the module) serves the read-only checks; the
determinism check loads a second, fresh database and compares the two.
"""

import pytest

from portal.courses.markdown import render_markdown
from portal.db import Urls
from portal.demo import DEMO_INSTRUCTOR_EMAIL, DEMO_LOGINS, DEMO_ORG_SLUG, load_demo

TABLES = ["organizations", "users", "courses", "course_modules", "course_lessons", "course_enrollments",
          "lesson_progress", "student_progress", "student_activity", "revenue_transactions", "course_reviews",
          "workshops", "workshop_registrations", "workshop_feedback", "course_instructors",
          "workshop_facilitators", "checkouts", "payment_events", "certificates", "review_helpful_votes",
          "lesson_comments", "course_questions", "question_answers", "assignment_submissions"]


def urls_of(database):
    return Urls(app=database.app_dsn, owner=database.owner_dsn)


def row_counts(database):
    return {t: database.value(f"SELECT count(*) FROM {t}") for t in TABLES}


def fingerprint(database):
    """What must not depend on the run: accounts, course figures, stages, workshop figures."""
    return {
        "emails": [r["email"] for r in database.rows("SELECT email::text FROM users ORDER BY email")],
        "courses": [tuple(r.values()) for r in database.rows(
            "SELECT title, status::text, enrolled_count, completed_count, average_rating, review_count, "
            "total_revenue FROM courses ORDER BY slug")],
        "statuses": [tuple(r.values()) for r in database.rows(
            "SELECT status::text, count(*) FROM course_enrollments GROUP BY 1 ORDER BY 1")],
        "workshops": [tuple(r.values()) for r in database.rows(
            "SELECT slug::text, status::text, enrolled_count, attended_count, average_satisfaction, "
            "feedback_count, total_revenue FROM workshops ORDER BY slug")],
        "profiles": [tuple(r.values()) for r in database.rows(
            "SELECT u.email::text, p.total_students, p.total_courses, p.total_workshops, p.average_rating, "
            "p.total_reviews FROM instructor_profiles p JOIN users u ON u.id = p.user_id ORDER BY 1")],
        "progress": database.value("SELECT sum(completed_lessons) || '/' || sum(engagement_score) "
                                   "FROM student_progress"),
    }


@pytest.fixture(scope="module")
def demo(demo_database):
    """A copy of the demo loaded once per run at scale 1 (tests/conftest.py: demo_template)."""
    return demo_database


def test_counts(demo):
    """One organization and its admin, 5 instructors (1 standalone), 20 courses, 300 students."""
    count = demo.value
    assert count("SELECT count(*) FROM organizations WHERE slug = %s", (DEMO_ORG_SLUG,)) == 1
    assert count("SELECT count(*) FROM users WHERE role = 'org_admin' AND organization_id IS NOT NULL") == 1
    assert count("SELECT count(*) FROM users WHERE role = 'admin'") == 1
    assert count("SELECT count(*) FROM users WHERE role = 'instructor'") == 5
    assert count("SELECT count(*) FROM users WHERE role = 'instructor' AND organization_id IS NULL") == 1
    assert count("SELECT count(*) FROM users WHERE role = 'student'") == 300
    assert count("SELECT count(*) FROM courses") == 20
    assert count("SELECT count(DISTINCT status) FROM courses") == 3
    assert count("SELECT count(*) FROM course_instructors") >= 1
    # Every course has 2-4 modules of 2-5 lessons, and a quiz with a passing score.
    shapes = demo.rows("""SELECT c.id, count(DISTINCT m.id) AS modules, min(n.lessons) AS fewest,
                                 max(n.lessons) AS most,
                                 bool_or(l.content_type = 'quiz' AND l.passing_score IS NOT NULL) AS quiz
                          FROM courses c JOIN course_modules m ON m.course_id = c.id
                          JOIN (SELECT module_id, count(*) AS lessons FROM course_lessons GROUP BY 1) n
                               ON n.module_id = m.id
                          JOIN course_lessons l ON l.module_id = m.id
                          GROUP BY c.id""")
    assert len(shapes) == 20
    assert all(2 <= s["modules"] <= 4 and s["fewest"] >= 2 and s["most"] <= 5 and s["quiz"] for s in shapes)


def test_every_stage_of_enrollment(demo):
    """Enrollments at every status, pending payments, quiz scores and exactly one refund."""
    statuses = {r["status"] for r in demo.rows("SELECT DISTINCT status::text FROM course_enrollments")}
    assert statuses == {"pending", "enrolled", "in_progress", "completed", "cancelled", "refunded"}
    assert demo.value("SELECT count(*) FROM course_enrollments WHERE status = 'pending' "
                      "AND payment_status = 'pending'") > 0
    assert demo.value("SELECT count(*) FROM revenue_transactions WHERE transaction_type = 'refund'") == 1
    assert demo.value("SELECT count(*) FROM revenue_transactions WHERE transaction_type = 'course_enrollment'") > 50
    assert demo.value("SELECT count(*) FROM lesson_progress WHERE quiz_score IS NOT NULL") > 50
    activity = {r["activity_type"] for r in demo.rows("SELECT DISTINCT activity_type::text FROM student_activity")}
    assert {"quiz_passed", "quiz_failed", "course_completed", "refunded", "review_posted",
            "workshop_attended", "feedback_submitted", "enrollment_cancelled"} <= activity


def test_reviews_and_workshops(demo):
    """Reviews with and without responses; past workshops with attendance and feedback; upcoming ones."""
    assert demo.value("SELECT count(*) FROM course_reviews WHERE instructor_response IS NOT NULL") > 0
    assert demo.value("SELECT count(*) FROM course_reviews WHERE instructor_response IS NULL") > 0
    past = demo.rows("SELECT * FROM workshops WHERE status = 'completed'")
    assert past and all(w["created_at"] < w["start_time"] < w["end_time"] for w in past)
    assert demo.value("SELECT bool_and(end_time < now()) FROM workshops WHERE status = 'completed'")
    assert all(w["attended_count"] > 0 and w["feedback_count"] > 0 for w in past)
    assert demo.value("SELECT count(*) FROM workshops WHERE status = 'published' AND start_time > now() "
                      "AND enrolled_count > 0") >= 3
    assert demo.value("SELECT count(*) FROM workshop_registrations WHERE status = 'waitlisted'") > 0


def test_payments_certificates_and_votes_went_through_their_paths(demo):
    """Every sale has its succeeded checkout and event; certificate courses' completions hold
    certificates; some reviews are marked helpful, never by their author."""
    assert demo.value("""SELECT count(*) FROM revenue_transactions t
                         WHERE t.transaction_type = 'course_enrollment' AND NOT EXISTS (
                             SELECT 1 FROM checkouts c JOIN payment_events v ON v.checkout_id = c.id
                             WHERE c.enrollment_id = t.enrollment_id AND c.status = 'succeeded'
                               AND v.outcome = 'succeeded')""") == 0
    assert demo.value("SELECT count(*) FROM checkouts WHERE settled_at < created_at") == 0
    assert demo.value("""SELECT count(*) FROM course_enrollments e JOIN courses c ON c.id = e.course_id
                         LEFT JOIN certificates ce ON ce.enrollment_id = e.id
                         WHERE e.status = 'completed' AND c.certificate_enabled AND ce.id IS NULL""") == 0
    assert demo.value("SELECT count(*) FROM certificates") > 0
    assert demo.value("SELECT count(*) FROM course_reviews WHERE helpful_count > 0") > 10
    assert demo.value("""SELECT count(*) FROM review_helpful_votes v JOIN course_reviews r ON r.id = v.review_id
                         WHERE r.user_id = v.user_id""") == 0


def test_figures_agree_with_their_sources(demo):
    """verify_denormalized_figures() finds nothing to correct."""
    assert demo.rows("SELECT * FROM verify_denormalized_figures()") == []


def test_the_primary_instructors_first_lesson_has_a_discussion(demo):
    """022: comments with the instructor's reply, a question answered (the instructor's answer
    accepted) and one waiting in the inbox and on the dashboard's count; their figures verify."""
    me = demo.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    lesson = demo.rows("""SELECT DISTINCT l.id FROM lesson_comments x JOIN course_lessons l ON l.id = x.lesson_id
                          JOIN course_modules m ON m.id = l.module_id JOIN courses c ON c.id = l.course_id
                          WHERE c.instructor_id = %s AND c.status = 'published'
                            AND m.position = 0 AND l.position = 0""", (me,))
    assert len(lesson) == 1 and demo.value("SELECT count(DISTINCT lesson_id) FROM lesson_comments") == 1
    lesson = lesson[0]
    threads = demo.rows("SELECT author_id, reply_count FROM lesson_comments WHERE lesson_id = %s AND parent_id IS NULL "
                        "ORDER BY created_at", (lesson["id"],))
    assert [t["reply_count"] for t in threads] == [1, 0]
    assert demo.value("SELECT author_id FROM lesson_comments WHERE parent_id IS NOT NULL") == me
    questions = demo.rows("""SELECT q.answer_count, a.author_id AS accepted_by FROM course_questions q
                             LEFT JOIN question_answers a ON a.id = q.accepted_answer_id
                             WHERE q.lesson_id = %s ORDER BY q.created_at""", (lesson["id"],))
    assert questions == [{"answer_count": 2, "accepted_by": me}, {"answer_count": 0, "accepted_by": None}]
    assert demo.value("SELECT sum(unanswered_question_count) FROM courses WHERE instructor_id = %s", (me,)) == 1
    assert demo.value("SELECT max(created_at) < now() - interval '1 hour' FROM lesson_comments")
    assert demo.rows("SELECT * FROM private.verify_discussion_figures()") == []


def test_logins_exist_with_credentials(demo):
    """Every advertised login is an active account with a password hash."""
    for role, email in DEMO_LOGINS:
        assert demo.value("SELECT count(*) FROM users u JOIN private.user_credentials c ON c.user_id = u.id "
                          "WHERE u.email = %s AND u.is_active", (email,)) == 1, role


def test_primary_instructor_dashboard_is_busy(demo):
    """Enrollments, revenue and activity in the last 30 days; dates spread over ~90 days."""
    me = demo.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    assert demo.value("""SELECT count(*) FROM course_enrollments e JOIN courses c ON c.id = e.course_id
                         WHERE c.instructor_id = %s AND e.enrolled_at > now() - interval '30 days'""", (me,)) >= 50
    assert demo.value("""SELECT count(DISTINCT transaction_date::date) FROM revenue_transactions
                         WHERE instructor_id = %s AND transaction_date > now() - interval '30 days'
                           AND transaction_type = 'course_enrollment'""", (me,)) >= 10
    assert demo.value("""SELECT count(*) FROM student_activity
                         WHERE instructor_id = %s AND occurred_at > now() - interval '3 days'""", (me,)) > 0
    spread = demo.rows("SELECT min(enrolled_at) AS first, max(enrolled_at) AS last FROM course_enrollments")[0]
    assert (spread["last"] - spread["first"]).days >= 80
    assert demo.value("SELECT max(occurred_at) < now() FROM student_activity")


def test_text_lessons_read_like_lessons(demo):
    """Every text lesson is several paragraphs of Markdown under headings, with a list, code in the
    technical courses, and no two alike; assignments are numbered steps."""
    lessons = demo.rows("SELECT c.title AS course, l.body FROM course_lessons l JOIN courses c ON c.id = l.course_id "
                        "WHERE l.content_type = 'text'")
    assert len(lessons) >= 20
    for lesson in lessons:
        html = str(render_markdown(lesson["body"]))
        assert html.count("<p>") >= 3 and html.count("<h2>") >= 3 and html.count("<li>") == 4, lesson
        assert "lorem" not in lesson["body"].lower() and "{" not in lesson["body"], "no placeholder left"
    assert len({lesson["body"] for lesson in lessons}) == len(lessons), "each lesson reads differently"
    technical = [str(render_markdown(lesson["body"])) for lesson in lessons
                 if lesson["course"] in ("Python for Data Analysis", "SQL from Zero to Reports")]
    assert technical and all("<pre><code" in html for html in technical)
    briefs = [r["body"] for r in demo.rows("SELECT body FROM course_lessons WHERE content_type = 'assignment'")]
    assert briefs and all(str(render_markdown(body)).count("<li>") >= 3 for body in briefs)


def test_second_load_changes_nothing(demo):
    """Loading again returns False and leaves every table as it was."""
    before = row_counts(demo)
    assert load_demo(urls_of(demo), scale=1, progress=False) is False
    assert row_counts(demo) == before


def test_deterministic(demo, database):
    """A second database loaded at the same scale has the same accounts, figures and stages."""
    assert load_demo(urls_of(database), scale=1, progress=False) is True
    assert fingerprint(database) == fingerprint(demo)

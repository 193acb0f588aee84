"""Every denormalized figure of a freshly loaded dataset, computed set-based.

The generator loads rows with the triggers off, so nothing has kept the
figures; the triggers' own path (``rebuild_denormalized_figures()``) loops
row by row and takes many minutes at a million enrollments. The statements
below compute the same figures in one pass per table. Each mirrors one
definition of ``schema/002_instructor_schema.sql`` section 5 (or 005's
helpful count, 022's discussion figures): change them together.

``settle`` then asks the schema itself: ``verify_denormalized_figures()``
and 022's ``private.verify_discussion_figures()`` must be empty. When a later
migration adds a figure these statements do not know, verify reports it and
``settle`` falls back to the schema's own ``rebuild_denormalized_figures()``
and ``private.rebuild_discussion_figures()`` (slow but always right), then verifies
again and fails loudly if anything still differs. To make the fast path
cover a new figure, add a statement to ``FIGURES``.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

ACTIVE = "('enrolled', 'in_progress', 'completed')"

# Settled money per course or workshop: gross, the instructor's earnings, and
# the earnings not yet paid out (008's total_revenue, total_earnings, pending_payout).
MONEY = """SELECT {key}, sum(amount) AS total, sum(instructor_earnings) AS earnings,
                  coalesce(sum(instructor_earnings) FILTER (WHERE payout_status = 'pending'), 0) AS unpaid
           FROM revenue_transactions WHERE payment_status = 'completed' AND {key} IS NOT NULL
           GROUP BY {key}"""

# student_progress: one row per enrollment, every column a figure (progress_figures()).
PROGRESS = """
INSERT INTO student_progress
    (id, enrollment_id, user_id, course_id, total_lessons, completed_lessons, progress_percentage,
     total_watch_time_seconds, last_activity_at, total_quizzes, passed_quizzes, average_quiz_score,
     engagement_score, comment_count, question_count, answer_count, submission_count, certificate_url,
     created_at, updated_at)
WITH course AS (
    SELECT l.course_id, count(*)::integer AS lessons,
           count(*) FILTER (WHERE l.content_type = 'quiz')::integer AS quizzes,
           coalesce(sum(l.duration_minutes) FILTER (WHERE l.content_type = 'video'), 0) * 60 AS video_seconds
    FROM course_lessons l GROUP BY l.course_id
), done AS (
    SELECT p.enrollment_id,
           count(*) FILTER (WHERE p.status = 'completed')::integer AS completed,
           coalesce(sum(p.watch_time_seconds), 0)::bigint AS watched,
           max(p.updated_at) AS last_at,
           count(*) FILTER (WHERE l.content_type = 'quiz' AND p.quiz_score >= l.passing_score)::integer AS passed,
           round(avg(p.quiz_score) FILTER (WHERE l.content_type = 'quiz'), 2) AS quiz_mean
    FROM lesson_progress p JOIN course_lessons l ON l.id = p.lesson_id
    GROUP BY p.enrollment_id
), part AS (   -- 022's participation_figures: the student's own posts and hand-ins in the course
    SELECT x.user_id, x.course_id, count(*) FILTER (WHERE x.kind = 1)::integer AS comments,
           count(*) FILTER (WHERE x.kind = 2)::integer AS questions,
           count(*) FILTER (WHERE x.kind = 3)::integer AS answers,
           count(*) FILTER (WHERE x.kind = 4)::integer AS submissions
    FROM (SELECT author_id AS user_id, course_id, 1 AS kind FROM lesson_comments
          UNION ALL SELECT author_id, course_id, 2 FROM course_questions
          UNION ALL SELECT author_id, course_id, 3 FROM question_answers
          UNION ALL SELECT user_id, course_id, 4 FROM assignment_submissions) x
    GROUP BY x.user_id, x.course_id
), ratios AS (
    SELECT e.id, e.user_id, e.course_id, e.enrolled_at,
           coalesce(c.lessons, 0) AS lessons, coalesce(c.quizzes, 0) AS quizzes,
           coalesce(c.video_seconds, 0) AS video_seconds,
           coalesce(d.completed, 0) AS completed, coalesce(d.watched, 0) AS watched, d.last_at,
           coalesce(d.passed, 0) AS passed, d.quiz_mean,
           CASE WHEN coalesce(c.lessons, 0) = 0 THEN 0 ELSE coalesce(d.completed, 0)::numeric / c.lessons END
               AS completion,
           coalesce(pt.comments, 0) AS comments, coalesce(pt.questions, 0) AS questions,
           coalesce(pt.answers, 0) AS answers, coalesce(pt.submissions, 0) AS submissions
    FROM course_enrollments e
    LEFT JOIN course c ON c.course_id = e.course_id
    LEFT JOIN done d ON d.enrollment_id = e.id
    LEFT JOIN part pt ON pt.user_id = e.user_id AND pt.course_id = e.course_id
)
SELECT ('00000022' || substr(r.id::text, 9))::uuid, r.id, r.user_id, r.course_id,
       r.lessons, r.completed, round(100 * r.completion, 2)::numeric(5,2),
       r.watched, r.last_at, r.quizzes, r.passed, r.quiz_mean::numeric(5,2),
       -- 022's one formula (learning and taking part), as progress_figures calls it
       engagement_score(r.lessons, r.completed, r.watched, r.video_seconds, r.quizzes, r.quiz_mean,
                        r.comments, r.questions, r.answers, r.submissions),
       r.comments, r.questions, r.answers, r.submissions,
       '/certificates/' || ce.code, r.enrolled_at, coalesce(r.last_at, r.enrolled_at)
FROM ratios r LEFT JOIN certificates ce ON ce.enrollment_id = r.id
"""

# courses: course_figures() (008's version).
COURSES = f"""
UPDATE courses c
SET enrolled_count = coalesce(en.enrolled, 0), completed_count = coalesce(en.completed, 0),
    active_enrollment_count = coalesce(en.active, 0), pending_enrollment_count = coalesce(en.pending, 0),
    average_rating = rv.average, review_count = coalesce(rv.n, 0), rating_sum = coalesce(rv.total, 0),
    total_revenue = coalesce(rt.total, 0), total_earnings = coalesce(rt.earnings, 0),
    pending_payout = coalesce(rt.unpaid, 0)
FROM courses c0
LEFT JOIN (SELECT course_id, count(*) FILTER (WHERE status IN {ACTIVE}) AS enrolled,
                  count(*) FILTER (WHERE status = 'completed') AS completed,
                  count(*) FILTER (WHERE status IN ('enrolled', 'in_progress')) AS active,
                  count(*) FILTER (WHERE status = 'pending') AS pending
           FROM course_enrollments GROUP BY course_id) en ON en.course_id = c0.id
LEFT JOIN (SELECT course_id, round(avg(rating), 2)::numeric(3,2) AS average, count(*) AS n, sum(rating) AS total
           FROM course_reviews WHERE is_visible GROUP BY course_id) rv ON rv.course_id = c0.id
LEFT JOIN ({MONEY.format(key="course_id")}) rt ON rt.course_id = c0.id
WHERE c.id = c0.id
"""

# workshops: workshop_figures() (008's version).
WORKSHOPS = f"""
UPDATE workshops w
SET enrolled_count = coalesce(rg.enrolled, 0), attended_count = coalesce(rg.attended, 0),
    average_satisfaction = fb.average, feedback_count = coalesce(fb.n, 0), total_revenue = coalesce(rt.total, 0),
    total_earnings = coalesce(rt.earnings, 0), pending_payout = coalesce(rt.unpaid, 0)
FROM workshops w0
LEFT JOIN (SELECT workshop_id, count(*) FILTER (WHERE status IN ('registered', 'attended', 'no_show')) AS enrolled,
                  count(*) FILTER (WHERE status = 'attended') AS attended
           FROM workshop_registrations GROUP BY workshop_id) rg ON rg.workshop_id = w0.id
LEFT JOIN (SELECT workshop_id, round(avg(overall_satisfaction), 2)::numeric(3,2) AS average, count(*) AS n
           FROM workshop_feedback GROUP BY workshop_id) fb ON fb.workshop_id = w0.id
LEFT JOIN ({MONEY.format(key="workshop_id")}) rt ON rt.workshop_id = w0.id
WHERE w.id = w0.id
"""

# instructor_profiles: instructor_figures().
INSTRUCTORS = """
UPDATE instructor_profiles p
SET total_students = coalesce(st.n, 0), total_courses = coalesce(co.n, 0), total_workshops = coalesce(ws.n, 0),
    average_rating = rv.average, total_reviews = coalesce(rv.n, 0)
FROM instructor_profiles p0
LEFT JOIN (SELECT c.instructor_id, count(DISTINCT e.user_id) AS n
           FROM course_enrollments e JOIN courses c ON c.id = e.course_id GROUP BY c.instructor_id) st
       ON st.instructor_id = p0.user_id
LEFT JOIN (SELECT instructor_id, count(*) AS n FROM courses WHERE status = 'published' GROUP BY instructor_id) co
       ON co.instructor_id = p0.user_id
LEFT JOIN (SELECT instructor_id, count(*) AS n FROM workshops WHERE status IN ('published', 'completed')
           GROUP BY instructor_id) ws ON ws.instructor_id = p0.user_id
LEFT JOIN (SELECT c.instructor_id, round(avg(r.rating), 2)::numeric(3,2) AS average, count(*) AS n
           FROM course_reviews r JOIN courses c ON c.id = r.course_id WHERE r.is_visible
           GROUP BY c.instructor_id) rv ON rv.instructor_id = p0.user_id
WHERE p.user_id = p0.user_id
"""

# course_reviews.helpful_count (005).
HELPFUL = """
UPDATE course_reviews r SET helpful_count = v.n
FROM (SELECT review_id, count(*)::integer AS n FROM review_helpful_votes GROUP BY review_id) v
WHERE r.id = v.review_id AND r.helpful_count <> v.n
"""

# course_lessons / course_modules.completed_count (008): completions by any enrollment.
LESSONS = """
UPDATE course_lessons l SET completed_count = d.n
FROM (SELECT lesson_id, count(*)::integer AS n FROM lesson_progress WHERE status = 'completed'
      GROUP BY lesson_id) d
WHERE l.id = d.lesson_id
"""
MODULES = """
UPDATE course_modules m SET completed_count = d.n
FROM (SELECT done.module_id, count(*)::integer AS n
      FROM (SELECT l.module_id, p.enrollment_id, count(*) AS lessons_done
            FROM lesson_progress p JOIN course_lessons l ON l.id = p.lesson_id
            WHERE p.status = 'completed' GROUP BY l.module_id, p.enrollment_id) done
      JOIN (SELECT module_id, count(*) AS lessons FROM course_lessons GROUP BY module_id) size
        ON size.module_id = done.module_id AND size.lessons = done.lessons_done
      GROUP BY done.module_id) d
WHERE m.id = d.module_id
"""

# 017: users by role for the admin overview (TRUNCATE emptied the table; the triggers were off).
USER_ROLES = """
INSERT INTO private.user_role_counts (role, users)
SELECT r.role, (SELECT count(*) FROM public.users u WHERE u.role = r.role)
FROM unnest(enum_range(NULL::public.user_role)) AS r (role)
ON CONFLICT (role) DO UPDATE SET users = EXCLUDED.users"""

# 022: each question's answers, each thread's replies, the open reports of each post (and the first
# one's date), each course's unanswered visible questions (after the answers: they decide it); the
# four participation counts and the engagement score are PROGRESS's.
ANSWERS = """
UPDATE course_questions q SET answer_count = a.n
FROM (SELECT question_id, count(*)::integer AS n FROM question_answers GROUP BY question_id) a
WHERE q.id = a.question_id
"""
REPLIES = """
UPDATE lesson_comments c SET reply_count = r.n
FROM (SELECT parent_id, count(*)::integer AS n FROM lesson_comments WHERE parent_id IS NOT NULL
      GROUP BY parent_id) r
WHERE c.id = r.parent_id
"""
OPEN_REPORTS = """
UPDATE {table} t SET open_report_count = r.n, first_open_report_at = r.first
FROM (SELECT {key}, count(*)::integer AS n, min(created_at) AS first FROM discussion_reports
      WHERE resolved_at IS NULL AND {key} IS NOT NULL GROUP BY {key}) r
WHERE t.id = r.{key}
"""
UNANSWERED = """
UPDATE courses c SET unanswered_question_count = q.n
FROM (SELECT course_id, count(*)::integer AS n FROM course_questions WHERE is_visible AND answer_count = 0
      GROUP BY course_id) q
WHERE c.id = q.course_id
"""

FIGURES = (("student_progress", PROGRESS), ("courses", COURSES), ("workshops", WORKSHOPS),
           ("instructor_profiles", INSTRUCTORS), ("course_reviews.helpful_count", HELPFUL),
           ("course_lessons.completed_count", LESSONS), ("course_modules.completed_count", MODULES),
           ("user_role_counts", USER_ROLES),
           # 020's revenue by day and month, from the rows (the schema's own set-based rebuild)
           ("revenue_totals", "SELECT private.rebuild_revenue_totals()"),
           ("course_questions.answer_count", ANSWERS), ("lesson_comments.reply_count", REPLIES),
           ("lesson_comments.open_report_count", OPEN_REPORTS.format(table="lesson_comments", key="comment_id")),
           ("course_questions.open_report_count", OPEN_REPORTS.format(table="course_questions", key="question_id")),
           ("question_answers.open_report_count", OPEN_REPORTS.format(table="question_answers", key="answer_id")),
           ("courses.unanswered_question_count", UNANSWERED))


class FiguresDiffer(RuntimeError):
    """verify_denormalized_figures() is not empty even after the schema's own rebuild."""


def compute(cur) -> None:
    """Write every figure from the source rows (the progress rows are inserted here)."""
    for name, statement in FIGURES:
        started = time.perf_counter()
        cur.execute(statement)
        log.info("figures: %s (%d rows) in %.1f s", name, cur.rowcount, time.perf_counter() - started)


def mismatches(cur, limit: int = 5) -> tuple[int, list]:
    """How many rows verify_denormalized_figures() reports, and the first few."""
    cur.execute("CREATE TEMP TABLE bench_verify ON COMMIT DROP AS SELECT * FROM verify_denormalized_figures() "
                "UNION ALL SELECT * FROM private.verify_discussion_figures()")
    cur.execute("SELECT count(*) FROM bench_verify")
    count = cur.fetchone()[0]
    cur.execute("SELECT table_name, row_id, stored, expected FROM bench_verify LIMIT %s", (limit,))
    sample = cur.fetchall()
    cur.execute("DROP TABLE bench_verify")
    return count, sample


def settle(cur) -> dict:
    """Verify; fall back to the schema's rebuild when the fast path missed a figure; verify again."""
    started = time.perf_counter()
    count, sample = mismatches(cur)
    outcome = {"verify_seconds": round(time.perf_counter() - started, 1), "rebuilt": 0}
    if count:
        log.warning("%d figure(s) differ after the set-based pass (e.g. %s); running "
                    "rebuild_denormalized_figures()", count, sample[:1])
        started = time.perf_counter()
        cur.execute("SELECT rebuild_denormalized_figures() + private.rebuild_discussion_figures()")
        outcome["rebuilt"] = cur.fetchone()[0]
        outcome["rebuild_seconds"] = round(time.perf_counter() - started, 1)
        count, sample = mismatches(cur)
        if count:
            raise FiguresDiffer(f"{count} figure(s) still differ from verify_denormalized_figures() "
                                f"after rebuild_denormalized_figures(); first: {sample}")
    return outcome

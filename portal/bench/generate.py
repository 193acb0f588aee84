"""Load a benchmark dataset of a given size, set-based, as the owner.

The rows go in in **one transaction** on the owner's connection:

1. empty every table (TRUNCATE; the migrations' bookkeeping stays);
2. ``ALTER TABLE ... DISABLE TRIGGER USER`` on every table, so that the
   rows go in without the per-row triggers (the owner owns the tables), and
   set the secondary indexes and foreign keys aside (``set_aside``);
3. insert the rows with ``INSERT ... SELECT`` over ``generate_series``,
   driven by the plan (``plan.make_plan``) in temporary tables;
4. compute every figure set-based (``figures.compute``);
5. rebuild the indexes, re-add (and so check) the foreign keys, re-enable
   the triggers, and commit.

Because ALTER TABLE is transactional, any failure rolls back the disabled
triggers with the rows: a database is never left half loaded or with its
triggers off. After the commit, the monthly stats view is refreshed and the
tables vacuumed and analyzed; then, in a second transaction,
``figures.settle``: verify_denormalized_figures() must be empty (falling back
to the schema's rebuild when it is not), and only then is the marker (size,
migrations) recorded, so a dataset whose figures are not exact is never
measured (``bench run`` generates again). Verify runs on vacuumed rows: in the
loading transaction its per-enrollment plans read rows without visibility
maps or hint bits, 41 s against 3 s at 100k, and over 24 minutes at 1M.

Every row satisfies every constraint and the states the guard triggers
allow: a completed enrollment has all its lessons completed and a date, an
enrolled paid row has its sale (amount = fee + earnings, by the schema's
``platform_fee``), a refunded one its sale and its refund, a student's
lesson progress is on lessons of the enrollment's course, and so on.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import psycopg2
import psycopg2.extras

from portal.bench import figures
from portal.bench.plan import Plan, Size, make_plan
from portal.bench.sql import pick, rekind, rnd, uid
from portal.passwords import hash_password

log = logging.getLogger(__name__)

EMAIL_DOMAIN = "bench.test"
PASSWORD = "bench-password-2026"
MARKER_ORGANIZATION = "bench-org-1"
FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam",
               "Maya", "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yara"]
LAST_NAMES = ["Adams", "Bauer", "Chen", "Diaz", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jones",
              "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Quispe", "Rossi", "Silva",
              "Tanaka", "Ueda", "Vargas", "Weber", "Zhou"]
TOPICS = ["Data Analysis", "Leadership", "Python", "Design Thinking", "Negotiation", "Machine Learning",
          "Public Speaking", "Product Management", "Statistics", "Coaching", "Marketing", "Writing"]
QUIZ = json.dumps({"questions": [
    {"prompt": "Which choice is right?", "choices": ["This one", "That one"], "answer": 0},
    {"prompt": "And which of these?", "choices": ["First", "Second", "Third"], "answer": 2}]})


class NotABenchDatabase(RuntimeError):
    """The database holds data the benchmark did not make: generating would destroy it."""


@dataclass
class Generated:
    size: str
    seconds: float
    counts: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    top_email: str = ""
    password: str = PASSWORD


def name_sql(number: str) -> str:
    return f"{pick(FIRST_NAMES, number)} || ' ' || {pick(LAST_NAMES, f'({number}) / {len(FIRST_NAMES)}')}"


def top_email() -> str:
    return f"instructor1@{EMAIL_DOMAIN}"


# --- what is in the database already ----------------------------------------------------

def marker(cur) -> dict | None:
    """The marker a finished generation left (size, migrations), or None."""
    cur.execute("SELECT settings -> 'bench' FROM organizations WHERE slug = %s", (MARKER_ORGANIZATION,))
    row = cur.fetchone()
    return row[0] if row else None


def foreign_users(cur) -> int:
    """Users the benchmark did not make (a demo, real accounts)."""
    cur.execute("SELECT count(*) FROM users WHERE email::text NOT LIKE %s", ("%@" + EMAIL_DOMAIN,))
    return cur.fetchone()[0]


def applied_migrations(cur) -> list[str]:
    cur.execute("SELECT name FROM schema_migrations ORDER BY name")
    return [row[0] for row in cur.fetchall()]


def data_tables(cur) -> list[str]:
    """Every table of public and private except the migrations' own: their record, and the kinds
    of notice (010), which the migration wrote and the notices point at."""
    cur.execute("""SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
                   WHERE schemaname IN ('public', 'private')
                     AND tablename NOT IN ('schema_migrations', 'notification_events')
                   ORDER BY 1""")
    return [row[0] for row in cur.fetchall()]


# --- the plan as temporary tables ----------------------------------------------------------

def load_plan(cur, plan: Plan) -> None:
    cur.execute("""CREATE TEMP TABLE bench_instructor ON COMMIT DROP AS
                   SELECT * FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[], %s::bool[], %s::int[])
                       AS t(i, pool_start, pool_size, org, auto_approve, workshops)""",
                plan.columns(plan.instructors, ("number", "pool_start", "pool_size", "organization",
                                                "auto_approve", "workshops")))
    cur.execute("""CREATE TEMP TABLE bench_course ON COMMIT DROP AS
                   SELECT * FROM unnest(%s::int[], %s::int[], %s::int[], %s::bigint[], %s::int[],
                                        %s::course_status[], %s::numeric[], %s::int[], %s::bool[], %s::bool[])
                       AS t(c, i, n, first_e, pool_offset, status, price, modules, certificate, drip)""",
                plan.columns(plan.courses, ("number", "instructor", "enrollments", "first_enrollment",
                                            "pool_offset", "status", "price", "modules", "certificate", "drip")))
    cur.execute("ALTER TABLE bench_course ADD PRIMARY KEY (c)")


def enrollment_fates(size: Size) -> str:
    """One row per enrollment: who, when, what became of it, and how far they got."""
    e = "bc.first_e + k"
    return f"""
CREATE TEMP TABLE bench_enrollment ON COMMIT DROP AS
SELECT s.*, now() - s.enrolled_at AS span,
       CASE WHEN s.status = 'completed' THEN s.lessons
            WHEN s.status = 'in_progress' THEN 1 + s.w % least(s.lessons - 1, 5) ELSE 0 END AS n_lp,
       CASE WHEN s.status = 'completed' THEN s.lessons
            WHEN s.status = 'in_progress' THEN s.w % least(s.lessons - 1, 5) ELSE 0 END AS n_done,
       CASE WHEN s.status = 'pending' AND s.price > 0 AND NOT s.auto_approve AND s.w % 2 = 0 THEN s.price
            WHEN s.status = 'pending' THEN 0
            WHEN s.status = 'cancelled' AND s.w % 2 = 1 THEN 0
            ELSE s.price END AS amount
FROM (
    SELECT e, c, k, instructor, lessons, price, auto_approve, student, w, enrolled_at,
           (CASE WHEN u < 20 THEN CASE WHEN price = 0 AND auto_approve THEN 'enrolled' ELSE 'pending' END
                 WHEN u < 40 THEN 'cancelled'
                 WHEN u < 50 THEN CASE WHEN price > 0 THEN 'refunded' ELSE 'cancelled' END
                 WHEN u < 130 THEN 'completed'
                 WHEN u < 580 THEN 'in_progress'
                 ELSE 'enrolled' END)::enrollment_status AS status
    FROM (
        SELECT {e} AS e, bc.c, k, bc.i AS instructor, bc.modules * 3 AS lessons, bc.price, bi.auto_approve,
               (bi.pool_start + (bc.pool_offset + k) % bi.pool_size) % {size.students} AS student,
               {rnd(e, 1, 1000)} AS u, {rnd(e, 3, 1000)} AS w,
               -- recent enrollments are more common: up to two years back, skewed to now
               now() - make_interval(secs => 3600 + power({rnd(e, 2, 1000000)} / 1e6, 1.6) * 720 * 86400) AS enrolled_at
        FROM bench_course bc
        JOIN bench_instructor bi ON bi.i = bc.i
        CROSS JOIN LATERAL generate_series(0, bc.n - 1) AS k
    ) raw
) s
"""


def workshop_plan(size: Size) -> str:
    """One row per workshop: past and completed, upcoming, draft or cancelled."""
    return """
CREATE TEMP TABLE bench_workshop ON COMMIT DROP AS
SELECT w, i, kind, capacity, price, pool_start, pool_size, start_time,
       CASE kind WHEN 'completed' THEN least(capacity * 8 / 10, pool_size)
                 WHEN 'published' THEN least(capacity * 6 / 10, pool_size) ELSE 0 END AS n
FROM (
    SELECT bi.i * 8 + j AS w, bi.i, bi.pool_start, bi.pool_size,
           (CASE j % 3 WHEN 0 THEN 'completed' WHEN 1 THEN 'published'
                       ELSE CASE WHEN j = 2 THEN 'draft' ELSE 'cancelled' END END)::workshop_status AS kind,
           20 + ((bi.i * 8 + j) % 5) * 20 AS capacity,
           CASE (bi.i * 8 + j) % 4 WHEN 0 THEN 0 ELSE 25 * ((bi.i * 8 + j) % 4) END AS price,
           CASE j % 3 WHEN 0 THEN now() - make_interval(days => 10 + (bi.i * 8 + j) % 300)
                      WHEN 1 THEN date_trunc('hour', now()) + make_interval(days => 5 + (bi.i * 8 + j) % 60)
                      ELSE date_trunc('hour', now()) + interval '90 days' END AS start_time
    FROM bench_instructor bi CROSS JOIN LATERAL generate_series(0, bi.workshops - 1) AS j
) s
"""


# --- the rows ---------------------------------------------------------------------------------

def people(size: Size) -> list[tuple[str, str]]:
    admin, org_admin = uid("staff", "1"), uid("staff", "1 + o")
    return [
        ("organizations", f"""
INSERT INTO organizations (id, name, slug, created_at, updated_at)
SELECT {uid('organization', 'o')}, 'Bench Organization ' || o, 'bench-org-' || o,
       now() - interval '800 days', now() - interval '800 days'
FROM generate_series(1, {size.organizations}) AS o"""),
        ("users", f"""
INSERT INTO users (id, email, full_name, role, organization_id, created_at, updated_at)
SELECT {admin}, 'admin@{EMAIL_DOMAIN}', 'Ada Admin', 'admin'::user_role, NULL::uuid, now() - interval '800 days', now() - interval '800 days'
UNION ALL
SELECT {org_admin}, 'orgadmin' || o || '@{EMAIL_DOMAIN}', {name_sql('o + 7')}, 'org_admin',
       {uid('organization', 'o')}, now() - interval '800 days', now() - interval '800 days'
FROM generate_series(1, {size.organizations}) AS o
UNION ALL
SELECT {uid('instructor', 'i')}, 'instructor' || i || '@{EMAIL_DOMAIN}', {name_sql('i * 5 + 3')}, 'instructor',
       CASE WHEN org > 0 THEN {uid('organization', 'org')} END, now() - interval '790 days', now() - interval '790 days'
FROM bench_instructor
UNION ALL
SELECT {uid('student', 'n')}, 'student' || n || '@{EMAIL_DOMAIN}', {name_sql('n')}, 'student', NULL,
       now() - interval '780 days', now() - interval '780 days'
FROM generate_series(0, {size.students - 1}) AS n"""),
        ("user_credentials", """
INSERT INTO private.user_credentials (user_id, password_hash, updated_at)
SELECT id, current_setting('bench.password_hash'), created_at FROM users"""),
        ("instructor_profiles", f"""
INSERT INTO instructor_profiles (user_id, headline, bio, expertise_tags, pillars, website_url, is_verified,
                                 is_featured, created_at, updated_at)
SELECT {uid('instructor', 'i')}, 'Teaches ' || {pick(TOPICS, 'i')},
       'Instructor ' || i || ' has taught ' || {pick(TOPICS, 'i')} || ' to working professionals for years.',
       ARRAY[{pick(TOPICS, 'i')}, {pick(TOPICS, 'i + 5')}],
       CASE i % 4 WHEN 0 THEN ARRAY['adaptability'] WHEN 1 THEN ARRAY['coaching'] WHEN 2 THEN ARRAY['marketplace']
                  ELSE ARRAY['adaptability', 'coaching'] END,
       'https://instructor' || i || '.{EMAIL_DOMAIN}', i % 4 = 1, i <= 3,
       now() - interval '790 days', now() - interval '790 days'
FROM bench_instructor"""),
        ("instructor_settings", f"""
INSERT INTO instructor_settings (user_id, auto_approve_enrollments, timezone, payout_schedule, created_at, updated_at)
SELECT {uid('instructor', 'i')}, auto_approve, {pick(['UTC', 'Europe/Paris', 'America/New_York'], 'i')},
       {pick(['monthly', 'weekly', 'biweekly'], 'i')}, now() - interval '790 days', now() - interval '790 days'
FROM bench_instructor"""),
    ]


# 022: one course in five (course 1 among them) has an assignment instead of the reading of its second
# module (lesson 5, position 1 of module 2: every course has at least two modules). It sits where the
# in-progress enrollments stop (at most five lessons started, at most four done), so its hand-ins are
# the completed enrollments' (graded, passed: a passing grade completes an assignment) and some of
# those who stopped there (waiting for a grade, or graded below the mark).
ASSIGNMENT_LESSON = 4
ASSIGNMENT_PASS = 60
ASSIGNMENT = f"(bc.c % 5 = 1 AND li = {ASSIGNMENT_LESSON})"


def catalog() -> list[tuple[str, str]]:
    created = "now() - interval '760 days' + make_interval(days => bc.c % 30)"
    # modules 2 and 3 open 7 and 14 days after enrolling
    drip = (f"jsonb_build_object({uid('module', 'bc.c * 4 + 1')}::text, 7) || CASE WHEN bc.modules > 2 "
            f"THEN jsonb_build_object({uid('module', 'bc.c * 4 + 2')}::text, 14) ELSE '{{}}' END")
    return [
        ("courses", f"""
INSERT INTO courses (id, title, slug, subtitle, description, level, price_amount, currency, created_at, updated_at,
                     instructor_id, organization_id, status, published_at, category, tags, what_you_will_learn,
                     target_audience, certificate_enabled, drip_content, drip_schedule)
SELECT {uid('course', 'bc.c')}, {pick(TOPICS, 'bc.c')} || ' ' || {pick(['Essentials', 'in Practice', 'Masterclass', 'Bootcamp'], 'bc.c / 12')} || ' ' || bc.c,
       'bench-course-' || bc.c, 'Learn ' || lower({pick(TOPICS, 'bc.c')}) || ' step by step',
       'A practical course in ' || lower({pick(TOPICS, 'bc.c')}) || ': short videos, readings and quizzes.',
       {pick(['beginner', 'intermediate', 'advanced', 'all_levels'], 'bc.c')}, bc.price, 'USD', {created},
       {created} + interval '5 days', {uid('instructor', 'bc.i')},
       CASE WHEN bi.org > 0 THEN {uid('organization', 'bi.org')} END, bc.status,
       CASE WHEN bc.status <> 'draft' THEN {created} + interval '5 days' END,
       {pick(TOPICS, 'bc.c')}, ARRAY[lower({pick(TOPICS, 'bc.c')}), 'bench'],
       ARRAY['The basics', 'Good habits'], ARRAY['Professionals'], bc.certificate, bc.drip,
       CASE WHEN bc.drip THEN {drip} ELSE '{{}}' END
FROM bench_course bc JOIN bench_instructor bi ON bi.i = bc.i"""),
        ("course_modules", f"""
INSERT INTO course_modules (id, course_id, title, position, created_at, updated_at)
SELECT {uid('module', 'bc.c * 4 + m')}, {uid('course', 'bc.c')}, 'Module ' || (m + 1), m,
       {created}, {created}
FROM bench_course bc CROSS JOIN LATERAL generate_series(0, bc.modules - 1) AS m"""),
        ("course_lessons", f"""
INSERT INTO course_lessons (id, module_id, course_id, title, position, content_type, body, video_url,
                            duration_minutes, is_preview, quiz, passing_score, created_at, updated_at)
SELECT {uid('lesson', 'bc.c * 16 + li')}, {uid('module', 'bc.c * 4 + li / 3')}, {uid('course', 'bc.c')},
       CASE WHEN {ASSIGNMENT} THEN 'Assignment' ELSE (ARRAY['Watch', 'Read', 'Check'])[1 + li % 3] END
           || ': part ' || (li + 1), li % 3,
       (CASE WHEN {ASSIGNMENT} THEN 'assignment'
             ELSE (ARRAY['video', 'text', 'quiz'])[1 + li % 3] END)::lesson_content_type,
       CASE WHEN {ASSIGNMENT} THEN 'Apply part ' || (li + 1) || ' to your own work and hand in what you made.'
            ELSE 'Notes for part ' || (li + 1) || '.' END,
       CASE WHEN li % 3 = 0 THEN 'https://video.{EMAIL_DOMAIN}/' || (bc.c * 16 + li) END,
       CASE WHEN li % 3 = 0 THEN 10 ELSE 5 END, li = 0,
       CASE WHEN li % 3 = 2 THEN current_setting('bench.quiz')::jsonb END,
       CASE WHEN li % 3 = 2 THEN 70 WHEN {ASSIGNMENT} THEN {ASSIGNMENT_PASS} END,
       {created}, {created}
FROM bench_course bc CROSS JOIN LATERAL generate_series(0, bc.modules * 3 - 1) AS li"""),
        ("course_instructors", f"""
INSERT INTO course_instructors (id, course_id, instructor_id, role, permissions)
SELECT {uid('co_teacher', 'c')}, {uid('course', 'c')}, {uid('instructor', 'teacher')}, 'co-instructor', permissions::jsonb
FROM (
    -- instructor 2 helps with course 1; instructor 1 co-teaches two courses of others; a few more pairs
    SELECT 1 AS c, 2 AS teacher,
           '{{"view_content": true, "edit_content": false, "manage_students": true, "view_revenue": false, "respond_reviews": true}}' AS permissions
    UNION ALL
    SELECT bc.c, CASE WHEN bc.c <= (SELECT max(c) FROM bench_course WHERE i = 1) + 2 THEN 1
                      ELSE 2 + bc.i % ((SELECT max(i) FROM bench_instructor) - 1) END,
           '{{"view_content": true, "edit_content": false, "manage_students": false, "view_revenue": false, "respond_reviews": false}}'
    FROM bench_course bc
    WHERE bc.i <> 1 AND (bc.c <= (SELECT max(c) FROM bench_course WHERE i = 1) + 2 OR bc.c % 20 = 5)
) pairs"""),
    ]


def enrollments() -> list[tuple[str, str]]:
    student, course, enrollment = uid("student", "student"), uid("course", "c"), uid("enrollment", "e")
    refund_at = "enrolled_at + span / 4"
    li_time = "be.enrolled_at + be.span * ((li + 1)::float8 / (be.lessons + 2))"
    step = "be.span * (1.0 / (be.lessons + 2))"
    return [
        ("course_enrollments", f"""
INSERT INTO course_enrollments (id, course_id, user_id, status, amount_paid, payment_status, enrolled_at,
                                completed_at, cancelled_at, created_at, updated_at)
SELECT {enrollment}, {course}, {student}, status, amount,
       (CASE WHEN status = 'refunded' THEN 'refunded'
             WHEN amount > 0 OR price = 0 THEN 'completed'
             WHEN w % 5 = 0 THEN 'failed' ELSE 'pending' END)::payment_status,
       enrolled_at,
       CASE WHEN status = 'completed' THEN enrolled_at + span * ((lessons + 0.5) / (lessons + 2)) END,
       CASE WHEN status = 'cancelled' THEN enrolled_at + span / 3 END,
       enrolled_at,
       CASE status WHEN 'completed' THEN enrolled_at + span * ((lessons + 0.5) / (lessons + 2))
                   WHEN 'cancelled' THEN enrolled_at + span / 3
                   WHEN 'refunded' THEN {refund_at} ELSE enrolled_at END
FROM bench_enrollment"""),
        ("lesson_progress", f"""
INSERT INTO lesson_progress (id, enrollment_id, lesson_id, user_id, course_id, status, watch_time_seconds,
                             quiz_score, started_at, completed_at, created_at, updated_at)
SELECT {uid('lesson_progress', 'be.e * 16 + li')}, {uid('enrollment', 'be.e')}, {uid('lesson', 'be.c * 16 + li')},
       {uid('student', 'be.student')}, {uid('course', 'be.c')},
       (CASE WHEN li < be.n_done THEN 'completed' ELSE 'in_progress' END)::lesson_progress_status,
       CASE WHEN li % 3 <> 0 THEN 0 WHEN li < be.n_done THEN 600 ELSE 240 END,
       CASE WHEN li % 3 <> 2 THEN NULL
            WHEN li < be.n_done THEN 70 + {rnd('be.e * 16 + li', 4, 31)}
            WHEN {rnd('be.e * 16 + li', 5, 2)} = 0 THEN 30 + {rnd('be.e * 16 + li', 6, 40)} END,
       {li_time}, CASE WHEN li < be.n_done THEN {li_time} + {step} * 0.5 END, {li_time},
       {li_time} + {step} * CASE WHEN li < be.n_done THEN 0.5 ELSE 0.25 END
FROM bench_enrollment be CROSS JOIN LATERAL generate_series(0, be.n_lp - 1) AS li"""),
        ("drip_unlocks", f"""
INSERT INTO drip_unlocks (id, enrollment_id, user_id, course_id, unlocked_by, created_at)
SELECT {uid('unlock', 'e')}, {enrollment}, {student}, {course}, {uid('instructor', '1')}, enrolled_at + span / 2
FROM bench_enrollment WHERE c = 1 AND status IN ('enrolled', 'in_progress')
ORDER BY e LIMIT 30"""),
        ("certificates", f"""
INSERT INTO certificates (id, enrollment_id, user_id, course_id, code, student_name, course_title,
                          instructor_name, issued_at)
SELECT {uid('certificate', 'be.e')}, {uid('enrollment', 'be.e')}, s.id, co.id, md5('bench-certificate-' || be.e),
       s.full_name, co.title, t.full_name, be.enrolled_at + be.span * ((be.lessons + 0.5) / (be.lessons + 2))
FROM bench_enrollment be
JOIN bench_course bc ON bc.c = be.c AND bc.certificate
JOIN users s ON s.id = {uid('student', 'be.student')}
JOIN courses co ON co.id = {uid('course', 'be.c')}
JOIN users t ON t.id = co.instructor_id
WHERE be.status = 'completed'"""),
        ("course_reviews", f"""
INSERT INTO course_reviews (id, course_id, user_id, rating, title, review_text, content_quality_rating,
                            instructor_rating, value_rating, instructor_response, instructor_responded_at,
                            responded_by, is_visible, moderation_reason, moderated_at, moderated_by,
                            created_at, updated_at)
SELECT {uid('review', 'e')}, {course}, {student}, rating,
       (ARRAY['Not for me', 'Could be better', 'Solid course', 'Very useful', 'Excellent'])[rating],
       'I finished every lesson. ' || (ARRAY['Too basic.', 'Uneven pace.', 'Good overall.', 'Clear and practical.', 'Best course I took this year.'])[rating],
       rating, greatest(rating - w % 2, 1), rating,
       CASE WHEN w % 3 = 0 THEN 'Thank you for the review!' END,
       CASE WHEN w % 3 = 0 THEN reviewed_at + (now() - reviewed_at) / 2 END,
       CASE WHEN w % 3 = 0 THEN {uid('instructor', 'instructor')} END,
       NOT hidden, CASE WHEN hidden THEN 'Off-topic' END,
       CASE WHEN hidden THEN reviewed_at + (now() - reviewed_at) / 3 END,
       CASE WHEN hidden THEN {uid('staff', '1')} END,
       reviewed_at, reviewed_at
FROM (
    SELECT e, c, student, instructor, w,
           (ARRAY[1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5])[1 + {rnd('e', 8, 20)}] AS rating,
           {rnd('e', 9, 50)} = 7 AS hidden,
           enrolled_at + span * ((lessons + 0.5) / (lessons + 2))
               + (now() - enrolled_at - span * ((lessons + 0.5) / (lessons + 2))) / 3 AS reviewed_at
    FROM bench_enrollment
    WHERE status = 'completed' AND {rnd('e', 7, 10)} < 4
) r"""),
        ("revenue_transactions (sales)", f"""
INSERT INTO revenue_transactions (id, instructor_id, student_id, course_id, enrollment_id, transaction_type,
                                  amount, currency, platform_fee_percentage, platform_fee_amount,
                                  instructor_earnings, payment_status, payout_status, payout_date,
                                  transaction_date, created_at)
SELECT {uid('sale', 'e')}, {uid('instructor', 'instructor')}, {student}, {course}, {enrollment}, 'course_enrollment',
       amount, 'USD', 20.00, platform_fee(amount, 20.00), amount - platform_fee(amount, 20.00), 'completed',
       (CASE WHEN enrolled_at < now() - interval '30 days' THEN 'paid' ELSE 'pending' END)::payout_status,
       CASE WHEN enrolled_at < now() - interval '30 days' THEN enrolled_at + interval '30 days' END,
       enrolled_at, enrolled_at
FROM bench_enrollment WHERE amount > 0 AND status <> 'pending'"""),
        ("revenue_transactions (refunds)", f"""
INSERT INTO revenue_transactions (id, instructor_id, student_id, course_id, enrollment_id, refund_of,
                                  transaction_type, amount, currency, platform_fee_percentage,
                                  platform_fee_amount, instructor_earnings, payment_status, payout_status,
                                  transaction_date, created_at)
SELECT {uid('refund', 'e')}, {uid('instructor', 'instructor')}, {student}, {course}, {enrollment}, {uid('sale', 'e')},
       'refund', -amount, 'USD', 20.00, -platform_fee(amount, 20.00), -(amount - platform_fee(amount, 20.00)),
       'completed', 'pending', {refund_at}, {refund_at}
FROM bench_enrollment WHERE status = 'refunded'"""),
    ]


def workshops(size: Size) -> list[tuple[str, str]]:
    registration = "bw.w * 1000 + r"
    return [
        ("workshops", f"""
INSERT INTO workshops (id, instructor_id, organization_id, title, slug, description, start_time, end_time, timezone,
                       location, meeting_url, capacity, price_amount, currency, status, type, tags, created_at,
                       updated_at)
SELECT {uid('workshop', 'bw.w')}, {uid('instructor', 'bw.i')},
       CASE WHEN bi.org > 0 THEN {uid('organization', 'bi.org')} END,
       {pick(TOPICS, 'bw.w')} || ' live session ' || bw.w, 'bench-workshop-' || bw.w,
       'A two-hour live session with exercises.', bw.start_time, bw.start_time + interval '2 hours', 'UTC',
       CASE WHEN bw.w % 3 <> 0 THEN 'Room ' || bw.w || ', Bench House' END,
       CASE WHEN bw.w % 3 <> 1 THEN 'https://meet.{EMAIL_DOMAIN}/' || bw.w END,
       bw.capacity, bw.price, 'USD', bw.kind,
       (ARRAY['online', 'in_person', 'hybrid'])[1 + bw.w % 3]::workshop_type, ARRAY['live'],
       least(bw.start_time, now()) - interval '40 days', least(bw.start_time, now()) - interval '40 days'
FROM bench_workshop bw JOIN bench_instructor bi ON bi.i = bw.i"""),
        ("workshop_registrations", f"""
INSERT INTO workshop_registrations (id, workshop_id, user_id, status, payment_status, amount_paid, registered_at,
                                    attended_at, cancelled_at, created_at, updated_at)
SELECT {uid('registration', 'number')}, {uid('workshop', 'w')}, {uid('student', 'student')}, status,
       (CASE WHEN status = 'cancelled' AND price > 0 THEN 'pending' ELSE 'completed' END)::payment_status,
       CASE WHEN status = 'cancelled' THEN 0 ELSE price END,
       registered_at, CASE WHEN status = 'attended' THEN start_time + interval '5 minutes' END,
       CASE WHEN status = 'cancelled' THEN registered_at + interval '12 hours' END, registered_at,
       CASE WHEN status = 'attended' THEN start_time + interval '5 minutes'
            WHEN status = 'cancelled' THEN registered_at + interval '12 hours' ELSE registered_at END
FROM (
    SELECT {registration} AS number, bw.w, bw.price, bw.start_time,
           (bw.pool_start + (bw.w * 37 + r) % bw.pool_size) % {size.students} AS student,
           (CASE WHEN bw.kind = 'completed' THEN
                     CASE WHEN {rnd(registration, 11, 20)} < 15 THEN 'attended'
                          WHEN {rnd(registration, 11, 20)} < 18 THEN 'no_show' ELSE 'cancelled' END
                 ELSE CASE WHEN {rnd(registration, 11, 20)} < 18 THEN 'registered' ELSE 'cancelled' END
            END)::registration_status AS status,
           CASE WHEN bw.kind = 'completed' THEN bw.start_time - make_interval(days => 1 + r % 20)
                ELSE now() - make_interval(days => 1 + r % 20) END AS registered_at
    FROM bench_workshop bw CROSS JOIN LATERAL generate_series(0, bw.n - 1) AS r
) s"""),
        ("workshop_feedback", f"""
INSERT INTO workshop_feedback (id, workshop_id, user_id, overall_satisfaction, content_rating, delivery_rating,
                               interaction_rating, what_went_well, nps_score, would_recommend, created_at, updated_at)
SELECT {rekind('feedback', 'g.id')}, g.workshop_id, g.user_id, 3 + {rnd('g.number', 12, 3)},
       3 + {rnd('g.number', 13, 3)}, 3 + {rnd('g.number', 14, 3)}, 3 + {rnd('g.number', 15, 3)},
       'Good exercises.', 6 + {rnd('g.number', 16, 5)}, true,
       w.end_time + interval '1 day', w.end_time + interval '1 day'
FROM (SELECT id, workshop_id, user_id, ('x' || substr(replace(id::text, '-', ''), 21))::bit(48)::bigint AS number
      FROM workshop_registrations WHERE status = 'attended') g
JOIN workshops w ON w.id = g.workshop_id
WHERE {rnd('g.number', 17, 2)} = 0"""),
        ("revenue_transactions (workshop sales)", f"""
INSERT INTO revenue_transactions (id, instructor_id, student_id, workshop_id, workshop_registration_id,
                                  transaction_type, amount, currency, platform_fee_percentage, platform_fee_amount,
                                  instructor_earnings, payment_status, payout_status, payout_date,
                                  transaction_date, created_at)
SELECT {rekind('workshop_sale', 'g.id')}, w.instructor_id, g.user_id, g.workshop_id, g.id, 'workshop_registration',
       g.amount_paid, 'USD', 20.00, platform_fee(g.amount_paid, 20.00),
       g.amount_paid - platform_fee(g.amount_paid, 20.00), 'completed',
       (CASE WHEN g.registered_at < now() - interval '30 days' THEN 'paid' ELSE 'pending' END)::payout_status,
       CASE WHEN g.registered_at < now() - interval '30 days' THEN g.registered_at + interval '30 days' END,
       g.registered_at, g.registered_at
FROM workshop_registrations g JOIN workshops w ON w.id = g.workshop_id
WHERE g.amount_paid > 0 AND g.payment_status = 'completed'"""),
    ]


def payouts() -> list[tuple[str, str]]:
    """020: the rows paid out above, in one paid payout per instructor, currency and month (a row is
    paid out by exactly one payout, whose totals are its rows': private.verify_money)."""
    return [
        ("payouts", """
INSERT INTO payouts (id, instructor_id, currency, status, line_count, gross_amount, fee_amount, total_amount,
                     cutoff, scheduled_for, created_at, paid_at)
SELECT gen_random_uuid(), instructor_id, currency, 'paid', count(*), sum(amount), sum(platform_fee_amount),
       sum(instructor_earnings), max(payout_date), max(payout_date)::date, max(payout_date), max(payout_date)
FROM revenue_transactions WHERE payout_status = 'paid' AND payout_id IS NULL
GROUP BY instructor_id, currency, date_trunc('month', payout_date)"""),
        ("revenue_transactions (their payouts)", """
UPDATE revenue_transactions r SET payout_id = p.id
FROM payouts p
WHERE r.payout_status = 'paid' AND r.payout_id IS NULL AND p.status = 'paid'
  AND (p.instructor_id, p.currency) = (r.instructor_id, r.currency)
  AND date_trunc('month', p.paid_at) = date_trunc('month', r.payout_date)"""),
    ]


def activity() -> list[tuple[str, str]]:
    """The timeline the triggers would have written for every row above, at the rows' own times."""
    insert = ("INSERT INTO student_activity (id, activity_type, instructor_id, student_id, course_id, "
              "workshop_id, lesson_id, metadata, occurred_at)\n")
    from_enrollments = (f"{uid('instructor', 'instructor')}, {uid('student', 'student')}, "
                        f"{uid('course', 'c')}, NULL::uuid, NULL::uuid")
    return [
        ("student_activity (enrolled)", insert + f"""
SELECT {uid('act_enrolled', 'e')}, 'enrolled', {from_enrollments},
       jsonb_build_object('status', CASE WHEN price > 0 OR NOT auto_approve THEN 'pending' ELSE 'enrolled' END),
       enrolled_at
FROM bench_enrollment"""),
        ("student_activity (lessons)", insert + f"""
SELECT {rekind('act_lesson_started', 'p.id')}, 'lesson_started'::activity_type, c.instructor_id, p.user_id, p.course_id, NULL::uuid,
       p.lesson_id, '{{}}'::jsonb, p.started_at
FROM lesson_progress p JOIN courses c ON c.id = p.course_id
UNION ALL
SELECT {rekind('act_lesson_completed', 'p.id')}, 'lesson_completed', c.instructor_id, p.user_id, p.course_id, NULL,
       p.lesson_id, '{{}}'::jsonb, p.completed_at
FROM lesson_progress p JOIN courses c ON c.id = p.course_id WHERE p.status = 'completed'
UNION ALL
SELECT {rekind('act_quiz', 'p.id')},
       (CASE WHEN p.quiz_score >= 70 THEN 'quiz_passed' ELSE 'quiz_failed' END)::activity_type,
       c.instructor_id, p.user_id, p.course_id, NULL, p.lesson_id,
       jsonb_build_object('quiz_score', p.quiz_score, 'passing_score', 70), coalesce(p.completed_at, p.updated_at)
FROM lesson_progress p JOIN courses c ON c.id = p.course_id WHERE p.quiz_score IS NOT NULL"""),
        ("student_activity (enrollment ends)", insert + f"""
SELECT {uid('act_course_completed', 'e')}, 'course_completed'::activity_type, {from_enrollments},
       '{{"status": "completed"}}'::jsonb, enrolled_at + span * ((lessons + 0.5) / (lessons + 2))
FROM bench_enrollment WHERE status = 'completed'
UNION ALL
SELECT {uid('act_cancelled', 'e')}, 'enrollment_cancelled', {from_enrollments},
       '{{"status": "cancelled"}}'::jsonb, enrolled_at + span / 3
FROM bench_enrollment WHERE status = 'cancelled'
UNION ALL
SELECT {uid('act_refunded', 'e')}, 'refunded', {from_enrollments}, '{{"status": "refunded"}}'::jsonb, enrolled_at + span / 4
FROM bench_enrollment WHERE status = 'refunded'"""),
        ("student_activity (reviews)", insert + f"""
SELECT {rekind('act_review', 'r.id')}, 'review_posted', c.instructor_id, r.user_id, r.course_id, NULL::uuid, NULL::uuid,
       jsonb_build_object('rating', r.rating, 'review_id', r.id), r.created_at
FROM course_reviews r JOIN courses c ON c.id = r.course_id"""),
        ("student_activity (workshops)", insert + f"""
SELECT {rekind('act_registered', 'g.id')}, 'workshop_registered'::activity_type, w.instructor_id, g.user_id, NULL::uuid, g.workshop_id,
       NULL::uuid, '{{"status": "registered"}}'::jsonb, g.registered_at
FROM workshop_registrations g JOIN workshops w ON w.id = g.workshop_id
UNION ALL
SELECT {rekind('act_attended', 'g.id')}, 'workshop_attended', w.instructor_id, g.user_id, NULL, g.workshop_id,
       NULL, '{{"status": "attended"}}'::jsonb, g.attended_at
FROM workshop_registrations g JOIN workshops w ON w.id = g.workshop_id WHERE g.status = 'attended'
UNION ALL
SELECT {rekind('act_workshop_cancelled', 'g.id')}, 'workshop_cancelled', w.instructor_id, g.user_id, NULL,
       g.workshop_id, NULL, '{{"status": "cancelled"}}'::jsonb, g.cancelled_at
FROM workshop_registrations g JOIN workshops w ON w.id = g.workshop_id WHERE g.status = 'cancelled'
UNION ALL
SELECT {rekind('act_feedback', 'f.id')}, 'feedback_submitted', w.instructor_id, f.user_id, NULL, f.workshop_id,
       NULL, jsonb_build_object('overall_satisfaction', f.overall_satisfaction, 'nps_score', f.nps_score),
       f.created_at
FROM workshop_feedback f JOIN workshops w ON w.id = f.workshop_id"""),
    ]


# 022's posts. Their authors are the courses' active students who have started a lesson (and the
# courses' owners, who answer and reply); a "classmate" is another enrollment of the same course,
# when it is an active one (a reply, an answer or a report by another student).
COMMENTS = ["Great explanation, thank you!", "Could you share the slides for this part?",
            "The example at the end made it click for me.", "I got stuck on the second step: is there a trick?",
            "This is exactly what I needed for my job.", "Is there a reading list to go further?",
            "The audio is a bit quiet in the middle.", "I tried this at work today and it worked."]
REPLIES = ["Same here!", "Good point, thanks.", "Have a look at the notes of the next part.",
           "Thanks for the kind words: glad it helps.", "I had the same question."]
QUESTIONS = ["How do I apply this to a small team?", "What is the difference between the two approaches?",
             "Which tools do you recommend for this?", "Is there a template I can start from?",
             "How long should this take in practice?", "Why does the second example give another result?"]
ANSWERS = ["Start small: pick one case and try it this week.", "The second one scales better; the first is simpler.",
           "Any spreadsheet will do at first.", "Yes: see the resources of module 1.",
           "It depends on the data, but about an hour.", "Good catch: the inputs differ slightly."]
ACTIVE_SQL = "('enrolled', 'in_progress', 'completed')"


def _classmate(number: str, salt: int) -> str:
    """SQL: the number of another enrollment of ``be``'s course (``bc``), picked by ``number``."""
    return f"bc.first_e + (be.e - bc.first_e + 1 + {rnd(number, salt, 'greatest(bc.n - 1, 1)')}) % bc.n"


def discussions() -> list[tuple[str, str]]:
    """022: lesson comments (about 0.2 per enrollment at every size, a tenth of them replies), questions
    (0.05 per enrollment, half on a lesson, 70% answered once to three times, 40% of those with an
    accepted answer), the assignments' hand-ins (the completed enrollments', graded and passed, and
    some of those who stopped at the assignment: waiting, or graded below the mark), a few hundred
    open reports per million enrollments, and the hand-ins' activity. The posts are on published
    courses (their comments and questions on: the defaults), on lessons the author has started (early
    ones more often: the biggest course's first lessons get the most). Their kept figures are
    figures.py's (FIGURES)."""
    teacher, mate = uid("instructor", "i"), uid("student", "mate")
    li_time = f"be.enrolled_at + be.span * (({ASSIGNMENT_LESSON} + 1)::float8 / (be.lessons + 2))"
    step = "be.span * (1.0 / (be.lessons + 2))"
    started = "least({a}, {b})"   # a lesson the author started, early ones more often
    return [
        ("plan: threads", f"""
CREATE TEMP TABLE bench_thread ON COMMIT DROP AS
SELECT x.t, x.c, x.i, x.student, x.li,
       x.enrolled_at + x.span * ((x.li + 1.3 + 0.2 * (x.t % 4)) / (x.lessons + 2)) AS created_at,
       CASE WHEN x.n > 1 AND b2.status IN {ACTIVE_SQL} THEN b2.student END AS mate
FROM (
    SELECT be.e * 4 + j AS t, be.c, bc.i, be.student, be.lessons, be.enrolled_at, be.span, bc.n,
           {started.format(a=rnd('be.e * 4 + j', 41, 'be.n_lp'), b=rnd('be.e * 4 + j', 42, 'be.n_lp'))} AS li,
           {_classmate('be.e * 4 + j', 43)} AS mate_e
    FROM bench_enrollment be
    JOIN bench_course bc ON bc.c = be.c AND bc.status = 'published'
    CROSS JOIN LATERAL generate_series(0, CASE WHEN {rnd('be.e', 40, 1000)} < 250 THEN 0
                                               WHEN {rnd('be.e', 40, 1000)} < 300 THEN 1
                                               WHEN {rnd('be.e', 40, 1000)} < 320 THEN 2 ELSE -1 END) AS j
    WHERE be.n_lp > 0
) x
LEFT JOIN bench_enrollment b2 ON b2.e = x.mate_e"""),
        ("lesson_comments (threads)", f"""
INSERT INTO lesson_comments (id, course_id, lesson_id, author_id, body, is_visible, created_at)
SELECT {uid('comment', 't')}, {uid('course', 'c')}, {uid('lesson', 'c * 16 + li')}, {uid('student', 'student')},
       {pick(COMMENTS, 't')}, {rnd('t', 47, 500)} <> 0, created_at
FROM bench_thread"""),
        ("lesson_comments (replies)", f"""
INSERT INTO lesson_comments (id, course_id, lesson_id, author_id, parent_id, body, created_at)
SELECT {uid('comment_reply', 't * 2 + r')}, {uid('course', 'c')}, {uid('lesson', 'c * 16 + li')},
       CASE WHEN r = 1 THEN {uid('student', 'student')}
            WHEN {rnd('t', 46, 2)} = 0 AND mate IS NOT NULL THEN {mate} ELSE {teacher} END,
       {uid('comment', 't')}, {pick(REPLIES, 't + r')}, created_at + (now() - created_at) * (r + 1) / 6
FROM bench_thread
CROSS JOIN LATERAL generate_series(0, CASE WHEN {rnd('t', 44, 100)} >= 9 THEN -1
                                           WHEN {rnd('t', 45, 100)} < 30 THEN 1 ELSE 0 END) AS r"""),
        ("plan: questions", f"""
CREATE TEMP TABLE bench_question ON COMMIT DROP AS
SELECT x.q, x.c, x.i, x.student, x.li, x.answers, x.accepted, x.created_at,
       CASE WHEN x.n > 1 AND b2.status IN {ACTIVE_SQL} THEN b2.student END AS mate
FROM (
    SELECT be.e AS q, be.c, bc.i, be.student, bc.n, l.li,
           CASE WHEN {rnd('be.e', 55, 100)} < 70 THEN 1 + {rnd('be.e', 56, 3)} ELSE 0 END AS answers,
           {rnd('be.e', 57, 100)} < 40 AS accepted,
           CASE WHEN l.li IS NOT NULL THEN be.enrolled_at + be.span * ((l.li + 1.5) / (be.lessons + 2))
                ELSE be.enrolled_at + be.span * ((50 + {rnd('be.e', 54, 900)}) / 1000.0) END AS created_at,
           {_classmate('be.e', 58)} AS mate_e
    FROM bench_enrollment be
    JOIN bench_course bc ON bc.c = be.c AND bc.status = 'published'
    CROSS JOIN LATERAL (SELECT CASE WHEN {rnd('be.e', 51, 2)} = 0
                                    THEN {started.format(a=rnd('be.e', 52, 'be.n_lp'), b=rnd('be.e', 53, 'be.n_lp'))}
                               END AS li) l
    WHERE be.n_lp > 0 AND {rnd('be.e', 50, 1000)} < 94
) x
LEFT JOIN bench_enrollment b2 ON b2.e = x.mate_e"""),
        ("course_questions", f"""
INSERT INTO course_questions (id, course_id, lesson_id, author_id, title, body, accepted_answer_id, is_visible,
                              created_at)
SELECT {uid('question', 'q')}, {uid('course', 'c')}, CASE WHEN li IS NOT NULL THEN {uid('lesson', 'c * 16 + li')} END,
       {uid('student', 'student')}, {pick(QUESTIONS, 'q')} || coalesce(' (part ' || (li + 1) || ')', ''),
       'I read the notes twice and tried it on my own example.',
       CASE WHEN answers > 0 AND accepted THEN {uid('answer', 'q * 4')} END, {rnd('q', 59, 200)} <> 0, created_at
FROM bench_question"""),
        ("question_answers", f"""
INSERT INTO question_answers (id, question_id, course_id, author_id, body, created_at)
SELECT {uid('answer', 'q * 4 + r')}, {uid('question', 'q')}, {uid('course', 'c')},
       -- the first answer mostly the teacher's, then a classmate's, then the teacher's again
       CASE WHEN r = 0 AND ({rnd('q', 60, 10)} < 7 OR mate IS NULL) THEN {teacher}
            WHEN r = 0 THEN {mate}
            WHEN r = 1 AND {rnd('q', 60, 10)} < 7 AND mate IS NOT NULL THEN {mate} ELSE {teacher} END,
       {pick(ANSWERS, 'q + r')}, created_at + (now() - created_at) * (r + 1) / 8
FROM bench_question CROSS JOIN LATERAL generate_series(0, answers - 1) AS r"""),
        ("assignment_submissions", f"""
INSERT INTO assignment_submissions (id, enrollment_id, user_id, course_id, lesson_id, body, link_url, status, score,
                                    passing_score, feedback, graded_by, graded_at, submitted_at, created_at)
SELECT {uid('submission', 'be.e')}, {uid('enrollment', 'be.e')}, {uid('student', 'be.student')},
       {uid('course', 'be.c')}, {uid('lesson', f'be.c * 16 + {ASSIGNMENT_LESSON}')},
       'What I made for this assignment, and what I would do differently next time.',
       CASE WHEN {rnd('be.e', 71, 3)} = 0 THEN 'https://work.{EMAIL_DOMAIN}/' || be.e END,
       (CASE WHEN fate = 'waiting' THEN 'submitted' ELSE 'graded' END)::submission_status,
       CASE fate WHEN 'passed' THEN {ASSIGNMENT_PASS} + {rnd('be.e', 72, 101 - ASSIGNMENT_PASS)}
                 WHEN 'failed' THEN 20 + {rnd('be.e', 72, ASSIGNMENT_PASS - 20)} END,
       CASE WHEN fate <> 'waiting' THEN {ASSIGNMENT_PASS} END,
       CASE fate WHEN 'passed' THEN 'Clear and complete: well done.'
                 WHEN 'failed' THEN 'A good start: the second part is missing.' END,
       CASE WHEN fate <> 'waiting' THEN {uid('instructor', 'be.instructor')} END,
       CASE WHEN fate <> 'waiting' THEN {li_time} + {step} * 0.4 END,   -- before the lesson's completion (+0.5)
       {li_time} + {step} * 0.1, {li_time} + {step} * 0.1
FROM (SELECT be.*, CASE WHEN be.n_done > {ASSIGNMENT_LESSON} THEN 'passed'
                        WHEN {rnd('be.e', 70, 100)} < 60 THEN
                            CASE WHEN {rnd('be.e', 73, 100)} < 20 THEN 'failed' ELSE 'waiting' END END AS fate
      FROM bench_enrollment be
      WHERE be.c % 5 = 1 AND be.n_lp > {ASSIGNMENT_LESSON}) be
WHERE fate IS NOT NULL"""),
        ("discussion_reports", f"""
INSERT INTO discussion_reports (id, comment_id, question_id, reporter_id, reason, details, resolved_at, resolved_by,
                                created_at)
SELECT {uid('report', 'n')}, comment_id, question_id, coalesce({mate}, {teacher}),
       (ARRAY['spam', 'offensive', 'off_topic', 'other'])[1 + {rnd('n', 81, 4)}]::discussion_report_reason,
       'Reported from the lesson page.',
       CASE WHEN {rnd('n', 82, 3)} = 0 THEN created_at + (now() - created_at) * 3 / 4 END,
       CASE WHEN {rnd('n', 82, 3)} = 0 THEN {uid('staff', '1')} END,
       created_at + (now() - created_at) / 2
FROM (SELECT t AS n, {uid('comment', 't')} AS comment_id, NULL::uuid AS question_id, mate, i, created_at
      FROM bench_thread
      WHERE {rnd('t', 80, 1000)} < 3 OR t IN (SELECT t FROM bench_thread WHERE c = 1 ORDER BY t LIMIT 3)
      UNION ALL
      -- (a question's number is its enrollment's, times 4 plus 3: no thread has it)
      SELECT q * 4 + 3, NULL, {uid('question', 'q')}, mate, i, created_at
      FROM bench_question WHERE {rnd('q', 83, 1000)} < 3) r"""),
        ("student_activity (assignments)", f"""
INSERT INTO student_activity (id, activity_type, instructor_id, student_id, course_id, workshop_id, lesson_id,
                              metadata, occurred_at)
SELECT {rekind('act_submitted', 's.id')}, 'assignment_submitted'::activity_type, c.instructor_id, s.user_id,
       s.course_id, NULL::uuid, s.lesson_id, jsonb_build_object('submission_id', s.id, 'resubmitted', false),
       s.submitted_at
FROM assignment_submissions s JOIN courses c ON c.id = s.course_id
UNION ALL
SELECT {rekind('act_graded', 's.id')}, 'assignment_graded', c.instructor_id, s.user_id, s.course_id, NULL,
       s.lesson_id, jsonb_build_object('submission_id', s.id, 'score', s.score, 'passing_score', s.passing_score,
                                       'passed', s.score >= s.passing_score), s.graded_at
FROM assignment_submissions s JOIN courses c ON c.id = s.course_id WHERE s.status = 'graded'"""),
    ]


def outbox() -> list[tuple[str, str]]:
    """The notices the triggers would have written: each enrollment told its course's owner, in the
    portal and by email (sent); those older than a week were read."""
    return [("notifications (enrollments)", f"""
INSERT INTO notifications (id, user_id, event_type, payload, in_portal, email_state, email_attempts,
                           email_sent_at, read_at, created_at)
SELECT {uid('notice_enrolled', 'e')}, {uid('instructor', 'b.instructor')}, 'new_enrollment',
       jsonb_build_object('kind', 'enrolled', 'course_id', {uid('course', 'b.c')}, 'course_title', c.title,
                          'student_name', u.full_name),
       true, 'sent', 1, b.enrolled_at + interval '1 minute',
       CASE WHEN b.enrolled_at < now() - interval '7 days' THEN b.enrolled_at + interval '1 day' END, b.enrolled_at
FROM bench_enrollment b
JOIN courses c ON c.id = {uid('course', 'b.c')}
JOIN users u ON u.id = {uid('student', 'b.student')}""")]


def steps(size: Size) -> list[tuple[str, str]]:
    """Every loading statement, in foreign-key order."""
    return [*people(size), *catalog(), ("plan: enrollments", enrollment_fates(size)),
            ("plan: workshops", workshop_plan(size)), *enrollments(), *workshops(size), *payouts(), *activity(),
            *discussions(), *outbox()]


# --- the run ----------------------------------------------------------------------------------

COUNTED = ("users", "courses", "course_modules", "course_lessons", "course_enrollments", "lesson_progress",
           "student_progress", "student_activity", "revenue_transactions", "course_reviews", "workshops",
           "workshop_registrations", "workshop_feedback", "certificates", "notifications",
           "lesson_comments", "course_questions", "question_answers", "assignment_submissions", "discussion_reports")


def set_aside(cur, tables: list[str]) -> list[str]:
    """Drop the foreign keys and the secondary indexes of ``tables``; return what restores them.

    pg_restore's order: rows first, then indexes built in one sort each, then
    foreign keys checked in one join each, instead of an index insertion and a
    key lookup per row (several times faster on millions of rows). The
    definitions are read back from the catalog (pg_get_indexdef,
    pg_get_constraintdef), so whatever a later migration adds is restored as
    it was, under the same name. Indexes that back a constraint (primary
    keys, unique constraints, the targets of foreign keys) stay.
    """
    cur.execute("""SELECT pg_get_indexdef(i.indexrelid), format('DROP INDEX %%s', i.indexrelid::regclass)
                   FROM pg_index i
                   WHERE i.indrelid = ANY (%s::regclass[])
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                   ORDER BY 2""", (tables,))
    indexes = cur.fetchall()
    cur.execute("""SELECT format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass, conname,
                                 pg_get_constraintdef(oid)),
                          format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname)
                   FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY (%s::regclass[])
                   ORDER BY 2""", (tables,))
    foreign_keys = cur.fetchall()
    for _, drop in foreign_keys + indexes:
        cur.execute(drop)
    return [create for create, _ in indexes + foreign_keys]


def _timed(cur, name: str, work, timings: dict) -> None:
    """Run ``work`` (a statement, or a function of the cursor) and record how long it took."""
    started = time.perf_counter()
    if isinstance(work, str):
        cur.execute(work)  # no parameters: the statements' % are SQL's modulo
    else:
        work(cur)
    timings[name] = round(time.perf_counter() - started, 2)
    log.info("%s: %s rows in %.1f s", name, cur.rowcount, timings[name])


def generate(owner_dsn: str, size: Size, *, force: bool = False) -> Generated:
    """Replace the database's data with a benchmark dataset of ``size``; see the module docstring."""
    started = time.perf_counter()
    result = Generated(size=size.name, seconds=0.0, top_email=top_email())
    conn = psycopg2.connect(owner_dsn)
    try:
        with conn, conn.cursor() as cur:  # one transaction: a failure rolls everything back
            refuse_foreign_data(cur, force)
            prepare_session(cur)
            tables = data_tables(cur)
            cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            switch_triggers(cur, tables, "DISABLE")
            restore = set_aside(cur, tables)
            load(cur, make_plan(size), result.steps)
            _timed(cur, "figures", figures.compute, result.steps)
            _timed(cur, "indexes and foreign keys", lambda c: [c.execute(s) for s in restore], result.steps)
            switch_triggers(cur, tables, "ENABLE")
        result.counts = finish(conn)
        conn.autocommit = False
        with conn, conn.cursor() as cur:  # verified on settled rows; marked only when exact
            result.figures = figures.settle(cur)
            mark(cur, size)
    finally:
        conn.close()
    result.seconds = round(time.perf_counter() - started, 1)
    return result


def refuse_foreign_data(cur, force: bool) -> None:
    foreign = foreign_users(cur)
    if foreign and not force:
        raise NotABenchDatabase(f"this database holds {foreign} user(s) the benchmark did not make; "
                                "pass --force to replace everything in it")


def prepare_session(cur) -> None:
    """Memory for the big joins and index builds, and what the statements share (read with
    current_setting()): one password hash for every user, one quiz for every quiz lesson."""
    cur.execute("SET LOCAL work_mem = '256MB'")
    cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
    cur.execute("SET LOCAL portal.audit_log_reset = 'on'")  # the audit log refuses TRUNCATE otherwise (016)
    cur.execute("SELECT set_config('bench.password_hash', %s, true), set_config('bench.quiz', %s, true)",
                (hash_password(PASSWORD), QUIZ))


def switch_triggers(cur, tables: list[str], action: str) -> None:
    """``ALTER TABLE ... DISABLE|ENABLE TRIGGER USER`` (the owner may; system triggers stay on).

    There is no ``finally`` that re-enables them: the ALTERs belong to the
    generation's transaction, so an error anywhere rolls them back with the rows.
    """
    for table in tables:
        cur.execute(f"ALTER TABLE {table} {action} TRIGGER USER")


# Statistics after these steps, for the statements that join what they wrote: the plan tables, and the
# payouts with the rows they pay (unanalyzed, the next UPDATE's join went nested-loop at 100k: 13 s).
ANALYZED_AFTER = {"plan: enrollments": "bench_enrollment", "plan: workshops": "bench_workshop",
                  "plan: threads": "bench_thread", "plan: questions": "bench_question",
                  "payouts": "payouts, revenue_transactions"}


def load(cur, plan: Plan, timings: dict) -> None:
    """The plan as temporary tables, every loading statement, then statistics for what follows."""
    load_plan(cur, plan)
    for name, statement in steps(plan.size):
        _timed(cur, name, statement, timings)
        if name in ANALYZED_AFTER:
            cur.execute(f"ANALYZE {ANALYZED_AFTER[name]}")
    cur.execute("ANALYZE")


def mark(cur, size: Size) -> None:
    """Record what was generated, against which migrations (``bench run`` regenerates when they change)."""
    cur.execute("UPDATE organizations SET settings = settings || jsonb_build_object('bench', %s::jsonb) "
                "WHERE slug = %s",
                (json.dumps({"size": size.name, "migrations": applied_migrations(cur)}), MARKER_ORGANIZATION))


def finish(conn) -> dict:
    """After the commit: the monthly stats view, statistics and visibility maps; the row counts."""
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("REFRESH MATERIALIZED VIEW instructor_monthly_stats")
        cur.execute("VACUUM ANALYZE")
        counts = {}
        for table in COUNTED:
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
    return counts

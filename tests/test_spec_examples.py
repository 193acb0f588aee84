"""Every SQL example of the specification (instructor-schema-overview.md) runs and returns the right rows.

The SQL of each example is copied verbatim from the specification's "Example
Usage", "Usage" and "Common Maintenance Tasks" blocks (and the EXPLAIN ANALYZE
tip); only the placeholder ids 'xxx' and 'course-id' are substituted. User-facing
examples run as the user who would run them (an instructor, or anyone for the
public profile searches); maintenance runs as the owner.
"""

from decimal import Decimal

import psycopg2
import psycopg2.extras
import pytest

from tests.support import pay_seat
from tests.support import (Actor, complete_course, enroll, gen_course, gen_user, gen_workshop, mismatches, pay,
                           record_lesson, register)

D = Decimal

# --- the examples, verbatim -----------------------------------------------------------

PROFILES_BY_EXPERTISE = """SELECT * FROM instructor_profiles WHERE 'AI Transformation' = ANY(expertise_tags);"""

PROFILES_BY_PILLAR = """SELECT * FROM instructor_profiles WHERE 'adaptability' = ANY(pillars) AND is_verified = true;"""

SETTINGS_UPDATE = """UPDATE instructor_settings
SET email_notifications = email_notifications || '{"new_enrollment": false}'::jsonb
WHERE user_id = 'xxx';"""

STRUGGLING_STUDENTS = """-- Get all students struggling (< 30% progress after 7 days)
SELECT * FROM student_progress
WHERE course_id = 'xxx'
AND progress_percentage < 30
AND created_at < now() - INTERVAL '7 days';"""

RECENT_ACTIVITY = """-- Get recent activity for instructor
SELECT * FROM student_activity
WHERE instructor_id = 'xxx'
ORDER BY occurred_at DESC
LIMIT 50;"""

MONTHLY_REVENUE = """-- Get monthly revenue breakdown
SELECT
  DATE_TRUNC('month', transaction_date) AS month,
  COUNT(*) AS transaction_count,
  SUM(amount) AS gross_revenue,
  SUM(instructor_earnings) AS net_revenue
FROM revenue_transactions
WHERE instructor_id = 'xxx'
AND payment_status = 'completed'
GROUP BY month
ORDER BY month DESC;"""

UNANSWERED_REVIEWS = """-- Get unanswered reviews for instructor
SELECT * FROM course_reviews cr
JOIN courses c ON cr.course_id = c.id
WHERE c.instructor_id = 'xxx'
AND cr.instructor_response IS NULL
ORDER BY cr.created_at DESC;"""

DASHBOARD_USAGE = """SELECT * FROM get_instructor_dashboard_stats('xxx');"""

ALL_STUDENTS_USAGE = """-- All students for instructor
SELECT * FROM get_instructor_student_progress('xxx');"""

COURSE_STUDENTS_USAGE = """-- Students for specific course
SELECT * FROM get_instructor_student_progress('xxx', 'course-id');"""

REVENUE_USAGE = """-- Last 30 days
SELECT * FROM get_instructor_revenue_breakdown(
  'xxx',
  now() - INTERVAL '30 days',
  now()
);"""

RECENT_USAGE = """-- Last 50 activities
SELECT * FROM get_instructor_recent_activity('xxx', 50);"""

EXPLAIN_TIP = """EXPLAIN ANALYZE
SELECT * FROM get_instructor_dashboard_stats('xxx');"""

REBUILD_STATS = """-- If stats get out of sync, rebuild them
UPDATE instructor_profiles ip
SET
  total_students = (SELECT COUNT(DISTINCT ce.user_id) FROM course_enrollments ce JOIN courses c ON ce.course_id = c.id WHERE c.instructor_id = ip.user_id),
  total_courses = (SELECT COUNT(*) FROM courses WHERE instructor_id = ip.user_id AND status = 'published'),
  -- ... etc
WHERE user_id = 'xxx';"""

ARCHIVE_ACTIVITY = """-- Archive activity older than 1 year
DELETE FROM student_activity
WHERE occurred_at < now() - INTERVAL '1 year';"""

VACUUM_ANALYZE = """-- Run periodically for performance
VACUUM ANALYZE courses;
VACUUM ANALYZE student_progress;
VACUUM ANALYZE revenue_transactions;"""


def with_ids(example, xxx, course_id=None):
    """The example with only its placeholder ids replaced."""
    text = example.replace("'xxx'", f"'{xxx}'")
    if course_id is not None:
        text = text.replace("'course-id'", f"'{course_id}'")
    return text


def run(database, who, query):
    """The example as one request by ``who`` (a user id or an Actor); rows (if any) and rowcount."""
    actor = who if isinstance(who, Actor) else Actor.user(who)
    with database.act(actor) as cur:
        cur.execute(query)
        return (cur.fetchall() if cur.description else []), cur.rowcount


def owner_run(database, query):
    with database.owner.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(query)
        return (cur.fetchall() if cur.description else []), cur.rowcount


def set_profile(database, instructor, **fields):
    """The instructor edits their own profile (as a request)."""
    sets = ", ".join(f"{k} = %({k})s" for k in fields)
    with database.act(Actor.user(instructor)) as cur:
        cur.execute(f"UPDATE instructor_profiles SET {sets} WHERE user_id = %(me)s", {**fields, "me": instructor})
        assert cur.rowcount == 1


def verify(database, admin, instructor):
    with database.act(Actor.user(admin)) as cur:
        cur.execute("UPDATE instructor_profiles SET is_verified = true WHERE user_id = %s", (instructor,))
        assert cur.rowcount == 1


# --- 1. instructor_profiles ------------------------------------------------------------

@pytest.mark.parametrize("reader", ["anon", "student"])
def test_profiles_by_expertise(database, reader):
    """'AI Transformation' = ANY(expertise_tags) finds exactly the instructors tagged so (case matters)."""
    tagged, other, lower = (gen_user(database, "instructor") for _ in range(3))
    set_profile(database, tagged, expertise_tags=["AI Transformation", "Leadership"])
    set_profile(database, other, expertise_tags=["Data Science"])
    set_profile(database, lower, expertise_tags=["ai transformation"])
    who = Actor.anon() if reader == "anon" else gen_user(database)
    rows, _ = run(database, who, PROFILES_BY_EXPERTISE)
    assert [r["user_id"] for r in rows] == [tagged]
    assert rows[0]["expertise_tags"] == ["AI Transformation", "Leadership"]


def test_profiles_by_pillar_and_verification(database):
    """Verified instructors with the adaptability pillar, and no one else."""
    admin = gen_user(database, "admin")
    wanted, unverified, other_pillar = (gen_user(database, "instructor") for _ in range(3))
    set_profile(database, wanted, pillars=["adaptability", "coaching"])
    set_profile(database, unverified, pillars=["adaptability"])
    set_profile(database, other_pillar, pillars=["coaching"])
    verify(database, admin, wanted)
    verify(database, admin, other_pillar)
    rows, _ = run(database, Actor.anon(), PROFILES_BY_PILLAR)
    assert [(r["user_id"], r["is_verified"]) for r in rows] == [(wanted, True)]


# --- 2. instructor_settings --------------------------------------------------------------

def test_settings_update_turns_off_one_notification(database):
    """The merge turns new_enrollment off and keeps every other preference; only the caller's row changes."""
    teacher, other = gen_user(database, "instructor"), gen_user(database, "instructor")
    before = database.value("SELECT email_notifications FROM instructor_settings WHERE user_id = %s", (teacher,))
    assert before["new_enrollment"] is True
    # Another instructor running it with the teacher's id changes nothing.
    _, count = run(database, other, with_ids(SETTINGS_UPDATE, teacher))
    assert count == 0
    assert database.value("SELECT email_notifications FROM instructor_settings WHERE user_id = %s",
                          (teacher,)) == before
    _, count = run(database, teacher, with_ids(SETTINGS_UPDATE, teacher))
    assert count == 1
    after = database.value("SELECT email_notifications FROM instructor_settings WHERE user_id = %s", (teacher,))
    assert after == {**before, "new_enrollment": False}
    assert database.value("SELECT email_notifications ->> 'new_enrollment' FROM instructor_settings "
                          "WHERE user_id = %s", (other,)) == "true"


# --- 3. student_progress ------------------------------------------------------------------

def test_struggling_students(database):
    """Under 30% and enrolled over 7 days ago: the 0% and 25% students, not the 50% one nor the newcomer."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher, lessons=("text", "text", "text", "text"))
    elsewhere = gen_course(database, teacher)
    stuck, slow, fine, new = (gen_user(database) for _ in range(4))
    e = {s: enroll(database, s, course.id) for s in (stuck, slow, fine, new)}
    other = enroll(database, stuck, elsewhere.id)
    record_lesson(database, slow, e[slow], course, course.lessons[0])
    for lesson in course.lessons[:2]:
        record_lesson(database, fine, e[fine], course, lesson)
    database.rows("UPDATE student_progress SET created_at = now() - interval '10 days' "
                  "WHERE enrollment_id IN (%s, %s, %s, %s)", (e[stuck], e[slow], e[fine], other))
    rows, _ = run(database, teacher, with_ids(STRUGGLING_STUDENTS, course.id))
    assert sorted((r["enrollment_id"], r["user_id"], r["progress_percentage"]) for r in rows) == sorted([
        (e[stuck], stuck, D("0.00")), (e[slow], slow, D("25.00"))])
    assert mismatches(database) == []


# --- 4. student_activity -------------------------------------------------------------------

def test_recent_activity_for_instructor(database):
    """The instructor's timeline, newest first, without another instructor's rows."""
    teacher, rival = gen_user(database, "instructor"), gen_user(database, "instructor")
    ann, ben = gen_user(database), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text"))
    rival_course = gen_course(database, rival)
    e_ann = enroll(database, ann, course.id)
    enroll(database, ben, course.id)
    enroll(database, ann, rival_course.id)
    record_lesson(database, ann, e_ann, course, course.lessons[0])
    register(database, ben, gen_workshop(database, teacher))
    rows, _ = run(database, teacher, with_ids(RECENT_ACTIVITY, teacher))
    assert [(r["activity_type"], r["student_id"]) for r in rows][:1] == [("workshop_registered", ben)]
    assert sorted((r["activity_type"], str(r["student_id"])) for r in rows) == sorted([
        ("enrolled", str(ann)), ("enrolled", str(ben)), ("lesson_started", str(ann)),
        ("lesson_completed", str(ann)), ("workshop_registered", str(ben))])
    assert {r["instructor_id"] for r in rows} == {teacher}
    assert [r["occurred_at"] for r in rows] == sorted((r["occurred_at"] for r in rows), reverse=True)


# --- 5. revenue_transactions ----------------------------------------------------------------

def test_monthly_revenue_breakdown(database):
    """This month: Bob's sale and refund and Cy's seat (3 rows, 25.00 gross, 20.00 net); January 2024: Al's sale."""
    teacher, rival = gen_user(database, "instructor"), gen_user(database, "instructor")
    al, bob, cy = gen_user(database), gen_user(database), gen_user(database)
    course = gen_course(database, teacher, price="49.99")
    e_al, e_bob = enroll(database, al, course.id), enroll(database, bob, course.id)
    pay(database, e_al)
    pay(database, e_bob)
    with database.act(Actor.service()) as cur:
        cur.execute("SELECT refund_course_enrollment(%s)", (e_bob,))
    workshop = gen_workshop(database, teacher, price="25.00")
    seat = register(database, cy, workshop)
    pay_seat(database, seat)
    pay(database, enroll(database, al, gen_course(database, rival, price="10.00").id))
    database.rows("UPDATE revenue_transactions SET transaction_date = '2024-01-15 12:00+00' "
                  "WHERE enrollment_id = %s AND transaction_type = 'course_enrollment'", (e_al,))
    rows, _ = run(database, teacher, with_ids(MONTHLY_REVENUE, teacher))
    now = database.value("SELECT now()")
    assert [((r["month"].year, r["month"].month), r["transaction_count"], r["gross_revenue"], r["net_revenue"])
            for r in rows] == [
        ((now.year, now.month), 3, D("25.00"), D("20.00")),
        ((2024, 1), 1, D("49.99"), D("39.99")),
    ]


# --- 6. course_reviews ------------------------------------------------------------------------

def test_unanswered_reviews(database):
    """The instructor's reviews without a response, newest first; answered ones and others' courses left out."""
    teacher, rival = gen_user(database, "instructor"), gen_user(database, "instructor")
    s1, s2, s3, s4 = (gen_user(database) for _ in range(4))
    a = gen_course(database, teacher, lessons=("text",))
    b = gen_course(database, teacher, lessons=("text",))
    r = gen_course(database, rival, lessons=("text",))
    for s in (s1, s2, s3):
        complete_course(database, s, a)
    complete_course(database, s1, b)
    complete_course(database, s4, r)
    ids = {}
    for student, course, rating in ((s1, a, 5), (s2, a, 4), (s3, a, 3), (s1, b, 2), (s4, r, 1)):
        with database.act(Actor.user(student)) as cur:
            cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, %s) RETURNING id",
                        (course.id, student, rating))
            ids[(student, course.id)] = cur.fetchone()["id"]
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE course_reviews SET instructor_response = 'Thank you!' WHERE id = %s",
                    (ids[(s2, a.id)],))
        assert cur.rowcount == 1
    # As printed, SELECT * names courses.total_revenue, which no API role selects since 006 (a
    # course's revenue is read through course_revenue() by those who may see its money): the
    # example is refused, and runs as meant with the course's columns it needs named.
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="courses"):
        with database.act(Actor.user(teacher)) as cur:
            cur.execute(with_ids(UNANSWERED_REVIEWS, teacher))
    narrowed = UNANSWERED_REVIEWS.replace("SELECT *", "SELECT cr.*, c.id, c.title")
    with database.act(Actor.user(teacher)) as cur:
        plain = cur.connection.cursor()  # same request; tuples, since both tables have an id column
        plain.execute(with_ids(narrowed, teacher))
        columns = [c.name for c in plain.description]
        rows = plain.fetchall()
    review_id, course_id = columns.index("id"), columns.index("id", columns.index("id") + 1)
    assert [(row[review_id], row[course_id]) for row in rows] == [
        (ids[(s1, b.id)], b.id), (ids[(s3, a.id)], a.id), (ids[(s1, a.id)], a.id)]


# --- helper functions: the "Usage" blocks -----------------------------------------------------

@pytest.fixture(scope="module")
def teaching(module_database):
    """Tia: an "Intro Course" (49.99, text + quiz) Al completes and rates 4 and Bo is refunded for; a free
    "Free Course" Cy is half-way through; a 15.00 workshop Cy pays for. Rex, another instructor, sells Al a course."""
    db = module_database
    tia, rex = gen_user(db, "instructor", name="Tia Teacher"), gen_user(db, "instructor", name="Rex Rival")
    al, bo, cy = (gen_user(db, name=n) for n in ("Al Student", "Bo Student", "Cy Student"))
    intro = gen_course(db, tia, price="49.99", lessons=("text", "quiz"), passing_score=50, title="Intro Course")
    free = gen_course(db, tia, lessons=("text", "text"), title="Free Course")
    e_al = complete_course(db, al, intro, score=100)
    with db.act(Actor.user(al)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 4)", (intro.id, al))
    e_bo = enroll(db, bo, intro.id)
    pay(db, e_bo)
    with db.act(Actor.service()) as cur:
        cur.execute("SELECT refund_course_enrollment(%s)", (e_bo,))
    e_cy = enroll(db, cy, free.id)
    record_lesson(db, cy, e_cy, free, free.lessons[0])
    pay(db, enroll(db, al, gen_course(db, rex, price="10.00").id))
    seat = register(db, cy, gen_workshop(db, tia, price="15.00", title="Tia Live"))
    pay_seat(db, seat)
    return dict(db=db, tia=tia, rex=rex, al=al, bo=bo, cy=cy, intro=intro, free=free,
                e_al=e_al, e_bo=e_bo, e_cy=e_cy)


def test_dashboard_stats_usage(teaching):
    """3 students, 2 courses, 1 workshop, 39.99 + 39.99 - 39.99 + 12.00 = 51.99 earned, rated 4.00."""
    t = teaching
    rows, _ = run(t["db"], t["tia"], with_ids(DASHBOARD_USAGE, t["tia"]))
    assert rows == [{"total_students": 3, "total_courses": 2, "total_workshops": 1,
                     "total_revenue": D("51.99"), "pending_revenue": D("51.99"),
                     "average_rating": D("4.00"), "total_reviews": 1,
                     "active_enrollments": 1, "upcoming_workshops": 1}]


def test_student_progress_usage_all_students(teaching):
    """All Tia's students: Cy half-way, Al done, Bo refunded (never active, last)."""
    t = teaching
    rows, _ = run(t["db"], t["tia"], with_ids(ALL_STUDENTS_USAGE, t["tia"]))
    assert [(r["student_name"], r["course_title"], r["enrollment_status"], r["progress_percentage"])
            for r in rows] == [
        ("Cy Student", "Free Course", "in_progress", D("50.00")),
        ("Al Student", "Intro Course", "completed", D("100.00")),
        ("Bo Student", "Intro Course", "refunded", D("0.00")),
    ]


def test_student_progress_usage_one_course(teaching):
    """Students of the Intro Course only: Al and Bo."""
    t = teaching
    rows, _ = run(t["db"], t["tia"], with_ids(COURSE_STUDENTS_USAGE, t["tia"], t["intro"].id))
    assert [(r["enrollment_id"], r["student_id"], r["course_id"]) for r in rows] == [
        (t["e_al"], t["al"], t["intro"].id), (t["e_bo"], t["bo"], t["intro"].id)]


def test_revenue_breakdown_usage_last_30_days(teaching):
    """Two sales, one seat, one refund over the last 30 days."""
    t = teaching
    rows, _ = run(t["db"], t["tia"], with_ids(REVENUE_USAGE, t["tia"]))
    assert [(r["transaction_type"], r["transaction_count"], r["total_amount"], r["total_fees"],
             r["total_earnings"]) for r in rows] == [
        ("course_enrollment", 2, D("99.98"), D("20.00"), D("79.98")),
        ("workshop_registration", 1, D("15.00"), D("3.00"), D("12.00")),
        ("refund", 1, D("-49.99"), D("-10.00"), D("-39.99")),
    ]


def test_recent_activity_usage(teaching):
    """Tia's 14 activities, newest (Cy's registration) first, none of Rex's."""
    t = teaching
    rows, _ = run(t["db"], t["tia"], with_ids(RECENT_USAGE, t["tia"]))
    assert len(rows) == 14
    assert (rows[0]["activity_type"], rows[0]["description"]) == (
        "workshop_registered", "Cy Student registered for Tia Live")
    by_student = {}
    for r in rows:
        by_student.setdefault(r["student_name"], []).append(r["activity_type"])
    assert {k: sorted(v) for k, v in by_student.items()} == {
        "Al Student": sorted(["enrolled", "lesson_started", "lesson_started", "lesson_completed",
                              "lesson_completed", "quiz_passed", "course_completed", "review_posted"]),
        "Bo Student": ["enrolled", "refunded"],
        "Cy Student": sorted(["enrolled", "lesson_started", "lesson_completed", "workshop_registered"]),
    }


def test_explain_analyze_tip_runs(teaching):
    """EXPLAIN ANALYZE of the dashboard call runs for the instructor and reports its execution."""
    t = teaching
    rows, _ = run(t["db"], t["tia"], with_ids(EXPLAIN_TIP, t["tia"]))
    plan = "\n".join(r["QUERY PLAN"] for r in rows)
    assert "actual time=" in plan and "Execution Time" in plan


# --- Common Maintenance Tasks (as the owner) -------------------------------------------------

@pytest.fixture()
def forged(database):
    """Two instructors with real figures, then forged ones (as a drift would leave them)."""
    tia, rex = gen_user(database, "instructor"), gen_user(database, "instructor")
    a, b = gen_course(database, tia), gen_course(database, tia)
    gen_course(database, tia, status="draft")
    s1, s2 = gen_user(database), gen_user(database)
    enroll(database, s1, a.id)
    enroll(database, s1, b.id)
    enroll(database, s2, b.id)
    gen_course(database, rex)
    database.rows("UPDATE instructor_profiles SET total_students = 99, total_courses = 42")
    return {"tia": tia, "rex": rex}


def test_rebuild_instructor_stats_as_written(database, forged):
    """The maintenance UPDATE as printed does not parse: the specification leaves a comma before
    its "-- ... etc" (PostgreSQL rejects it). The next test runs it mended; rebuild_denormalized_figures()
    is the complete rebuild."""
    with pytest.raises(psycopg2.errors.SyntaxError):
        owner_run(database, with_ids(REBUILD_STATS, forged["tia"]))


def test_rebuild_instructor_stats_without_the_dangling_comma(database, forged):
    """With its one syntax slip mended, the rebuild restores Tia's two figures and touches no one else."""
    mended = REBUILD_STATS.replace("status = 'published'),\n", "status = 'published')\n")
    assert mended != REBUILD_STATS
    _, count = owner_run(database, with_ids(mended, forged["tia"]))
    assert count == 1
    figures = "SELECT total_students, total_courses FROM instructor_profiles WHERE user_id = %s"
    assert database.rows(figures, (forged["tia"],)) == [{"total_students": 2, "total_courses": 2}]
    assert database.rows(figures, (forged["rex"],)) == [{"total_students": 99, "total_courses": 42}]
    assert [(m["table_name"], m["row_id"]) for m in mismatches(database)] == [
        ("instructor_profiles", forged["rex"])]


def test_archive_old_activity(database):
    """Activity older than a year is deleted; a day younger than a year, and today's, stay."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "text"))
    enrollment = enroll(database, student, course.id)
    for lesson in course.lessons:
        record_lesson(database, student, enrollment, course, lesson)
    total = database.value("SELECT count(*) FROM student_activity")
    assert total == 6  # enrolled, 2 x (started, completed), course_completed
    database.rows("UPDATE student_activity SET occurred_at = now() - interval '400 days' "
                  "WHERE activity_type = 'lesson_started'")
    database.rows("UPDATE student_activity SET occurred_at = now() - interval '364 days' "
                  "WHERE activity_type = 'enrolled'")
    _, count = owner_run(database, ARCHIVE_ACTIVITY)
    assert count == 2
    assert sorted(r["activity_type"] for r in database.rows("SELECT activity_type::text FROM student_activity")) \
        == ["course_completed", "enrolled", "lesson_completed", "lesson_completed"]


def test_vacuum_analyze(database):
    """The three VACUUM ANALYZE statements run (autocommit, as the owner) and are recorded in the statistics."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    complete_course(database, student, gen_course(database, teacher, price="5.00"))
    tables = ("courses", "student_progress", "revenue_transactions")
    stats = ("SELECT relname, last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed "
             "FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = ANY (%s) ORDER BY relname")
    assert all(not r["vacuumed"] for r in database.rows(stats, (list(tables),)))
    conn = psycopg2.connect(database.owner_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # As psql sends them: one statement at a time (VACUUM refuses a multi-statement string).
            for statement in VACUUM_ANALYZE.split(";")[:-1]:
                cur.execute(statement + ";")
    finally:
        conn.close()
    assert database.rows(stats, (list(tables),)) == [
        {"relname": t, "vacuumed": True, "analyzed": True} for t in sorted(tables)]


def test_instructor_monthly_stats_is_a_materialized_view_refreshable_concurrently(database):
    """The tip's materialized view exists with a unique index and refreshes CONCURRENTLY with the new figures."""
    assert database.value("SELECT count(*) FROM pg_matviews WHERE schemaname = 'public' "
                          "AND matviewname = 'instructor_monthly_stats'") == 1
    unique = database.rows(
        """SELECT i.indexrelid::regclass::text AS name FROM pg_index i
           WHERE i.indrelid = 'public.instructor_monthly_stats'::regclass AND i.indisunique
             AND i.indpred IS NULL AND i.indexprs IS NULL""")
    assert unique == [{"name": "uq_instructor_monthly_stats"}]
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    pay(database, enroll(database, student, gen_course(database, teacher, price="30.00").id))
    owner_run(database, "REFRESH MATERIALIZED VIEW CONCURRENTLY public.instructor_monthly_stats")
    assert database.rows("SELECT new_enrollments, gross_revenue, net_revenue FROM instructor_monthly_stats "
                         "WHERE instructor_id = %s", (teacher,)) == [
        {"new_enrollments": 1, "gross_revenue": D("30.00"), "net_revenue": D("24.00")}]

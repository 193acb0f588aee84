"""The roster's rules in SQL (013), as the API roles: who reads which students' progress, the roster's
own statements run raw as each actor, the at-risk rule at its boundaries and per instructor, the
dashboard's bounded at-risk count against the rule row by row, the approval counts that leave the
unpaid apart, and attacks (someone else's instructor id, a co-teacher without the permissions)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from portal.students import roster
from tests.support import (Actor, Database, enroll, gen_account, gen_course, gen_user, pay, record_lesson)

PERMS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")
COS = {"co_view": ("view_content",), "co_manage": ("manage_students",), "co_revenue": ("view_revenue",),
       "co_none": ()}


@pytest.fixture(scope="module")
def db(module_database) -> Database:
    return module_database


@pytest.fixture(scope="module")
def cast(db):
    """An owner with a course co-taught by one co-teacher per permission set, another instructor
    with a course of their own, and students enrolled (dates set as the owner)."""
    users = {name: gen_user(db, "instructor", name=name.title()) for name in ("owner", *COS, "other")}
    course = gen_course(db, users["owner"], lessons=("text",) * 4)
    for actor, granted in COS.items():
        db.value("INSERT INTO course_instructors (course_id, instructor_id, role, permissions) "
                 "VALUES (%s, %s, 'co-instructor', %s) RETURNING id",
                 (course.id, users[actor], json.dumps({p: p in granted for p in PERMS})))
    elsewhere = gen_course(db, users["other"], lessons=("text",) * 2)
    students = {}
    for name, days, active, done in (("fresh", 1, 0, 0), ("lagging", 12, 1, 0), ("idle", 40, 20, 3),
                                     ("never", 30, None, 0), ("fine", 20, 2, 2), ("new_idle", 3, None, 0)):
        students[name] = place(db, course, name, days, active, done)
    students["theirs"] = place(db, elsewhere, "theirs", 30, None, 0)
    return {"users": users, "course": course, "elsewhere": elsewhere, "students": students}


def place(db, course, name, days_ago, active_days_ago, done):
    student = gen_user(db, "student", name=f"Student {name}")
    enrollment = enroll(db, student, course.id)
    for lesson in course.lessons[:done]:
        record_lesson(db, student, enrollment, course, lesson)
    db.value("UPDATE course_enrollments SET enrolled_at = now() - %s * interval '1 day' WHERE id = %s RETURNING id",
             (days_ago, enrollment))
    db.value("UPDATE student_progress SET last_activity_at = CASE WHEN %s::integer IS NULL THEN NULL "
             "ELSE now() - %s * interval '1 day' END WHERE enrollment_id = %s RETURNING id",
             (active_days_ago, active_days_ago, enrollment))
    return {"user": student, "enrollment": enrollment}


def as_user(db, user, sql, params=None):
    with db.act(Actor.user(user)) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


# --- who reads the roster's rows ------------------------------------------------------------------

@pytest.mark.parametrize("actor, sees", [("owner", True), ("co_view", True), ("co_manage", True),
                                         ("co_revenue", False), ("co_none", False), ("other", False)])
def test_student_progress_of_a_course_is_read_by_its_teachers_only(db, cast, actor, sees):
    rows = as_user(db, cast["users"][actor], "SELECT enrollment_id FROM student_progress WHERE course_id = %s",
                   (cast["course"].id,))
    assert len(rows) == (6 if sees else 0)


def test_a_student_reads_only_their_own_progress(db, cast):
    student = cast["students"]["idle"]
    rows = as_user(db, student["user"], "SELECT enrollment_id FROM student_progress")
    assert [row["enrollment_id"] for row in rows] == [student["enrollment"]]


def roster_sql(view_args: dict, limits=roster.Thresholds(), sort="activity", matches=()):
    """The roster's first page statement exactly as the portal builds it, and its parameters (a
    search's statement takes the matching students' ids, ``matches``, as roster.matches reads them)."""
    view = roster.LIST.read({**view_args, "sort": sort})
    conditions, params = roster._filters(view, limits)
    params["matches"] = list(matches)
    course = roster.course_id(view)
    params["limit"] = 50
    if course:
        params["course"] = course
    sql = roster._page_sql(roster.ORDERS[view.sort], conditions, down=roster.ORDERS[view.sort].descending,
                           after=False, search=bool(view.q), course=course is not None, at_risk=bool(view.risk))
    return sql, params


@pytest.mark.parametrize("search", [False, True])
@pytest.mark.parametrize("actor, count", [("owner", 6), ("co_view", 6), ("co_manage", 6), ("co_revenue", 0),
                                          ("co_none", 0), ("other", 1)])
def test_the_roster_statement_run_raw_answers_for_the_caller_s_courses_only(db, cast, actor, count, search):
    """The portal's own statement, run as the actor in raw SQL, with and without a search (and even
    naming the owner's course): the caller's roster courses and nothing else."""
    user = cast["users"][actor]
    found = [r["user_id"] for r in as_user(db, user, "SELECT user_id FROM roster_search('student')")]
    sql, params = roster_sql({"q": "student"} if search else {}, matches=found)
    rows = as_user(db, user, sql, params)
    assert len(rows) == count
    if search:  # the ids are the caller's to give: every student of the platform changes nothing
        everyone = [r["id"] for r in db.rows("SELECT id FROM users")]
        sql, params = roster_sql({"q": "student"}, matches=everyone)
        assert len(as_user(db, user, sql, params)) == count
    sql, params = roster_sql({"course": str(cast["course"].id)})
    assert len(as_user(db, cast["users"][actor], sql, params)) == (count if actor != "other" else 0)


def test_an_admin_or_a_student_gets_no_roster_from_the_statement(db, cast):
    admin = gen_user(db, "admin")
    sql, params = roster_sql({})
    assert as_user(db, admin, sql, params) == []
    assert as_user(db, cast["students"]["idle"]["user"], sql, params) == []


# --- the at-risk rule -----------------------------------------------------------------------------

AT = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def lagging(db, status, enrolled_days, progress, percent=30, after=7, at=AT, nudge=timedelta(0)):
    return db.value("SELECT student_lagging(%s::enrollment_status, %s, %s, %s, %s, %s)",
                    (status, at - timedelta(days=enrolled_days) + nudge, progress, percent, after, at))


def inactive(db, status, enrolled_days, active_days, days=14, at=AT, nudge=timedelta(0)):
    last = None if active_days is None else at - timedelta(days=active_days) + nudge
    return db.value("SELECT student_inactive(%s::enrollment_status, %s, %s, %s, %s)",
                    (status, at - timedelta(days=enrolled_days) + nudge, last, days, at))


def test_lagging_boundaries(db):
    assert lagging(db, "enrolled", 7, 29.99) is True                              # exactly 7 days, under 30%
    assert lagging(db, "enrolled", 7, 29.99, nudge=timedelta(microseconds=1)) is False   # a microsecond short
    assert lagging(db, "in_progress", 30, 30) is False                            # exactly 30% is not under
    assert lagging(db, "in_progress", 30, 0) is True
    assert lagging(db, "enrolled", 12, 10, percent=11, after=12) is True           # the instructor's own figures
    assert lagging(db, "enrolled", 12, 10, percent=10, after=12) is False
    for status in ("completed", "pending", "cancelled", "refunded"):
        assert lagging(db, status, 100, 0) is False, status


def test_inactivity_boundaries(db):
    assert inactive(db, "enrolled", 30, 14) is True                               # exactly 14 days
    assert inactive(db, "enrolled", 30, 14, nudge=timedelta(microseconds=1)) is False
    assert inactive(db, "enrolled", 14, None) is True                              # never active: since enrolling
    assert inactive(db, "enrolled", 13, None) is False
    assert inactive(db, "in_progress", 30, 20, days=21) is False                   # the instructor's own figure
    for status in ("completed", "pending", "cancelled", "refunded"):
        assert inactive(db, status, 300, 200) is False, status


def test_the_rule_is_inlined_into_the_statements_that_use_it(db, cast):
    """student_lagging and student_inactive are STABLE SQL functions, so PostgreSQL inlines them: the
    roster's at-risk statement and a plain query calling them name no function in their plans (an
    IMMUTABLE label over a STABLE body was never inlined and ran once per row)."""
    assert db.value("SELECT string_agg(DISTINCT provolatile::text, '') FROM pg_proc "
                    "WHERE proname IN ('student_lagging', 'student_inactive')") == "s"
    sql, params = roster_sql({"risk": "at_risk"}, sort="progress")
    plain = ("SELECT student_lagging(e.status, e.enrolled_at, s.progress_percentage, 30, 7, now()), "
             "student_inactive(e.status, e.enrolled_at, s.last_activity_at, 14, now()) "
             "FROM student_progress s JOIN course_enrollments e ON e.id = s.enrollment_id")
    with db.act(Actor.user(cast["users"]["owner"])) as cur:
        for statement, values in ((sql, params), (plain, None)):
            cur.execute("EXPLAIN (VERBOSE) " + statement, values)
            plan = "\n".join(row["QUERY PLAN"] for row in cur.fetchall())
            assert "student_lagging" not in plan and "student_inactive" not in plan, plan
            assert "enrolled_at" in plan  # the rule's body is there instead


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Pacific/Chatham"])
def test_the_rule_does_not_depend_on_the_session_s_time_zone(db, zone):
    """A day is 24 hours: across New York's daylight saving change (8 March 2026), seven days before
    noon UTC on 9 March is exactly 168 hours before it in every zone (a calendar day would put the
    boundary an hour later in New York)."""
    at = datetime(2026, 3, 9, 12, tzinfo=timezone.utc)
    week = at - timedelta(hours=168)
    with db.owner.cursor() as cur:
        cur.execute("BEGIN")
        try:
            cur.execute("SET LOCAL TimeZone = %s", (zone,))
            answers = []
            for enrolled in (week, week + timedelta(minutes=30)):
                cur.execute("SELECT student_lagging('enrolled', %s, 0, 30, 7, %s), "
                            "student_inactive('enrolled', %s, NULL, 7, %s)", (enrolled, at, enrolled, at))
                answers.append(cur.fetchone())
        finally:
            cur.execute("ROLLBACK")
    assert answers == [(True, True), (False, False)]


def at_risk_by_rule(db, user) -> set:
    """The at-risk enrollments of the caller's roster, by the rule applied row by row (the filter)."""
    sql, params = roster_sql({"risk": "at_risk"}, roster.Thresholds(*as_user(db, user, "SELECT * FROM at_risk_thresholds()")[0].values()))
    params["limit"] = 100_000
    return {row["enrollment_id"] for row in as_user(db, user, sql, params)}


def count(db, user) -> int:
    return as_user(db, user, "SELECT at_risk_count() AS n")[0]["n"]


def test_the_bounded_count_is_the_rule_s_count(db, cast):
    s = cast["students"]
    owner = cast["users"]["owner"]
    expected = {s["lagging"]["enrollment"], s["idle"]["enrollment"], s["never"]["enrollment"]}
    assert at_risk_by_rule(db, owner) == expected
    assert count(db, owner) == 3
    for actor in ("co_view", "co_manage"):
        assert count(db, cast["users"][actor]) == len(at_risk_by_rule(db, cast["users"][actor])) == 3
    assert count(db, cast["users"]["co_none"]) == count(db, cast["users"]["co_revenue"]) == 0
    assert count(db, cast["users"]["other"]) == 1  # their own student, never active for 30 days


def test_per_instructor_thresholds_move_both_the_count_and_the_filter(db, cast):
    co = cast["users"]["co_view"]
    db.value("UPDATE instructor_settings SET at_risk_progress_percent = 60, at_risk_after_days = 2, "
             "inactive_after_days = 2 WHERE user_id = %s RETURNING user_id", (co,))
    try:
        s = cast["students"]
        # 2 days: everyone under 60% enrolled 2+ days ago, and everyone idle 2+ days (new_idle: 3 days
        # never active; fine: 50% and active 2 days ago).
        expected = {s[name]["enrollment"] for name in ("lagging", "idle", "never", "fine", "new_idle")}
        assert at_risk_by_rule(db, co) == expected
        assert count(db, co) == 5
        assert count(db, cast["users"]["owner"]) == 3  # the owner's figures are the owner's
    finally:
        db.value("UPDATE instructor_settings SET at_risk_progress_percent = 30, at_risk_after_days = 7, "
                 "inactive_after_days = 14 WHERE user_id = %s RETURNING user_id", (co,))


def test_completed_and_ended_enrollments_are_never_at_risk(db, cast):
    owner = cast["users"]["owner"]
    course = gen_course(db, owner, lessons=("text",))
    done = place(db, course, "done", 90, 80, 1)
    gone = place(db, course, "gone", 90, None, 0)
    db.value("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s RETURNING id", (gone["enrollment"],))
    assert db.value("SELECT status::text FROM course_enrollments WHERE id = %s", (done["enrollment"],)) == "completed"
    assert count(db, owner) == 3 and done["enrollment"] not in at_risk_by_rule(db, owner)
    assert gone["enrollment"] not in at_risk_by_rule(db, owner)


def test_the_count_reads_only_the_recent_window(db, cast):
    """The count's statements are range scans of the inactivity window (no sequential scan of the
    instructor's history): the plans name the activity and enrollment-date indexes."""
    with db.act(Actor.user(cast["users"]["owner"])) as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("""EXPLAIN SELECT count(*) FROM student_progress s JOIN course_enrollments e ON e.id = s.enrollment_id
                       WHERE s.course_id = ANY (%s) AND s.last_activity_at > now() - interval '14 days'""",
                    ([cast["course"].id],))
        plan = "\n".join(row["QUERY PLAN"] for row in cur.fetchall())
    assert "idx_student_progress_course_activity" in plan


def test_the_search_finds_the_caller_s_students_only_through_the_trigram_index(db, cast):
    """roster_search answers with the caller's own students whose name or email contains the text
    (any case; LIKE's characters are plain), nobody else's; its statement, run as the owner it runs
    as, can read users by the trigram index (the planner picks it once users outnumber the caller's
    enrollments; here, a few rows, it is told to prefer indexes)."""
    owner, other = cast["users"]["owner"], cast["users"]["other"]
    lagging = cast["students"]["lagging"]["user"]
    assert as_user(db, owner, "SELECT user_id FROM roster_search('LAGG')") == [{"user_id": lagging}]
    email = db.value("SELECT email::text FROM users WHERE id = %s", (lagging,))
    assert as_user(db, owner, "SELECT user_id FROM roster_search(%s)", (email.upper(),)) == [{"user_id": lagging}]
    assert as_user(db, owner, "SELECT user_id FROM roster_search('%%')") == []
    assert as_user(db, owner, "SELECT user_id FROM roster_search('n_w')") == []  # not "new"
    assert as_user(db, owner, "SELECT user_id FROM roster_search('W_I')") == [{"user_id": cast["students"]["new_idle"]["user"]}]
    assert as_user(db, owner, "SELECT user_id FROM roster_search('')") == []
    found = {r["user_id"] for r in as_user(db, owner, "SELECT user_id FROM roster_search('student')")}
    assert {s["user"] for name, s in cast["students"].items() if name != "theirs"} <= found
    assert cast["students"]["theirs"]["user"] not in found
    for actor in ("other", "co_none", "co_revenue"):  # the owner's students are not theirs to find
        assert lagging not in {r["user_id"] for r in as_user(db, cast["users"][actor],
                                                              "SELECT user_id FROM roster_search('lagg')")}
    assert len(as_user(db, other, "SELECT user_id FROM roster_search('student')")) == 1
    assert as_user(db, cast["students"]["idle"]["user"], "SELECT user_id FROM roster_search('student')") == []
    with db.owner.cursor() as cur:
        cur.execute("BEGIN")
        try:
            cur.execute("SET LOCAL enable_seqscan = off")
            # the function's condition on users (its expression is the index's)
            cur.execute("""EXPLAIN SELECT u.id FROM public.users u
                           WHERE lower(u.full_name || ' ' || u.email::text) LIKE '%lagg%'""")
            plan = "\n".join(row[0] for row in cur.fetchall())
        finally:
            cur.execute("ROLLBACK")
    assert "idx_users_search" in plan, plan
    sql, params = roster_sql({"q": "lagg"}, matches=[lagging])
    assert [row["student_name"] for row in as_user(db, owner, sql, params)] == ["Student lagging"]


def test_the_search_takes_three_characters_and_answers_at_most_what_is_asked(db, cast):
    """Under 3 characters there is no trigram to look up (the scan would read every user): nothing.
    p_limit bounds the answer (the page asks for SEARCH_CAP + 1 to know there are too many); NULL or
    no limit is every match (the export)."""
    owner = cast["users"]["owner"]
    mine = {s["user"] for name, s in cast["students"].items() if name != "theirs"}
    for short in ("st", "  s ", "_"):
        assert as_user(db, owner, "SELECT user_id FROM roster_search(%s)", (short,)) == []
    found = {r["user_id"] for r in as_user(db, owner, "SELECT user_id FROM roster_search('stu')")}
    assert mine <= found and cast["students"]["theirs"]["user"] not in found
    assert {r["user_id"] for r in as_user(db, owner, "SELECT user_id FROM roster_search('stu', NULL)")} == found
    assert len(as_user(db, owner, "SELECT user_id FROM roster_search('student', 2)")) == 2
    assert as_user(db, owner, "SELECT user_id FROM roster_search('student', 0)") == []
    assert as_user(db, owner, "SELECT user_id FROM roster_search('student', -1)") == []


@pytest.mark.parametrize("sort, index", [("progress", "idx_student_progress_course_progress"),
                                         ("engagement_highest", "idx_student_progress_course_engagement"),
                                         ("activity", "idx_student_progress_course_recent"),
                                         ("enrolled", "idx_course_enrollments_course_enrolled")])
def test_each_order_reads_its_index(db, cast, sort, index):
    sql, params = roster_sql({}, sort=sort)
    with db.act(Actor.user(cast["users"]["owner"])) as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_sort = off")
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row["QUERY PLAN"] for row in cur.fetchall())
    assert index in plan, plan


@pytest.mark.parametrize("sort", ["progress", "progress_highest", "engagement", "engagement_highest"])
def test_at_risk_rows_are_tested_on_their_own_columns_before_their_enrollment_is_looked_up(db, cast, sort):
    """In the orders read from a student_progress index, the at-risk filter first tests what the rule
    implies of the progress row alone (under the percent, or idle since the window's start), in the
    scan itself, so the enrollment of a row that cannot be at risk is never looked up; the answer is
    still exactly the rule's."""
    owner = cast["users"]["owner"]
    sql, params = roster_sql({"risk": "at_risk"}, sort=sort)
    with db.act(Actor.user(owner)) as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("EXPLAIN " + sql, params)
        plan = [row["QUERY PLAN"] for row in cur.fetchall()]
    index = roster.ORDERS[sort].column.split("_")[0]
    scans = [n for n, line in enumerate(plan) if f"Index Scan using idx_student_progress_course_{index}" in line
             or f"Index Scan Backward using idx_student_progress_course_{index}" in line]
    assert scans, "\n".join(plan)
    for n in scans:  # the scan's own filter, on the progress row alone (no enrollment column in it)
        tested = plan[n + 2]
        assert "Filter:" in tested and "last_activity_at IS NULL" in tested and "enrolled_at" not in tested, \
            "\n".join(plan)
    params["limit"] = 1000
    assert {row["enrollment_id"] for row in as_user(db, owner, sql, params)} == at_risk_by_rule(db, owner)


# --- approvals: what can be approved, and what awaits payment --------------------------------------

def test_the_approval_count_leaves_unpaid_enrollments_apart(db):
    owner = gen_user(db, "instructor")
    co_manage, co_view = gen_user(db, "instructor"), gen_user(db, "instructor")
    db.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s RETURNING user_id",
             (owner,))
    paid_course, free_course = gen_course(db, owner, price="20.00"), gen_course(db, owner)
    for co, perm in ((co_manage, "manage_students"), (co_view, "view_content")):
        db.value("INSERT INTO course_instructors (course_id, instructor_id, role, permissions) "
                 "VALUES (%s, %s, 'co-instructor', %s) RETURNING id", (paid_course.id, co, json.dumps({perm: True})))
    unpaid = [enroll(db, gen_user(db), paid_course.id) for _ in range(3)]
    pay(db, unpaid[0])
    enroll(db, gen_user(db), free_course.id)

    def counts(user):
        return as_user(db, user, "SELECT pending_approvals_count() AS ready, awaiting_payment_count() AS awaiting")[0]

    assert counts(owner) == {"ready": 2, "awaiting": 2}        # the paid one and the free one; two unpaid
    assert counts(co_manage) == {"ready": 1, "awaiting": 2}    # the paid course only
    assert counts(co_view) == {"ready": 0, "awaiting": 0}      # may not decide
    assert counts(gen_user(db)) == {"ready": 0, "awaiting": 0}
    pay(db, unpaid[1])
    assert counts(owner) == {"ready": 3, "awaiting": 1}
    assert db.value("SELECT sum(pending_enrollment_count) FROM courses WHERE instructor_id = %s", (owner,)) == 4


def test_awaiting_payment_is_counted_not_derived_from_a_kept_figure(db):
    """awaiting_payment_count counts the unpaid pending enrollments themselves: a drifted kept
    pending figure (here set to 0 as the owner) cannot make it negative or wrong."""
    owner = gen_user(db, "instructor")
    db.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s RETURNING user_id",
             (owner,))
    course = gen_course(db, owner, price="20.00")
    paid = enroll(db, gen_user(db), course.id)
    enroll(db, gen_user(db), course.id)  # unpaid
    pay(db, paid)
    db.value("UPDATE courses SET pending_enrollment_count = 0 WHERE id = %s RETURNING id", (course.id,))
    assert as_user(db, owner, "SELECT pending_approvals_count() AS ready, awaiting_payment_count() AS awaiting")[0] \
        == {"ready": 1, "awaiting": 1}


# --- attacks --------------------------------------------------------------------------------------

def test_someone_else_s_instructor_id_gets_nothing(db, cast):
    """Raw SQL as another instructor, naming the owner: the 008 progress page (whose id it checks)
    returns nothing, and 013's functions, which take no id, answer for the caller alone."""
    other, owner = cast["users"]["other"], cast["users"]["owner"]
    assert as_user(db, other, "SELECT * FROM get_instructor_student_progress_page(%s, %s)",
                   (owner, cast["course"].id)) == []
    assert as_user(db, other, "SELECT * FROM get_instructor_student_progress(%s)", (owner,)) == []
    assert count(db, other) == 1
    assert as_user(db, cast["users"]["co_none"], "SELECT * FROM get_instructor_student_progress(%s)", (owner,)) == []


def test_a_caller_cannot_borrow_another_instructor_s_thresholds_or_settings(db, cast):
    """at_risk_thresholds reads the caller's own settings row: claims that name the owner are the
    only way to get the owner's, and the settings table stays unreadable to others."""
    owner, other = cast["users"]["owner"], cast["users"]["other"]
    db.value("UPDATE instructor_settings SET at_risk_progress_percent = 77 WHERE user_id = %s RETURNING user_id",
             (owner,))
    try:
        assert as_user(db, other, "SELECT * FROM at_risk_thresholds()")[0]["progress_percent"] == 30
        assert as_user(db, owner, "SELECT * FROM at_risk_thresholds()")[0]["progress_percent"] == 77
        assert as_user(db, other, "SELECT user_id FROM instructor_settings WHERE user_id = %s", (owner,)) == []
    finally:
        db.value("UPDATE instructor_settings SET at_risk_progress_percent = 30 WHERE user_id = %s RETURNING user_id",
                 (owner,))


def test_anon_may_call_none_of_the_roster_functions(db):
    import psycopg2
    for call in ("SELECT at_risk_count()", "SELECT * FROM at_risk_thresholds()", "SELECT awaiting_payment_count()",
                 "SELECT pending_approvals_count()", "SELECT * FROM roster_search('a')"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            with db.act(Actor.anon()) as cur:
                cur.execute(call)

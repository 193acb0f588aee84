"""The four helper functions, the monthly stats and the engagement view on a hand-built dataset.

Every expected figure is written out as a literal, worked out by hand from the
world below; the callers are the real actors (the instructor, another
instructor, a student, the organization's admin, another organization's admin,
a platform admin).

The world (built once for the module; the tests only read):

* Tess (instructor, organization Acme) owns
  - "Prompting 101": 49.99, lessons text / video 10 min / quiz (pass 70), published;
  - "Coaching Basics": free, two text lessons, published;
  - "Draft Course": draft;
  - "Live Workshop": 25.00, in a week, published; a draft workshop; a completed one a month ago.
* Ada pays for and completes Prompting 101 (video watched 600 s, quiz 80), reviews it 5;
  completes Coaching Basics, reviews it 2. Her Prompting 101 sale is dated 2024-01-15 and paid out.
* Bea pays for Prompting 101 and is refunded.
* Cal completes one of the two lessons of Coaching Basics (enrolled ten days ago).
* Dan enrolls in Coaching Basics (ten days ago, nothing done), then pays a seat at Live Workshop.
* Uma (another instructor, no organization) has "Other Course" at 10.00; Eve completes it and rates it 1.

Hence for Tess: 4 students, 2 courses, 2 workshops, earnings 39.99 + 39.99 - 39.99 + 20.00 = 59.99
of which 20.00 not yet paid out, rating (5 + 2) / 2 = 3.50 over 2 reviews, 2 active
enrollments (Cal, Dan), 1 upcoming workshop.
"""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.support import pay_seat
from tests.support import (Actor, complete_course, enroll, gen_course, gen_org, gen_user, gen_workshop, pay,
                           record_lesson, register)

D = Decimal
JAN_15 = "2024-01-15 12:00:00+00"


def call(database, who, query, params=()):
    actor = who if isinstance(who, Actor) else Actor.user(who)
    with database.act(actor) as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture(scope="module")
def world(module_database):
    db = module_database
    acme, other_org = gen_org(db, "Acme Learning"), gen_org(db, "Other Org")
    tess = gen_user(db, "instructor", org=acme, name="Tess Teacher", email="tess@example.test")
    uma = gen_user(db, "instructor", name="Uma Other", email="uma@example.test")
    acme_admin = gen_user(db, "org_admin", org=acme, name="Acme Admin")
    other_admin = gen_user(db, "org_admin", org=other_org, name="Other Admin")
    admin = gen_user(db, "admin", name="Platform Admin")
    ada = gen_user(db, name="Ada Lovelace", email="ada@example.test")
    bea = gen_user(db, name="Bea Second", email="bea@example.test")
    cal = gen_user(db, name="Cal Third", email="cal@example.test")
    dan = gen_user(db, name="Dan Fourth", email="dan@example.test")
    eve = gen_user(db, name="Eve Fifth", email="eve@example.test")

    prompting = gen_course(db, tess, org=acme, price="49.99", lessons=("text", "video", "quiz"),
                           title="Prompting 101", passing_score=70, video_minutes=10)
    coaching = gen_course(db, tess, org=acme, lessons=("text", "text"), title="Coaching Basics")
    draft = gen_course(db, tess, org=acme, status="draft", title="Draft Course")
    live = gen_workshop(db, tess, org=acme, price="25.00", title="Live Workshop")
    gen_workshop(db, tess, org=acme, status="draft", title="Draft Workshop")
    gen_workshop(db, tess, org=acme, status="completed", starts_in=timedelta(days=-30), title="Past Workshop")
    other = gen_course(db, uma, price="10.00", lessons=("text",), title="Other Course")

    def review(student, course, rating):
        call(db, student, "INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, %s)",
             (course.id, student, rating))

    e_ada_p = enroll(db, ada, prompting.id)
    pay(db, e_ada_p)
    text, video, quiz = prompting.lessons
    record_lesson(db, ada, e_ada_p, prompting, text)
    record_lesson(db, ada, e_ada_p, prompting, video, watch=600)
    record_lesson(db, ada, e_ada_p, prompting, quiz, score=80)
    review(ada, prompting, 5)
    e_ada_c = complete_course(db, ada, coaching)
    review(ada, coaching, 2)
    e_bea = enroll(db, bea, prompting.id)
    pay(db, e_bea)
    call(db, Actor.service(), "SELECT refund_course_enrollment(%s)", (e_bea,))
    e_cal = enroll(db, cal, coaching.id)
    record_lesson(db, cal, e_cal, coaching, coaching.lessons[0])
    complete_course(db, eve, other)
    review(eve, other, 1)
    e_dan = enroll(db, dan, coaching.id)
    seat = register(db, dan, live)
    pay_seat(db, seat)

    # Owner maintenance on the built world: an old sale, two enrollments ten days old.
    sale = db.value("UPDATE revenue_transactions SET transaction_date = %s "
                    "WHERE enrollment_id = %s AND transaction_type = 'course_enrollment' RETURNING id",
                    (JAN_15, e_ada_p))
    db.rows("UPDATE student_progress SET created_at = now() - interval '10 days' WHERE enrollment_id IN (%s, %s)",
            (e_cal, e_dan))
    assert call(db, admin, "SELECT mark_payouts_paid(%s) AS n", ([sale],)) == [{"n": 1}]
    return dict(db=db, tess=tess, uma=uma, acme_admin=acme_admin, other_admin=other_admin, admin=admin,
                ada=ada, bea=bea, cal=cal, dan=dan, eve=eve, prompting=prompting, coaching=coaching,
                draft=draft, live=live, other=other, e_ada_p=e_ada_p, e_ada_c=e_ada_c, e_bea=e_bea,
                e_cal=e_cal, e_dan=e_dan)


DASHBOARD = "SELECT * FROM get_instructor_dashboard_stats(%s)"
PROGRESS = "SELECT * FROM get_instructor_student_progress(%s)"
PROGRESS_COURSE = "SELECT * FROM get_instructor_student_progress(%s, %s)"
REVENUE = "SELECT * FROM get_instructor_revenue_breakdown(%s, %s, %s)"
RECENT = "SELECT * FROM get_instructor_recent_activity(%s, %s)"
RECENT_BEFORE = "SELECT * FROM get_instructor_recent_activity(%s, %s, %s, %s)"
MONTHLY = "SELECT * FROM get_instructor_monthly_stats(%s)"

TESS_DASHBOARD = {"total_students": 4, "total_courses": 2, "total_workshops": 2,
                  "total_revenue": D("59.99"), "pending_revenue": D("20.00"),
                  "average_rating": D("3.50"), "total_reviews": 2,
                  "active_enrollments": 2, "upcoming_workshops": 1}
UMA_DASHBOARD = {"total_students": 1, "total_courses": 1, "total_workshops": 0,
                 "total_revenue": D("8.00"), "pending_revenue": D("8.00"),
                 "average_rating": D("1.00"), "total_reviews": 1,
                 "active_enrollments": 0, "upcoming_workshops": 0}


# --- get_instructor_dashboard_stats --------------------------------------------------

def test_dashboard_stats_for_the_instructor(world):
    """Tess's cards: 4 students, 2 courses, 2 workshops, 59.99 earned (20.00 pending), 3.50 over 2 reviews."""
    assert call(world["db"], world["tess"], DASHBOARD, (world["tess"],)) == [TESS_DASHBOARD]


def test_dashboard_stats_of_another_instructor_are_their_own(world):
    """Uma's cards count only Uma's course: 1 student, 8.00 earned, rated 1.00."""
    assert call(world["db"], world["uma"], DASHBOARD, (world["uma"],)) == [UMA_DASHBOARD]


# --- get_instructor_student_progress ----------------------------------------------

def _progress_view(rows):
    return [(r["enrollment_id"], r["student_id"], r["course_id"], r["enrollment_status"],
             r["progress_percentage"], r["completed_lessons"], r["total_lessons"], r["engagement_score"])
            for r in rows]


def test_student_progress_for_all_courses(world):
    """Five enrollments, most recent activity first, then never-active ones by enrollment date."""
    w = world
    rows = call(w["db"], w["tess"], PROGRESS, (w["tess"],))
    p, c = w["prompting"].id, w["coaching"].id
    assert _progress_view(rows) == [
        (w["e_cal"], w["cal"], c, "in_progress", D("50.00"), 1, 2, D("50.00")),
        (w["e_ada_c"], w["ada"], c, "completed", D("100.00"), 2, 2, D("100.00")),
        (w["e_ada_p"], w["ada"], p, "completed", D("100.00"), 3, 3, D("96.00")),
        (w["e_dan"], w["dan"], c, "enrolled", D("0.00"), 0, 2, D("0.00")),
        (w["e_bea"], w["bea"], p, "refunded", D("0.00"), 0, 3, D("0.00")),
    ]
    ada = next(r for r in rows if r["enrollment_id"] == w["e_ada_p"])
    assert (ada["student_name"], ada["student_email"], ada["course_title"]) == (
        "Ada Lovelace", "ada@example.test", "Prompting 101")
    assert [r["last_activity_at"] is None for r in rows] == [False, False, False, True, True]


def test_student_progress_for_one_course(world):
    """Filtered to Coaching Basics: Cal, Ada, Dan; filtered to another instructor's course: nothing."""
    w = world
    rows = call(w["db"], w["tess"], PROGRESS_COURSE, (w["tess"], w["coaching"].id))
    assert [(r["student_name"], r["progress_percentage"]) for r in rows] == [
        ("Cal Third", D("50.00")), ("Ada Lovelace", D("100.00")), ("Dan Fourth", D("0.00"))]
    assert call(w["db"], w["tess"], PROGRESS_COURSE, (w["tess"], w["other"].id)) == []
    assert call(w["db"], w["tess"], PROGRESS_COURSE, (w["tess"], w["draft"].id)) == []


# --- get_instructor_revenue_breakdown ------------------------------------------------

def _revenue(rows):
    return [(r["transaction_type"], r["transaction_count"], r["total_amount"], r["total_fees"],
             r["total_earnings"]) for r in rows]


def test_revenue_breakdown_last_30_days(world):
    """Last 30 days: Bea's sale, Dan's seat, and Bea's refund as its own negative line."""
    w = world
    rows = call(w["db"], w["tess"], "SELECT * FROM get_instructor_revenue_breakdown(%s, now() - interval '30 days', "
                                    "now())", (w["tess"],))
    assert _revenue(rows) == [
        ("course_enrollment", 1, D("49.99"), D("10.00"), D("39.99")),
        ("workshop_registration", 1, D("25.00"), D("5.00"), D("20.00")),
        ("refund", 1, D("-49.99"), D("-10.00"), D("-39.99")),
    ]


def test_revenue_breakdown_window_is_half_open(world):
    """The window includes its start and excludes its end: Ada's 2024-01-15 sale is in one, not the other."""
    w = world
    ada_sale = [("course_enrollment", 1, D("49.99"), D("10.00"), D("39.99"))]
    assert _revenue(call(w["db"], w["tess"], REVENUE, (w["tess"], "2024-01-01", "2024-02-01"))) == ada_sale
    assert _revenue(call(w["db"], w["tess"], REVENUE, (w["tess"], JAN_15, "2024-01-15 12:00:00.000001+00"))) \
        == ada_sale
    assert call(w["db"], w["tess"], REVENUE, (w["tess"], "2023-12-01", JAN_15)) == []


def test_revenue_breakdown_all_time_matches_the_dashboard(world):
    """All time: two sales (99.98), one refund, one seat; earnings sum to the dashboard's 59.99."""
    w = world
    rows = call(w["db"], w["tess"], REVENUE, (w["tess"], "2000-01-01", "2100-01-01"))
    assert _revenue(rows) == [
        ("course_enrollment", 2, D("99.98"), D("20.00"), D("79.98")),
        ("workshop_registration", 1, D("25.00"), D("5.00"), D("20.00")),
        ("refund", 1, D("-49.99"), D("-10.00"), D("-39.99")),
    ]
    assert sum(r["total_earnings"] for r in rows) == D("59.99")
    assert _revenue(call(w["db"], w["uma"], REVENUE, (w["uma"], "2000-01-01", "2100-01-01"))) == [
        ("course_enrollment", 1, D("10.00"), D("2.00"), D("8.00"))]


# --- get_instructor_recent_activity -------------------------------------------------

TESS_ACTIVITY = Counter({"enrolled": 5, "lesson_started": 6, "lesson_completed": 6, "quiz_passed": 1,
                         "course_completed": 2, "review_posted": 2, "refunded": 1, "workshop_registered": 1})


def test_recent_activity_timeline(world):
    """24 rows for Tess, newest first, with readable descriptions; none of Uma's students."""
    w = world
    rows = call(w["db"], w["tess"], RECENT, (w["tess"], 50))
    assert Counter(r["activity_type"] for r in rows) == TESS_ACTIVITY
    assert [r["occurred_at"] for r in rows] == sorted((r["occurred_at"] for r in rows), reverse=True)
    assert {r["student_id"] for r in rows} == {w["ada"], w["bea"], w["cal"], w["dan"]}
    newest = rows[0]
    assert (newest["activity_type"], newest["description"], newest["workshop_title"]) == (
        "workshop_registered", "Dan Fourth registered for Live Workshop", "Live Workshop")
    descriptions = {r["description"] for r in rows}
    assert {"Ada Lovelace reviewed Prompting 101 (5/5)", "Ada Lovelace reviewed Coaching Basics (2/5)",
            "Bea Second was refunded for Prompting 101", 'Ada Lovelace passed "Lesson 3" with 80.00%',
            "Cal Third enrolled in Coaching Basics", "Ada Lovelace completed Prompting 101"} <= descriptions


def test_recent_activity_limit_and_before(world):
    """p_limit cuts the newest rows; (p_before, p_before_id) returns only the rows after that one."""
    w = world
    everything = call(w["db"], w["tess"], RECENT, (w["tess"], 50))
    first = call(w["db"], w["tess"], RECENT, (w["tess"], 1))
    assert [r["activity_id"] for r in first] == [everything[0]["activity_id"]]
    assert len(call(w["db"], w["tess"], RECENT, (w["tess"], 5))) == 5
    older = call(w["db"], w["tess"], RECENT_BEFORE,
                 (w["tess"], 50, everything[0]["occurred_at"], everything[0]["activity_id"]))
    assert len(older) == 23
    assert [r["activity_id"] for r in older] == [r["activity_id"] for r in everything[1:]]


def test_recent_activity_pages_through_every_row_once(database):
    """Paging on from the last row's (occurred_at, activity_id) reaches every row exactly once."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("quiz",), passing_score=50)
    enrollment = enroll(database, student, course.id)
    # One request logs lesson_started, lesson_completed, quiz_passed and course_completed together.
    record_lesson(database, student, enrollment, course, course.lessons[0], score=90)
    everything = call(database, teacher, RECENT, (teacher, 50))
    assert len(everything) == 5
    seen, before, before_id = [], None, None
    for _ in range(10):
        page = call(database, teacher, RECENT_BEFORE, (teacher, 2, before, before_id))
        if not page:
            break
        seen += [r["activity_id"] for r in page]
        before, before_id = page[-1]["occurred_at"], page[-1]["activity_id"]
    assert seen == [r["activity_id"] for r in everything]


# --- who may ask ------------------------------------------------------------------

ALL_FIVE = [
    ("dashboard", DASHBOARD, ()),
    ("progress", PROGRESS, ()),
    ("revenue", REVENUE, ("2000-01-01", "2100-01-01")),
    ("recent", RECENT, (50,)),
    ("monthly", MONTHLY, ()),
]


@pytest.mark.parametrize("caller", ["uma", "ada", "other_admin"])
@pytest.mark.parametrize("name, query, extra", ALL_FIVE, ids=[f[0] for f in ALL_FIVE])
def test_helpers_return_nothing_for_someone_elses_instructor(world, caller, name, query, extra):
    """Another instructor, a student or another organization's admin asking for Tess gets no row."""
    w = world
    w["db"].value("SELECT refresh_instructor_monthly_stats()")
    assert call(w["db"], w["tess"], query, (w["tess"], *extra)) != []  # Tess herself has an answer
    assert call(w["db"], w[caller], query, (w["tess"], *extra)) == []


@pytest.mark.parametrize("name, query, extra", ALL_FIVE, ids=[f[0] for f in ALL_FIVE])
def test_helpers_return_nothing_to_an_org_admin_for_an_outside_instructor(world, name, query, extra):
    """Acme's admin asking for Uma (no organization) gets no row."""
    w = world
    w["db"].value("SELECT refresh_instructor_monthly_stats()")
    assert call(w["db"], w["uma"], query, (w["uma"], *extra)) != []
    assert call(w["db"], w["acme_admin"], query, (w["uma"], *extra)) == []


def test_helpers_answer_the_platform_admin_for_anyone(world):
    """A platform admin gets exactly the instructor's own figures, for Tess and for Uma."""
    w = world
    assert call(w["db"], w["admin"], DASHBOARD, (w["tess"],)) == [TESS_DASHBOARD]
    assert call(w["db"], w["admin"], DASHBOARD, (w["uma"],)) == [UMA_DASHBOARD]
    assert _progress_view(call(w["db"], w["admin"], PROGRESS, (w["tess"],))) == \
        _progress_view(call(w["db"], w["tess"], PROGRESS, (w["tess"],)))
    assert call(w["db"], w["admin"], REVENUE, (w["tess"], "2000-01-01", "2100-01-01")) == \
        call(w["db"], w["tess"], REVENUE, (w["tess"], "2000-01-01", "2100-01-01"))
    assert call(w["db"], w["admin"], RECENT, (w["tess"], 50)) == call(w["db"], w["tess"], RECENT, (w["tess"], 50))


def test_helpers_answer_the_org_admin_for_their_instructor(world):
    """Acme's admin gets Tess's figures (students outside Acme stay unnamed)."""
    w = world
    a = w["acme_admin"]
    assert call(w["db"], a, DASHBOARD, (w["tess"],)) == [TESS_DASHBOARD]
    assert _progress_view(call(w["db"], a, PROGRESS, (w["tess"],))) == \
        _progress_view(call(w["db"], w["tess"], PROGRESS, (w["tess"],)))
    assert call(w["db"], a, REVENUE, (w["tess"], "2000-01-01", "2100-01-01")) == \
        call(w["db"], w["tess"], REVENUE, (w["tess"], "2000-01-01", "2100-01-01"))
    mine = call(w["db"], w["tess"], RECENT, (w["tess"], 50))
    theirs = call(w["db"], a, RECENT, (w["tess"], 50))
    assert [(r["activity_id"], r["activity_type"]) for r in theirs] == [
        (r["activity_id"], r["activity_type"]) for r in mine]


# --- get_instructor_monthly_stats ----------------------------------------------------

def test_monthly_stats_after_refresh(world):
    """This month: 5 enrollments, 2 completions, 25.00 gross after the refund, 2 reviews; 2024-01: Ada's sale."""
    w = world
    w["db"].value("SELECT refresh_instructor_monthly_stats()")
    this_month = w["db"].value("SELECT date_trunc('month', now())::date")
    rows = call(w["db"], w["tess"], MONTHLY, (w["tess"],))
    assert [{k: v for k, v in r.items() if k != "instructor_id"} for r in rows] == [
        {"month": this_month, "new_enrollments": 5, "completions": 2, "gross_revenue": D("25.00"),
         "platform_fees": D("5.00"), "net_revenue": D("20.00"), "transaction_count": 3, "new_reviews": 2,
         "average_rating": D("3.50")},
        {"month": date(2024, 1, 1), "new_enrollments": 0, "completions": 0,
         "gross_revenue": D("49.99"), "platform_fees": D("10.00"), "net_revenue": D("39.99"),
         "transaction_count": 1, "new_reviews": 0, "average_rating": None},
    ]
    assert {r["instructor_id"] for r in rows} == {w["tess"]}
    (uma,) = call(w["db"], w["uma"], MONTHLY, (w["uma"],))
    assert (uma["new_enrollments"], uma["completions"], uma["gross_revenue"], uma["net_revenue"],
            uma["new_reviews"], uma["average_rating"]) == (1, 1, D("10.00"), D("8.00"), 1, D("1.00"))
    assert call(w["db"], w["acme_admin"], MONTHLY, (w["tess"],)) == rows
    assert call(w["db"], w["admin"], MONTHLY, (w["tess"],)) == rows


# --- student_engagement_summary ---------------------------------------------------------

def _engagement(rows):
    return {r["course_title"]: (r["student_count"], r["completed_students"], r["average_progress"],
                                r["average_engagement"], r["average_quiz_score"], r["active_last_7_days"],
                                r["at_risk_students"], r["completion_rate"]) for r in rows}


TESS_ENGAGEMENT = {
    # Bea's refunded enrollment is not a student of the course any more.
    "Prompting 101": (1, 1, D("100.00"), D("96.00"), D("80.00"), 1, 0, D("100.00")),
    # Ada 100 %, Cal 50 %, Dan 0 % and enrolled ten days ago: at risk.
    "Coaching Basics": (3, 1, D("50.00"), D("50.00"), D("0.00"), 2, 1, D("33.33")),
    "Draft Course": (0, 0, D("0.00"), D("0.00"), D("0.00"), 0, 0, D("0.00")),
}


def test_engagement_summary_for_the_instructor(world):
    """Per course: students, completions, mean progress / engagement / quiz, active, at risk, completion rate."""
    w = world
    rows = call(w["db"], w["tess"], "SELECT * FROM student_engagement_summary WHERE instructor_id = %s",
                (w["tess"],))
    assert _engagement(rows) == TESS_ENGAGEMENT
    rows = call(w["db"], w["acme_admin"], "SELECT * FROM student_engagement_summary WHERE instructor_id = %s",
                (w["tess"],))
    assert _engagement(rows) == TESS_ENGAGEMENT


def test_engagement_summary_never_shows_another_instructors_course_with_wrong_figures(world):
    """Uma reading the view sees Tess's courses either not at all or with their true figures, never zeros."""
    w = world
    rows = call(w["db"], w["uma"], "SELECT * FROM student_engagement_summary WHERE instructor_id = %s",
                (w["tess"],))
    wrong = {title: figures for title, figures in _engagement(rows).items() if figures != TESS_ENGAGEMENT[title]}
    assert wrong == {}

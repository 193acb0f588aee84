"""005 and 006 in SQL: checkout and payment events, the learner's outline, bounded watch time,
certificates, helpful votes and reports, and the course revenue and organization rules.

Each test builds its own world with the factories (as the owner) and acts through the API
roles exactly as a request does (``db.act``); the RLS matrix covers who may read each table.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg2
import pytest

from tests.support import (Actor, complete_course, enroll, gen_course, gen_module, gen_lesson, gen_user,
                           mismatches, record_lesson)


def as_user(database, user, query, params=()):
    with database.act(Actor.user(user)) as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else None


def as_service(database, query, params=()):
    with database.act(Actor.service()) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def event(database, event_id, checkout, kind="payment.succeeded", reason=None):
    """The payment path applies one provider event; returns what it did."""
    rows = as_service(database, "SELECT apply_payment_event(%s, %s, %s, %s) AS r",
                      (event_id, checkout, kind, reason))
    return rows[0]["r"]


def start(database, student, enrollment):
    return as_user(database, student, "SELECT start_checkout(%s, 'test') AS id", (enrollment,))[0]["id"]


@pytest.fixture()
def paid(database):
    """A paid course (49.99) and a student with a pending enrollment in it."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price="49.99", lessons=("text",))
    return teacher, student, course, enroll(database, student, course.id)


def sales(database, enrollment):
    return database.rows("SELECT amount, platform_fee_amount, instructor_earnings FROM revenue_transactions "
                         "WHERE enrollment_id = %s", (enrollment,))


# --- checkout and payment events ---------------------------------------------------------

def test_a_successful_payment_enrolls_and_records_one_sale(database, paid):
    """start_checkout, then a succeeded event: enrolled, one sale with the 20% fee, figures exact."""
    _, student, course, enrollment = paid
    checkout = start(database, student, enrollment)
    assert start(database, student, enrollment) == checkout  # a second tab resumes the same checkout
    assert event(database, "evt_1", checkout) == "succeeded"
    assert database.value("SELECT status::text FROM course_enrollments WHERE id = %s", (enrollment,)) == "enrolled"
    assert sales(database, enrollment) == [{"amount": Decimal("49.99"), "platform_fee_amount": Decimal("10.00"),
                                            "instructor_earnings": Decimal("39.99")}]
    assert database.value("SELECT status::text FROM checkouts WHERE id = %s", (checkout,)) == "succeeded"
    assert mismatches(database) == []


def test_an_event_applies_once_whatever_repeats_it(database, paid):
    """The same event again is a duplicate; another event for a settled checkout is ignored."""
    _, student, _, enrollment = paid
    checkout = start(database, student, enrollment)
    assert event(database, "evt_1", checkout) == "succeeded"
    assert event(database, "evt_1", checkout) == "duplicate"
    assert event(database, "evt_2", checkout) == "ignored"
    assert event(database, "evt_3", checkout, "payment.failed", "late decline") == "ignored"
    assert len(sales(database, enrollment)) == 1
    assert database.value("SELECT count(*) FROM payment_events") == 3
    assert database.value("SELECT payment_status::text FROM course_enrollments WHERE id = %s",
                          (enrollment,)) == "completed"


def test_a_declined_payment_leaves_the_enrollment_pending_for_a_retry(database, paid):
    """A failed event keeps its reason; a new checkout then succeeds; one sale in all."""
    _, student, _, enrollment = paid
    first = start(database, student, enrollment)
    assert event(database, "evt_1", first, "payment.failed", "Card declined") == "failed"
    row = database.rows("SELECT e.status::text AS status, e.payment_status::text AS payment, c.failure_reason "
                        "FROM course_enrollments e JOIN checkouts c ON c.enrollment_id = e.id WHERE c.id = %s",
                        (first,))[0]
    assert row == {"status": "pending", "payment": "failed", "failure_reason": "Card declined"}
    second = start(database, student, enrollment)
    assert second != first
    assert event(database, "evt_2", second) == "succeeded"
    assert len(sales(database, enrollment)) == 1 and mismatches(database) == []


def test_an_event_for_an_unknown_checkout_is_recorded_and_ignored(database):
    """An unknown checkout changes nothing but the event log."""
    assert event(database, "evt_x", "00000000-0000-4000-8000-000000000000") == "ignored"
    assert database.value("SELECT outcome FROM payment_events WHERE event_id = 'evt_x'") == "ignored"


def test_checkout_refuses_what_there_is_nothing_to_pay_for(database, paid):
    """A free enrollment, a paid one and someone else's enrollment cannot start a checkout."""
    teacher, student, _, enrollment = paid
    free = gen_course(database, teacher, lessons=("text",))
    free_enrollment = enroll(database, student, free.id)
    with pytest.raises(psycopg2.errors.CheckViolation, match="nothing to pay"):
        start(database, student, free_enrollment)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        start(database, gen_user(database), enrollment)
    event(database, "evt_1", start(database, student, enrollment))
    with pytest.raises(psycopg2.errors.CheckViolation, match="already paid"):
        start(database, student, enrollment)


def test_concurrent_deliveries_of_one_event_apply_it_once(database, paid):
    """Eight connections deliver the same event at once: one succeeds, seven are duplicates."""
    _, student, _, enrollment = paid
    checkout = start(database, student, enrollment)
    barrier, results, errors = threading.Barrier(8), [], []

    def deliver():
        conn = database.connect_app()
        try:
            barrier.wait()
            with database.act(Actor.service(), conn) as cur:
                cur.execute("SELECT apply_payment_event('evt_race', %s, 'payment.succeeded') AS r", (checkout,))
                results.append(cur.fetchone()["r"])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == ["duplicate"] * 7 + ["succeeded"]
    assert len(sales(database, enrollment)) == 1 and mismatches(database) == []


# --- the learner's outline and watch time ------------------------------------------------

def test_the_outline_says_what_is_released_and_when_the_rest_opens(database):
    """Days and date rules lock lessons with their opening time; an unlock opens one early."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text",))
    later = gen_module(database, course, "Later")
    week = gen_lesson(database, course, later, "text")
    dated = gen_lesson(database, course, later, "video")
    database.rows("UPDATE courses SET drip_content = true, drip_schedule = jsonb_build_object(%s::text, 7, "
                  "%s::text, '2099-01-01') WHERE id = %s", (str(later), str(dated), course.id))
    enrollment = enroll(database, student, course.id)
    enrolled_at = database.value("SELECT enrolled_at FROM course_enrollments WHERE id = %s", (enrollment,))
    outline = as_user(database, student, "SELECT * FROM learning_outline(%s)", (course.id,))
    assert [r["lesson_id"] for r in outline] == course.lessons
    assert [r["released"] for r in outline] == [True, False, False]
    assert outline[0]["opens_at"] is None
    assert outline[1]["opens_at"] == enrolled_at + timedelta(days=7)
    assert outline[2]["opens_at"] == datetime(2099, 1, 1, tzinfo=timezone.utc)  # the owner's zone: UTC
    database.rows("INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, lesson_id) "
                  "VALUES (%s, %s, %s, %s)", (enrollment, student, course.id, week))
    outline = as_user(database, student, "SELECT * FROM learning_outline(%s)", (course.id,))
    assert [r["released"] for r in outline] == [True, True, False]


def test_the_outline_is_empty_for_anyone_not_enrolled(database):
    """Another student, the instructor and an unknown course get no row."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text", "quiz"))
    enroll(database, student, course.id)
    for who in (gen_user(database), teacher):
        assert as_user(database, who, "SELECT * FROM learning_outline(%s)", (course.id,)) == []
    assert len(as_user(database, student, "SELECT * FROM learning_outline(%s)", (course.id,))) == 2


def test_watch_time_never_exceeds_the_lesson(database):
    """A 10-minute video stores at most 600 seconds, whatever is reported."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("video",), video_minutes=10)
    enrollment = enroll(database, student, course.id)
    record_lesson(database, student, enrollment, course, course.lessons[0], status="in_progress", watch=99999)
    assert database.value("SELECT watch_time_seconds FROM lesson_progress WHERE enrollment_id = %s",
                          (enrollment,)) == 600
    assert database.value("SELECT total_watch_time_seconds FROM student_progress WHERE enrollment_id = %s",
                          (enrollment,)) == 600
    assert mismatches(database) == []


# --- certificates ------------------------------------------------------------------------

def test_completion_issues_one_certificate_anyone_can_verify(database):
    """The code is 32 hex digits; verify_certificate answers anon; a refund marks it revoked."""
    teacher = gen_user(database, "instructor", name="Tina Teacher")
    student = gen_user(database, name="Sam Student")
    course = gen_course(database, teacher, lessons=("text",), certificate=True, title="Data Basics",
                        price="10.00")
    enrollment = complete_course(database, student, course)
    code = database.value("SELECT code FROM certificates WHERE enrollment_id = %s", (enrollment,))
    assert len(code) == 32 and int(code, 16) >= 0
    with database.act(Actor.anon()) as cur:
        cur.execute("SELECT * FROM verify_certificate(%s)", (code.upper() + " ",))
        found = cur.fetchall()
        cur.execute("SELECT * FROM verify_certificate('0123')")
        assert cur.fetchall() == []
    assert [(r["student_name"], r["course_title"], r["instructor_name"], r["revoked"]) for r in found] == [
        ("Sam Student", "Data Basics", "Tina Teacher", False)]
    as_service(database, "SELECT refund_course_enrollment(%s)", (enrollment,))
    with database.act(Actor.anon()) as cur:
        cur.execute("SELECT revoked FROM verify_certificate(%s)", (code,))
        assert cur.fetchone()["revoked"] is True
    assert database.value("SELECT count(*) FROM certificates") == 1


def test_a_course_without_certificates_issues_none(database):
    """certificate_enabled false: completion, no certificate, no URL."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    enrollment = complete_course(database, student, gen_course(database, teacher, lessons=("text",)))
    assert database.value("SELECT count(*) FROM certificates") == 0
    assert database.value("SELECT certificate_url FROM student_progress WHERE enrollment_id = %s",
                          (enrollment,)) is None


# --- helpful votes and reports ------------------------------------------------------------

@pytest.fixture()
def review(database):
    teacher, author = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, lessons=("text",))
    complete_course(database, author, course)
    review_id = as_user(database, author, "INSERT INTO course_reviews (course_id, user_id, rating) "
                                          "VALUES (%s, %s, 4) RETURNING id", (course.id, author))[0]["id"]
    return teacher, author, review_id


def helpful(database, review_id):
    return database.value("SELECT helpful_count FROM course_reviews WHERE id = %s", (review_id,))


def test_helpful_votes_are_counted_once_each_and_withdrawn(database, review):
    """Two voters count two; a second vote is refused; withdrawing takes one off."""
    _, _, review_id = review
    voters = [gen_user(database), gen_user(database)]
    for voter in voters:
        as_user(database, voter, "INSERT INTO review_helpful_votes (review_id) VALUES (%s)", (review_id,))
    assert helpful(database, review_id) == 2
    with pytest.raises(psycopg2.errors.UniqueViolation):
        as_user(database, voters[0], "INSERT INTO review_helpful_votes (review_id) VALUES (%s)", (review_id,))
    as_user(database, voters[0], "DELETE FROM review_helpful_votes WHERE review_id = %s", (review_id,))
    assert helpful(database, review_id) == 1 and mismatches(database) == []


def test_the_author_cannot_vote_for_or_report_their_own_review(database, review):
    """Both are refused by the policies (42501) and nothing is counted."""
    _, author, review_id = review
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        as_user(database, author, "INSERT INTO review_helpful_votes (review_id) VALUES (%s)", (review_id,))
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        as_user(database, author, "INSERT INTO review_reports (review_id, reason) VALUES (%s, 'spam')",
                (review_id,))
    assert helpful(database, review_id) == 0


def test_a_report_needs_details_when_the_reason_is_other(database, review):
    """'other' without details breaks a CHECK; with details it is stored for moderation."""
    _, _, review_id = review
    reporter = gen_user(database)
    with pytest.raises(psycopg2.errors.CheckViolation):
        as_user(database, reporter, "INSERT INTO review_reports (review_id, reason, details) "
                                    "VALUES (%s, 'other', '  ')", (review_id,))
    as_user(database, reporter, "INSERT INTO review_reports (review_id, reason, details) "
                                "VALUES (%s, 'other', 'Names a competitor')", (review_id,))
    assert database.value("SELECT reporter_id FROM review_reports") == reporter


def test_verify_and_rebuild_know_the_helpful_count(database, review):
    """A forged count is reported by verify and corrected by rebuild."""
    _, _, review_id = review
    database.rows("UPDATE course_reviews SET helpful_count = 7 WHERE id = %s", (review_id,))
    assert [(m["table_name"], m["expected"]) for m in mismatches(database)] == [
        ("course_reviews", {"helpful_count": 0})]
    assert database.value("SELECT rebuild_denormalized_figures()") == 1
    assert mismatches(database) == []


def test_concurrent_votes_keep_the_count_exact(database, review):
    """Twelve voters at once: the count is twelve."""
    _, _, review_id = review
    voters = [gen_user(database) for _ in range(12)]
    barrier, errors = threading.Barrier(len(voters)), []

    def vote(voter):
        conn = database.connect_app()
        try:
            barrier.wait()
            with database.act(Actor.user(voter), conn) as cur:
                cur.execute("INSERT INTO review_helpful_votes (review_id) VALUES (%s)", (review_id,))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=vote, args=(v,)) for v in voters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and helpful(database, review_id) == 12 and mismatches(database) == []


# --- 006: revenue and organization ----------------------------------------------------------

def test_course_revenue_answers_only_those_who_may_see_the_money(database):
    """The owner reads the figure; a student and another instructor get NULL; nobody selects the column."""
    teacher, student = gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, teacher, price="20.00", lessons=("text",))
    complete_course(database, student, course)
    query = "SELECT course_revenue(%s) AS r"
    assert as_user(database, teacher, query, (course.id,))[0]["r"] == Decimal("20.00")
    for who in (student, gen_user(database, "instructor")):
        assert as_user(database, who, query, (course.id,))[0]["r"] is None
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        as_user(database, student, "SELECT total_revenue FROM courses")


def test_a_co_instructor_who_manages_students_reads_a_draft_they_manage(database):
    """manage_students alone is enough to read the course (006), not its revenue."""
    teacher, co = gen_user(database, "instructor"), gen_user(database, "instructor")
    course = gen_course(database, teacher, status="draft", lessons=("text",))
    database.rows("INSERT INTO course_instructors (course_id, instructor_id, permissions) "
                  "VALUES (%s, %s, '{\"manage_students\": true}')", (course.id, co))
    rows = as_user(database, co, "SELECT title, course_revenue(id) AS revenue FROM courses WHERE id = %s",
                   (course.id,))
    assert len(rows) == 1 and rows[0]["revenue"] is None


def test_review_authors_names_visible_reviews_by_first_name_and_initial(database, review):
    """'Sam K.' for a visible review of a published course; a hidden review has no row."""
    _, author, review_id = review
    database.rows("UPDATE users SET full_name = ' Sam   de  Kool ' WHERE id = %s", (author,))
    with database.act(Actor.anon()) as cur:
        cur.execute("SELECT display_name FROM review_authors WHERE review_id = %s", (review_id,))
        assert cur.fetchall() == [{"display_name": "Sam K."}]
    database.rows("UPDATE course_reviews SET is_visible = false WHERE id = %s", (review_id,))
    with database.act(Actor.anon()) as cur:
        cur.execute("SELECT count(*) AS n FROM review_authors")
        assert cur.fetchone()["n"] == 0


def test_a_payment_records_the_checkouts_amount_and_a_price_change_opens_a_new_checkout(database, paid):
    """The student pays what the checkout said; after a price change the old checkout closes."""
    teacher, student, course, enrollment = paid
    first = start(database, student, enrollment)
    database.rows("UPDATE courses SET price_amount = 99 WHERE id = %s", (course.id,))
    second = start(database, student, enrollment)
    assert second != first
    assert database.value("SELECT failure_reason FROM checkouts WHERE id = %s", (first,)).startswith(
        "The price changed")
    assert event(database, "evt_old", first) == "ignored"
    assert event(database, "evt_new", second) == "succeeded"
    assert sales(database, enrollment) == [{"amount": Decimal("99.00"), "platform_fee_amount": Decimal("19.80"),
                                            "instructor_earnings": Decimal("79.20")}]
    # Paid at the old price before the change: that amount is what is recorded.
    other = gen_user(database)
    late = enroll(database, other, course.id)
    checkout = start(database, other, late)
    database.rows("UPDATE courses SET price_amount = 150 WHERE id = %s", (course.id,))
    assert event(database, "evt_late", checkout) == "succeeded"
    assert [s["amount"] for s in sales(database, late)] == [Decimal("99.00")]
    assert mismatches(database) == []


def test_a_course_that_became_free_settles_a_waiting_enrollment(database, paid):
    """Nothing is owed any more: the enrollment is enrolled, its open checkout closed, no sale."""
    _, student, course, enrollment = paid
    checkout = start(database, student, enrollment)
    database.rows("UPDATE courses SET price_amount = 0 WHERE id = %s", (course.id,))
    assert start(database, student, enrollment) is None
    row = database.rows("SELECT status::text AS s, payment_status::text AS p FROM course_enrollments "
                        "WHERE id = %s", (enrollment,))[0]
    assert row == {"s": "enrolled", "p": "completed"}
    assert database.value("SELECT status::text FROM checkouts WHERE id = %s", (checkout,)) == "failed"
    assert event(database, "evt_1", checkout) == "ignored" and sales(database, enrollment) == []


def test_a_declined_enrollment_can_no_longer_be_paid(database, paid):
    """Cancelling closes the open checkout; a late success is recorded but not applied."""
    _, student, _, enrollment = paid
    checkout = start(database, student, enrollment)
    as_user(database, student, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    assert database.value("SELECT status::text FROM checkouts WHERE id = %s", (checkout,)) == "failed"
    assert event(database, "evt_late", checkout) == "ignored"
    row = database.rows("SELECT status::text AS s, payment_status::text AS p, amount_paid FROM course_enrollments "
                        "WHERE id = %s", (enrollment,))[0]
    assert row == {"s": "cancelled", "p": "pending", "amount_paid": Decimal("0.00")}
    assert sales(database, enrollment) == []

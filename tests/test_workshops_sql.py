"""Workshops in SQL (021): capacity and waitlist under concurrency, promotion, lifecycle,
attendance after the start, feedback after the end, facilitators never participants,
the refund mark of paid seats, the calendar feed. Raw SQL as the API roles."""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import timedelta

import psycopg2
import pytest

from tests.support import pay_seat
from tests.support import Actor, gen_user, gen_workshop, mismatches, register, set_context

THREADS = 16


def _status(db, registration):
    return db.value("SELECT status::text FROM workshop_registrations WHERE id = %s", (registration,))


def _refusal(db, actor, query, params=()):
    with pytest.raises(psycopg2.Error) as raised:
        with db.attempt(actor) as cur:
            cur.execute(query, params)
    return raised.value.diag.constraint_name or raised.value.pgcode


def _concurrently(db, actors_and_calls):
    """Each (actor, sql, params) on its own connection, started together; returns (results, errors)."""
    barrier = threading.Barrier(len(actors_and_calls))
    results, errors = [None] * len(actors_and_calls), []

    def run(n, actor, query, params):
        conn = db.connect_app()
        try:
            barrier.wait()
            with conn, conn.cursor() as cur:
                set_context(cur, actor)
                cur.execute(query, params)
                results[n] = cur.fetchone()[0] if cur.description else None
        except psycopg2.Error as exc:
            errors.append(f"{exc.pgcode} {exc.diag.constraint_name} {exc.pgerror}")
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(n, *call)) for n, call in enumerate(actors_and_calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


# --- capacity and waitlist -------------------------------------------------------------------------

@pytest.mark.parametrize("capacity", [1, 5])
def test_sixteen_concurrent_registrations_fill_exactly_the_capacity(database, capacity):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=capacity)
    students = [gen_user(database) for _ in range(THREADS)]
    results, errors = _concurrently(database, [(Actor.user(s), "SELECT register_for_workshop(%s)", (workshop,))
                                               for s in students])
    assert errors == []
    counts = {r["status"]: r["count"] for r in database.rows(
        "SELECT status::text AS status, count(*) AS count FROM workshop_registrations "
        "WHERE workshop_id = %s GROUP BY 1", (workshop,))}
    assert counts == {"registered": capacity, "waitlisted": THREADS - capacity}
    assert database.value("SELECT enrolled_count FROM workshops WHERE id = %s", (workshop,)) == capacity
    assert len(set(results)) == THREADS
    assert mismatches(database) == []


def test_a_cancelled_seat_goes_to_the_first_on_the_waitlist_and_tells_them(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=1)
    first, second, third = (gen_user(database) for _ in range(3))
    seat = register(database, first, workshop)
    waiting = register(database, second, workshop)
    later = register(database, third, workshop)
    assert (_status(database, seat), _status(database, waiting), _status(database, later)) == \
        ("registered", "waitlisted", "waitlisted")
    with database.act(Actor.user(first)) as cur:
        cur.execute("UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s", (seat,))
    assert (_status(database, waiting), _status(database, later)) == ("registered", "waitlisted")
    assert database.value("SELECT payload->>'kind' FROM notifications WHERE user_id = %s "
                          "AND event_type = 'workshop_seat'", (second,)) == "promoted"
    assert database.value("SELECT count(*) FROM notifications WHERE user_id = %s", (third,)) == 0
    # A newcomer does not jump the waitlist even if a seat is free for a moment.
    database.value("UPDATE workshops SET capacity = 3 WHERE id = %s RETURNING 1", (workshop,))
    assert _status(database, later) == "registered"
    assert mismatches(database) == []


def test_concurrent_cancellations_promote_in_order_without_overbooking(database):
    capacity, waiting_count = 8, 8
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=capacity)
    seated = [gen_user(database) for _ in range(capacity)]
    waiting = [gen_user(database) for _ in range(waiting_count)]
    seats = [register(database, s, workshop) for s in seated]
    queue = [register(database, s, workshop) for s in waiting]
    leaving = seats[:5]
    newcomers = [gen_user(database) for _ in range(THREADS - len(leaving))]
    calls = [(Actor.user(seated[n]), "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s",
              (seat,)) for n, seat in enumerate(leaving)]
    calls += [(Actor.user(s), "SELECT register_for_workshop(%s)", (workshop,)) for s in newcomers]
    _, errors = _concurrently(database, calls)
    assert errors == []
    registered = database.value("SELECT count(*) FROM workshop_registrations WHERE workshop_id = %s "
                                "AND status = 'registered'", (workshop,))
    assert registered == capacity
    # The first five of the waitlist, in their order, hold the freed seats; nobody new is seated.
    assert [_status(database, r) for r in queue] == ["registered"] * 5 + ["waitlisted"] * 3
    assert database.value("SELECT count(*) FROM workshop_registrations WHERE workshop_id = %s "
                          "AND status = 'waitlisted'", (workshop,)) == 3 + len(newcomers)
    assert mismatches(database) == []


def test_a_paid_promotion_is_held_and_passes_on_when_it_lapses(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=1, price="30.00")
    first, second, third = (gen_user(database) for _ in range(3))
    seat, waiting, later = (register(database, s, workshop) for s in (first, second, third))
    assert database.value("SELECT payment_due_at IS NOT NULL FROM workshop_registrations WHERE id = %s", (seat,))
    with database.act(Actor.user(first)) as cur:
        cur.execute("UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s", (seat,))
    row = database.rows("SELECT status::text, payment_status::text, payment_due_at - now() AS hold "
                        "FROM workshop_registrations WHERE id = %s", (waiting,))[0]
    assert (row["status"], row["payment_status"]) == ("registered", "pending")
    assert timedelta(hours=23) < row["hold"] <= timedelta(hours=24)
    assert database.value("SELECT private.release_lapsed_seats(now() + interval '25 hours')") == 1
    assert (_status(database, waiting), _status(database, later)) == ("cancelled", "registered")
    assert database.value("SELECT payload->>'kind' FROM notifications WHERE user_id = %s "
                          "AND event_type = 'workshop_seat' ORDER BY created_at DESC LIMIT 1", (second,)) == "lapsed"
    # Paying clears the hold: nothing lapses any more.
    pay_seat(database, later)
    assert database.value("SELECT private.release_lapsed_seats(now() + interval '25 hours')") == 0
    assert _status(database, later) == "registered"
    assert mismatches(database) == []


# --- refunds of paid seats, through the revenue area's refund_sale ----------------------------------

def _paid_seat(database, workshop, student):
    registration = register(database, student, workshop)
    pay_seat(database, registration)
    return registration


def _money_of(database, registration):
    """The registration's sale and refund rows: (kind, amount, fee, earnings, refund_of is the sale, reason)."""
    return [(r["kind"], str(r["amount"]), str(r["fee"]), str(r["earnings"]), r["mirrors"], r["reason"])
            for r in database.rows(
                "SELECT t.transaction_type::text AS kind, t.amount, t.platform_fee_amount AS fee, "
                "t.instructor_earnings AS earnings, coalesce(t.refund_of = s.id, false) AS mirrors, t.metadata->>'reason' AS reason "
                "FROM revenue_transactions t LEFT JOIN revenue_transactions s "
                "ON s.workshop_registration_id = t.workshop_registration_id AND s.transaction_type <> 'refund' "
                "WHERE t.workshop_registration_id = %s ORDER BY t.amount DESC", (registration,))]


def _seat(database, registration):
    return database.rows("SELECT status::text AS status, payment_status::text AS paid, "
                         "refund_requested_at IS NOT NULL AS marked FROM workshop_registrations WHERE id = %s",
                         (registration,))[0]


def _told(database, user, event):
    return database.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = %s",
                          (user, event))


def _books_balance(database):
    assert mismatches(database) == []
    assert database.rows("SELECT * FROM private.verify_money()") == []
    assert database.rows("SELECT * FROM private.verify_figures(NULL)") == []


def test_a_paid_seat_cancelled_before_the_cutoff_is_refunded_and_after_it_is_not(database):
    teacher = gen_user(database, "instructor")
    early = gen_workshop(database, teacher, price="20.00", starts_in=timedelta(days=3))
    late = gen_workshop(database, teacher, price="20.00", starts_in=timedelta(hours=5))
    student = gen_user(database)
    seats = {}
    for workshop in (early, late):
        seats[workshop] = _paid_seat(database, workshop, student)
        with database.act(Actor.user(student)) as cur:
            cur.execute("UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s", (seats[workshop],))
    assert _seat(database, seats[early]) == {"status": "cancelled", "paid": "refunded", "marked": True}
    assert _money_of(database, seats[early]) == [
        ("workshop_registration", "20.00", "4.00", "16.00", False, None),
        ("refund", "-20.00", "-4.00", "-16.00", True, "Cancelled before the refund cutoff.")]
    assert database.value("SELECT metadata->>'refunded_by' FROM revenue_transactions WHERE refund_of IS NOT NULL "
                          "AND workshop_registration_id = %s", (seats[early],)) == str(student)
    assert database.value("SELECT total_revenue FROM workshops WHERE id = %s", (early,)) == 0
    assert _seat(database, seats[late]) == {"status": "cancelled", "paid": "completed", "marked": False}
    assert [m[0] for m in _money_of(database, seats[late])] == ["workshop_registration"]
    assert _told(database, student, "refund_issued") == 1
    _books_balance(database)


def test_cancelling_a_workshop_cancels_every_registration_refunds_paid_seats_and_tells_each(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=2, price="15.00")
    students = [gen_user(database) for _ in range(3)]
    paid = _paid_seat(database, workshop, students[0])
    unpaid = register(database, students[1], workshop)
    waiting = register(database, students[2], workshop)
    assert _refusal(database, Actor.user(teacher), "UPDATE workshops SET status = 'cancelled' WHERE id = %s",
                    (workshop,)) == "workshop_has_registrations"
    assert _refusal(database, Actor.user(students[0]), "SELECT cancel_workshop(%s)", (workshop,)) == \
        "workshop_not_found"
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("SELECT cancel_workshop(%s) AS told", (workshop,))
        assert cur.fetchone()["told"] == 3
    assert [_status(database, r) for r in (paid, unpaid, waiting)] == ["cancelled"] * 3
    assert _seat(database, paid) == {"status": "cancelled", "paid": "refunded", "marked": True}
    assert [_seat(database, r)["paid"] for r in (unpaid, waiting)] == ["pending", "pending"]
    assert _money_of(database, paid) == [
        ("workshop_registration", "15.00", "3.00", "12.00", False, None),
        ("refund", "-15.00", "-3.00", "-12.00", True, "The workshop was cancelled.")]
    assert database.value("SELECT metadata->>'refunded_by' FROM revenue_transactions WHERE refund_of IS NOT NULL "
                          "AND workshop_registration_id = %s", (paid,)) == str(teacher)
    assert database.value("SELECT count(*) FROM notifications WHERE event_type = 'workshop_cancelled' "
                          "AND payload->>'workshop_id' = %s", (str(workshop),)) == 3
    assert database.value("SELECT payload->>'refund' FROM notifications WHERE event_type = 'workshop_cancelled' "
                          "AND user_id = %s", (students[0],)) == "true"
    assert [_told(database, s, "refund_issued") for s in students] == [1, 0, 0]
    assert database.value("SELECT (enrolled_count, total_revenue)::text FROM workshops WHERE id = %s",
                          (workshop,)) == "(0,0.00)"
    assert _refusal(database, Actor.user(teacher), "UPDATE workshops SET title = 'Again' WHERE id = %s",
                    (workshop,)) == "workshop_closed"
    _books_balance(database)


def test_the_providers_refund_of_a_seat_checkout_refunds_the_seat_once(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=1, price="40.00")
    student, next_in_line = gen_user(database), gen_user(database)
    seat = register(database, student, workshop)
    waiting = register(database, next_in_line, workshop)
    with database.act(Actor.user(student)) as cur:
        cur.execute("SELECT start_workshop_checkout(%s, 'test') AS id", (seat,))
        checkout = cur.fetchone()["id"]
    refund = "SELECT apply_refund_event(%s, %s, NULL, 'Asked the bank') AS r"
    with database.act(Actor.service()) as cur:
        cur.execute("SELECT apply_payment_event('evt_wp', %s, 'payment.succeeded')", (checkout,))
        cur.execute(refund, ("evt_wr1", checkout))
        assert cur.fetchone()["r"] == "refunded"
        cur.execute(refund, ("evt_wr1", checkout))
        assert cur.fetchone()["r"] == "duplicate"
        cur.execute(refund, ("evt_wr2", checkout))
        assert cur.fetchone()["r"] == "unapplied", "nothing is left to refund"
    assert _seat(database, seat) == {"status": "cancelled", "paid": "refunded", "marked": False}
    assert _money_of(database, seat) == [
        ("workshop_registration", "40.00", "8.00", "32.00", False, None),
        ("refund", "-40.00", "-8.00", "-32.00", True, "Asked the bank")]
    assert _told(database, student, "refund_issued") == 1
    assert _status(database, waiting) == "registered", "the refunded seat passes on"
    _books_balance(database)


def test_an_admin_refund_of_a_seats_sale_cancels_the_seat_without_a_second_refund(database):
    teacher, admin = gen_user(database, "instructor"), gen_user(database, "admin")
    workshop = gen_workshop(database, teacher, price="25.00", starts_in=timedelta(days=4))
    student = gen_user(database)
    seat = _paid_seat(database, workshop, student)
    sale = database.value("SELECT id FROM revenue_transactions WHERE workshop_registration_id = %s", (seat,))
    with database.act(Actor.user(admin)) as cur:
        cur.execute("SELECT admin_refund_sale(%s, NULL, 'Paid twice by mistake')", (sale,))
    assert _seat(database, seat) == {"status": "cancelled", "paid": "refunded", "marked": False}
    assert [m[:2] for m in _money_of(database, seat)] == [("workshop_registration", "25.00"), ("refund", "-25.00")]
    # The student's own cancel now finds nothing to cancel; the workshop's cancel refunds nothing more.
    with database.act(Actor.user(student)) as cur:
        cur.execute("UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s "
                    "AND status IN ('registered', 'waitlisted')", (seat,))
        assert cur.rowcount == 0
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("SELECT cancel_workshop(%s)", (workshop,))
    assert len(_money_of(database, seat)) == 2
    assert _told(database, student, "refund_issued") == 1
    _books_balance(database)


def test_cancelling_a_workshop_while_its_students_cancel_refunds_each_paid_seat_once(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=THREADS, price="10.00", starts_in=timedelta(days=2))
    students = [gen_user(database) for _ in range(THREADS - 1)]
    seats = [_paid_seat(database, workshop, s) for s in students]
    calls = [(Actor.user(s), "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s "
              "AND status IN ('registered', 'waitlisted')", (seat,)) for s, seat in zip(students, seats)]
    calls.append((Actor.user(teacher), "SELECT cancel_workshop(%s)", (workshop,)))
    _, errors = _concurrently(database, calls)
    assert errors == [], "no deadlock, no refusal"
    assert database.rows("SELECT workshop_registration_id AS seat, count(*) AS refunds FROM revenue_transactions "
                         "WHERE workshop_id = %s AND transaction_type = 'refund' GROUP BY 1 HAVING count(*) <> 1",
                         (workshop,)) == []
    assert database.value("SELECT count(*) FROM revenue_transactions WHERE workshop_id = %s "
                          "AND transaction_type = 'refund'", (workshop,)) == len(seats)
    assert {(_seat(database, s)["status"], _seat(database, s)["paid"]) for s in seats} == {("cancelled", "refunded")}
    assert [_told(database, s, "refund_issued") for s in students] == [1] * len(students)
    assert database.value("SELECT total_revenue FROM workshops WHERE id = %s", (workshop,)) == 0
    _books_balance(database)


# --- lifecycle ----------------------------------------------------------------------------------------

def test_the_lifecycle_refuses_what_makes_no_sense(database):
    teacher = gen_user(database, "instructor")
    me = Actor.user(teacher)
    upcoming = gen_workshop(database, teacher)
    draft_past = gen_workshop(database, teacher, status="draft", starts_in=timedelta(hours=-5))
    assert _refusal(database, me, "UPDATE workshops SET status = 'completed' WHERE id = %s", (upcoming,)) == \
        "workshop_complete_early"
    assert _refusal(database, me, "UPDATE workshops SET status = 'published' WHERE id = %s", (draft_past,)) == \
        "workshop_publish_past"
    register(database, gen_user(database), upcoming)
    database.value("UPDATE workshops SET capacity = 2 WHERE id = %s RETURNING 1", (upcoming,))
    register(database, gen_user(database), upcoming)
    assert _refusal(database, me, "UPDATE workshops SET capacity = 1 WHERE id = %s", (upcoming,)) == \
        "workshop_capacity_below_seats"
    ended = gen_workshop(database, teacher, starts_in=timedelta(hours=-3))
    before = database.value("SELECT ical_sequence FROM workshops WHERE id = %s", (ended,))
    with database.act(me) as cur:
        cur.execute("UPDATE workshops SET status = 'completed' WHERE id = %s", (ended,))
    assert database.value("SELECT ical_sequence FROM workshops WHERE id = %s", (ended,)) == before + 1
    assert _refusal(database, me, "UPDATE workshops SET ical_sequence = 0 WHERE id = %s", (upcoming,)) == "42501"


# --- attendance and feedback ------------------------------------------------------------------------

def test_attendance_only_after_the_start_and_feedback_only_after_the_end(database):
    teacher = gen_user(database, "instructor")
    student = gen_user(database)
    workshop = gen_workshop(database, teacher)
    seat = register(database, student, workshop)
    mark = "UPDATE workshop_registrations SET status = 'attended' WHERE id = %s"
    assert _refusal(database, Actor.user(teacher), mark, (seat,)) == "attendance_before_start"
    # The workshop begins (moved as maintenance would): attendance opens, feedback not yet.
    database.value("UPDATE workshops SET start_time = now() - interval '1 hour', "
                   "end_time = now() + interval '1 hour' WHERE id = %s RETURNING 1", (workshop,))
    with database.act(Actor.user(teacher)) as cur:
        cur.execute(mark, (seat,))
    assert _status(database, seat) == "attended"
    give = ("INSERT INTO workshop_feedback (workshop_id, user_id, overall_satisfaction, nps_score) "
            "VALUES (%s, %s, 5, 10)")
    assert _refusal(database, Actor.user(student), give, (workshop, student)) == "feedback_before_end"
    database.value("UPDATE workshops SET end_time = now() - interval '1 minute' WHERE id = %s RETURNING 1",
                   (workshop,))
    with database.act(Actor.user(student)) as cur:
        cur.execute(give, (workshop, student))
    assert _refusal(database, Actor.user(student), give, (workshop, student)) == \
        "workshop_feedback_workshop_id_user_id_key"
    # The student cannot mark themself, nor another student anyone.
    other = gen_user(database)
    assert _refusal(database, Actor.user(other), "INSERT INTO workshop_feedback (workshop_id, user_id, "
                    "overall_satisfaction) VALUES (%s, %s, 1)", (workshop, other)) == "42501"
    assert database.value("SELECT feedback_count FROM workshops WHERE id = %s", (workshop,)) == 1
    assert mismatches(database) == []


# --- facilitators ---------------------------------------------------------------------------------------

def test_a_facilitator_is_never_a_participant(database):
    teacher = gen_user(database, "instructor")
    helper = gen_user(database, "instructor")
    other = gen_user(database, "instructor")
    student = gen_user(database)
    workshop = gen_workshop(database, teacher)
    add = "SELECT add_workshop_facilitator(%s, %s, %s)"
    email = database.value("SELECT email FROM users WHERE id = %s", (helper,))
    assert _refusal(database, Actor.user(other), add, (workshop, email, "assistant")) == "workshop_not_found"
    assert _refusal(database, Actor.user(teacher), add, (workshop, "nobody@example.test", "assistant")) == \
        "team_no_such_instructor"
    assert _refusal(database, Actor.user(teacher), add, (workshop, email, "primary")) == "team_primary_is_owner"
    student_email = database.value("SELECT email FROM users WHERE id = %s", (student,))
    assert _refusal(database, Actor.user(teacher), add, (workshop, student_email, "assistant")) == \
        "team_no_such_instructor"
    # An instructor registered as a participant cannot be made a facilitator...
    register(database, other, workshop)
    other_email = database.value("SELECT email FROM users WHERE id = %s", (other,))
    assert _refusal(database, Actor.user(teacher), add, (workshop, other_email, "co-facilitator")) == \
        "team_student_cannot_teach"
    # ...and a facilitator cannot register, nor give feedback.
    with database.act(Actor.user(teacher)) as cur:
        cur.execute(add, (workshop, email, "co-facilitator"))
    assert _refusal(database, Actor.user(helper), "SELECT register_for_workshop(%s)", (workshop,)) == "own_workshop"
    assert _refusal(database, Actor.user(teacher), "SELECT register_for_workshop(%s)", (workshop,)) == \
        "own_workshop"


def test_a_facilitator_added_while_registering_is_one_or_the_other(database):
    """The race both checks lose without the workshop lock: each sees the other's row missing."""
    teacher = gen_user(database, "instructor")
    for _ in range(6):
        helper = gen_user(database, "instructor")
        workshop = gen_workshop(database, teacher)
        email = database.value("SELECT email FROM users WHERE id = %s", (helper,))
        _, errors = _concurrently(database, [
            (Actor.user(teacher), "SELECT add_workshop_facilitator(%s, %s, 'assistant')", (workshop, email)),
            (Actor.user(helper), "SELECT register_for_workshop(%s)", (workshop,))])
        assert len(errors) == 1
        both = database.value(
            "SELECT EXISTS (SELECT 1 FROM workshop_facilitators WHERE workshop_id = %s AND facilitator_id = %s) "
            "AND EXISTS (SELECT 1 FROM workshop_registrations WHERE workshop_id = %s AND user_id = %s)",
            (workshop, helper, workshop, helper))
        assert both is False


# --- the meeting link and the calendar feed -------------------------------------------------------------

def test_the_meeting_link_is_for_confirmed_registrants_and_staff_only(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=1)
    seated, waiting = gen_user(database), gen_user(database)
    register(database, seated, workshop)
    register(database, waiting, workshop)
    link = "SELECT workshop_meeting_url(%s) AS url"
    for actor, visible in ((Actor.user(teacher), True), (Actor.user(seated), True),
                           (Actor.user(waiting), False), (Actor.user(gen_user(database)), False)):
        with database.attempt(actor) as cur:
            cur.execute(link, (workshop,))
            assert (cur.fetchone()["url"] is not None) is visible
    assert _refusal(database, Actor.anon(), "SELECT meeting_url FROM workshops WHERE id = %s", (workshop,)) == "42501"


def test_the_calendar_feed_answers_its_token_only_while_sync_is_on(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher)
    gen_workshop(database, teacher, status="draft")
    token = secrets.token_urlsafe(32)
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE instructor_settings SET calendar_feed_hash = %s, calendar_sync_enabled = true, "
                    "calendar_provider = 'apple' "
                    "WHERE user_id = %s", (hashlib.sha256(token.encode()).hexdigest(), teacher))
    feed = "SELECT id FROM calendar_feed_workshops(%s)"
    with database.attempt(Actor.anon()) as cur:
        cur.execute(feed, (token,))
        assert [r["id"] for r in cur.fetchall()] == [workshop]
        cur.execute(feed, (secrets.token_urlsafe(32),))
        assert cur.fetchall() == []
    database.value("UPDATE instructor_settings SET calendar_sync_enabled = false WHERE user_id = %s RETURNING 1",
                   (teacher,))
    with database.attempt(Actor.anon()) as cur:
        cur.execute(feed, (token,))
        assert cur.fetchall() == []
    # Nobody writes another instructor's feed hash.
    with database.act(Actor.user(gen_user(database, "instructor"))) as cur:
        cur.execute("UPDATE instructor_settings SET calendar_feed_hash = NULL WHERE user_id = %s", (teacher,))
        assert cur.rowcount == 0


def test_a_seat_checkout_is_the_buyers_and_a_webhook_event_applies_once(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, price="12.50")
    student, other = gen_user(database), gen_user(database)
    seat = register(database, student, workshop)
    assert _refusal(database, Actor.user(other), "SELECT start_workshop_checkout(%s, 'test')", (seat,)) == \
        "registration_not_found"
    with database.act(Actor.user(student)) as cur:
        cur.execute("SELECT start_workshop_checkout(%s, 'test') AS id", (seat,))
        checkout = cur.fetchone()["id"]
        cur.execute("SELECT start_workshop_checkout(%s, 'test') AS id", (seat,))
        assert cur.fetchone()["id"] == checkout, "a second click resumes the open checkout"
    apply = "SELECT apply_payment_event(%s, %s, 'payment.succeeded') AS r"
    with database.act(Actor.service()) as cur:
        cur.execute(apply, ("evt_w1", checkout))
        assert cur.fetchone()["r"] == "succeeded"
        cur.execute(apply, ("evt_w1", checkout))
        assert cur.fetchone()["r"] == "duplicate"
        cur.execute(apply, ("evt_w2", checkout))
        assert cur.fetchone()["r"] == "ignored"
    row = database.rows("SELECT payment_status::text AS paid, amount_paid, payment_due_at FROM workshop_registrations "
                        "WHERE id = %s", (seat,))[0]
    assert (row["paid"], str(row["amount_paid"]), row["payment_due_at"]) == ("completed", "12.50", None)
    assert database.value("SELECT count(*) FROM revenue_transactions WHERE workshop_registration_id = %s "
                          "AND transaction_type = 'workshop_registration'", (seat,)) == 1
    assert _refusal(database, Actor.user(student), "SELECT start_workshop_checkout(%s, 'test')", (seat,)) == \
        "already_paid"
    # A cancelled seat's open checkout closes; a late success is ignored.
    late = register(database, other, workshop)
    with database.act(Actor.user(other)) as cur:
        cur.execute("SELECT start_workshop_checkout(%s, 'test') AS id", (late,))
        open_one = cur.fetchone()["id"]
        cur.execute("UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s", (late,))
    assert database.value("SELECT status::text FROM checkouts WHERE id = %s", (open_one,)) == "failed"
    with database.act(Actor.service()) as cur:
        cur.execute(apply, ("evt_w3", open_one))
        assert cur.fetchone()["r"] == "ignored"
    assert mismatches(database) == []


def test_marking_all_present_while_students_cancel_neither_deadlocks_nor_miscounts(database):
    """The instructor's 'mark all present' (rows locked first, by id) against cancellations at once."""
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=THREADS)
    students = [gen_user(database) for _ in range(THREADS)]
    seats = [register(database, s, workshop) for s in students]
    database.value("UPDATE workshops SET start_time = now() - interval '5 minutes' WHERE id = %s RETURNING 1",
                   (workshop,))
    mark_all = ("WITH locked AS (SELECT id FROM workshop_registrations WHERE workshop_id = %s "
                "AND status = 'registered' AND payment_status = 'completed' ORDER BY id "
                "FOR NO KEY UPDATE) SELECT count(*) FROM locked")
    calls = [(Actor.user(students[n]), "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s",
              (seats[n],)) for n in range(0, THREADS, 2)]
    calls.append((Actor.user(teacher), mark_all, (workshop,)))
    _, errors = _concurrently(database, calls)
    assert errors == []
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE workshop_registrations SET status = 'attended' WHERE workshop_id = %s "
                    "AND status = 'registered' AND payment_status = 'completed'", (workshop,))
    assert database.value("SELECT attended_count FROM workshops WHERE id = %s", (workshop,)) == THREADS // 2
    assert mismatches(database) == []


def test_reregistering_while_the_workshop_is_cancelled_does_not_deadlock(database):
    """A student comes back (their cancelled row revived) while the owner cancels the workshop:
    both take the caller's registration before the workshop (008's order), so one waits for the
    other, never a deadlock."""
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher)
    student, other = gen_user(database), gen_user(database)
    seat = register(database, student, workshop)
    register(database, other, workshop)
    with database.act(Actor.user(student)) as cur:
        cur.execute("UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s", (seat,))
    owner, comer = database.connect_app(), database.connect_app()
    errors = []
    try:
        with owner.cursor() as cur:   # cancel_workshop's first step, held: every registration by id
            set_context(cur, Actor.user(teacher))
            cur.execute("SELECT 1 FROM workshop_registrations WHERE workshop_id = %s ORDER BY id "
                        "FOR NO KEY UPDATE", (workshop,))

        def come_back():
            try:
                with comer, comer.cursor() as cur:
                    set_context(cur, Actor.user(student))
                    cur.execute("SELECT register_for_workshop(%s)", (workshop,))
            except psycopg2.Error as exc:
                errors.append(exc.pgcode)
        thread = threading.Thread(target=come_back)
        thread.start()
        pid = comer.get_backend_pid()
        while thread.is_alive() and not database.value("SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)):
            thread.join(0.01)
        with owner.cursor() as cur:
            try:
                cur.execute("SELECT cancel_workshop(%s)", (workshop,))
                owner.commit()
            except psycopg2.Error as exc:
                errors.append(exc.pgcode)
                owner.rollback()
        thread.join()
    finally:
        owner.close()
        comer.close()
    assert "40P01" not in errors
    assert database.value("SELECT status::text FROM workshops WHERE id = %s", (workshop,)) == "cancelled"
    assert _status(database, seat) == "cancelled"
    assert mismatches(database) == []


def test_a_workshop_that_has_started_is_not_cancelled(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, price="20")
    seat = register(database, gen_user(database), workshop)
    database.value("UPDATE workshops SET start_time = now() - interval '3 hours', "
                   "end_time = now() - interval '1 hour' WHERE id = %s RETURNING 1", (workshop,))
    assert _refusal(database, Actor.user(teacher), "SELECT cancel_workshop(%s)", (workshop,)) == \
        "workshop_cancel_started"
    assert database.value("SELECT status::text FROM workshops WHERE id = %s", (workshop,)) == "published"
    assert _status(database, seat) == "registered"


def test_workshop_times_stay_between_2000_and_2200(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, status="draft")
    for start, end in (("10000-01-01", "10000-01-02"), ("0001-01-01 BC", "0001-01-02 BC"),
                       ("2026-01-01", "2201-01-02")):
        assert _refusal(database, Actor.user(teacher), "UPDATE workshops SET start_time = %s, end_time = %s "
                        "WHERE id = %s", (start, end, workshop)) == "workshop_times_in_range"


def test_a_published_workshop_with_registrants_does_not_move_into_the_past(database):
    teacher, helper = gen_user(database, "instructor"), gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher)
    seat = register(database, gen_user(database), workshop)
    email = database.value("SELECT email FROM users WHERE id = %s", (helper,))
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("SELECT add_workshop_facilitator(%s, %s, 'assistant')", (workshop, email))
    move = ("UPDATE workshops SET start_time = now() - interval '2 hours', end_time = now() - interval '1 hour' "
            "WHERE id = %s")
    for actor in (teacher, helper):
        assert _refusal(database, Actor.user(actor), move, (workshop,)) == "workshop_move_past"
    with database.act(Actor.user(teacher)) as cur:   # later is fine, and so is the past without registrants
        cur.execute("UPDATE workshops SET start_time = start_time + interval '1 day', "
                    "end_time = end_time + interval '1 day' WHERE id = %s", (workshop,))
        empty = gen_workshop(database, teacher)
        cur.execute(move, (empty,))
    assert _status(database, seat) == "registered"


def test_a_waitlisted_student_learns_their_own_place_only(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=1)
    seated, first, second, third = (gen_user(database) for _ in range(4))
    for s in (seated, first, second, third):
        register(database, s, workshop)
    places = []
    for s in (seated, first, second, third):
        with database.act(Actor.user(s)) as cur:
            cur.execute("SELECT my_waitlist_place(%s) AS place", (workshop,))
            places.append(cur.fetchone()["place"])
    assert places == [None, 1, 2, 3]
    assert _refusal(database, Actor.anon(), "SELECT my_waitlist_place(%s)", (workshop,)) == "42501"


def test_a_paid_workshop_made_free_confirms_its_held_seats(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=2, price="30.00")
    held, waiting = gen_user(database), gen_user(database)
    seat = register(database, held, workshop)
    with database.act(Actor.user(held)) as cur:
        cur.execute("SELECT start_workshop_checkout(%s, 'test') AS id", (seat,))
        checkout = cur.fetchone()["id"]
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE workshops SET price_amount = 0 WHERE id = %s", (workshop,))
    row = database.rows("SELECT status::text, payment_status::text, payment_due_at FROM workshop_registrations "
                        "WHERE id = %s", (seat,))[0]
    assert (row["status"], row["payment_status"], row["payment_due_at"]) == ("registered", "completed", None)
    assert database.value("SELECT status::text FROM checkouts WHERE id = %s", (checkout,)) == "failed"
    assert database.value("SELECT private.release_lapsed_seats(now() + interval '2 days')") == 0
    assert _status(database, seat) == "registered"
    register(database, waiting, workshop)
    assert mismatches(database) == []


def test_a_held_seat_skipped_while_the_price_dropped_is_confirmed_not_lapsed(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, price="30.00")
    seat = register(database, gen_user(database), workshop)
    database.value("ALTER TABLE workshops DISABLE TRIGGER free_pending_seats; "
                   "UPDATE workshops SET price_amount = 0 WHERE id = %s; "
                   "ALTER TABLE workshops ENABLE TRIGGER free_pending_seats; SELECT 1", (workshop,))
    assert database.value("SELECT private.release_lapsed_seats(now() + interval '2 days')") == 0
    assert database.value("SELECT status::text || '/' || payment_status::text FROM workshop_registrations "
                          "WHERE id = %s", (seat,)) == "registered/completed"


def test_a_free_waitlister_pays_the_price_the_workshop_has_when_promoted(database):
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=1, price="0")
    first, second = gen_user(database), gen_user(database)
    seat, waiting = register(database, first, workshop), register(database, second, workshop)
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE workshops SET price_amount = 50 WHERE id = %s", (workshop,))
    with database.act(Actor.user(first)) as cur:
        cur.execute("UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s", (seat,))
    row = database.rows("SELECT status::text, payment_status::text, payment_due_at IS NOT NULL AS held "
                        "FROM workshop_registrations WHERE id = %s", (waiting,))[0]
    assert (row["status"], row["payment_status"], row["held"]) == ("registered", "pending", True)


def test_seat_figures_move_by_deltas_and_registering_reads_the_kept_figure(database):
    """The stats trigger adds and subtracts (no recount of the workshop's registrations per row), and
    register_for_workshop reads enrolled_count under the lock instead of counting.
    A figure knocked off by hand shows it: the deltas keep the offset, a recount would erase it."""
    teacher = gen_user(database, "instructor")
    workshop = gen_workshop(database, teacher, capacity=3)
    first = register(database, gen_user(database), workshop)
    database.value("UPDATE workshops SET enrolled_count = enrolled_count + 2 WHERE id = %s RETURNING 1", (workshop,))
    try:
        late = register(database, gen_user(database), workshop)   # 3 of 3 by the kept figure: waitlisted
        assert _status(database, late) == "waitlisted"
        assert database.value("SELECT enrolled_count FROM workshops WHERE id = %s", (workshop,)) == 3
        database.value("UPDATE workshops SET start_time = now() - interval '5 minutes' WHERE id = %s RETURNING 1",
                       (workshop,))
        with database.act(Actor.user(teacher)) as cur:
            cur.execute("UPDATE workshop_registrations SET status = 'attended' WHERE id = %s", (first,))
        row = database.rows("SELECT enrolled_count, attended_count FROM workshops WHERE id = %s", (workshop,))[0]
        assert (row["enrolled_count"], row["attended_count"]) == (3, 1)
    finally:
        database.value("SELECT refresh_workshop_figures(%s)", (workshop,))
    assert mismatches(database) == []


def test_no_api_role_confirms_a_seat_without_its_checkout(database):
    """002's confirm_workshop_payment bypassed the checkout records: the webhook path is the one way."""
    teacher = gen_user(database, "instructor")
    student = gen_user(database)
    seat = register(database, student, gen_workshop(database, teacher, price="20.00"))
    for actor in (Actor.service(), Actor.user(student), Actor.anon()):
        assert _refusal(database, actor, "SELECT confirm_workshop_payment(%s)", (seat,)) == "42501"
    assert database.value("SELECT payment_status::text FROM workshop_registrations WHERE id = %s", (seat,)) == \
        "pending"

"""020: refunds of any sale, payout batches, the money invariants (private.verify_money).

Each case makes its own instructor, course and students on the module's database, so the
cases share one database and stay independent. The concurrency case (a refund racing a
payout) runs the invariant check after it, as does tests/test_concurrency.py.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg2
import pytest

from tests.support import pay_seat
from tests.support import Actor, enroll, gen_course, gen_user, gen_workshop, mismatches, pay, register, set_context

D = Decimal


@pytest.fixture(scope="module")
def db(module_database):
    return module_database


@pytest.fixture(scope="module")
def admin(db):
    return gen_user(db, "admin")


def call(db, actor_id, query, params=()):
    with db.act(Actor.user(actor_id)) as cur:
        cur.execute(query, params)
        return list(cur.fetchone().values())[0] if cur.description else None


def refused(db, actor_id, query, params=()):
    """The refusal's (SQLSTATE, code) of ``query`` as ``actor_id``, rolled back."""
    try:
        with db.attempt(Actor.user(actor_id)) as cur:
            cur.execute(query, params)
    except psycopg2.Error as exc:
        return exc.pgcode, exc.diag.constraint_name
    return None


def sale_of(db, student, price, *, instructor=None, backdate_days=0):
    """A paid enrollment (the provider confirms); returns (instructor, course, enrollment, sale id)."""
    instructor = instructor or gen_user(db, "instructor")
    course = gen_course(db, instructor, price=price)
    enrollment = enroll(db, student, course.id)
    pay(db, enrollment)
    sale = db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s "
                    "AND transaction_type = 'course_enrollment'", (enrollment,))
    if backdate_days:
        owner(db, "UPDATE revenue_transactions SET transaction_date = now() - make_interval(days => %s) "
                 "WHERE id = %s", (backdate_days, sale))
    return instructor, course, enrollment, sale


def owner(db, query, params=()):
    with db.owner.cursor() as cur:
        cur.execute(query, params)


def money(db, row_id):
    return db.rows("SELECT amount, platform_fee_amount AS fee, instructor_earnings AS earnings, payout_status::text, "
                   "payout_id FROM revenue_transactions WHERE id = %s", (row_id,))[0]


def verify_money(db, instructor=None):
    return db.rows("SELECT * FROM private.verify_money(%s)", (instructor,))


@pytest.mark.parametrize("price, fee, earnings", [
    ("19.99", "4.00", "15.99"),   # 3.998 rounds up
    ("10.03", "2.01", "8.02"),    # 2.006
    ("0.05", "0.01", "0.04"),     # 0.01 exactly
    ("0.02", "0.00", "0.02"),     # 0.004 rounds down
    ("12.5", "2.50", "10.00"),
])
def test_a_sale_and_its_refund_round_at_the_cent(db, admin, price, fee, earnings):
    student = gen_user(db)
    instructor, course, enrollment, sale = sale_of(db, student, price)
    row = money(db, sale)
    assert (row["amount"], row["fee"], row["earnings"]) == (D(price), D(fee), D(earnings))
    refund = call(db, admin, "SELECT admin_refund_sale(%s, NULL, 'Asked in time')", (sale,))
    mirror = money(db, refund)
    assert (mirror["amount"], mirror["fee"], mirror["earnings"]) == (-D(price), -D(fee), -D(earnings))
    assert db.value("SELECT total_revenue FROM courses WHERE id = %s", (course.id,)) == 0
    assert mismatches(db) == [] and verify_money(db, instructor) == []


def test_a_partial_refund_of_a_discounted_sale(db, admin):
    instructor = gen_user(db, "instructor")
    course = gen_course(db, instructor, price="50.00", certificate=True)
    student = gen_user(db)
    enrollment = enroll(db, student, course.id)
    # A coupon: the student paid 29.97 of the 50.00 list price.
    owner(db, "UPDATE course_enrollments SET payment_status = 'completed', amount_paid = 29.97, status = 'enrolled' "
             "WHERE id = %s", (enrollment,))
    sale = db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,))
    assert (money(db, sale)["amount"], money(db, sale)["fee"]) == (D("29.97"), D("5.99"))  # 5.994
    assert refused(db, admin, "SELECT admin_refund_sale(%s, 29.98, 'More than paid')", (sale,)) == \
        ("23514", "refund_amount_range")
    assert refused(db, admin, "SELECT admin_refund_sale(%s, 1.005, 'A fraction of a cent')", (sale,)) == \
        ("23514", "refund_amount_range")
    assert refused(db, admin, "SELECT admin_refund_sale(%s, 10, '  ')", (sale,)) == \
        ("23514", "refund_reason_required")
    refund = call(db, admin, "SELECT admin_refund_sale(%s, 10.01, 'Half the course was missing')", (sale,))
    row = money(db, refund)
    assert (row["amount"], row["fee"], row["earnings"]) == (D("-10.01"), D("-2.00"), D("-8.01"))  # 2.002
    assert db.value("SELECT status::text || '/' || payment_status::text FROM course_enrollments WHERE id = %s",
                    (enrollment,)) == "refunded/refunded"
    assert db.value("SELECT total_revenue FROM courses WHERE id = %s", (course.id,)) == D("19.96")
    assert db.value("SELECT count(*) FROM revenue_transactions WHERE refund_of = %s", (sale,)) == 1
    # Parts may follow, up to what is left (19.96); the instructor's own refund is of a whole sale only.
    assert refused(db, admin, "SELECT admin_refund_sale(%s, 19.97, 'More than is left')", (sale,)) == \
        ("23514", "refund_amount_range")
    assert refused(db, instructor, "SELECT refund_my_sale(%s, 'Whole')", (sale,)) == \
        ("23505", "sale_already_refunded")
    call(db, admin, "SELECT admin_refund_sale(%s, 1, 'Again')", (sale,))
    rest = call(db, admin, "SELECT admin_refund_sale(%s, NULL, 'The rest')", (sale,))
    assert (money(db, rest)["amount"], money(db, rest)["fee"]) == (D("-18.96"), D("-3.79"))  # 5.99 - 2.00 - 0.20
    assert db.value("SELECT sum(amount)::text || '/' || sum(platform_fee_amount) || '/' || sum(instructor_earnings) "
                    "FROM revenue_transactions WHERE id = %s OR refund_of = %s", (sale, sale)) == "0.00/0.00/0.00"
    assert refused(db, admin, "SELECT admin_refund_sale(%s, NULL, 'Once more')", (sale,)) == \
        ("23505", "sale_already_refunded")
    notice = db.rows("SELECT payload FROM notifications WHERE user_id = %s AND event_type = 'refund_issued'",
                     (student,))
    assert sorted((n["payload"]["amount"], n["payload"]["partial"]) for n in notice) == \
        [(1, True), (10.01, True), (18.96, True)]
    assert mismatches(db) == [] and verify_money(db, instructor) == []


def test_who_refunds_what(db, admin):
    student = gen_user(db)
    instructor, course, enrollment, sale = sale_of(db, student, "30.00")
    other = gen_user(db, "instructor")
    co = gen_user(db, "instructor")
    owner(db, "INSERT INTO course_instructors (course_id, instructor_id, permissions) "
             "VALUES (%s, %s, '{\"view_revenue\": true}')", (course.id, co))
    for actor in (other, co, student):
        assert refused(db, actor, "SELECT refund_my_sale(%s, 'why')", (sale,)) == ("P0002", "sale_not_found")
    for actor in (instructor, student):
        assert refused(db, actor, "SELECT admin_refund_sale(%s, NULL, 'why')", (sale,)) == ("42501", "admin_only")
    # Outside the window the instructor may not; an admin still may.
    owner(db, "UPDATE revenue_transactions SET transaction_date = now() - interval '15 days' WHERE id = %s", (sale,))
    assert refused(db, instructor, "SELECT refund_my_sale(%s, 'Late')", (sale,)) == ("23514", "refund_window_closed")
    owner(db, "UPDATE revenue_transactions SET transaction_date = now() - interval '13 days' WHERE id = %s", (sale,))
    refund = call(db, instructor, "SELECT refund_my_sale(%s, 'The student asked')", (sale,))
    assert money(db, refund)["amount"] == D("-30.00")
    assert db.value("SELECT metadata ->> 'refunded_by' FROM revenue_transactions WHERE id = %s", (refund,)) == \
        str(instructor)
    assert mismatches(db) == [] and verify_money(db, instructor) == []


def test_a_workshop_seat_is_refunded_the_same_way(db, admin):
    instructor = gen_user(db, "instructor")
    workshop = gen_workshop(db, instructor, price="25.00")
    student = gen_user(db)
    registration = register(db, student, workshop)
    pay_seat(db, registration)
    sale = db.value("SELECT id FROM revenue_transactions WHERE workshop_registration_id = %s", (registration,))
    refund = call(db, admin, "SELECT admin_refund_sale(%s, NULL, 'The workshop moved')", (sale,))
    assert money(db, refund)["amount"] == D("-25.00")
    assert db.value("SELECT status::text || '/' || payment_status::text FROM workshop_registrations "
                    "WHERE id = %s", (registration,)) == "cancelled/refunded"
    assert db.value("SELECT total_revenue FROM workshops WHERE id = %s", (workshop,)) == 0
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'refund_issued'",
                    (student,)) == 1
    assert mismatches(db) == [] and verify_money(db, instructor) == []


def test_a_payout_takes_what_is_past_the_window_and_a_later_refund_is_carried(db, admin):
    instructor = gen_user(db, "instructor")
    students = [gen_user(db) for _ in range(4)]
    _, _, _, old1 = sale_of(db, students[0], "40.00", instructor=instructor, backdate_days=20)
    _, _, _, old2 = sale_of(db, students[1], "10.00", instructor=instructor, backdate_days=16)
    _, _, _, fresh = sale_of(db, students[2], "99.00", instructor=instructor)
    assert refused(db, instructor, "SELECT create_payout(%s)", (instructor,)) == ("42501", "admin_only")
    payout = call(db, admin, "SELECT create_payout(%s)", (instructor,))
    p = db.rows("SELECT * FROM payouts WHERE id = %s", (payout,))[0]
    assert (p["status"], p["line_count"], p["gross_amount"], p["fee_amount"], p["total_amount"]) == \
        ("scheduled", 2, D("50.00"), D("10.00"), D("40.00"))
    assert money(db, fresh)["payout_id"] is None
    assert refused(db, admin, "SELECT create_payout(%s)", (instructor,)) == ("23505", "payout_already_scheduled")
    assert call(db, admin, "SELECT mark_payout_paid(%s, 'wire 42')", (payout,)) == 2
    assert refused(db, admin, "SELECT mark_payout_paid(%s)", (payout,)) == ("23514", "payout_not_scheduled")
    assert money(db, old1)["payout_status"] == "paid"
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'payout_paid'",
                    (instructor,)) == 1
    # A refund after payout: a negative line waiting for the next batch.
    refund = call(db, admin, "SELECT admin_refund_sale(%s, NULL, 'Chargeback')", (old2,))
    assert (money(db, refund)["payout_status"], money(db, refund)["payout_id"]) == ("pending", None)
    assert refused(db, admin, "SELECT create_payout(%s)", (instructor,)) == ("23514", "nothing_to_pay_out")
    owner(db, "UPDATE revenue_transactions SET transaction_date = now() - interval '15 days' WHERE id = %s", (fresh,))
    nxt = call(db, admin, "SELECT create_payout(%s)", (instructor,))
    q = db.rows("SELECT * FROM payouts WHERE id = %s", (nxt,))[0]
    assert (q["line_count"], q["gross_amount"], q["total_amount"]) == (2, D("89.00"), D("79.20") - D("8.00"))
    assert money(db, refund)["payout_id"] == nxt
    # Cancelled: the rows wait again.
    call(db, admin, "SELECT cancel_payout(%s)", (nxt,))
    assert money(db, fresh)["payout_id"] is None and money(db, refund)["payout_id"] is None
    assert mismatches(db) == [] and verify_money(db, instructor) == []


def test_next_payout_dates(db):
    assert [str(db.value("SELECT next_payout_date(%s, %s::date)", (s, d))) for s, d in [
        ("weekly", "2026-12-07"), ("weekly", "2026-12-06"), ("monthly", "2026-12-31"),
        ("biweekly", "2026-12-07"), ("biweekly", "2026-12-14")]] == \
        ["2026-12-14", "2026-12-07", "2027-01-01", "2026-12-21", "2026-12-21"]  # ISO week 51 is odd


def test_the_invariant_check_finds_each_broken_rule(db, admin):
    student = gen_user(db)
    instructor, course, enrollment, sale = sale_of(db, student, "20.00", backdate_days=30)
    payout = call(db, admin, "SELECT create_payout(%s)", (instructor,))
    conn = psycopg2.connect(db.owner_dsn)
    try:
        with conn.cursor() as cur:
            def rules():
                cur.execute("SELECT DISTINCT stored ->> 'rule' FROM private.verify_money(%s) ORDER BY 1",
                            (instructor,))
                return [r[0] for r in cur.fetchall()]
            assert rules() == []
            cur.execute("UPDATE payouts SET total_amount = 1, gross_amount = 5, fee_amount = 4 WHERE id = %s",
                        (payout,))
            assert rules() == ["payout_totals"]
            cur.execute("ALTER TABLE revenue_transactions DISABLE TRIGGER USER")
            cur.execute("UPDATE revenue_transactions SET payout_status = 'paid', payout_date = now() WHERE id = %s",
                        (sale,))
            # With the triggers off, the kept sums by day and month (revenue_totals) fall behind too.
            assert rules() == ["paid_once", "payout_totals", "revenue_totals"]
            cur.execute("""INSERT INTO revenue_transactions (instructor_id, student_id, course_id, refund_of,
                               transaction_type, amount, platform_fee_amount, instructor_earnings)
                           VALUES (%s, %s, %s, %s, 'refund', -25, -5, -20)""", (instructor, student, course.id, sale))
            assert rules() == ["paid_once", "payout_totals", "refund_exceeds_sale", "revenue_totals"]
    finally:
        conn.rollback()
        conn.close()
    assert verify_money(db, instructor) == []


def test_the_provider_refund_event_is_applied_once(db):
    student = gen_user(db)
    instructor = gen_user(db, "instructor")
    course = gen_course(db, instructor, price="15.00")
    enrollment = enroll(db, student, course.id)
    with db.act(Actor.user(student)) as cur:
        cur.execute("SELECT start_checkout(%s, 'test') AS id", (enrollment,))
        checkout = cur.fetchone()["id"]
    with db.act(Actor.service()) as cur:
        cur.execute("SELECT apply_payment_event('evt_pay', %s, 'payment.succeeded') AS r", (checkout,))
        assert cur.fetchone()["r"] == "succeeded"
    outcomes = []
    for event in ("evt_refund", "evt_refund", "evt_refund_again"):
        with db.act(Actor.service()) as cur:
            cur.execute("SELECT apply_refund_event(%s, %s, NULL, 'At the provider') AS r", (event, checkout))
            outcomes.append(cur.fetchone()["r"])
    assert outcomes == ["refunded", "duplicate", "unapplied"]  # nothing is left: recorded for an admin
    assert db.value("SELECT sum(amount) FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,)) == 0
    assert db.value("SELECT status::text FROM course_enrollments WHERE id = %s", (enrollment,)) == "refunded"
    assert refused(db, student, "SELECT apply_refund_event('x', %s, NULL)", (checkout,))[0] == "42501"


ROUNDS = 6


def test_a_refund_racing_a_payout_gives_one_consistent_outcome(db, admin):
    """Each round: an admin makes and pays an instructor's payout while another admin refunds one of
    the sales in it, at once. Whichever goes first, the money rules hold and every cent of earnings
    is either paid out or waiting (the refund in the same batch, or carried to the next)."""
    cases = []
    for _ in range(ROUNDS):
        instructor = gen_user(db, "instructor")
        sales = [sale_of(db, gen_user(db), "33.33", instructor=instructor, backdate_days=20)[3] for _ in range(3)]
        cases.append((instructor, sales))
    second_admin = gen_user(db, "admin")
    barrier = threading.Barrier(2 * ROUNDS)
    errors = []

    def run(actor, statements):
        conn = db.connect_app()
        try:
            barrier.wait()
            for query, params in statements:
                with conn, conn.cursor() as cur:
                    set_context(cur, Actor.user(actor))
                    cur.execute(query, params)
        except psycopg2.Error as exc:
            errors.append(f"{exc.pgcode} {exc.diag.constraint_name} {exc.pgerror}")
        finally:
            conn.close()

    threads = []
    for instructor, sales in cases:
        threads.append(threading.Thread(target=run, args=(admin, [
            ("SELECT mark_payout_paid(create_payout(%s))", (instructor,))])))
        threads.append(threading.Thread(target=run, args=(second_admin, [
            ("SELECT admin_refund_sale(%s, NULL, 'Racing')", (sales[0],))])))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for instructor, sales in cases:
        net = db.value("SELECT sum(instructor_earnings) FROM revenue_transactions WHERE instructor_id = %s",
                       (instructor,))
        paid = db.value("SELECT coalesce(sum(total_amount), 0) FROM payouts WHERE instructor_id = %s "
                        "AND status = 'paid'", (instructor,))
        waiting = db.value("SELECT coalesce(sum(instructor_earnings), 0) FROM revenue_transactions "
                           "WHERE instructor_id = %s AND payout_id IS NULL", (instructor,))
        assert net == D("26.66") * 2 and paid + waiting == net
        assert paid in (D("26.66") * 2, D("26.66") * 3)  # the refund in the batch, or carried to the next
    assert mismatches(db) == []
    assert verify_money(db) == []  # the invariant check, after the concurrency test


def test_paying_a_scheduled_payout_while_its_sales_are_refunded_does_not_deadlock(db, admin):
    """A scheduled payout of sales in two courses is marked paid while another admin refunds one sale
    of each course, at once (the rows and the courses' figures locked in one order): no deadlock,
    no error, and the refunds wait as negative lines for the next payout."""
    cases = []
    for _ in range(ROUNDS):
        instructor = gen_user(db, "instructor")
        sales = [sale_of(db, gen_user(db), price, instructor=instructor, backdate_days=20)[3]
                 for price in ("10.00", "10.00", "20.00", "20.00")]
        payout = call(db, admin, "SELECT create_payout(%s)", (instructor,))
        cases.append((instructor, sales, payout))
    second_admin = gen_user(db, "admin")
    barrier = threading.Barrier(2 * ROUNDS)
    errors = []

    def run(actor, statements):
        conn = db.connect_app()
        try:
            barrier.wait()
            for query, params in statements:   # each refund a request of its own
                with conn, conn.cursor() as cur:
                    set_context(cur, Actor.user(actor))
                    cur.execute(query, params)
        except psycopg2.Error as exc:
            errors.append(f"{exc.pgcode} {exc.diag.constraint_name} {exc.pgerror}")
        finally:
            conn.close()

    threads = []
    for instructor, sales, payout in cases:
        threads.append(threading.Thread(target=run, args=(admin, [("SELECT mark_payout_paid(%s)", (payout,))])))
        threads.append(threading.Thread(target=run, args=(second_admin, [
            ("SELECT admin_refund_sale(%s, NULL, 'Racing')", (sales[3],)),
            ("SELECT admin_refund_sale(%s, NULL, 'Racing')", (sales[0],))])))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for instructor, sales, payout in cases:
        assert db.value("SELECT status::text FROM payouts WHERE id = %s", (payout,)) == "paid"
        assert db.value("SELECT sum(instructor_earnings) FROM revenue_transactions WHERE instructor_id = %s "
                        "AND payout_id IS NULL", (instructor,)) == D("-24.00")
    assert mismatches(db) == [] and verify_money(db) == []


# --- the review's findings (020 fixes) -------------------------------------------------------------

def test_the_old_mark_payouts_paid_never_pays_a_row_of_a_scheduled_payout(db, admin):
    """002's mark_payouts_paid on a row already in a scheduled payout pays nothing: the payout pays
    it, once; and a payout whose rows no longer add up to its totals is refused, not paid."""
    instructor, _, _, sale = sale_of(db, gen_user(db), "100.00", backdate_days=40)
    payout = call(db, admin, "SELECT create_payout(%s)", (instructor,))
    assert call(db, admin, "SELECT mark_payouts_paid(ARRAY[%s]::uuid[])", (sale,)) == 0
    assert db.value("SELECT count(*) FROM payouts WHERE instructor_id = %s", (instructor,)) == 1
    assert (money(db, sale)["payout_status"], money(db, sale)["payout_id"]) == ("pending", payout)
    assert call(db, admin, "SELECT mark_payout_paid(%s, 'wire')", (payout,)) == 1
    assert db.value("SELECT sum(total_amount) FROM payouts WHERE instructor_id = %s AND status = 'paid'",
                    (instructor,)) == D("80.00")
    assert verify_money(db, instructor) == []
    # A row moved out behind the payout's back (owner maintenance): the stored total is no longer its rows'.
    instructor, _, _, sale = sale_of(db, gen_user(db), "50.00", backdate_days=40)
    sale_of(db, gen_user(db), "30.00", instructor=instructor, backdate_days=40)
    payout = call(db, admin, "SELECT create_payout(%s)", (instructor,))
    owner(db, "UPDATE revenue_transactions SET payout_id = NULL WHERE id = %s", (sale,))
    assert refused(db, admin, "SELECT mark_payout_paid(%s)", (payout,)) == ("23514", "payout_rows_changed")
    owner(db, "UPDATE revenue_transactions SET payout_id = %s WHERE id = %s", (payout, sale))
    assert call(db, admin, "SELECT mark_payout_paid(%s)", (payout,)) == 2


def provider_checkout(db, price):
    student, instructor = gen_user(db), gen_user(db, "instructor")
    course = gen_course(db, instructor, price=price)
    enrollment = enroll(db, student, course.id)
    with db.act(Actor.user(student)) as cur:
        cur.execute("SELECT start_checkout(%s, 'test') AS id", (enrollment,))
        checkout = cur.fetchone()["id"]
    with db.act(Actor.service()) as cur:
        cur.execute("SELECT apply_payment_event(%s, %s, 'payment.succeeded')", (f"evt_pay_{checkout}", checkout))
    sale = db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,))
    return instructor, student, checkout, sale


def refund_event(db, event, checkout, amount, reason=None):
    with db.act(Actor.service()) as cur:
        cur.execute("SELECT apply_refund_event(%s, %s, %s, %s) AS r", (event, checkout, amount, reason))
        return cur.fetchone()["r"]


def test_the_provider_may_refund_a_sale_in_several_parts_up_to_what_was_paid(db, admin):
    instructor, student, checkout, sale = provider_checkout(db, "100.00")
    tag = str(checkout)
    assert [refund_event(db, f"{tag}-a", checkout, D("10")), refund_event(db, f"{tag}-b", checkout, D("20"))] == \
        ["refunded", "refunded"]
    assert refund_event(db, f"{tag}-c", checkout, D("70.01")) == "unapplied"   # more than is left
    assert refund_event(db, f"{tag}-d", checkout, None, "x" * 600) == "refunded"  # the rest; the reason cut
    assert refund_event(db, f"{tag}-e", checkout, D("1")) == "unapplied"       # nothing is left
    rows = db.rows("SELECT amount, metadata ->> 'reason' AS reason FROM revenue_transactions WHERE refund_of = %s "
                   "ORDER BY amount", (sale,))
    assert [r["amount"] for r in rows] == [D("-70.00"), D("-20.00"), D("-10.00")]
    assert rows[0]["reason"] == "x" * 500
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'refund_issued'",
                    (student,)) == 3
    with db.act(Actor.user(admin)) as cur:
        cur.execute("SELECT event_id, amount, because, sale_id FROM unapplied_refund_events(100) "
                    "WHERE checkout_id = %s ORDER BY event_id", (checkout,))
        assert [tuple(r.values()) for r in cur.fetchall()] == [
            (f"{tag}-c", D("70.01"), "refund_amount_range", sale), (f"{tag}-e", D("1"), "sale_already_refunded", sale)]
    assert refused(db, instructor, "SELECT * FROM unapplied_refund_events()") == ("42501", "admin_only")
    assert verify_money(db, instructor) == [] and mismatches(db) == []


def test_the_older_refund_paths_go_through_refund_sale(db, admin):
    """admin_refund (009), refund_course_enrollment / refund_workshop_registration (002) and any
    writer marking a purchase refunded: a reason, the student's refund_issued notice, and the cap."""
    instructor, course, enrollment, sale = sale_of(db, gen_user(db), "40.00")
    student = db.value("SELECT student_id FROM revenue_transactions WHERE id = %s", (sale,))
    call(db, admin, "SELECT admin_refund_sale(%s, 15, 'A part first')", (sale,))
    call(db, admin, "SELECT admin_refund(%s, NULL)", (enrollment,))   # the rest, not the whole again
    rows = db.rows("SELECT amount, metadata ->> 'reason' AS reason, metadata ->> 'refunded_by' AS actor "
                   "FROM revenue_transactions WHERE refund_of = %s ORDER BY amount", (sale,))
    assert [(r["amount"], r["reason"]) for r in rows] == [(D("-25.00"), "Refunded by an administrator."),
                                                          (D("-15.00"), "A part first")]
    assert rows[0]["actor"] == str(admin)
    call(db, admin, "SELECT admin_refund(%s, NULL)", (enrollment,))   # again: nothing left, a no-op as in 002
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'refund_issued'",
                    (student,)) == 2
    # The payment service's path.
    instructor, course, enrollment, sale = sale_of(db, gen_user(db), "12.00")
    with db.act(Actor.service()) as cur:
        cur.execute("SELECT refund_course_enrollment(%s)", (enrollment,))
        cur.execute("SELECT refund_course_enrollment(%s)", (enrollment,))
    assert db.rows("SELECT amount, metadata ->> 'reason' AS reason FROM revenue_transactions WHERE refund_of = %s",
                   (sale,)) == [{"amount": D("-12.00"), "reason": "Refunded at the payment provider."}]
    workshop = gen_workshop(db, instructor, price="25.00")
    seat_holder = gen_user(db)
    registration = register(db, seat_holder, workshop)
    pay_seat(db, registration)
    with db.act(Actor.service()) as cur:
        cur.execute("SELECT refund_workshop_registration(%s)", (registration,))
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'refund_issued'",
                    (seat_holder,)) == 1
    # Any other writer marking it refunded: the trigger's refund goes through refund_sale too.
    instructor, course, enrollment, sale = sale_of(db, gen_user(db), "8.00")
    owner(db, "UPDATE course_enrollments SET payment_status = 'refunded' WHERE id = %s", (enrollment,))
    assert db.rows("SELECT amount, metadata ->> 'reason' AS reason FROM revenue_transactions WHERE refund_of = %s",
                   (sale,)) == [{"amount": D("-8.00"), "reason": "Refunded."}]
    assert verify_money(db) == [] and mismatches(db) == []
    for signature in ("public.record_refund(uuid,uuid)", "private.refund_purchase(uuid,uuid,text,uuid)"):
        assert db.value("SELECT bool_or(has_function_privilege(r, %s, 'EXECUTE')) FROM unnest("
                        "ARRAY['anon', 'authenticated', 'service_role']) r", (signature,)) is False


def test_the_invariant_check_finds_bad_refund_rows_and_unfinished_rows_in_a_payout(db, admin):
    instructor, course, enrollment, sale = sale_of(db, gen_user(db), "100.00", backdate_days=30)
    other, _, _, _ = sale_of(db, gen_user(db), "10.00", backdate_days=30)
    payout = call(db, admin, "SELECT create_payout(%s)", (other,))
    conn = psycopg2.connect(db.owner_dsn)
    try:
        with conn.cursor() as cur:
            def rules(who):
                cur.execute("SELECT DISTINCT stored ->> 'rule' FROM private.verify_money(%s) ORDER BY 1", (who,))
                return [r[0] for r in cur.fetchall()]
            cur.execute("ALTER TABLE revenue_transactions DISABLE TRIGGER USER")
            cur.execute("""INSERT INTO revenue_transactions (instructor_id, student_id, course_id, refund_of,
                               transaction_type, amount, platform_fee_amount, instructor_earnings)
                           SELECT instructor_id, student_id, course_id, id, 'refund', -10, 5, -15
                           FROM revenue_transactions WHERE id = %s""", (sale,))
            assert rules(instructor) == ["refund_signs", "revenue_totals"]  # the triggers are off
            cur.execute("UPDATE revenue_transactions SET payment_status = 'pending' WHERE payout_id = %s", (payout,))
            assert rules(other) == ["paid_once", "revenue_totals"]
    finally:
        conn.rollback()
        conn.close()


def test_every_other_monday_holds_across_a_53_week_year(db):
    """Biweekly payout days stay 14 days apart through 2026's ISO week 53 (and 2020's)."""
    for start in ("2026-11-30", "2020-11-30"):
        days = [db.value("SELECT next_payout_date('biweekly', %s::date)", (start,))]
        for _ in range(6):
            days.append(db.value("SELECT next_payout_date('biweekly', %s::date)", (days[-1],)))
        assert {(b - a).days for a, b in zip(days, days[1:])} == {14}, days
    assert str(db.value("SELECT next_payout_date('biweekly', '2027-01-04'::date)")) == "2027-01-18"


# --- the kept sums by day and month (revenue_totals) and the periods read from them ---------------

PERIOD_EDGES = [
    ("2026-01-01 00:00+00", "2027-01-01 00:00+00"),   # whole UTC months only
    ("2025-12-31 23:00+00", "2026-12-31 23:00+00"),   # a year in a zone ahead of UTC
    ("2026-01-01 05:00+00", "2026-04-01 04:00+00"),   # a quarter behind UTC: edges, days and months
    ("2026-03-10 07:30+00", "2026-03-10 19:00+00"),   # within one UTC day
    ("2026-03-10 07:30+00", "2026-03-11 19:00+00"),   # two partial days
    ("2026-02-27 12:00+00", "2026-03-02 00:00+00"),   # whole days across a month's end
    ("2020-01-01 00:00+00", "2030-01-01 00:00+00"),   # everything
]
SALE_DATES = ["2025-12-31 23:30+00", "2026-01-01 04:59+00", "2026-01-01 05:00+00", "2026-02-28 23:59:59+00",
              "2026-03-01 00:00+00", "2026-03-10 07:29+00", "2026-03-10 07:30+00", "2026-03-11 18:59+00",
              "2026-03-31 23:00+00", "2026-12-31 22:59+00"]
RAW_FIGURES = """
    SELECT count(*) FILTER (WHERE transaction_type <> 'refund')::integer AS sales,
           coalesce(sum(amount) FILTER (WHERE transaction_type <> 'refund'), 0) AS gross,
           coalesce(-sum(amount) FILTER (WHERE transaction_type = 'refund'), 0) AS refunds,
           coalesce(sum(platform_fee_amount), 0) AS platform_fees, coalesce(sum(instructor_earnings), 0) AS earnings,
           coalesce(sum(instructor_earnings) FILTER (WHERE payout_status = 'pending'), 0) AS pending_payout,
           coalesce(sum(instructor_earnings) FILTER (WHERE payout_status = 'paid'), 0) AS paid_out
    FROM revenue_transactions
    WHERE instructor_id = %s AND payment_status = 'completed' AND transaction_date >= %s AND transaction_date < %s"""


def test_period_figures_are_the_rows_whatever_the_edges(db, admin):
    """Whole UTC months and days come from revenue_totals, the partial days from the rows: every
    period's figures, and its sums by item, are the rows' to the cent; the kept sums follow rows
    moved in time, refunded and paid out (verify_money's revenue_totals rule is empty)."""
    instructor, course, _, first = sale_of(db, gen_user(db), "20.00")
    _, course2, _, _ = sale_of(db, gen_user(db), "35.50", instructor=instructor)
    sales = [first]
    for n, when in enumerate(SALE_DATES):
        enrollment = enroll(db, gen_user(db), (course if n % 2 else course2).id)
        pay(db, enrollment)
        sale = db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,))
        owner(db, "UPDATE revenue_transactions SET transaction_date = %s WHERE id = %s", (when, sale))
        sales.append(sale)
    call(db, admin, "SELECT admin_refund_sale(%s, %s, %s)", (sales[3], D("7.25"), "Partly"))
    owner(db, "UPDATE revenue_transactions SET transaction_date = '2026-03-10 12:00+00' WHERE refund_of = %s",
          (sales[3],))
    payout = call(db, admin, "SELECT create_payout(%s)", (instructor,))  # the rows past the window
    call(db, admin, "SELECT mark_payout_paid(%s, %s)", (payout, "ref-1"))
    assert {r["payout_status"] for r in db.rows("SELECT payout_status::text FROM revenue_transactions "
                                                "WHERE instructor_id = %s", (instructor,))} == {"paid", "pending"}
    assert verify_money(db, instructor) == []
    assert db.value("SELECT count(DISTINCT grain) FROM revenue_totals WHERE instructor_id = %s", (instructor,)) == 2
    for start, end in PERIOD_EDGES:
        expected = db.rows(RAW_FIGURES, (instructor, start, end))[0]
        with db.act(Actor.user(instructor)) as cur:
            cur.execute("SELECT * FROM revenue_period_figures(%s, %s)", (start, end))
            assert cur.fetchone() == expected, (start, end)
            cur.execute("SELECT course_id, transaction_type::text, line_count, amount, earnings "
                        "FROM revenue_period_sums(%s, %s) ORDER BY 1, 2", (start, end))
            by_item = cur.fetchall()
        assert by_item == db.rows(
            "SELECT course_id, transaction_type::text, count(*) AS line_count, sum(amount) AS amount, "
            "sum(instructor_earnings) AS earnings FROM revenue_transactions "
            "WHERE instructor_id = %s AND payment_status = 'completed' AND transaction_date >= %s "
            "AND transaction_date < %s GROUP BY 1, 2 ORDER BY 1, 2", (instructor, start, end)), (start, end)
    assert db.rows(RAW_FIGURES, (instructor, *PERIOD_EDGES[2]))[0]["sales"] > 0


def test_revenue_totals_follow_a_deleted_or_failed_row(db):
    """A row leaving the completed ones (or deleted) takes its sums away; an emptied day is deleted."""
    instructor, course, _, sale = sale_of(db, gen_user(db), "12.00")
    assert db.value("SELECT count(*) FROM revenue_totals WHERE instructor_id = %s", (instructor,)) == 2
    owner(db, "UPDATE revenue_transactions SET payment_status = 'failed' WHERE id = %s", (sale,))
    assert db.value("SELECT count(*) FROM revenue_totals WHERE instructor_id = %s", (instructor,)) == 0
    owner(db, "UPDATE revenue_transactions SET payment_status = 'completed' WHERE id = %s", (sale,))
    assert db.rows("SELECT grain, line_count, amount FROM revenue_totals WHERE instructor_id = %s ORDER BY grain",
                   (instructor,)) == [{"grain": "day", "line_count": 1, "amount": D("12.00")},
                                      {"grain": "month", "line_count": 1, "amount": D("12.00")}]
    assert verify_money(db, instructor) == []

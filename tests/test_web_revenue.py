"""Revenue over HTTP (issue 16): every route as every actor (a co-instructor without view_revenue
gets 404 for the course everywhere here), the CSV's totals against the overview, a refund by the
instructor (CSRF, confirmation, the window), payouts made and paid by an admin and seen by the
instructor with their statement, an admin's partial refund, bad input (422, values kept), and a
student's receipts."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from tests.course_web import send
from tests.support import enroll, gen_account, gen_course, gen_user, pay
from tests.web import sign_in, text

# The area's routes with an argument, or POST only (test_web_routes.py: every route is tested).
RULES = {
    "/revenue/transactions", "/revenue/transactions.csv", "/revenue/transactions/<uuid:transaction_id>",
    "/revenue/transactions/<uuid:transaction_id>/refund", "/revenue/payouts", "/revenue/payouts/<uuid:payout_id>",
    "/revenue/payouts/<uuid:payout_id>/statement.csv", "/revenue/admin/payouts",
    "/revenue/admin/payouts/<uuid:payout_id>", "/revenue/admin/payouts/<uuid:payout_id>/statement.csv",
    "/revenue/admin/payouts/<uuid:payout_id>/paid", "/revenue/admin/payouts/<uuid:payout_id>/cancel",
    "/revenue/admin/sales", "/revenue/admin/sales/<uuid:transaction_id>", "/revenue/admin/refresh-stats",
    "/revenue/admin/payouts/due",
    "/revenue/admin/sales/<uuid:transaction_id>/refund", "/revenue/receipts", "/revenue/receipts/<uuid:transaction_id>",
}
SEES_COURSE = ("owner", "co_revenue")
BLIND = ("co_view", "co_edit", "co_manage", "co_respond", "co_none", "other_instructor")


@pytest.fixture(scope="module")
def shop(world):
    """A paid course of the owner's (every co-instructor on it), three sales (19.99, one a month ago),
    a workshop seat, and an admin signed in."""
    db = world.database
    course = world.course(title="Money Course", price="19.99")
    sales = []
    for n in range(3):
        student = world.users["student"] if n == 0 else gen_user(db)
        enrollment = enroll(db, student, course.id)
        pay(db, enrollment)
        sales.append(db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,)))
    db.value("UPDATE revenue_transactions SET transaction_date = now() - interval '20 days' WHERE id = %s "
             "RETURNING id", (sales[2],))
    admin, email = gen_account(db, "admin", name="Ada Admin")
    world.clients["admin"] = world.app.test_client()
    sign_in(world.clients["admin"], email)
    world.users["admin"] = admin
    return {"course": course, "sales": sales, "item": f"course:{course.id}"}


def get(world, actor, path):
    return world.clients[actor].get(path)


# --- who may open what --------------------------------------------------------------------------

@pytest.mark.parametrize("actor", [*SEES_COURSE, *BLIND, "student", "anon", "admin"])
def test_every_page_as_every_actor(world, shop, actor):
    sale, item = shop["sales"][0], shop["item"]
    pages = {"/revenue/": 200, f"/revenue/?item={item}": 200, "/revenue/transactions": 200,
             f"/revenue/transactions?item={item}&period=all": 200, f"/revenue/transactions/{sale}": 200,
             "/revenue/transactions.csv": 200, "/revenue/payouts": 200}
    for path, ok in pages.items():
        status = get(world, actor, path).status_code
        if actor == "anon":
            assert status == 303, path
        elif actor in ("student", "admin"):
            assert status == 404, path
        elif actor in BLIND and ("item=" in path or str(sale) in path):
            assert status == 404, (path, actor)   # the course's money is not theirs to see
        else:
            assert status == ok, (path, actor)
    admin_status = get(world, actor, "/revenue/admin/payouts").status_code
    assert admin_status == (200 if actor == "admin" else 303 if actor == "anon" else 404)
    receipts = get(world, actor, "/revenue/receipts").status_code
    assert receipts == (303 if actor == "anon" else 200)   # every signed-in role may have bought something


def test_a_co_instructor_sees_the_course_rows_not_the_owners_others(world, shop):
    page = text(get(world, "co_revenue", "/revenue/transactions?period=all"))
    assert all(f'id="tx-{s}"' in page for s in shop["sales"])
    blind = text(get(world, "co_none", "/revenue/transactions?period=all"))
    assert not any(f'id="tx-{s}"' in blind for s in shop["sales"])


def test_bad_custom_dates_are_422_with_the_values_kept(world, shop):
    response = get(world, "owner", "/revenue/?period=custom&from=2026-05-10&to=2026-05-01")
    assert response.status_code == 422
    assert 'value="2026-05-10"' in text(response) and "The last day is on or after the first." in text(response)


# --- the CSV sums to the overview -----------------------------------------------------------------

def figure(page: str, key: str) -> Decimal:
    import re
    raw = re.search(rf'data-figure="{key}">([^<]+)<', page).group(1)
    return Decimal(raw.replace("$", "").replace(",", "").replace("−", "-"))


@pytest.mark.parametrize("query", ["period=month", "period=30d", "period=year",
                                   "period=custom&from=2020-01-01&to=2029-12-31"])
def test_the_csv_totals_equal_the_overview(world, shop, query):
    overview = text(get(world, "owner", f"/revenue/?{query}"))
    response = get(world, "owner", f"/revenue/transactions.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    sales = [r for r in rows if r["Type"] != "Refund"]
    refunds = [r for r in rows if r["Type"] == "Refund"]
    total = lambda rs, col: sum((Decimal(r[col]) for r in rs), Decimal("0"))  # noqa: E731
    assert total(sales, "Amount") == figure(overview, "gross")
    assert -total(refunds, "Amount") == figure(overview, "refunds")
    assert total(rows, "Platform fee") == figure(overview, "platform_fees")
    assert total(rows, "Your earnings") == figure(overview, "earnings")
    assert total([r for r in rows if r["Payout status"] in ("Pending", "Scheduled")], "Your earnings") == \
        figure(overview, "pending_payout")
    assert total([r for r in rows if r["Payout status"] == "Paid"], "Your earnings") == figure(overview, "paid_out")
    if query == "period=year":
        assert len(sales) >= 3 and figure(overview, "gross") >= Decimal("59.97")


# --- the instructor's refund ------------------------------------------------------------------------

def test_the_owner_refunds_a_sale_with_a_reason_and_a_confirmation(world, shop):
    db, sale = world.database, shop["sales"][1]
    path = f"/revenue/transactions/{sale}/refund"
    assert send(world, "owner", path, {"reason": "Asked", "confirm": "y"}, csrf=False).status_code == 400
    unconfirmed = send(world, "owner", path, {"reason": "The student asked in time"})
    assert unconfirmed.status_code == 422 and "The student asked in time" in text(unconfirmed)
    assert "Tick the box to confirm the refund." in text(unconfirmed)
    for actor in ("co_revenue", "co_none", "other_instructor"):
        assert send(world, actor, path, {"reason": "x", "confirm": "y"}).status_code in (404, 422)
    assert db.value("SELECT count(*) FROM revenue_transactions WHERE refund_of = %s", (sale,)) == 0
    done = send(world, "owner", path, {"reason": "The student asked in time", "confirm": "y"})
    assert done.status_code == 303
    page = text(get(world, "owner", f"/revenue/transactions/{sale}"))
    assert 'data-field="refunded"' in page and "Refund this sale" not in page
    assert db.value("SELECT status::text FROM course_enrollments e JOIN revenue_transactions r "
                    "ON r.enrollment_id = e.id WHERE r.id = %s", (sale,)) == "refunded"
    again = send(world, "owner", path, {"reason": "Twice", "confirm": "y"})
    assert again.status_code == 422 and "refund a sale once" in text(again)


def test_outside_the_window_only_an_admin_refunds_and_in_part(world, shop):
    db, sale = world.database, shop["sales"][2]   # 20 days old
    page = text(get(world, "owner", f"/revenue/transactions/{sale}"))
    assert "refund window of this sale has closed" in page
    refused = send(world, "owner", f"/revenue/transactions/{sale}/refund", {"reason": "Late", "confirm": "y"})
    assert refused.status_code == 422 and "refund window" in text(refused)
    path = f"/revenue/admin/sales/{sale}/refund"
    too_much = send(world, "admin", path, {"amount": "20.00", "reason": "Goodwill", "confirm": "y"})
    assert too_much.status_code == 422 and 'value="20.00"' in text(too_much) and "at most what is left of the sale" in text(too_much)
    fraction = send(world, "admin", path, {"amount": "1.005", "reason": "Goodwill", "confirm": "y"})
    assert fraction.status_code == 422 and "whole cents" in text(fraction)
    assert send(world, "admin", path, {"amount": "5.55", "reason": "Goodwill", "confirm": "y"}).status_code == 303
    refund = db.rows("SELECT amount, platform_fee_amount FROM revenue_transactions WHERE refund_of = %s", (sale,))
    assert refund == [{"amount": Decimal("-5.55"), "platform_fee_amount": Decimal("-1.11")}]
    assert send(world, "owner", path, {"amount": "1", "reason": "x", "confirm": "y"}).status_code == 404


# --- payouts -----------------------------------------------------------------------------------------

def test_an_admin_pays_out_and_the_instructor_sees_it_paid_with_its_statement(world, shop):
    db = world.database
    owner = world.users["owner"]
    listing = text(get(world, "admin", "/revenue/admin/payouts"))
    assert f'data-instructor="{owner}"' in listing
    made = send(world, "admin", "/revenue/admin/payouts", {"instructor_id": str(owner), "currency": "USD"})
    assert made.status_code == 303
    payout = db.value("SELECT id FROM payouts WHERE instructor_id = %s AND status = 'scheduled'", (owner,))
    assert made.headers["Location"].endswith(f"/revenue/admin/payouts/{payout}")
    again = send(world, "admin", "/revenue/admin/payouts", {"instructor_id": str(owner), "currency": "USD"})
    assert again.status_code == 422 and "already has a scheduled payout" in text(again)
    assert get(world, "owner", f"/revenue/payouts/{payout}").status_code == 200
    for actor in ("co_revenue", "other_instructor", "student"):
        assert get(world, actor, f"/revenue/payouts/{payout}").status_code == 404
        assert get(world, actor, f"/revenue/payouts/{payout}/statement.csv").status_code == 404
    path = f"/revenue/admin/payouts/{payout}/paid"
    unconfirmed = send(world, "admin", path, {"reference": "WIRE-7"})
    assert unconfirmed.status_code == 422 and 'value="WIRE-7"' in text(unconfirmed)
    assert send(world, "owner", path, {"reference": "x", "confirm": "y"}).status_code == 404
    assert send(world, "admin", path, {"reference": "WIRE-7", "confirm": "y"}).status_code == 303
    page = text(get(world, "owner", f"/revenue/payouts/{payout}"))
    assert 'data-status="paid"' in page and "WIRE-7" in page
    statement = get(world, "owner", f"/revenue/payouts/{payout}/statement.csv")
    rows = list(csv.DictReader(io.StringIO(statement.get_data(as_text=True).lstrip("\ufeff"))))
    total = db.value("SELECT total_amount FROM payouts WHERE id = %s", (payout,))
    assert sum(Decimal(r["Earnings"]) for r in rows) == total and rows
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'payout_paid'",
                    (owner,)) == 1
    summary = text(get(world, "owner", "/revenue/payouts"))
    assert figure(summary, "paid") >= total
    assert db.rows("SELECT * FROM private.verify_money()") == []


# --- receipts ------------------------------------------------------------------------------------------

def test_a_student_sees_their_payments_and_refunds_with_receipts(world, shop):
    db, sale = world.database, shop["sales"][0]
    send(world, "owner", f"/revenue/transactions/{sale}/refund", {"reason": "Wrong course", "confirm": "y"})
    refund = db.value("SELECT id FROM revenue_transactions WHERE refund_of = %s", (sale,))
    page = text(get(world, "student", "/revenue/receipts"))
    assert f'id="receipt-{sale}"' in page and f'id="receipt-{refund}"' in page
    receipt = text(get(world, "student", f"/revenue/receipts/{refund}"))
    assert "Wrong course" in receipt and "$19.99" in receipt and "Platform" not in receipt
    other = shop["sales"][1]
    assert get(world, "student", f"/revenue/receipts/{other}").status_code == 404
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'refund_issued'",
                    (world.users["student"],)) == 1


def test_an_admin_queues_the_monthly_statistics_now(world, shop):
    """On demand: the nightly refresh job, queued for the worker; only an admin may."""
    db = world.database
    before = db.value("SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE task_name = 'refresh_monthly_stats'")
    assert send(world, "owner", "/revenue/admin/refresh-stats").status_code == 404
    assert send(world, "admin", "/revenue/admin/refresh-stats", csrf=False).status_code == 400
    assert send(world, "admin", "/revenue/admin/refresh-stats").status_code == 303
    assert db.value("SELECT count(*) FROM procrastinate.procrastinate_jobs "
                    "WHERE task_name = 'refresh_monthly_stats'") == before + 1


def test_the_status_filter_tells_refunded_sales_from_the_others(world, shop):
    db = world.database
    refunded = {r["refund_of"] for r in db.rows("SELECT refund_of FROM revenue_transactions WHERE refund_of = ANY(%s)",
                                                (shop["sales"],))}
    for kind in ("refunded", "kept"):
        page = text(get(world, "owner", f"/revenue/transactions?period=all&kind={kind}&item={shop['item']}"))
        shown = {s for s in shop["sales"] if f'id="tx-{s}"' in page}
        assert shown == (refunded if kind == "refunded" else set(shop["sales"]) - refunded), kind
    assert len(refunded) == 3  # by now (the tests above): each sale of the shop was refunded


@pytest.mark.parametrize("actor", ["owner", "co_revenue", "co_none", "other_instructor", "student", "anon", "admin"])
def test_the_admins_pages_and_the_receipts_as_every_actor(world, shop, actor):
    """Admin pages: 200 for an admin, 404 for everyone else signed in, sign-in for anon; a receipt is its
    student's only; every POST without a CSRF token is refused (400) before anything else."""
    db = world.database
    sale = shop["sales"][0]
    payout = db.value("SELECT id FROM payouts WHERE instructor_id = %s ORDER BY created_at LIMIT 1",
                      (world.users["owner"],)) or db.value(
        "INSERT INTO payouts (instructor_id, cutoff, scheduled_for, status, paid_at) "
        "VALUES (%s, now(), current_date, 'cancelled', NULL) RETURNING id", (world.users["owner"],))
    for path in ("/revenue/admin/sales", f"/revenue/admin/sales/{sale}", f"/revenue/admin/payouts/{payout}",
                 f"/revenue/admin/payouts/{payout}/statement.csv"):
        status = get(world, actor, path).status_code
        assert status == (200 if actor == "admin" else 303 if actor == "anon" else 404), (path, status)
    receipt = get(world, actor, f"/revenue/receipts/{sale}").status_code
    assert receipt == (200 if actor == "student" else 303 if actor == "anon" else 404)
    if actor != "anon":
        for path in (f"/revenue/admin/payouts/{payout}/paid", f"/revenue/admin/payouts/{payout}/cancel",
                     f"/revenue/admin/sales/{sale}/refund", "/revenue/admin/payouts",
                     f"/revenue/transactions/{sale}/refund"):
            assert send(world, actor, path, {"reason": "x", "confirm": "y"}, csrf=False).status_code == 400, path


def test_an_admin_makes_every_due_payout_at_once(world, shop):
    """Every instructor due by their schedule with earnings past the window and no scheduled payout gets
    one; an instructor paid within their schedule is not due."""
    db = world.database
    teachers = [gen_user(db, "instructor") for _ in range(2)]
    for teacher in teachers:
        course = gen_course(db, teacher, price="30.00")
        enrollment = enroll(db, gen_user(db), course.id)
        pay(db, enrollment)
        db.value("UPDATE revenue_transactions SET transaction_date = now() - interval '40 days' "
                 "WHERE enrollment_id = %s RETURNING id", (enrollment,))
    # the second was paid yesterday: weekly, not due again yet
    db.value("UPDATE instructor_settings SET payout_schedule = 'weekly' WHERE user_id = %s RETURNING 1", (teachers[1],))
    db.value("INSERT INTO payouts (instructor_id, cutoff, scheduled_for, status, paid_at) "
             "VALUES (%s, now(), current_date, 'paid', now() - interval '1 day') RETURNING id", (teachers[1],))
    assert send(world, "owner", "/revenue/admin/payouts/due").status_code == 404
    assert send(world, "admin", "/revenue/admin/payouts/due").status_code == 303
    assert db.value("SELECT count(*) FROM payouts WHERE instructor_id = %s AND status = 'scheduled'",
                    (teachers[0],)) == 1
    assert db.value("SELECT count(*) FROM payouts WHERE instructor_id = %s AND status = 'scheduled'",
                    (teachers[1],)) == 0


# --- the review's findings ------------------------------------------------------------------------------

import base64  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402


@pytest.mark.parametrize("path", ["/revenue/", "/revenue/transactions", "/revenue/transactions.csv"])
@pytest.mark.parametrize("dates, field, message", [
    ("from=0001-01-01&to=0001-01-02", "from", "Choose a day from 2000 to 2100."),
    ("from=9999-12-30&to=9999-12-31", "to", "Choose a day from 2000 to 2100."),
    ("from=2026-01-01garbage&to=2026-02-01", "from", "Enter the first day as a date."),
    ("from=2026-05-10&to=2026-05-01", "to", "The last day is on or after the first."),
])
def test_custom_dates_out_of_range_or_malformed_are_field_errors(world, shop, path, dates, field, message):
    """Dates far out (the period before them no longer a date) or with text after them: the page at
    422 with the field's error and the values kept, on the overview, the transactions and the CSV."""
    response = get(world, "owner", f"{path}?period=custom&{dates}")
    page = text(response)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert f'id="period-{field}-error">{message}<' in page
    for value in re.findall(r"=([^&]+)", dates):
        assert f'value="{value}"' in page


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "100000000"])
def test_an_admin_refund_amount_that_is_no_number_of_cents_is_a_field_error(world, shop, amount):
    sale = shop["sales"][2]
    response = send(world, "admin", f"/revenue/admin/sales/{sale}/refund",
                    {"amount": amount, "reason": "Goodwill", "confirm": "y"})
    assert response.status_code == 422
    assert "Enter an amount in whole cents" in text(response) and f'value="{amount}"' in text(response)


def position(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("after", [[1, 2], ["x", "y"], ["2026-01-01T00:00:00+00:00", "nope"], [None], "zz"])
def test_a_tampered_receipts_position_starts_from_the_top(world, shop, after):
    first = text(get(world, "student", "/revenue/receipts"))
    response = get(world, "student", "/revenue/receipts?after=" + position(after))
    assert response.status_code == 200
    assert re.findall(r'id="receipt-([^"]+)"', text(response)) == re.findall(r'id="receipt-([^"]+)"', first) != []


def test_an_instructor_who_buys_a_course_has_their_receipts(world, shop):
    db = world.database
    course = gen_course(db, world.users["other_instructor"], price="12.00")
    enrollment = enroll(db, world.users["owner"], course.id)
    pay(db, enrollment)
    sale = db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,))
    assert f'id="receipt-{sale}"' in text(get(world, "owner", "/revenue/receipts"))
    assert get(world, "owner", f"/revenue/receipts/{sale}").status_code == 200
    assert get(world, "other_instructor", f"/revenue/receipts/{sale}").status_code == 404  # the seller's not


def test_cancelling_a_payout_asks_for_a_confirmation_and_a_scheduled_one_is_to_pay(world, shop):
    db = world.database
    teacher = gen_user(db, "instructor")
    course = gen_course(db, teacher, price="25.00")
    enrollment = enroll(db, gen_user(db), course.id)
    pay(db, enrollment)
    db.value("UPDATE revenue_transactions SET transaction_date = now() - interval '40 days' "
             "WHERE enrollment_id = %s RETURNING id", (enrollment,))
    assert send(world, "admin", "/revenue/admin/payouts", {"instructor_id": str(teacher), "currency": "USD"}
                ).status_code == 303
    payout = db.value("SELECT id FROM payouts WHERE instructor_id = %s AND status = 'scheduled'", (teacher,))
    page = text(get(world, "admin", f"/revenue/admin/payouts/{payout}"))
    assert "<dt>To pay</dt>" in page and "<dt>Paid out</dt>" not in page
    path = f"/revenue/admin/payouts/{payout}/cancel"
    unconfirmed = send(world, "admin", path, {})
    assert unconfirmed.status_code == 422 and "Tick the box to confirm cancelling this payout." in text(unconfirmed)
    assert db.value("SELECT status::text FROM payouts WHERE id = %s", (payout,)) == "scheduled"
    assert send(world, "admin", path, {"confirm": "y"}).status_code == 303
    assert db.value("SELECT status::text FROM payouts WHERE id = %s", (payout,)) == "cancelled"


def test_by_source_covers_what_the_cards_cover(world, shop):
    """A co-instructor with view_revenue: the cards count the course's sales, and so does By source."""
    page = text(get(world, "co_revenue", "/revenue/?period=year"))
    row = re.search(r'<tr data-source="course_enrollment"><th scope="row">[^<]+</th><td class="num">[^<]+</td>'
                    r'<td class="num">([^<]+)</td>', page)
    assert row is not None
    assert Decimal(row.group(1).replace("$", "").replace(",", "")) == figure(page, "gross")


def test_a_refund_carried_after_a_payout_is_explained_in_payouts_due(world, shop):
    db = world.database
    teacher = gen_user(db, "instructor")
    course = gen_course(db, teacher, price="50.00")
    enrollment = enroll(db, gen_user(db), course.id)
    pay(db, enrollment)
    sale = db.value("UPDATE revenue_transactions SET transaction_date = now() - interval '40 days' "
                    "WHERE enrollment_id = %s RETURNING id", (enrollment,))
    assert send(world, "admin", "/revenue/admin/payouts", {"instructor_id": str(teacher), "currency": "USD"}
                ).status_code == 303
    payout = db.value("SELECT id FROM payouts WHERE instructor_id = %s AND status = 'scheduled'", (teacher,))
    assert send(world, "admin", f"/revenue/admin/payouts/{payout}/paid", {"confirm": "y"}).status_code == 303
    assert send(world, "admin", f"/revenue/admin/sales/{sale}/refund",
                {"reason": "Chargeback", "confirm": "y"}).status_code == 303
    page = text(get(world, "admin", "/revenue/admin/payouts"))
    line = re.search(rf'<tr data-instructor="{teacher}">.*?</tr>', page, re.S).group(0)
    assert 'data-note="carried"' in line and "carried until later earnings cover it" in line


def test_an_admin_refunds_a_sale_in_parts_and_sees_the_provider_refunds_not_applied(world, shop):
    from portal import payments
    db = world.database
    course = gen_course(db, world.users["other_instructor"], price="30.00")
    buyer = gen_user(db)
    enrollment = enroll(db, buyer, course.id)
    pay(db, enrollment)
    sale = db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,))
    path = f"/revenue/admin/sales/{sale}/refund"
    for amount in ("10.00", "5.00"):
        assert send(world, "admin", path, {"amount": amount, "reason": "Part", "confirm": "y"}).status_code == 303
    page = text(get(world, "admin", f"/revenue/admin/sales/{sale}"))
    assert 'data-field="left">$15.00<' in page and "($15.00 in all)" in page
    assert send(world, "admin", path, {"reason": "The rest", "confirm": "y"}).status_code == 303
    assert "Refund</button>" not in text(get(world, "admin", f"/revenue/admin/sales/{sale}"))
    # The provider reports a refund of a checkout the portal knows nothing of: recorded, listed.
    with world.app.app_context():
        event = f"evt_unknown_{sale}"
        assert payments.apply_event(payments.parse_event(payments.event_body(
            "refund.succeeded", sale, event_id=event, amount=Decimal("3.00")))) == "unapplied"
    listing = text(get(world, "admin", "/revenue/admin/sales"))
    assert f'data-event="{event}"' in listing and "Provider refunds not applied" in listing

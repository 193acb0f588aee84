"""Enrolling over HTTP: a free course enrolls at once, a paid one goes through the test
provider's checkout (pay, decline, retry), and every refusal says why and writes nothing.
Every route of the student side of enrolling, as every actor, and without its CSRF token."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest

from tests.course_web import send, slug
from tests.support import Actor, enroll, gen_account, gen_course, mismatches, pay
from tests.web import htmx, sign_in, text

HOSTED_URL = "https://pay.example.test/checkout/{checkout_id}"




# --- helpers ------------------------------------------------------------------------------





def course_title(world, course) -> str:
    return world.database.value("SELECT title FROM courses WHERE id = %s", (course.id,))


def enrollments(world, course) -> list[dict]:
    return world.database.rows(
        "SELECT id, user_id, status::text, payment_status::text, amount_paid, updated_at "
        "FROM course_enrollments WHERE course_id = %s ORDER BY created_at", (course.id,))


def enrollment_of(world, actor: str, course) -> dict | None:
    rows = [row for row in enrollments(world, course) if row["user_id"] == world.users[actor]]
    return rows[0] if rows else None


def checkouts(world, course) -> list[dict]:
    return world.database.rows(
        "SELECT id, status::text, provider, amount, failure_reason FROM checkouts WHERE course_id = %s "
        "ORDER BY created_at, id", (course.id,))


def revenue(world, course) -> list[dict]:
    return world.database.rows(
        "SELECT transaction_type::text, amount, platform_fee_amount, instructor_earnings, payment_status::text "
        "FROM revenue_transactions WHERE course_id = %s ORDER BY created_at", (course.id,))


def events(world, course) -> list[dict]:
    return world.database.rows(
        "SELECT e.event_id, e.kind, e.outcome FROM payment_events e JOIN checkouts c ON c.id = e.checkout_id "
        "WHERE c.course_id = %s ORDER BY e.received_at", (course.id,))


def fingerprint(world, course):
    """Everything enrolling may write for a course, to show that nothing was."""
    return (enrollments(world, course), checkouts(world, course), revenue(world, course), events(world, course))


def flashes(world, actor: str) -> list[str]:
    """The messages waiting for the actor's next page (read and cleared)."""
    with world.clients[actor].session_transaction() as session:
        return [message for _, message in session.pop("_flashes", [])]


def checkout_id_from(response) -> uuid.UUID:
    found = re.fullmatch(r"/checkout/([0-9a-f-]{36})", response.headers["Location"])
    assert found, response.headers.get("Location")
    return uuid.UUID(found.group(1))


def paid_course(world, price="49.00", **kwargs):
    return world.course(price=price, co=False, **kwargs)


def start_paying(world, course, actor="student"):
    """Enroll in a paid course through the web; return the checkout id it sends us to."""
    response = send(world, actor, f"/catalog/{slug(world, course)}/enroll")
    assert response.status_code == 303, text(response)[:300]
    return checkout_id_from(response)


# --- free -----------------------------------------------------------------------------

def test_a_free_course_enrolls_at_once_and_sends_the_student_to_learn(world):
    """A free course: enrolled and paid (nothing to pay) at once, a welcome, and on to the course."""
    course = world.course(co=False)
    response = send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/learn/{slug(world, course)}/"
    row = enrollment_of(world, "student", course)
    assert (row["status"], row["payment_status"]) == ("enrolled", "completed")
    assert checkouts(world, course) == [] and revenue(world, course) == []
    assert any("You are enrolled in" in m for m in flashes(world, "student"))


def test_htmx_enrolling_answers_with_hx_redirect(world):
    """An htmx enroll gets HX-Redirect to where a plain form would have been sent."""
    course = world.course(co=False)
    response = send(world, "student", f"/catalog/{slug(world, course)}/enroll", headers=htmx())
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/learn/{slug(world, course)}/"
    assert enrollment_of(world, "student", course)["status"] == "enrolled"


# --- paid, through the test provider ---------------------------------------------------------

def test_the_paid_journey_through_the_test_provider(world):
    """Pending until paid; paying enrolls, writes one sale with the 20% fee, and the figures agree."""
    course = paid_course(world, price="19.99")
    checkout_id = start_paying(world, course)
    row = enrollment_of(world, "student", course)
    assert (row["status"], row["payment_status"]) == ("pending", "pending")
    assert [(c["id"], c["status"], c["provider"], c["amount"]) for c in checkouts(world, course)] == \
        [(checkout_id, "open", "test", Decimal("19.99"))]

    page = world.clients["student"].get(f"/checkout/{checkout_id}")
    body = text(page)
    assert page.status_code == 200 and "<html" in body
    assert "Test mode:" in body and "no real money moves" in body
    assert "Pay $19.99" in body and "Decline the payment" in body and course_title(world, course) in body

    response = send(world, "student", f"/checkout/{checkout_id}/pay")
    assert response.status_code == 303 and response.headers["Location"] == f"/learn/{slug(world, course)}/"
    assert any("Payment received" in m for m in flashes(world, "student"))
    row = enrollment_of(world, "student", course)
    assert (row["status"], row["payment_status"], row["amount_paid"]) == ("enrolled", "completed", Decimal("19.99"))
    assert revenue(world, course) == [{"transaction_type": "course_enrollment", "amount": Decimal("19.99"),
                                       "platform_fee_amount": Decimal("4.00"),
                                       "instructor_earnings": Decimal("15.99"), "payment_status": "completed"}]
    assert world.database.value("SELECT total_revenue FROM courses WHERE id = %s", (course.id,)) == Decimal("19.99")
    # The test provider went through the signed-event path: one event, applied.
    assert [(e["kind"], e["outcome"]) for e in events(world, course)] == [("payment.succeeded", "succeeded")]
    assert checkouts(world, course)[0]["status"] == "succeeded"
    assert mismatches(world.database) == []

    done = text(world.clients["student"].get(f"/checkout/{checkout_id}"))
    assert "Payment received" in done and f'href="/learn/{slug(world, course)}/"' in done
    assert "Pay $19.99" not in done


def test_decline_then_retry_then_pay_writes_one_sale(world):
    """A declined payment leaves the enrollment pending with the reason and a retry; paying then enrolls once."""
    course = paid_course(world, price="30.00")
    first = start_paying(world, course)
    response = send(world, "student", f"/checkout/{first}/decline", {"reason": "Insufficient funds (test)."})
    assert response.status_code == 303 and response.headers["Location"] == f"/checkout/{first}"
    assert any("declined" in m for m in flashes(world, "student"))
    row = enrollment_of(world, "student", course)
    assert (row["status"], row["payment_status"]) == ("pending", "failed")
    assert checkouts(world, course)[0]["failure_reason"] == "Insufficient funds (test)."

    page = text(world.clients["student"].get(f"/checkout/{first}"))
    assert "The payment failed:" in page and "Insufficient funds (test)." in page
    assert f'action="/catalog/{slug(world, course)}/checkout"' in page and "Try again" in page
    assert "Pay $30.00" not in page

    response = send(world, "student", f"/catalog/{slug(world, course)}/checkout")
    second = checkout_id_from(response)
    assert second != first
    assert send(world, "student", f"/checkout/{second}/pay").status_code == 303
    assert [c["status"] for c in checkouts(world, course)] == ["failed", "succeeded"]
    assert enrollment_of(world, "student", course)["status"] == "enrolled"
    assert [r["amount"] for r in revenue(world, course)] == [Decimal("30.00")]
    assert mismatches(world.database) == []


def test_an_empty_decline_reason_takes_the_databases_default(world):
    """Declining without a reason records the default message."""
    course = paid_course(world)
    checkout_id = start_paying(world, course)
    assert send(world, "student", f"/checkout/{checkout_id}/decline", {"reason": "  "}).status_code == 303
    assert checkouts(world, course)[0]["failure_reason"] == "The payment was declined."


def test_a_decline_reason_that_is_too_long_is_422_with_the_value_kept(world):
    """A reason over 500 characters re-renders the checkout with the message and the value; nothing settles."""
    course = paid_course(world)
    checkout_id = start_paying(world, course)
    reason = "x" * 501
    response = send(world, "student", f"/checkout/{checkout_id}/decline", {"reason": reason})
    body = text(response)
    assert response.status_code == 422 and "<html" in body
    assert f'value="{reason}"' in body and "Keep the reason under 500 characters." in body
    assert checkouts(world, course)[0]["status"] == "open" and events(world, course) == []
    partial = send(world, "student", f"/checkout/{checkout_id}/decline", {"reason": reason}, headers=htmx())
    assert partial.status_code == 422 and "<html" not in text(partial) and 'id="checkout"' in text(partial)


def test_enrolling_again_in_a_pending_paid_course_resumes_the_open_checkout(world):
    """A second click on Enroll (or Retry) returns to the same open checkout: one checkout, one enrollment."""
    course = paid_course(world)
    first = start_paying(world, course)
    assert start_paying(world, course) == first
    assert checkout_id_from(send(world, "student", f"/catalog/{slug(world, course)}/checkout")) == first
    assert len(checkouts(world, course)) == 1 and len(enrollments(world, course)) == 1


def test_paying_a_settled_checkout_changes_nothing(world):
    """Pay or decline on a checkout already paid says so and writes no second event."""
    course = paid_course(world)
    checkout_id = start_paying(world, course)
    send(world, "student", f"/checkout/{checkout_id}/pay")
    flashes(world, "student")
    before = fingerprint(world, course)
    for action in ("pay", "decline"):
        response = send(world, "student", f"/checkout/{checkout_id}/{action}")
        assert response.status_code == 303 and response.headers["Location"] == f"/checkout/{checkout_id}"
        assert "This payment is already settled." in flashes(world, "student")
    assert fingerprint(world, course) == before


def test_retry_with_nothing_to_pay_says_so_and_writes_nothing(world):
    """Retry on a course the student has not started, or has already paid, explains and writes nothing."""
    course = paid_course(world)
    response = send(world, "student", f"/catalog/{slug(world, course)}/checkout")
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{slug(world, course)}"
    assert any("not enrolled" in m for m in flashes(world, "student"))
    assert fingerprint(world, course) == ([], [], [], [])
    free = world.course(co=False)
    send(world, "student", f"/catalog/{slug(world, free)}/enroll")
    flashes(world, "student")
    before = fingerprint(world, free)
    response = send(world, "student", f"/catalog/{slug(world, free)}/checkout")
    assert response.status_code == 303 and any("already enrolled" in m for m in flashes(world, "student"))
    assert fingerprint(world, free) == before


# --- refusals ---------------------------------------------------------------------------

def test_enrolling_twice_is_refused_with_a_message(world):
    """A second enroll in a course one is enrolled in says so, and writes nothing."""
    course = world.course(co=False)
    send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    flashes(world, "student")
    before = fingerprint(world, course)
    response = send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{slug(world, course)}"
    assert any("already enrolled" in m for m in flashes(world, "student"))
    assert fingerprint(world, course) == before


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_a_course_that_is_not_published_is_not_there_to_enroll_in(world, status):
    """A draft or archived course the student cannot see is a 404, and nothing is written."""
    course = world.course(status=status, co=False)
    response = send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    assert response.status_code == 404
    assert fingerprint(world, course) == ([], [], [], [])


def test_an_archived_course_one_is_enrolled_in_is_refused_with_a_message(world):
    """Archived after the student enrolled: still visible to them, but enrolling again is refused, nothing written."""
    course = world.course(co=False)
    send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    world.database.value("UPDATE courses SET status = 'archived' WHERE id = %s RETURNING id", (course.id,))
    flashes(world, "student")
    before = fingerprint(world, course)
    response = send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{slug(world, course)}"
    assert any("is not open for enrollment" in m for m in flashes(world, "student"))
    assert fingerprint(world, course) == before


def test_a_refunded_enrollment_is_refused_with_the_databases_reason(world):
    """A refunded enrollment is not revived: a message to ask support, and no new sale."""
    course = paid_course(world, price="25.00")
    enrollment = enroll(world.database, world.users["other_student"], course.id)
    pay(world.database, enrollment)
    with world.database.act(Actor.service()) as cur:
        cur.execute("SELECT refund_course_enrollment(%s)", (enrollment,))
    before = fingerprint(world, course)
    response = send(world, "other_student", f"/catalog/{slug(world, course)}/enroll")
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{slug(world, course)}"
    assert any("was refunded" in m and "Ask support" in m for m in flashes(world, "other_student"))
    assert fingerprint(world, course) == before
    assert [r["transaction_type"] for r in revenue(world, course)] == ["course_enrollment", "refund"]


def test_instructors_do_not_enroll_in_their_own_course(world):
    """The course's instructor (and any instructor) gets a 404 from enroll; no enrollment is written."""
    course = world.course(co=False)
    for actor in ("owner", "other_instructor"):
        assert send(world, actor, f"/catalog/{slug(world, course)}/enroll").status_code == 404
    assert enrollments(world, course) == []


def test_a_former_instructor_is_refused_their_own_course_with_a_message(world):
    """A student who still owns a course (an instructor turned student) is told, and nothing is written."""
    user_id, email = gen_account(world.database, "instructor", name="Former Instructor")
    course = gen_course(world.database, user_id)
    world.database.value("UPDATE users SET role = 'student' WHERE id = %s RETURNING id", (user_id,))
    world.clients["former"] = world.app.test_client()
    sign_in(world.clients["former"], email)
    response = send(world, "former", f"/catalog/{slug(world, course)}/enroll")
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{slug(world, course)}"
    assert "Instructors do not enroll in their own course." in flashes(world, "former")
    assert enrollments(world, course) == []


def test_enrolling_in_an_unknown_course_is_404(world):
    """An address with no course behind it is a 404."""
    assert send(world, "student", "/catalog/no-such-course/enroll").status_code == 404
    assert send(world, "student", "/catalog/no-such-course/checkout").status_code == 404


# --- the hosted provider --------------------------------------------------------------------

@pytest.fixture()
def hosted(world):
    """The app switched to the hosted provider for one test."""
    config = world.app.config
    saved = config["PAYMENT_PROVIDER"], config["PAYMENT_CHECKOUT_URL"]
    config["PAYMENT_PROVIDER"], config["PAYMENT_CHECKOUT_URL"] = "hosted", HOSTED_URL
    yield world
    config["PAYMENT_PROVIDER"], config["PAYMENT_CHECKOUT_URL"] = saved


def test_the_hosted_provider_sends_the_student_to_the_processor(hosted):
    """With PAYMENT_PROVIDER=hosted, enrolling goes to the processor's page; our page has no test buttons."""
    world = hosted
    course = paid_course(world)
    response = send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    (checkout,) = checkouts(world, course)
    assert response.status_code == 303
    assert response.headers["Location"] == HOSTED_URL.format(checkout_id=checkout["id"])
    assert checkout["provider"] == "hosted"
    page = text(world.clients["student"].get(f"/checkout/{checkout['id']}"))
    assert "Test mode" not in page and "Pay $" not in page
    assert f'href="{HOSTED_URL.format(checkout_id=checkout["id"])}"' in page


def test_the_test_buttons_are_404_unless_the_test_provider_is_on(hosted):
    """Pay and decline do not exist when payments go through a real processor; nothing is written."""
    world = hosted
    course = paid_course(world)
    world.app.config["PAYMENT_PROVIDER"] = "test"
    checkout_id = start_paying(world, course)
    world.app.config["PAYMENT_PROVIDER"] = "hosted"
    before = fingerprint(world, course)
    for action in ("pay", "decline"):
        assert send(world, "student", f"/checkout/{checkout_id}/{action}").status_code == 404
    assert fingerprint(world, course) == before
    page = text(world.clients["student"].get(f"/checkout/{checkout_id}"))
    assert "Pay $" not in page and "can no longer be paid here" in page


# --- every route as every actor --------------------------------------------------------------

ACTORS = ("anon", "student", "other_student", "owner", "other_instructor")


def _expect(status, actor, response):
    if status == "sign in":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next="), actor
    else:
        assert response.status_code == status, (actor, response.status_code, text(response)[:200])


@pytest.mark.parametrize("actor, expected", [("anon", "sign in"), ("student", 200), ("other_student", 404),
                                             ("owner", 404), ("other_instructor", 404)])
def test_the_checkout_page_is_the_buyers_alone(world, actor, expected):
    """Only the student who is paying sees their checkout page; everyone else gets 404 (or signs in)."""
    course = paid_course(world)
    checkout_id = start_paying(world, course)
    response = world.clients[actor].get(f"/checkout/{checkout_id}")
    _expect(expected, actor, response)
    if expected == 200:
        assert "HX-Request" in response.headers["Vary"]
        partial = world.clients[actor].get(f"/checkout/{checkout_id}", headers=htmx())
        assert partial.status_code == 200 and "<html" not in text(partial) and 'id="checkout"' in text(partial)


@pytest.mark.parametrize("action", ["pay", "decline"])
@pytest.mark.parametrize("actor, expected", [("anon", "sign in"), ("other_student", 404), ("owner", 404),
                                             ("other_instructor", 404)])
def test_nobody_else_pays_or_declines_a_students_checkout(world, action, actor, expected):
    """Pay and decline on someone else's checkout are refused, and nothing is written."""
    course = paid_course(world)
    checkout_id = start_paying(world, course)
    before = fingerprint(world, course)
    _expect(expected, actor, send(world, actor, f"/checkout/{checkout_id}/{action}"))
    assert fingerprint(world, course) == before


def test_an_unknown_checkout_is_404(world):
    """A checkout id that does not exist is a 404 on every checkout route."""
    missing = uuid.uuid4()
    assert world.clients["student"].get(f"/checkout/{missing}").status_code == 404
    for action in ("pay", "decline"):
        assert send(world, "student", f"/checkout/{missing}/{action}").status_code == 404


@pytest.mark.parametrize("route", ["enroll", "checkout"])
@pytest.mark.parametrize("actor, expected", [("anon", "sign in"), ("owner", 404), ("other_instructor", 404)])
def test_only_students_enroll_or_pay(world, route, actor, expected):
    """Enroll and retry: anonymous visitors sign in first, instructors get 404; nothing is written."""
    course = paid_course(world)
    start_paying(world, course)
    before = fingerprint(world, course)
    _expect(expected, actor, send(world, actor, f"/catalog/{slug(world, course)}/{route}"))
    assert fingerprint(world, course) == before


def test_another_student_enrolls_on_their_own(world):
    """Another student enrolling in the same paid course gets their own enrollment and checkout."""
    course = paid_course(world)
    mine = start_paying(world, course)
    theirs = start_paying(world, course, actor="other_student")
    assert mine != theirs and len(enrollments(world, course)) == 2
    assert world.clients["other_student"].get(f"/checkout/{mine}").status_code == 404


@pytest.mark.parametrize("route", ["enroll", "checkout", "pay", "decline"])
def test_posts_without_a_csrf_token_are_refused(world, route):
    """Every form POST of enrolling and paying needs the CSRF token: 400, nothing written."""
    course = paid_course(world)
    checkout_id = start_paying(world, course)
    before = fingerprint(world, course)
    path = {"enroll": f"/catalog/{slug(world, course)}/enroll", "checkout": f"/catalog/{slug(world, course)}/checkout",
            "pay": f"/checkout/{checkout_id}/pay", "decline": f"/checkout/{checkout_id}/decline"}[route]
    for actor in ("student", "anon"):
        assert send(world, actor, path, csrf=False).status_code == 400
    assert fingerprint(world, course) == before


def test_get_on_a_post_route_is_405(world):
    """The action routes accept POST only."""
    course = world.course(co=False)
    assert world.clients["student"].get(f"/catalog/{slug(world, course)}/enroll").status_code == 405


def test_a_course_that_became_free_while_a_payment_waited_enrolls_without_paying(world):
    """The price drops to 0 after checkout started: 'Complete payment' enrolls, nothing is charged."""
    course = paid_course(world, "25.00")
    checkout = start_paying(world, course)
    world.database.value("UPDATE courses SET price_amount = 0 WHERE id = %s RETURNING id", (course.id,))
    response = send(world, "student", f"/catalog/{slug(world, course)}/checkout")
    assert response.status_code == 303 and response.headers["Location"] == f"/learn/{slug(world, course)}/"
    assert any("free now" in m for m in flashes(world, "student"))
    row = enrollment_of(world, "student", course)
    assert (row["status"], row["payment_status"]) == ("enrolled", "completed")
    assert [c["status"] for c in checkouts(world, course) if c["id"] == checkout] == ["failed"]
    assert revenue(world, course) == []


def test_a_declined_enrollment_cannot_be_paid_on_its_old_checkout(world):
    """The instructor declines a pending enrollment: its checkout closes, paying it writes nothing."""
    world.database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                         "RETURNING user_id", (world.users["owner"],))
    try:
        course = paid_course(world, "25.00")
        checkout = start_paying(world, course)
        row = enrollment_of(world, "student", course)
        assert send(world, "owner", f"/students/approvals/{row['id']}/decline", {"confirm": "yes"}).status_code == 303
        before = fingerprint(world, course)
        assert send(world, "student", f"/checkout/{checkout}/pay").status_code == 303
        assert fingerprint(world, course) == before
        assert enrollment_of(world, "student", course)["status"] == "cancelled"
    finally:
        world.database.value("UPDATE instructor_settings SET auto_approve_enrollments = true WHERE user_id = %s "
                             "RETURNING user_id", (world.users["owner"],))


def test_a_decline_reason_loses_its_nul_characters(world):
    """A NUL in the test provider's reason is dropped, not a 500."""
    course = paid_course(world)
    checkout = start_paying(world, course)
    assert send(world, "student", f"/checkout/{checkout}/decline", {"reason": "bad\x00card"}).status_code == 303
    assert [c["failure_reason"] for c in checkouts(world, course)] == ["badcard"]

"""The payment webhook: only HMAC-SHA256 signed events within the replay window are
applied, each event id once. A bad signature, a stale timestamp, a replayed event and a
duplicate delivery each leave exactly one enrollment and one revenue row; bad input is a
400 with a JSON error, never a 500. Also the signing functions themselves."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal

import peewee
import pytest

from portal import db, payments
from tests.support import Actor, enroll, gen_account, gen_course, gen_user, mismatches
from tests.web import close_app, csrf_token, make_app, sign_in, text

SECRET = "whsec_test_0123456789abcdef0123456789abcdef"
TOLERANCE = 300
PATH = "/payments/webhook"


# --- signing, without a database ------------------------------------------------------------

def test_a_signature_verifies_against_its_body():
    """sign() and verify() agree, and verify returns the signed timestamp."""
    body = b'{"id":"evt_1"}'
    header = payments.sign(SECRET, 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert payments.verify(SECRET, header, body, 1_700_000_100, TOLERANCE) == 1_700_000_000


@pytest.mark.parametrize("case", ["other secret", "other body", "missing", "empty", "no v1", "no t",
                                  "garbage", "letters in t", "truncated"])
def test_a_bad_signature_is_refused(case):
    """A header that is absent, malformed or made with another secret or body raises SignatureError."""
    body, now = b'{"id":"evt_1"}', 1_700_000_000
    good = payments.sign(SECRET, now, body)
    header, signed_body = {
        "other secret": (payments.sign("another-secret", now, body), body),
        "other body": (good, b'{"id":"evt_2"}'),
        "missing": (None, body),
        "empty": ("", body),
        "no v1": (f"t={now}", body),
        "no t": (good.split(",")[1], body),
        "garbage": ("nonsense", body),
        "letters in t": (good.replace(f"t={now}", "t=17e8"), body),
        "truncated": (good[:-1], body),
    }[case]
    with pytest.raises(payments.SignatureError):
        payments.verify(SECRET, header, signed_body, now, TOLERANCE)


@pytest.mark.parametrize("offset", [TOLERANCE + 1, -(TOLERANCE + 1), 86_400])
def test_a_timestamp_outside_the_window_is_refused(offset):
    """A correctly signed event older or newer than the tolerance is refused as a replay."""
    body, now = b"{}", 1_700_000_000
    with pytest.raises(payments.SignatureError, match="tolerance"):
        payments.verify(SECRET, payments.sign(SECRET, now - offset, body), body, now, TOLERANCE)


def test_the_edges_of_the_window_are_accepted():
    """Exactly the tolerance away, either side, still verifies."""
    body, now = b"{}", 1_700_000_000
    for signed_at in (now - TOLERANCE, now + TOLERANCE):
        assert payments.verify(SECRET, payments.sign(SECRET, signed_at, body), body, now, TOLERANCE) == signed_at


def test_any_of_several_signatures_may_match():
    """During a secret rotation the header carries two v1 values; either one matching is enough."""
    body, now = b"{}", 1_700_000_000
    old = payments.sign("old-secret", now, body).split(",")[1]
    new = payments.sign(SECRET, now, body).split(",")[1]
    assert payments.verify(SECRET, f"t={now},{old},{new}", body, now, TOLERANCE) == now
    with pytest.raises(payments.SignatureError):
        payments.verify(SECRET, f"t={now},{old}", body, now, TOLERANCE)


def test_an_event_parses_into_its_parts():
    """parse_event reads id, type, checkout id and reason."""
    checkout = uuid.uuid4()
    event = payments.parse_event(payments.event_body("payment.failed", checkout, "Card expired", "evt_9"))
    assert (event.id, event.kind, event.checkout_id, event.reason) == ("evt_9", "payment.failed", checkout,
                                                                       "Card expired")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"text"', b"{}", b'{"id": "", "type": "payment.succeeded"}',
                                  b'{"id": "e", "type": "payment.refunded", "data": {}}',
                                  b'{"id": "e", "type": "payment.succeeded", "data": []}',
                                  b'{"id": "e", "type": "payment.succeeded", "data": {"checkout_id": "x"}}',
                                  b'{"id": 5, "type": "payment.succeeded", "data": {}}',
                                  b'{"id": "e\\u0000", "type": "payment.succeeded", "data": {}}',
                                  b'\xff\xfe'])
def test_a_malformed_event_is_refused(body):
    """A body that is not an event of a known type for a checkout id raises EventError."""
    with pytest.raises(payments.EventError):
        payments.parse_event(body)


def test_the_providers_are_chosen_by_configuration():
    """provider_for: the test provider by default, the hosted one with its checkout URL."""
    assert payments.provider_for({"PAYMENT_PROVIDER": "test"}).name == "test"
    hosted = payments.provider_for({"PAYMENT_PROVIDER": "hosted",
                                    "PAYMENT_CHECKOUT_URL": "https://pay.example.test/{checkout_id}"})
    assert hosted.name == "hosted" and hosted.checkout_url("abc") == "https://pay.example.test/abc"


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(module_database):
    app = make_app(module_database, PAYMENT_PROVIDER="hosted", PAYMENT_WEBHOOK_SECRET=SECRET,
                   PAYMENT_CHECKOUT_URL="https://pay.example.test/{checkout_id}",
                   PAYMENT_WEBHOOK_TOLERANCE=TOLERANCE)
    instructor = gen_user(module_database, "instructor")
    student, email = gen_account(module_database, "student")
    signed_in = app.test_client()
    sign_in(signed_in, email)
    yield {"app": app, "db": module_database, "instructor": instructor, "student": student,
           "signed_in": signed_in}
    close_app()


def paying(world, price="40.00"):
    """A paid course, the student's pending enrollment in it and its open checkout."""
    database = world["db"]
    course = gen_course(database, world["instructor"], price=price)
    enrollment = enroll(database, world["student"], course.id)
    checkout = open_checkout(world, enrollment)
    return course, enrollment, checkout


def open_checkout(world, enrollment):
    with world["db"].act(Actor.user(world["student"])) as cur:
        cur.execute("SELECT start_checkout(%s, 'hosted') AS id", (enrollment,))
        return cur.fetchone()["id"]


def deliver(world, body: bytes, *, signed_at: int | None = None, header: str | None = None, secret=SECRET,
            client=None, content_type="application/json"):
    """POST one delivery, signed now (or at ``signed_at``) unless ``header`` is given."""
    if header is None:
        header = payments.sign(secret, int(time.time()) if signed_at is None else signed_at, body)
    client = client or world["app"].test_client()
    return client.post(PATH, data=body, content_type=content_type, headers={payments.SIGNATURE_HEADER: header})


def state(world, course) -> dict:
    """What payments wrote for the course: enrollments, sales, checkouts and events."""
    database = world["db"]
    return {
        "enrollments": database.rows("SELECT status::text, payment_status::text, amount_paid FROM course_enrollments "
                                     "WHERE course_id = %s", (course.id,)),
        "revenue": database.rows("SELECT amount, platform_fee_amount, instructor_earnings FROM revenue_transactions "
                                 "WHERE course_id = %s", (course.id,)),
        "checkouts": database.rows("SELECT status::text, failure_reason FROM checkouts WHERE course_id = %s "
                                   "ORDER BY created_at, id", (course.id,)),
        "events": database.rows("SELECT e.event_id, e.outcome FROM payment_events e JOIN checkouts c "
                                "ON c.id = e.checkout_id WHERE c.course_id = %s ORDER BY e.received_at", (course.id,)),
    }


def paid_once(world, course, price="40.00"):
    """Exactly one enrollment, enrolled, and one sale of ``price``."""
    now = state(world, course)
    assert now["enrollments"] == [{"status": "enrolled", "payment_status": "completed", "amount_paid": Decimal(price)}]
    assert [r["amount"] for r in now["revenue"]] == [Decimal(price)]
    return now


def test_a_signed_success_enrolls_the_student_and_writes_the_sale(world):
    """A valid payment.succeeded event: 200 succeeded, enrolled, one sale with the fee split."""
    course, _, checkout = paying(world, price="40.00")
    response = deliver(world, payments.event_body("payment.succeeded", checkout, event_id="evt_ok_1"))
    assert response.status_code == 200 and response.get_json() == {"result": "succeeded"}
    now = paid_once(world, course)
    assert now["revenue"] == [{"amount": Decimal("40.00"), "platform_fee_amount": Decimal("8.00"),
                               "instructor_earnings": Decimal("32.00")}]
    assert now["events"] == [{"event_id": "evt_ok_1", "outcome": "succeeded"}]
    assert mismatches(world["db"]) == []


def test_a_duplicate_delivery_changes_nothing(world):
    """The same delivery twice (same body, same header): the second answers duplicate; one sale."""
    course, _, checkout = paying(world)
    body = payments.event_body("payment.succeeded", checkout)
    header = payments.sign(SECRET, int(time.time()), body)
    assert deliver(world, body, header=header).get_json() == {"result": "succeeded"}
    second = deliver(world, body, header=header)
    assert second.status_code == 200 and second.get_json() == {"result": "duplicate"}
    assert len(paid_once(world, course)["events"]) == 1


def test_a_replayed_event_with_a_fresh_signature_changes_nothing(world):
    """The same event id re-signed later (a replay inside the window) is a duplicate; one sale."""
    course, _, checkout = paying(world)
    body = payments.event_body("payment.succeeded", checkout, event_id=f"evt_replay_{uuid.uuid4().hex}")
    now = int(time.time())
    deliver(world, body, signed_at=now - 60)
    replay = deliver(world, body, signed_at=now)
    assert replay.status_code == 200 and replay.get_json() == {"result": "duplicate"}
    paid_once(world, course)


def test_a_new_event_for_a_settled_checkout_is_ignored(world):
    """A second, different success event for a paid checkout is recorded as ignored; one sale."""
    course, _, checkout = paying(world)
    deliver(world, payments.event_body("payment.succeeded", checkout))
    again = deliver(world, payments.event_body("payment.succeeded", checkout))
    assert again.status_code == 200 and again.get_json() == {"result": "ignored"}
    assert [e["outcome"] for e in paid_once(world, course)["events"]] == ["succeeded", "ignored"]


def test_a_bad_signature_is_400_and_writes_nothing(world):
    """Signed with another secret: 400 with a JSON error; the checkout stays open, no event is recorded."""
    course, _, checkout = paying(world)
    before = state(world, course)
    response = deliver(world, payments.event_body("payment.succeeded", checkout), secret="not-the-secret")
    assert response.status_code == 400 and "signature" in response.get_json()["error"]
    assert state(world, course) == before
    assert world["db"].value("SELECT count(*) FROM payment_events WHERE checkout_id = %s", (checkout,)) == 0


def test_a_bad_signature_or_stale_timestamp_after_payment_leaves_one_sale(world):
    """After a payment, forged and stale deliveries (new event ids) are refused: one enrollment, one sale."""
    course, _, checkout = paying(world)
    deliver(world, payments.event_body("payment.succeeded", checkout))
    before = paid_once(world, course)
    forged = deliver(world, payments.event_body("payment.succeeded", checkout), secret="forged")
    stale = deliver(world, payments.event_body("payment.succeeded", checkout),
                    signed_at=int(time.time()) - TOLERANCE - 60)
    assert forged.status_code == 400 and stale.status_code == 400
    assert "tolerance" in stale.get_json()["error"]
    assert paid_once(world, course) == before


def test_a_stale_timestamp_is_400_and_writes_nothing(world):
    """A correctly signed event older than the window is refused before anything is applied."""
    course, _, checkout = paying(world)
    before = state(world, course)
    response = deliver(world, payments.event_body("payment.succeeded", checkout),
                       signed_at=int(time.time()) - TOLERANCE - 1)
    assert response.status_code == 400 and response.is_json
    assert state(world, course) == before


def test_a_signature_of_another_body_is_400(world):
    """A valid signature of one body sent with another (a tampered amount or checkout) is refused."""
    course, _, checkout = paying(world)
    before = state(world, course)
    signed = payments.event_body("payment.failed", checkout)
    header = payments.sign(SECRET, int(time.time()), signed)
    response = deliver(world, payments.event_body("payment.succeeded", checkout), header=header)
    assert response.status_code == 400 and state(world, course) == before


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"id": "evt_x", "type": "payment.succeeded"}',
                                  b'{"id": "evt_x", "type": "charge.refunded", "data": {"checkout_id": "%s"}}',
                                  b'{"id": "evt_x", "type": "payment.succeeded", "data": {"checkout_id": "42"}}',
                                  b'{"id": "evt\\u0000x", "type": "payment.succeeded", "data": {"checkout_id": "%s"}}',
                                  b'{"id": "evt\\ud800", "type": "payment.succeeded", "data": {"checkout_id": "%s"}}',
                                  b'{"id": "evt_s", "type": "payment.failed", "data": {"checkout_id": "%s", '
                                  b'"reason": "\\udfff"}}',
                                  b"\xff\xfe\xfd"])
def test_a_malformed_but_signed_body_is_400(world, body):
    """A signed body that is not a well-formed event: 400 with a JSON error, nothing recorded."""
    course, _, checkout = paying(world)
    body = body.replace(b"%s", str(checkout).encode())
    before = state(world, course)
    response = deliver(world, body)
    assert response.status_code == 400 and response.get_json()["error"].startswith("malformed event")
    assert state(world, course) == before


def test_an_unsigned_delivery_is_400(world):
    """No signature header at all: 400, nothing recorded."""
    course, _, checkout = paying(world)
    before = state(world, course)
    response = world["app"].test_client().post(PATH, data=payments.event_body("payment.succeeded", checkout),
                                               content_type="application/json")
    assert response.status_code == 400 and "Portal-Signature" in response.get_json()["error"]
    assert state(world, course) == before


def test_a_body_that_is_not_json_by_type_is_415(world):
    """The webhook takes application/json only."""
    course, _, checkout = paying(world)
    before = state(world, course)
    response = deliver(world, payments.event_body("payment.succeeded", checkout), content_type="text/plain")
    assert response.status_code == 415 and response.is_json
    assert state(world, course) == before


def test_an_unknown_checkout_is_ignored_with_200(world):
    """A signed event for a checkout that does not exist is recorded as ignored and answered 200."""
    event_id = f"evt_unknown_{uuid.uuid4().hex}"
    response = deliver(world, payments.event_body("payment.succeeded", uuid.uuid4(), event_id=event_id))
    assert response.status_code == 200 and response.get_json() == {"result": "ignored"}
    assert world["db"].rows("SELECT checkout_id, outcome FROM payment_events WHERE event_id = %s", (event_id,)) == \
        [{"checkout_id": None, "outcome": "ignored"}]


def test_a_failed_event_then_a_success_for_a_new_checkout(world):
    """payment.failed leaves the enrollment pending with the reason; a new checkout paid later enrolls once."""
    course, enrollment, first = paying(world, price="15.50")
    failed = deliver(world, payments.event_body("payment.failed", first, "Card expired."))
    assert failed.status_code == 200 and failed.get_json() == {"result": "failed"}
    now = state(world, course)
    assert now["enrollments"] == [{"status": "pending", "payment_status": "failed", "amount_paid": Decimal("0")}]
    assert now["checkouts"] == [{"status": "failed", "failure_reason": "Card expired."}] and now["revenue"] == []
    second = open_checkout(world, enrollment)
    assert second != first
    assert deliver(world, payments.event_body("payment.succeeded", second)).get_json() == {"result": "succeeded"}
    assert [c["status"] for c in paid_once(world, course, "15.50")["checkouts"]] == ["failed", "succeeded"]
    assert mismatches(world["db"]) == []


def test_the_webhook_needs_no_csrf_token_but_a_signature(world):
    """A signed-in browser session without a CSRF token still reaches the webhook (exempt), but unsigned is 400."""
    course, _, checkout = paying(world)
    client = world["signed_in"]
    csrf_token(client, "/no-such-page")  # the session holds a CSRF token that the POST does not send
    unsigned = client.post(PATH, data=payments.event_body("payment.succeeded", checkout),
                           content_type="application/json")
    assert unsigned.status_code == 400
    assert state(world, course)["events"] == []
    signed = deliver(world, payments.event_body("payment.succeeded", checkout), client=client)
    assert signed.status_code == 200 and signed.get_json() == {"result": "succeeded"}
    paid_once(world, course)


def test_the_webhook_accepts_post_only(world):
    """GET on the webhook is 405."""
    assert world["app"].test_client().get(PATH).status_code == 405


def test_applying_an_event_puts_the_callers_role_back(world):
    """apply_event switches to service_role for its one statement only: the request's role and claims return."""
    course, _, checkout = paying(world)
    event = payments.parse_event(payments.event_body("payment.succeeded", checkout))
    with world["app"].test_request_context(), db.request_context(world["student"]):
        assert payments.apply_event(event) == "succeeded"
        role, claims = db.database.execute_sql(
            "SELECT current_user, current_setting('request.jwt.claims')").fetchone()
    assert role == "authenticated" and json.loads(claims)["sub"] == str(world["student"])
    paid_once(world, course)


def test_a_failing_apply_rolls_back_to_the_callers_role(world):
    """Should apply_payment_event fail, the savepoint restores the caller's role with it."""
    event = payments.Event(id="x" * 201, kind="payment.succeeded", checkout_id=uuid.uuid4(), reason=None,
                           payload={})  # longer than payment_events allows: the INSERT fails
    with world["app"].test_request_context(), db.request_context(None):
        with pytest.raises(peewee.IntegrityError):
            payments.apply_event(event)
        assert db.database.execute_sql("SELECT current_user").fetchone()[0] == "anon"


def test_signed_in_users_get_the_same_answers(world):
    """The webhook ignores the session: a student's session gets the same JSON as the processor."""
    response = deliver(world, b"{}", client=world["signed_in"])
    assert response.status_code == 400 and response.get_json()["error"].startswith("malformed event")
    assert "<html" not in text(response)


# --- 020: the provider's refund, through the same path ------------------------------------------

def test_a_signed_refund_event_refunds_the_sale_once(world):
    """refund.succeeded for a paid checkout: 200 refunded, the negative mirror row, the enrollment
    ended; the same event again is a duplicate, and a new event for the refunded sale (nothing left)
    is recorded as unapplied, for an admin to settle."""
    course, enrollment, checkout = paying(world, price="40.00")
    assert deliver(world, payments.event_body("payment.succeeded", checkout)).get_json() == {"result": "succeeded"}
    body = payments.event_body("refund.succeeded", checkout, "Refunded at the processor",
                               event_id=f"evt_refund_{uuid.uuid4().hex}")
    first = deliver(world, body)
    assert first.status_code == 200 and first.get_json() == {"result": "refunded"}
    assert deliver(world, body).get_json() == {"result": "duplicate"}
    again = payments.event_body("refund.succeeded", checkout, amount=Decimal("1.00"))
    assert deliver(world, again).get_json() == {"result": "unapplied"}
    now = state(world, course)
    assert now["enrollments"][0]["status"] == "refunded"
    assert sorted(r["amount"] for r in now["revenue"]) == [Decimal("-40.00"), Decimal("40.00")]
    assert mismatches(world["db"]) == []
    assert world["db"].rows("SELECT * FROM private.verify_money()") == []


def test_a_partial_refund_event_carries_its_amount(world):
    """An amount in the event refunds that part; the fee follows at the sale's percentage."""
    course, _, checkout = paying(world, price="19.99")
    deliver(world, payments.event_body("payment.succeeded", checkout))
    assert deliver(world, payments.event_body("refund.succeeded", checkout, amount=Decimal("5.55"))).get_json() == \
        {"result": "refunded"}
    refund = [r for r in state(world, course)["revenue"] if r["amount"] < 0]
    assert refund == [{"amount": Decimal("-5.55"), "platform_fee_amount": Decimal("-1.11"),
                       "instructor_earnings": Decimal("-4.44")}]


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "abc", "NaN", True, [1]])
def test_a_refund_event_with_a_bad_amount_is_refused(amount):
    body = json.dumps({"id": "e", "type": "refund.succeeded",
                       "data": {"checkout_id": str(uuid.uuid4()), "amount": amount}}).encode()
    with pytest.raises(payments.EventError):
        payments.parse_event(body)

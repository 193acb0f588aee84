"""015 in SQL, as the API roles an attacker drives (shared/spec/access-model.md, "Threat model"):
bulk enrollment, invitations and announcements. Who may call what (a student, another instructor,
a co-instructor without manage_students), the preview that does not tell who has an account, no
enrollment in a paid course without a recorded grant (and no sale, no revenue for a granted one),
idempotency, the daily cap, invitations' tokens (forged, used twice, expired, read by nobody), and
announcements written only through post_announcement by those who may.
"""

from __future__ import annotations

import hashlib
import json

import psycopg2
import pytest

from tests.support import Actor, complete_course, enroll, gen_course, gen_user

DENIED = "42501"
CHECK = "23514"
WORKER = Actor("portal_worker", None, "portal_worker")


def run(db, actor, sql, params=None, *, keep=False):
    """``sql`` as ``actor``: its rows (dicts); rolled back unless ``keep``."""
    with (db.act(actor) if keep else db.attempt(actor)) as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def refused(db, actor, sql, params=None) -> tuple[str, str | None]:
    """(SQLSTATE, constraint) of a statement that must fail."""
    with pytest.raises(psycopg2.Error) as caught:
        run(db, actor, sql, params)
    return caught.value.pgcode, caught.value.diag.constraint_name


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture()
def cast(database):
    db = database
    people = {role: gen_user(db, kind, name=role.title()) for role, kind in (
        ("owner", "instructor"), ("co_manage", "instructor"), ("co_view", "instructor"), ("other", "instructor"),
        ("student", "student"), ("stranger", "student"))}
    free = gen_course(db, people["owner"], lessons=("text",), title="Free Course")
    paid = gen_course(db, people["owner"], price="49.00", lessons=("text",), title="Paid Course")
    for course in (free, paid):
        for co, perms in (("co_manage", {"manage_students": True}), ("co_view", {"view_content": True})):
            db.rows("INSERT INTO course_instructors (course_id, instructor_id, permissions) VALUES (%s, %s, %s) "
                    "RETURNING 1", (course.id, people[co], json.dumps(perms)))
    email = {k: db.value("SELECT email::text FROM users WHERE id = %s", (v,)) for k, v in people.items()}
    return db, people, email, free, paid


def as_(people, who):
    return Actor.user(people[who])


BULK = "SELECT line, email, outcome FROM bulk_enroll(%s, %s, %s, NULL)"
PREVIEW = "SELECT line, email, outcome FROM bulk_enroll_preview(%s, %s)"


@pytest.mark.parametrize("who", ["student", "other", "co_view"])
def test_only_a_teacher_with_manage_students_calls_bulk_enroll(cast, who):
    db, people, email, free, _ = cast
    for sql, params in ((BULK, (free.id, [email["stranger"]], False)), (PREVIEW, (free.id, [email["stranger"]]))):
        assert refused(db, as_(people, who), sql, params) == (DENIED, "not_permitted")
    assert refused(db, Actor.anon(), BULK, (free.id, [email["stranger"]], False))[0] == DENIED
    assert db.value("SELECT count(*) FROM course_enrollments WHERE course_id = %s", (free.id,)) == 0


def test_a_deactivated_teacher_has_anons_rights(cast):
    db, people, email, free, _ = cast
    db.rows("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (people["co_manage"],))
    assert refused(db, as_(people, "co_manage"), BULK, (free.id, [email["stranger"]], False)) == \
        (DENIED, "sign_in_required")


def test_the_preview_hides_who_has_an_account_and_writes_nothing(cast):
    db, people, email, free, _ = cast
    deactivated = gen_user(db, "student", name="Gone")
    db.rows("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (deactivated,))
    gone = db.value("SELECT email::text FROM users WHERE id = %s", (deactivated,))
    rows = run(db, as_(people, "co_manage"), PREVIEW, (free.id, [email["student"], "nobody@example.test", gone]))
    assert [r["outcome"] for r in rows] == ["add", "add", "add"]
    assert db.value("SELECT count(*) FROM course_invitations") == 0
    # the internal classification is no API role's
    assert refused(db, as_(people, "owner"), "SELECT * FROM private.classify_bulk(%s, %s)",
                   (free.id, [email["student"]]))[0] == DENIED


def test_bulk_enroll_is_idempotent_and_enrolls_free_of_charge(cast):
    db, people, email, free, _ = cast
    listed = [email["student"], "New@Example.test", "not an email", email["student"].upper(), email["co_view"]]
    first = run(db, as_(people, "owner"), BULK, (free.id, listed, False), keep=True)
    assert [r["outcome"] for r in first] == ["add", "add", "invalid_email", "duplicate", "teacher"]
    snapshot = lambda: (db.rows("SELECT user_id, status, payment_status, amount_paid FROM course_enrollments "  # noqa
                                "ORDER BY user_id"),
                        db.rows("SELECT email::text, invited_by FROM course_invitations ORDER BY email"),
                        db.value("SELECT count(*) FROM procrastinate.procrastinate_jobs"),
                        db.value("SELECT enrolled_count FROM courses WHERE id = %s", (free.id,)))
    before = snapshot()
    assert before[0] == [{"user_id": people["student"], "status": "enrolled", "payment_status": "completed",
                          "amount_paid": 0}]
    assert before[1] == [{"email": "new@example.test", "invited_by": people["owner"]}]
    second = run(db, as_(people, "owner"), BULK, (free.id, listed, False), keep=True)
    assert [r["outcome"] for r in second] == ["already_enrolled", "already_invited", "invalid_email", "duplicate",
                                              "teacher"]
    assert snapshot() == before


def test_no_paid_enrollment_without_a_recorded_grant(cast):
    db, people, email, _, paid = cast
    assert refused(db, as_(people, "owner"), BULK, (paid.id, [email["student"]], False)) == \
        (CHECK, "paid_course_needs_grant")
    # the internal helper is not callable to skip the check
    assert refused(db, as_(people, "owner"), "SELECT private.grant_enrollment(%s, %s, %s, true)",
                   (paid.id, people["student"], people["owner"]))[0] == DENIED
    run(db, as_(people, "co_manage"), BULK, (paid.id, [email["student"]], True), keep=True)
    row = db.rows("SELECT e.status, e.payment_status, e.amount_paid, g.granted_by, g.paid_course "
                  "FROM course_enrollments e JOIN course_enrollment_grants g ON g.enrollment_id = e.id "
                  "WHERE e.course_id = %s", (paid.id,))
    assert row == [{"status": "enrolled", "payment_status": "completed", "amount_paid": 0,
                    "granted_by": people["co_manage"], "paid_course": True}]
    assert db.value("SELECT count(*) FROM revenue_transactions WHERE course_id = %s", (paid.id,)) == 0
    assert db.value("SELECT total_revenue FROM courses WHERE id = %s", (paid.id,)) == 0
    assert db.value("SELECT total_earnings FROM courses WHERE id = %s", (paid.id,)) == 0
    assert db.value("SELECT enrolled_count FROM courses WHERE id = %s", (paid.id,)) == 1


def test_a_pending_unpaid_enrollment_granted_closes_its_checkout_and_a_paid_one_keeps_its_sale(cast):
    db, people, email, _, paid = cast
    waiting = enroll(db, people["student"], paid.id)
    with db.act(Actor.user(people["student"])) as cur:
        cur.execute("SELECT start_checkout(%s, 'test') AS id", (waiting,))
    run(db, as_(people, "owner"), BULK, (paid.id, [email["student"]], True), keep=True)
    assert db.value("SELECT status FROM checkouts WHERE enrollment_id = %s", (waiting,)) == "failed"
    assert db.value("SELECT status FROM course_enrollments WHERE id = %s", (waiting,)) == "enrolled"
    assert db.value("SELECT amount_paid FROM course_enrollments WHERE id = %s", (waiting,)) == 0


def test_the_daily_cap_counts_every_address_added(cast):
    db, people, _, free, _ = cast
    addresses = [f"cap{n}@example.test" for n in range(3)]
    assert refused(db, as_(people, "owner"), "SELECT * FROM bulk_enroll(%s, %s, false, 2)",
                   (free.id, addresses)) == (CHECK, "bulk_daily_limit")
    run(db, as_(people, "owner"), "SELECT * FROM bulk_enroll(%s, %s, false, 3)", (free.id, addresses), keep=True)
    assert run(db, as_(people, "owner"), "SELECT bulk_additions_left(3) AS n")[0]["n"] == 0
    # the app's limit only lowers the database's own cap
    assert run(db, as_(people, "owner"), "SELECT bulk_additions_left(1000000) AS n")[0]["n"] == 997
    too_many = [f"many{n}@example.test" for n in range(1001)]
    assert refused(db, as_(people, "owner"), "SELECT * FROM bulk_enroll(%s, %s, false, NULL)",
                   (free.id, too_many)) == (CHECK, "too_many_rows")


def _armed_invitation(db, people, email_address, course, token="a-token-0123456789-abcdefghijklmnop"):
    run(db, as_(people, "owner"), BULK, (course.id, [email_address], course is not None), keep=True)
    invitation = db.value("SELECT id FROM course_invitations WHERE email = %s", (email_address,))
    with db.act(WORKER) as cur:
        cur.execute("SELECT private.arm_invitation(%s, %s) AS armed", (invitation, token_hash(token)))
        assert cur.fetchone()["armed"] is True
    return invitation, token


def test_nobody_reads_another_courses_invitations_or_any_token(cast):
    db, people, _, free, _ = cast
    invitation, token = _armed_invitation(db, people, "reader@example.test", free)
    for who, seen in (("owner", 1), ("co_manage", 1), ("co_view", 0), ("other", 0), ("student", 0)):
        assert len(run(db, as_(people, who), "SELECT id FROM course_invitations")) == seen, who
    assert refused(db, as_(people, "owner"), "SELECT token_hash FROM course_invitations")[0] == DENIED
    assert refused(db, Actor.anon(), "SELECT id FROM course_invitations")[0] == DENIED
    # the worker's functions are the worker's
    assert refused(db, as_(people, "owner"), "SELECT private.arm_invitation(%s, %s)",
                   (invitation, token_hash("mine")))[0] == DENIED
    assert refused(db, as_(people, "owner"), "SELECT * FROM private.invitation_to_send(%s)", (invitation,))[0] == DENIED


def test_an_invitation_is_accepted_once_with_its_token_only(cast):
    db, people, _, _, paid = cast
    invitation, token = _armed_invitation(db, people, "twice@example.test", paid)
    assert run(db, Actor.anon(), "SELECT course_title FROM invitation_target(%s)", (token_hash(token),)) == \
        [{"course_title": "Paid Course"}]
    assert run(db, Actor.anon(), "SELECT * FROM invitation_target(%s)", (token_hash("forged"),)) == []
    assert refused(db, Actor.anon(), "SELECT accept_invitation(%s)", (token_hash(token),))[0] == DENIED
    assert run(db, as_(people, "stranger"), "SELECT accept_invitation(%s) AS slug", (token_hash("forged"),)) == \
        [{"slug": None}]
    assert refused(db, as_(people, "co_view"), "SELECT accept_invitation(%s)", (token_hash(token),)) == \
        (CHECK, "own_course")
    accepted = run(db, as_(people, "stranger"), "SELECT accept_invitation(%s) AS slug", (token_hash(token),),
                   keep=True)
    assert accepted[0]["slug"] is not None
    # the grant was given by the owner at invitation time: enrolled free of charge, recorded
    assert db.rows("SELECT e.status, e.amount_paid, g.granted_by FROM course_enrollments e "
                   "JOIN course_enrollment_grants g ON g.enrollment_id = e.id WHERE e.user_id = %s",
                   (people["stranger"],)) == [{"status": "enrolled", "amount_paid": 0, "granted_by": people["owner"]}]
    again = run(db, as_(people, "student"), "SELECT accept_invitation(%s) AS slug", (token_hash(token),))
    assert again == [{"slug": None}]
    assert db.value("SELECT count(*) FROM course_enrollments WHERE user_id = %s", (people["student"],)) == 0


def test_an_invitation_whose_grant_lapsed_waits_for_payment(cast):
    """A co-instructor invites with a grant, then loses manage_students: accepting prices the course."""
    db, people, _, _, paid = cast
    run(db, as_(people, "co_manage"), BULK, (paid.id, ["lapsed@example.test"], True), keep=True)
    invitation = db.value("SELECT id FROM course_invitations WHERE email = 'lapsed@example.test'")
    token = "lapsed-token-0123456789-abcdefghijkl"
    with db.act(WORKER) as cur:
        cur.execute("SELECT private.arm_invitation(%s, %s)", (invitation, token_hash(token)))
    db.rows("UPDATE course_instructors SET permissions = '{\"view_content\": true}' WHERE instructor_id = %s "
            "RETURNING 1", (people["co_manage"],))
    run(db, as_(people, "stranger"), "SELECT accept_invitation(%s)", (token_hash(token),), keep=True)
    assert db.rows("SELECT status, payment_status FROM course_enrollments WHERE user_id = %s",
                   (people["stranger"],)) == [{"status": "pending", "payment_status": "pending"}]
    assert db.value("SELECT count(*) FROM course_enrollment_grants WHERE user_id = %s", (people["stranger"],)) == 0


def test_an_expired_invitation_does_nothing(cast):
    db, people, _, free, _ = cast
    invitation, token = _armed_invitation(db, people, "late@example.test", free)
    db.rows("UPDATE course_invitations SET expires_at = now() - interval '1 second' WHERE id = %s RETURNING 1",
            (invitation,))
    assert run(db, as_(people, "stranger"), "SELECT accept_invitation(%s) AS slug", (token_hash(token),)) == \
        [{"slug": None}]


# --- announcements ---------------------------------------------------------------------

POST = "SELECT post_announcement(%s, 'Hello', 'Body', %s)"


@pytest.mark.parametrize("who", ["student", "other", "co_view"])
def test_only_a_teacher_with_manage_students_announces(cast, who):
    db, people, _, free, _ = cast
    assert refused(db, as_(people, who), POST, (free.id, "all")) == (DENIED, "not_permitted")
    assert refused(db, as_(people, who), "INSERT INTO course_announcements (course_id, title, body) "
                                         "VALUES (%s, 'x', 'y')", (free.id,))[0] == DENIED
    assert refused(db, Actor.anon(), POST, (free.id, "all"))[0] == DENIED


def test_an_announcement_is_read_by_its_audience_only(cast):
    db, people, _, free, _ = cast
    complete_course(db, people["student"], free)
    enroll(db, people["stranger"], free.id)
    done = run(db, as_(people, "owner"), POST, (free.id, "completed"), keep=True)[0]["post_announcement"]
    learning = run(db, as_(people, "co_manage"), POST, (free.id, "active"), keep=True)[0]["post_announcement"]
    seen = lambda who: {r["id"] for r in run(db, as_(people, who), "SELECT id FROM course_announcements")}  # noqa
    assert seen("student") == {done} and seen("stranger") == {learning}
    assert seen("owner") == seen("co_manage") == {done, learning} and seen("other") == seen("co_view") == set()
    assert refused(db, as_(people, "owner"), POST, (free.id, "at_risk")) == (CHECK, "audience_unknown")
    assert refused(db, as_(people, "owner"), POST, (free.id, "everyone"))[0] == CHECK
    # the fan-out is the worker's
    assert refused(db, as_(people, "owner"), "SELECT private.fan_out_announcement(%s, 10)", (done,))[0] == DENIED
    with db.act(WORKER) as cur:
        cur.execute("SELECT private.fan_out_announcement(%s, 10) AS n", (done,))
        assert cur.fetchone()["n"] == 1
    assert db.value("SELECT count(*) FROM notifications WHERE event_type = 'course_announcement' AND user_id = %s",
                    (people["student"],)) == 1

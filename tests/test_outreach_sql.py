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


def test_an_invitation_whose_inviter_no_longer_manages_the_students_is_dead(cast):
    """A co-instructor invites with a grant, then loses manage_students: the link no longer works
    (nothing to send, nothing shown, nothing accepted)."""
    db, people, _, _, paid = cast
    run(db, as_(people, "co_manage"), BULK, (paid.id, ["lapsed@example.test"], True), keep=True)
    invitation = db.value("SELECT id FROM course_invitations WHERE email = 'lapsed@example.test'")
    token = "lapsed-token-0123456789-abcdefghijkl"
    with db.act(WORKER) as cur:
        cur.execute("SELECT private.arm_invitation(%s, %s)", (invitation, token_hash(token)))
    db.rows("UPDATE course_instructors SET permissions = '{\"view_content\": true}' WHERE instructor_id = %s "
            "RETURNING 1", (people["co_manage"],))
    with db.act(WORKER) as cur:
        db.rows("UPDATE course_invitations SET sent_at = NULL WHERE id = %s RETURNING 1", (invitation,))
        cur.execute("SELECT count(*) AS n FROM private.invitation_to_send(%s)", (invitation,))
        assert cur.fetchone()["n"] == 0
    assert run(db, Actor.anon(), "SELECT * FROM invitation_target(%s)", (token_hash(token),)) == []
    assert run(db, as_(people, "stranger"), "SELECT accept_invitation(%s) AS slug", (token_hash(token),),
               keep=True) == [{"slug": None}]
    assert db.value("SELECT count(*) FROM course_enrollments WHERE user_id = %s", (people["stranger"],)) == 0


@pytest.mark.parametrize("change", ["deactivated", "archived"])
def test_nothing_is_sent_for_a_deactivated_inviter_or_a_closed_course(cast, change):
    db, people, _, free, _ = cast
    run(db, as_(people, "co_manage"), BULK, (free.id, ["spam1@example.test"], False), keep=True)
    invitation = db.value("SELECT id FROM course_invitations WHERE email = 'spam1@example.test'")
    if change == "deactivated":
        db.rows("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (people["co_manage"],))
    else:
        db.rows("UPDATE courses SET status = 'archived' WHERE id = %s RETURNING 1", (free.id,))
    with db.act(WORKER) as cur:
        cur.execute("SELECT count(*) AS n FROM private.invitation_to_send(%s)", (invitation,))
        assert cur.fetchone()["n"] == 0
        cur.execute("SELECT private.arm_invitation(%s, %s) AS armed", (invitation, token_hash("spam-tok")))
        assert cur.fetchone()["armed"] is False


def test_a_grant_is_kept_with_its_price_and_lapses_when_the_price_changes(cast):
    db, people, _, free, paid = cast
    run(db, as_(people, "owner"), BULK, (free.id, ["free-one@example.test"], True), keep=True)
    run(db, as_(people, "owner"), BULK, (paid.id, ["paid-one@example.test"], True), keep=True)
    stored = {r["email"]: (r["grant_access"], r["granted_price"]) for r in db.rows(
        "SELECT email::text, grant_access, granted_price FROM course_invitations")}
    assert stored == {"free-one@example.test": (False, None), "paid-one@example.test": (True, 49)}
    invitation = db.value("SELECT id FROM course_invitations WHERE email = 'paid-one@example.test'")
    with db.act(WORKER) as cur:
        cur.execute("SELECT private.arm_invitation(%s, %s)", (invitation, token_hash("price-tok")))
    db.rows("UPDATE courses SET price_amount = 99 WHERE id = %s RETURNING 1", (paid.id,))
    run(db, as_(people, "stranger"), "SELECT accept_invitation(%s)", (token_hash("price-tok"),), keep=True)
    assert db.rows("SELECT status, payment_status FROM course_enrollments WHERE user_id = %s",
                   (people["stranger"],)) == [{"status": "pending", "payment_status": "pending"}]
    assert db.value("SELECT count(*) FROM course_enrollment_grants WHERE user_id = %s", (people["stranger"],)) == 0


def test_a_free_course_invitation_once_priced_waits_for_payment(cast):
    db, people, _, free, _ = cast
    invitation, token = _armed_invitation(db, people, "priced-later@example.test", free)
    db.rows("UPDATE courses SET price_amount = 99 WHERE id = %s RETURNING 1", (free.id,))
    run(db, as_(people, "stranger"), "SELECT accept_invitation(%s)", (token_hash(token),), keep=True)
    assert db.rows("SELECT status, payment_status FROM course_enrollments WHERE user_id = %s",
                   (people["stranger"],)) == [{"status": "pending", "payment_status": "pending"}]


def test_accepting_a_free_invitation_honours_the_owners_auto_approve(cast):
    db, people, _, free, _ = cast
    db.rows("INSERT INTO instructor_settings (user_id, auto_approve_enrollments) VALUES (%s, false) "
            "ON CONFLICT (user_id) DO UPDATE SET auto_approve_enrollments = false RETURNING 1", (people["owner"],))
    invitation, token = _armed_invitation(db, people, "approve-me@example.test", free)
    run(db, as_(people, "stranger"), "SELECT accept_invitation(%s)", (token_hash(token),), keep=True)
    assert db.rows("SELECT status, payment_status FROM course_enrollments WHERE user_id = %s",
                   (people["stranger"],)) == [{"status": "pending", "payment_status": "completed"}]


def test_revoking_an_invitation_kills_its_link_and_keeps_the_cap(cast):
    db, people, _, free, _ = cast
    invitation, token = _armed_invitation(db, people, "revoke-me@example.test", free)
    left = run(db, as_(people, "owner"), "SELECT bulk_additions_left(NULL) AS n")[0]["n"]
    for who in ("co_view", "other", "student"):
        assert refused(db, as_(people, who), "SELECT revoke_invitation(%s)", (invitation,)) == \
            (DENIED, "not_permitted")
    assert refused(db, Actor.anon(), "SELECT revoke_invitation(%s)", (invitation,))[0] == DENIED
    assert run(db, as_(people, "co_manage"), "SELECT revoke_invitation(%s) AS r", (invitation,), keep=True) == \
        [{"r": True}]
    assert run(db, as_(people, "owner"), "SELECT revoke_invitation(%s) AS r", (invitation,)) == [{"r": False}]
    assert run(db, Actor.anon(), "SELECT * FROM invitation_target(%s)", (token_hash(token),)) == []
    assert run(db, as_(people, "stranger"), "SELECT accept_invitation(%s) AS slug", (token_hash(token),)) == \
        [{"slug": None}]
    assert run(db, as_(people, "owner"), "SELECT bulk_additions_left(NULL) AS n")[0]["n"] == left
    # the address may be invited again
    assert [r["outcome"] for r in run(db, as_(people, "owner"), PREVIEW, (free.id, ["revoke-me@example.test"]))] \
        == ["add"]


def test_a_deactivated_accounts_address_is_recorded_never_sent_and_reads_as_invited(cast):
    db, people, _, free, _ = cast
    gone = gen_user(db, "student", name="Gone Person")
    db.rows("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (gone,))
    gone_email = db.value("SELECT email::text FROM users WHERE id = %s", (gone,))
    left = run(db, as_(people, "owner"), "SELECT bulk_additions_left(NULL) AS n")[0]["n"]
    jobs = db.value("SELECT count(*) FROM procrastinate.procrastinate_jobs")
    listed = [gone_email, "nobody-yet@example.test"]
    assert [r["outcome"] for r in run(db, as_(people, "owner"), BULK, (free.id, listed, False), keep=True)] == \
        ["add", "add"]
    assert db.value("SELECT count(*) FROM procrastinate.procrastinate_jobs") == jobs + 1  # the unknown one only
    assert run(db, as_(people, "owner"), "SELECT bulk_additions_left(NULL) AS n")[0]["n"] == left - 2
    assert [r["outcome"] for r in run(db, as_(people, "owner"), PREVIEW, (free.id, listed))] == \
        ["already_invited", "already_invited"]
    row = db.rows("SELECT suppressed, sent_at IS NOT NULL AS sent, expires_at IS NOT NULL AS expires "
                  "FROM course_invitations WHERE email = %s", (gone_email,))
    assert row == [{"suppressed": True, "sent": True, "expires": True}]
    assert refused(db, as_(people, "owner"), "SELECT suppressed FROM course_invitations")[0] == DENIED
    with db.act(WORKER) as cur:
        invitation = db.value("SELECT id FROM course_invitations WHERE email = %s", (gone_email,))
        db.rows("UPDATE course_invitations SET sent_at = NULL WHERE id = %s RETURNING 1", (invitation,))
        cur.execute("SELECT count(*) AS n FROM private.invitation_to_send(%s)", (invitation,))
        assert cur.fetchone()["n"] == 0
    assert db.value("SELECT count(*) FROM course_enrollments WHERE user_id = %s", (gone,)) == 0


def test_an_unconfirmed_instructor_cannot_enroll_others(cast):
    db, people, email, free, _ = cast
    db.rows("UPDATE users SET email_confirmed_at = NULL WHERE id = %s RETURNING 1", (people["owner"],))
    for sql, params in ((BULK, (free.id, [email["student"]], False)), (PREVIEW, (free.id, [email["student"]]))):
        assert refused(db, as_(people, "owner"), sql, params) == (DENIED, "email_unconfirmed")


def test_an_enrolled_student_is_told_who_enrolled_them_and_the_owner_gets_no_notice_per_student(cast):
    db, people, email, free, _ = cast
    run(db, as_(people, "co_manage"), BULK, (free.id, [email["student"], email["stranger"]], False), keep=True)
    (notice,) = db.rows("SELECT event_type, payload FROM notifications WHERE user_id = %s", (people["student"],))
    assert notice["event_type"] == "enrollment_update"
    assert notice["payload"]["kind"] == "granted" and notice["payload"]["by_name"] == "Co_Manage"
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'new_enrollment'",
                    (people["owner"],)) == 0
    # a student who enrolls themself is still announced to the owner
    enroll_id = run(db, as_(people, "other"), "SELECT enroll_in_course(%s) AS id", (free.id,), keep=True)[0]["id"]
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'new_enrollment'",
                    (people["owner"],)) == 1 and enroll_id


def test_a_pending_request_granted_is_one_move_without_a_request_notice(cast):
    db, people, email, _, paid = cast
    enroll(db, people["student"], paid.id)
    before = db.value("SELECT count(*) FROM notifications WHERE user_id = %s", (people["owner"],))
    run(db, as_(people, "owner"), BULK, (paid.id, [email["student"]], True), keep=True)
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s", (people["owner"],)) == before
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND payload ->> 'kind' = 'confirmed'",
                    (people["student"],)) == 0


def test_null_items_and_odd_addresses_are_invalid_never_an_error(cast):
    db, people, _, free, _ = cast
    odd = [None, "x:victim@example.test", "a(b)@example.test", "\u00e9@example.test", "a\\b@example.test",
           "a@b.c.", "grp:real-target@example.test", "Ada <ada@example.test>", "a@b,c@example.test"]
    for sql, params in ((PREVIEW, (free.id, odd)), (BULK, (free.id, odd, False))):
        assert {r["outcome"] for r in run(db, as_(people, "owner"), sql, params)} == {"invalid_email"}
    assert db.value("SELECT count(*) FROM course_invitations") == 0
    assert run(db, as_(people, "owner"), "SELECT count(*) AS n FROM bulk_enroll(%s, NULL, false, NULL)",
               (free.id,)) == [{"n": 0}]
    # the table holds nothing else, whoever writes it
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.rows("INSERT INTO course_invitations (course_id, email, invited_by) VALUES (%s, %s, %s) RETURNING 1",
                (free.id, "x:victim@example.test", people["owner"]))


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


def test_recipients_counts_only_the_notices_written(cast):
    db, people, _, free, _ = cast
    enroll(db, people["student"], free.id)
    enroll(db, people["stranger"], free.id)
    db.rows("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (people["stranger"],))
    posted = run(db, as_(people, "owner"), POST, (free.id, "all"), keep=True)[0]["post_announcement"]
    with db.act(WORKER) as cur:
        cur.execute("SELECT private.fan_out_announcement(%s, 10) AS n", (posted,))
        assert cur.fetchone()["n"] == 2
    assert db.value("SELECT recipients FROM course_announcements WHERE id = %s", (posted,)) == 1

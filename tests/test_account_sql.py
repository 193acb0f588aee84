"""The account in SQL (schema/011): sessions, password resets, email changes, the export of one's
data, the deletion of one's account, and the profile's and thresholds' CHECKs.

Every act runs as the API role that would run it (shared/spec/access-model.md, "Threat model": the
attacker drives the API roles directly): a signed-in user as ``authenticated`` with their claims,
the forgotten-password path as ``portal_signin``, the email job as ``portal_worker``. The owner only
builds the world (the factories of tests/support.py) and reads what happened. Each test has its own
database (most steps are committed, as requests are).

A test marked ``xfail(strict=True, reason="011 bug: ...")`` is a finding: it states what the database
should do and fails until schema/011 (or its successor) is fixed; the reason says what to change.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading

import psycopg2
import pytest

from tests.support import (Actor, complete_course, enroll, gen_account, gen_course, gen_org, gen_user, gen_workshop,
                           mismatches, password_hash, register, set_context)

DENIED, CHECK_VIOLATION, UNIQUE_VIOLATION = "42501", "23514", "23505"
SIGN_IN = Actor.sign_in()
WORKER = Actor("portal_worker", None, "portal_worker")
TTL = "interval '1 hour'"


# --- helpers ---------------------------------------------------------------------------

def call(db, actor, sql, params=None):
    """``sql`` as ``actor``, committed: the first column of its first row (None when it returns none)."""
    with db.act(actor) as cur:
        cur.execute(sql, params)
        row = cur.fetchone() if cur.description else None
        return next(iter(row.values())) if row else None


def fetch(db, actor, sql, params=None):
    """``sql`` as ``actor``, committed: every row (dicts)."""
    with db.act(actor) as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def refused(db, actor, sql, params=None):
    """(SQLSTATE, constraint name) of the error ``sql`` raises as ``actor`` (rolled back); the test
    fails when it succeeds."""
    with pytest.raises(psycopg2.Error) as caught:
        with db.attempt(actor) as cur:
            cur.execute(sql, params)
    return caught.value.pgcode, caught.value.diag.constraint_name


def me(user_id):
    return Actor.user(user_id)


def email_of(db, user_id):
    return db.value("SELECT email::text FROM users WHERE id = %s", (user_id,))


def argon(tag: str) -> str:
    """A distinct well-formed argon2id hash (the credentials' CHECK bounds its cost)."""
    return f"$argon2id$v=19$m=19456,t=2,p=1${tag}$aGFzaA"


def sha256(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def request_reset(db, email, address="192.0.2.1", account_limit=5, address_limit=20):
    return call(db, SIGN_IN, f"SELECT request_password_reset(%s, %s, %s, %s, {TTL})",
                (email, address, account_limit, address_limit))


def latest_reset(db, user_id):
    return db.value("SELECT id FROM private.password_resets WHERE user_id = %s ORDER BY created_at DESC, id LIMIT 1",
                    (user_id,))


def arm(db, reset_id, token):
    """The worker, as it sends the reset's email: the token's hash, and its time limit."""
    return call(db, WORKER, f"SELECT private.arm_password_reset(%s, %s, {TTL})", (reset_id, sha256(token)))


def reset_link(db, user_id, email=None):
    """A reset requested for ``user_id``'s address and armed with a fresh token: the token."""
    assert request_reset(db, email or email_of(db, user_id)) is True
    token = secrets.token_urlsafe(32)
    assert arm(db, latest_reset(db, user_id), token) is True
    return token


def target(db, token):
    return fetch(db, SIGN_IN, "SELECT user_id, email FROM password_reset_target(%s)", (sha256(token),))


def complete(db, token, new_hash="$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA"):
    return call(db, SIGN_IN, "SELECT complete_password_reset(%s, %s)", (sha256(token), new_hash))


def stored_hash(db, user_id):
    return db.value("SELECT password_hash FROM private.user_credentials WHERE user_id = %s", (user_id,))


def sessions(db, user_id):
    """{session id: active} as stored (read as the owner)."""
    return {r["id"]: r["revoked_at"] is None
            for r in db.rows("SELECT id, revoked_at FROM user_sessions WHERE user_id = %s", (user_id,))}


def active(db, user_id, session_id):
    return call(db, me(user_id), "SELECT session_is_active(%s)", (session_id,))


def start(db, user_id, agent="Test browser"):
    return call(db, me(user_id), "SELECT start_session(%s, '192.0.2.50')", (agent,))


def notices(db, user_id, event_type):
    return db.rows("SELECT id, payload, in_portal, email_state, dedup_key FROM notifications "
                   "WHERE user_id = %s AND event_type = %s ORDER BY created_at, id", (user_id, event_type))


def email_jobs(db, notification_id):
    return db.rows("SELECT id, args FROM procrastinate.procrastinate_jobs WHERE task_name = 'deliver_email' "
                   "AND args ->> 'notification_id' = %s", (str(notification_id),))


def to_send(db, notification_id):
    """What the email job reads of a notice (as portal_worker)."""
    rows = fetch(db, WORKER, "SELECT email, wanted, event_type FROM private.email_to_send(%s)", (notification_id,))
    assert len(rows) == 1
    return rows[0]


ASK_CHANGE = "SELECT request_email_change(%s, %s)"
CONFIRM_CHANGE = "SELECT confirm_email_change(%s, %s)"


def ask_change(db, user_id, new_email):
    """An email change asked for (portal_signin, once the app checked the person's password)."""
    return call(db, SIGN_IN, ASK_CHANGE, (user_id, new_email))


def confirm_change(db, user_id, change_id):
    """A change confirmed (portal_signin, once the app checked the link's signature and its person)."""
    return call(db, SIGN_IN, CONFIRM_CHANGE, (user_id, change_id))


def close_account(db, user_id):
    """An account closed (portal_signin, once the app checked the person's password)."""
    return call(db, SIGN_IN, "SELECT delete_account(%s)", (user_id,))


def deactivate_as_admin(db, admin, user_id):
    assert call(db, me(admin), "UPDATE users SET is_active = false WHERE id = %s RETURNING id", (user_id,)) == user_id


def every_table(db):
    """Every table of the portal's schemas and the job queue's (schema-qualified)."""
    return [r["name"] for r in db.rows(
        "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables "
        "WHERE schemaname IN ('public', 'private', 'procrastinate') ORDER BY 1")]


def tables_holding(db, text, skip=()):
    """The tables with a row whose text holds ``text`` (case-insensitive), read as the owner."""
    return [t for t in every_table(db) if t not in skip
            and db.value(f"SELECT count(*) FROM {t} AS r WHERE strpos(lower(r::text), lower(%s)) > 0", (text,))]


# --- sessions ----------------------------------------------------------------------------

def test_sessions_start_stay_active_and_end_one_others_or_all(database):
    db = database
    user = gen_user(db)
    a, b, c = (start(db, user, agent) for agent in ("Laptop", "Phone", "Tablet"))
    assert all(active(db, user, s) for s in (a, b, c))
    rows = fetch(db, me(user), "SELECT id, user_agent, address, revoked_at FROM user_sessions ORDER BY created_at")
    assert {r["id"] for r in rows} == {a, b, c} and {r["address"] for r in rows} == {"192.0.2.50"}
    # sign out here: one session
    assert call(db, me(user), "SELECT end_sessions(%s, NULL)", (b,)) == 1
    assert (active(db, user, a), active(db, user, b), active(db, user, c)) == (True, False, True)
    assert call(db, me(user), "SELECT end_sessions(%s, NULL)", (b,)) == 0, "an ended session ends once"
    # sign out everywhere else
    d = start(db, user, "Desktop")
    assert call(db, me(user), "SELECT end_sessions(NULL, %s)", (a,)) == 2  # c and d
    assert (active(db, user, a), active(db, user, c), active(db, user, d)) == (True, False, False)
    # sign out everywhere
    assert call(db, me(user), "SELECT end_sessions(NULL, NULL)") == 1
    assert sessions(db, user) == {a: False, b: False, c: False, d: False}


def test_a_session_is_marked_seen_now_and_then_and_dies_unused(database):
    db = database
    user = gen_user(db)
    s = start(db, user)
    db.rows("UPDATE user_sessions SET last_seen_at = now() - interval '10 minutes' WHERE id = %s", (s,))
    assert active(db, user, s) is True
    assert db.value("SELECT last_seen_at > now() - interval '1 minute' FROM user_sessions WHERE id = %s", (s,))
    db.rows("UPDATE user_sessions SET last_seen_at = now() - interval '31 days' WHERE id = %s", (s,))
    assert active(db, user, s) is False
    # the next sign-in forgets the dead one
    start(db, user)
    assert s not in sessions(db, user)


def test_another_users_session_is_never_active_for_me_and_i_cannot_end_it(database):
    db = database
    mine, theirs = gen_user(db), gen_user(db)
    their_session = start(db, theirs)
    assert active(db, mine, their_session) is False
    assert call(db, me(mine), "SELECT end_sessions(%s, NULL)", (their_session,)) == 0
    assert call(db, me(mine), "SELECT end_sessions(NULL, NULL)") == 0
    # a new password of mine (portal_signin, for me) ends none of theirs
    assert call(db, SIGN_IN, "SELECT change_password(%s, %s, NULL)", (mine, password_hash())) == 0
    assert active(db, theirs, their_session) is True
    assert fetch(db, me(mine), "SELECT id FROM user_sessions") == []


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(database):
    db = database
    user, _ = gen_account(db)
    other, _ = gen_account(db)
    here, there, elsewhere = start(db, user), start(db, user), start(db, user)
    bystander = start(db, other)
    new = "$argon2id$v=19$m=19456,t=2,p=1$Y2hhbmdl$Y2hhbmdlZA"
    assert call(db, SIGN_IN, "SELECT change_password(%s, %s, %s)", (user, new, here)) == 2
    assert sessions(db, user) == {here: True, there: False, elsewhere: False}
    assert stored_hash(db, user) == new
    assert stored_hash(db, other) == password_hash() and active(db, other, bystander) is True


def test_deactivating_a_user_ends_their_sessions(database):
    db = database
    admin, user = gen_user(db, "admin"), gen_user(db)
    s1, s2 = start(db, user), start(db, user)
    admin_session = start(db, admin)
    deactivate_as_admin(db, admin, user)
    assert sessions(db, user) == {s1: False, s2: False}
    assert active(db, admin, admin_session) is True
    # reactivated, the old sessions stay ended
    assert call(db, me(admin), "UPDATE users SET is_active = true WHERE id = %s RETURNING id", (user,)) == user
    assert (active(db, user, s1), active(db, user, s2)) == (False, False)


def test_anon_and_the_deactivated_cannot_start_or_use_a_session(database):
    db = database
    user = gen_user(db)
    s = start(db, user)
    for sql in ("SELECT start_session('x', 'y')", "SELECT session_is_active(gen_random_uuid())",
                "SELECT end_sessions(NULL, NULL)"):
        assert refused(db, Actor.anon(), sql)[0] == DENIED
    db.rows("UPDATE users SET is_active = false WHERE id = %s", (user,))
    assert refused(db, me(user), "SELECT start_session('x', 'y')") == (DENIED, "sign_in_required")
    db.rows("UPDATE users SET is_active = true WHERE id = %s", (user,))
    assert active(db, user, s) is False, "deactivation ended it"


# --- password resets ----------------------------------------------------------------------

def test_a_reset_request_answers_alike_and_writes_only_for_an_active_account(database):
    db = database
    user, email = gen_account(db)
    gone, gone_email = gen_account(db)
    db.rows("UPDATE users SET is_active = false WHERE id = %s", (gone,))
    jobs_before = db.value("SELECT count(*) FROM procrastinate.procrastinate_jobs")
    answers = [request_reset(db, e, address=f"192.0.2.{n}")
               for n, e in enumerate((email, "no-account@example.test", gone_email, email.upper()), 1)]
    assert answers == [True, True, True, True]
    assert db.value("SELECT count(*) FROM private.password_reset_requests") == 4
    resets = db.rows("SELECT id, user_id, email::text AS email, token_hash, expires_at FROM private.password_resets "
                     "ORDER BY created_at")
    assert [(r["user_id"], r["email"]) for r in resets] == [(user, email)] * 2
    assert all(r["token_hash"] is None and r["expires_at"] is None for r in resets), "the worker arms it"
    sent = notices(db, user, "password_reset")
    assert [n["payload"] for n in sent] == [{"reset_id": str(r["id"])} for r in resets]
    assert all(n["in_portal"] is False and n["email_state"] == "pending" for n in sent)
    assert all(len(email_jobs(db, n["id"])) == 1 for n in sent)
    assert notices(db, gone, "password_reset") == []
    assert db.value("SELECT count(*) FROM procrastinate.procrastinate_jobs") == jobs_before + 2
    assert to_send(db, sent[0]["id"]) == {"email": email, "wanted": True, "event_type": "password_reset"}


def test_an_unconfirmed_address_gets_its_reset_email_too(database):
    db = database
    user, email = gen_account(db)
    db.rows("UPDATE users SET email_confirmed_at = NULL WHERE id = %s", (user,))
    assert request_reset(db, email) is True
    [sent] = notices(db, user, "password_reset")
    assert sent["email_state"] == "pending" and to_send(db, sent["id"])["wanted"] is True


def test_the_accounts_emails_ignore_the_preferences(database):
    """A reset and an email change go by email only, whatever one's preferences say (an opt-out of
    their email, an opt-in to seeing them in the portal)."""
    db = database
    user, email = gen_account(db)
    kinds = ("password_reset", "email_change", "email_changed")
    call(db, me(user), "INSERT INTO notification_settings (user_id, email_notifications, push_notifications) "
                       "VALUES (%s, %s, %s)",
         (user, json.dumps(dict.fromkeys(kinds, False)), json.dumps(dict.fromkeys(kinds, True))))
    assert request_reset(db, email) is True
    change = ask_change(db, user, "elsewhere@example.test")
    confirm_change(db, user, change)
    for kind in kinds:
        [sent] = notices(db, user, kind)
        assert (sent["in_portal"], sent["email_state"], len(email_jobs(db, sent["id"]))) == (False, "pending", 1), kind
    assert to_send(db, notices(db, user, "email_changed")[0]["id"])["wanted"] is True


@pytest.mark.parametrize("exists", [True, False], ids=["account", "no_account"])
def test_reset_requests_are_throttled_per_email(database, exists):
    db = database
    user, email = gen_account(db)
    address = email if exists else "nobody@example.test"
    got = [request_reset(db, address, address=f"198.51.100.{n}", account_limit=2) for n in range(4)]
    assert got == [True, True, False, False]
    assert db.value("SELECT count(*) FROM private.password_resets") == (2 if exists else 0)
    # another address is its own count
    assert request_reset(db, "someone-else@example.test", account_limit=2) is True


def test_reset_requests_are_throttled_per_network_address(database):
    db = database
    user, email = gen_account(db)
    got = [request_reset(db, f"probe-{n}@example.test", address="203.0.113.7", address_limit=3) for n in range(3)]
    assert got == [True, True, True]
    # at the limit the answer is false whether the account exists or not, and nothing is made
    assert request_reset(db, email, address="203.0.113.7", address_limit=3) is False
    assert request_reset(db, "probe-9@example.test", address="203.0.113.7", address_limit=3) is False
    assert db.value("SELECT count(*) FROM private.password_resets") == 0
    assert notices(db, user, "password_reset") == []
    assert request_reset(db, email, address="203.0.113.8", address_limit=3) is True


def test_the_worker_stores_only_a_32_byte_hash_and_a_retry_replaces_it(database):
    db = database
    user, email = gen_account(db)
    assert request_reset(db, email) is True
    reset = latest_reset(db, user)
    first, second = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    assert arm(db, reset, first) is True
    row = db.rows("SELECT token_hash, expires_at > now() AS live FROM private.password_resets WHERE id = %s",
                  (reset,))[0]
    assert bytes(row["token_hash"]) == sha256(first) and row["live"] is True
    assert refused(db, WORKER, f"SELECT private.arm_password_reset(%s, %s, {TTL})",
                   (reset, b"short"))[0] == CHECK_VIOLATION
    assert arm(db, reset, second) is True           # the email sent again: only its link works
    assert target(db, first) == [] and target(db, second) == [{"user_id": user, "email": email}]
    complete(db, second)
    assert arm(db, reset, secrets.token_urlsafe(32)) is False, "a used reset is never armed again"


def test_a_token_opens_its_reset_once(database):
    db = database
    user, email = gen_account(db)
    token = reset_link(db, user)
    assert target(db, token) == [{"user_id": user, "email": email}]
    assert complete(db, token, argon("first")) == user
    assert stored_hash(db, user) == argon("first")
    assert target(db, token) == []
    assert complete(db, token, argon("second")) is None
    assert stored_hash(db, user) == argon("first")
    assert complete(db, secrets.token_urlsafe(32)) is None
    assert call(db, SIGN_IN, "SELECT complete_password_reset(NULL, 'x')") is None


def test_an_unarmed_reset_opens_nothing(database):
    db = database
    user, email = gen_account(db)
    assert request_reset(db, email) is True
    assert fetch(db, SIGN_IN, "SELECT * FROM password_reset_target(NULL)") == []
    assert call(db, SIGN_IN, "SELECT complete_password_reset(NULL, 'x')") is None
    assert stored_hash(db, user) == password_hash()


def test_an_expired_token_opens_nothing(database):
    db = database
    user, _ = gen_account(db)
    token = reset_link(db, user)
    db.rows("UPDATE private.password_resets SET expires_at = now() - interval '1 second' WHERE user_id = %s", (user,))
    assert target(db, token) == []
    assert complete(db, token) is None
    assert stored_hash(db, user) == password_hash()


def test_a_token_sent_before_the_address_changed_opens_nothing(database):
    db = database
    admin = gen_user(db, "admin")
    user, _ = gen_account(db)
    token = reset_link(db, user)
    assert call(db, me(admin), "UPDATE users SET email = 'moved@example.test' WHERE id = %s RETURNING id",
                (user,)) == user
    assert target(db, token) == []
    assert complete(db, token) is None
    assert stored_hash(db, user) == password_hash()
    # nor does a deactivated account's
    other, _ = gen_account(db)
    token = reset_link(db, other)
    deactivate_as_admin(db, admin, other)
    assert target(db, token) == [] and complete(db, token) is None


def test_a_token_changes_only_its_own_accounts_password(database):
    db = database
    a, a_email = gen_account(db)
    b, _ = gen_account(db)
    token_a, token_b = reset_link(db, a), reset_link(db, b)
    assert complete(db, token_a, argon("fora")) == a
    assert (stored_hash(db, a), stored_hash(db, b)) == (argon("fora"), password_hash())
    assert target(db, token_b) == [{"user_id": b, "email": email_of(db, b)}], "B's own link still works"
    assert a_email == email_of(db, a)


def test_completing_a_reset_ends_sessions_spends_other_resets_and_confirms_the_address(database):
    db = database
    user, email = gen_account(db)
    bystander, _ = gen_account(db)
    db.rows("UPDATE users SET email_confirmed_at = NULL WHERE id = %s", (user,))
    s1, s2, kept = start(db, user), start(db, user), start(db, bystander)
    older, newer = reset_link(db, user), reset_link(db, user)
    bystander_token = reset_link(db, bystander)
    assert complete(db, newer) == user
    assert sessions(db, user) == {s1: False, s2: False}
    assert target(db, older) == [] and complete(db, older) is None, "every reset of the account is spent"
    assert db.value("SELECT count(*) FROM private.password_resets WHERE user_id = %s AND used_at IS NULL",
                    (user,)) == 0
    assert db.value("SELECT email_confirmed_at IS NOT NULL FROM users WHERE id = %s", (user,)) is True
    assert active(db, bystander, kept) is True and target(db, bystander_token) != []
    assert email == email_of(db, user)


RESET_CALLS = {
    "request_password_reset": f"SELECT request_password_reset('x@example.test', '192.0.2.1', 5, 5, {TTL})",
    "password_reset_target": "SELECT * FROM password_reset_target(sha256('x'))",
    "complete_password_reset": "SELECT complete_password_reset(sha256('x'), 'x')",
    "arm_password_reset": f"SELECT private.arm_password_reset(gen_random_uuid(), sha256('x'), {TTL})",
}


@pytest.mark.parametrize("name", list(RESET_CALLS))
@pytest.mark.parametrize("who", ["anon", "student", "admin", "service", "other_path"])
def test_api_roles_cannot_call_the_reset_functions(database, name, who):
    """anon, a signed-in user (an admin too) and service_role run none of them; portal_signin does not
    arm, and portal_worker does not request, open or complete."""
    db = database
    actors = {"anon": Actor.anon(), "student": me(gen_user(db)), "admin": me(gen_user(db, "admin")),
              "service": Actor.service(),
              "other_path": SIGN_IN if name == "arm_password_reset" else WORKER}
    assert refused(db, actors[who], RESET_CALLS[name])[0] == DENIED


@pytest.mark.parametrize("table", ["private.password_resets", "private.password_reset_requests"])
def test_nobody_but_the_owner_reads_the_reset_tables(database, table):
    db = database
    user, email = gen_account(db)
    reset_link(db, user)
    for actor in (Actor.anon(), me(user), me(gen_user(db, "admin")), Actor.service(), SIGN_IN, WORKER):
        assert refused(db, actor, f"SELECT * FROM {table}")[0] == DENIED, actor.label
    assert db.value(f"SELECT count(*) FROM {table}") == 1


def test_the_token_is_in_no_table(database):
    """The token exists only in the email: no table (notices, the job queue, the resets) holds it; the
    notice and its job hold ids only."""
    db = database
    user, _ = gen_account(db)
    token = reset_link(db, user)
    [sent] = notices(db, user, "password_reset")
    assert set(sent["payload"]) == {"reset_id"}
    assert [job["args"] for job in email_jobs(db, sent["id"])] == [{"notification_id": str(sent["id"])}]
    assert tables_holding(db, token) == []
    # its hash lives in the reset alone
    assert tables_holding(db, sha256(token).hex(), skip=("private.password_resets",)) == []
    assert complete(db, token) == user
    assert tables_holding(db, token) == []


# --- email changes ----------------------------------------------------------------------------

def test_an_email_change_goes_to_the_new_address_and_is_told_to_the_old(database):
    db = database
    user, old = gen_account(db)
    new = "brand.new@example.test"
    stale = reset_link(db, user)
    change = ask_change(db, user, new)
    [asked] = notices(db, user, "email_change")
    assert asked["payload"] == {"to": new, "change_id": str(change)}
    assert asked["in_portal"] is False and asked["email_state"] == "pending" and len(email_jobs(db, asked["id"])) == 1
    assert to_send(db, asked["id"]) == {"email": new, "wanted": True, "event_type": "email_change"}
    assert email_of(db, user) == old, "nothing changes before the link is followed"
    confirmations_before = len(notices(db, user, "email_confirmation"))

    assert confirm_change(db, user, change) == new
    row = db.rows("SELECT email::text AS email, email_confirmed_at IS NOT NULL AS confirmed FROM users "
                  "WHERE id = %s", (user,))[0]
    assert row == {"email": new, "confirmed": True}
    assert len(notices(db, user, "email_confirmation")) == confirmations_before, "no confirmation asked again"
    [told] = notices(db, user, "email_changed")
    assert told["payload"] == {"to": old, "new_email": new}
    assert to_send(db, told["id"]) == {"email": old, "wanted": True, "event_type": "email_changed"}
    assert to_send(db, asked["id"])["wanted"] is False, "a confirmed change's link is not sent again"
    assert target(db, stale) == [] and complete(db, stale) is None, "a reset sent to the old address is spent"
    assert db.value("SELECT count(*) FROM private.password_resets WHERE user_id = %s AND used_at IS NULL",
                    (user,)) == 0
    assert refused(db, SIGN_IN, CONFIRM_CHANGE, (user, change)) == (CHECK_VIOLATION, "email_change_not_pending")


def test_the_current_address_is_refused(database):
    db = database
    user, email = gen_account(db)
    for same in (email, email.upper()):
        assert refused(db, SIGN_IN, ASK_CHANGE, (user, same)) == (CHECK_VIOLATION, "same_email")
    assert refused(db, SIGN_IN, ASK_CHANGE, (user, "not an address"))[0] == CHECK_VIOLATION


def test_the_sixth_request_in_an_hour_is_refused_and_each_cancels_the_one_before(database):
    db = database
    user, _ = gen_account(db)
    changes = [ask_change(db, user, f"new{n}@example.test") for n in range(5)]
    assert refused(db, SIGN_IN, ASK_CHANGE, (user, "new6@example.test")) == (
        CHECK_VIOLATION, "too_many_email_changes")
    pending = fetch(db, me(user), "SELECT id FROM email_changes WHERE cancelled_at IS NULL AND confirmed_at IS NULL")
    assert [r["id"] for r in pending] == [changes[-1]]
    for earlier in changes[:-1]:
        assert refused(db, SIGN_IN, CONFIRM_CHANGE, (user, earlier)) == (
            CHECK_VIOLATION, "email_change_not_pending")
    db.rows("UPDATE email_changes SET created_at = now() - interval '61 minutes' WHERE user_id = %s", (user,))
    assert ask_change(db, user, "new7@example.test") is not None


def test_only_the_changes_own_person_confirms_it_while_pending(database):
    db = database
    user, old = gen_account(db)
    other, _ = gen_account(db)
    admin = gen_user(db, "admin")
    change = ask_change(db, user, "mine@example.test")
    # a link checked for another person (the app signs the person into it) opens nothing of this one
    for who in (other, admin):
        assert refused(db, SIGN_IN, CONFIRM_CHANGE, (who, change)) == (CHECK_VIOLATION, "email_change_not_pending")
    for actor in (Actor.anon(), me(user), me(other), me(admin), Actor.service(), WORKER):
        assert refused(db, actor, CONFIRM_CHANGE, (user, change))[0] == DENIED, actor.label
    assert call(db, me(other), "SELECT cancel_email_change()") == 0, "nor cancels it"
    db.rows("UPDATE email_changes SET expires_at = now() - interval '1 second' WHERE id = %s", (change,))
    assert refused(db, SIGN_IN, CONFIRM_CHANGE, (user, change)) == (CHECK_VIOLATION, "email_change_not_pending")
    later = ask_change(db, user, "mine2@example.test")
    assert call(db, me(user), "SELECT cancel_email_change()") == 1
    assert refused(db, SIGN_IN, CONFIRM_CHANGE, (user, later)) == (CHECK_VIOLATION, "email_change_not_pending")
    assert email_of(db, user) == old


def test_confirming_into_an_address_another_account_holds_is_the_unique_violation(database):
    db = database
    user, old = gen_account(db)
    _, taken = gen_account(db)
    change = ask_change(db, user, taken)  # says nothing of the holder
    assert refused(db, SIGN_IN, CONFIRM_CHANGE, (user, change)) == (UNIQUE_VIOLATION, "users_email_key")
    assert email_of(db, user) == old


def test_a_user_still_cannot_change_their_email_directly(database):
    db = database
    user, old = gen_account(db)
    assert refused(db, me(user), "UPDATE users SET email = 'direct@example.test' WHERE id = %s", (user,))[0] == DENIED
    assert refused(db, me(user), "UPDATE users SET email_confirmed_at = now() WHERE id = %s", (user,))[0] == DENIED
    assert email_of(db, user) == old
    db.rows("UPDATE users SET is_active = false WHERE id = %s", (user,))
    assert refused(db, SIGN_IN, ASK_CHANGE, (user, "x@example.test")) == (DENIED, "sign_in_required")


def test_an_admins_change_of_address_is_still_unconfirmed(database):
    """011 replaced 010's unconfirm_changed_email: an address set without its confirmation (an admin's
    edit) is still unconfirmed, and asked to be confirmed."""
    db = database
    admin = gen_user(db, "admin")
    user, _ = gen_account(db)
    assert call(db, me(admin), "UPDATE users SET email = 'given@example.test' WHERE id = %s RETURNING id",
                (user,)) == user
    assert db.value("SELECT email_confirmed_at FROM users WHERE id = %s", (user,)) is None
    [asked] = notices(db, user, "email_confirmation")
    assert to_send(db, asked["id"]) == {"email": "given@example.test", "wanted": True,
                                         "event_type": "email_confirmation"}


def test_an_email_change_is_confirmed_only_through_the_apps_checked_link(database):
    """The change's id is readable by its requester (email_changes.id, the notice's payload): holding
    the person's token must not be enough to confirm an address they cannot read. Only portal_signin
    (the app, once it checked the link's signature) confirms, for the person the link names."""
    db = database
    attacker, old = gen_account(db)
    assert refused(db, me(attacker), ASK_CHANGE, (attacker, "victim@example.test"))[0] == DENIED
    ask_change(db, attacker, "victim@example.test")
    readable = call(db, me(attacker), "SELECT id FROM email_changes")
    assert readable is not None
    assert refused(db, me(attacker), CONFIRM_CHANGE, (attacker, readable))[0] == DENIED
    assert refused(db, me(attacker), "SELECT confirm_email_of(%s, 'victim@example.test')", (attacker,))[0] == DENIED
    assert email_of(db, attacker) == old
    assert confirm_change(db, attacker, readable) == "victim@example.test", "the app, for the link's person"
    assert email_of(db, attacker) == "victim@example.test"


NEW_HASH = "$argon2id$v=19$m=19456,t=2,p=1$aGFuZA$aGFuZGVkT24"
PASSWORD_NOW = "SELECT password_hash FROM private.user_credentials WHERE user_id = %(me)s"
CONFIRMED_NOW = "SELECT email_confirmed_at IS NOT NULL FROM users WHERE id = %(me)s"
# What hands an account on: (as the person's own token calls it, authenticated; as the app calls it
# for the person it checked, portal_signin; what the latter did, read as the owner; its value then).
HANDING_ON = {
    "request_email_change": ("SELECT request_email_change(%(me)s, 'moved@example.test')", None,
                             "SELECT count(*) FROM email_changes WHERE user_id = %(me)s "
                             "AND new_email = 'moved@example.test' AND cancelled_at IS NULL", 1),
    "confirm_email_change": ("SELECT confirm_email_change(%(me)s, %(change)s)", None,
                             "SELECT email::text FROM users WHERE id = %(me)s", "pending@example.test"),
    "change_password": ("SELECT change_password(%(me)s, %(hash)s, NULL)", None, PASSWORD_NOW, NEW_HASH),
    "set_password_hash": ("SELECT set_password_hash(%(me)s, %(hash)s)", None, PASSWORD_NOW, NEW_HASH),
    "confirm_email_of": ("SELECT confirm_email_of(%(me)s, %(email)s)", None, CONFIRMED_NOW, True),
    "delete_account": ("SELECT delete_account(%(me)s)", None,
                       "SELECT full_name FROM users WHERE id = %(me)s", "Former member"),
    # 007's and 010's, on the caller's claims: revoked; the app calls their replacements
    "set_own_password_hash_007": ("SELECT set_own_password_hash(%(hash)s)",
                                  "SELECT set_password_hash(%(me)s, %(hash)s)", PASSWORD_NOW, NEW_HASH),
    "confirm_email_010": ("SELECT confirm_email(%(email)s)",
                          "SELECT confirm_email_of(%(me)s, %(email)s)", CONFIRMED_NOW, True),
}


@pytest.mark.parametrize("name", list(HANDING_ON))
def test_what_hands_an_account_on_is_portal_signins_alone(database, name):
    """The person's own token (authenticated), anon, service_role and the worker are refused (42501)
    and change nothing; portal_signin does it for the person it names."""
    db = database
    user, email = gen_account(db)
    change = ask_change(db, user, "pending@example.test")
    db.rows("UPDATE users SET email_confirmed_at = NULL WHERE id = %s", (user,))
    as_user, as_app, check, expected = HANDING_ON[name]
    params = {"me": user, "change": change, "hash": NEW_HASH, "email": email}
    before = db.value(check, params)
    assert before != expected
    for actor in (me(user), Actor.anon(), Actor.service(), WORKER):
        assert refused(db, actor, as_user, params)[0] == DENIED, actor.label
    if as_app is not None:  # the old ones are no one's now, portal_signin's included
        assert refused(db, SIGN_IN, as_user, params)[0] == DENIED
    assert db.value(check, params) == before
    call(db, SIGN_IN, as_app or as_user, params)
    assert db.value(check, params) == expected


# --- export_my_data -------------------------------------------------------------------------

def test_the_export_holds_my_rows_and_nobody_elses(database):
    db = database
    instructor = gen_user(db, "instructor")
    course = gen_course(db, instructor, price="49.99", certificate=True)
    student, student_email = gen_account(db)
    other, other_email = gen_account(db)
    mine, theirs = complete_course(db, student, course), complete_course(db, other, course)
    review = call(db, me(student), "INSERT INTO course_reviews (course_id, user_id, rating, title) "
                                   "VALUES (%s, %s, 5, 'Mine') RETURNING id", (course.id, student))
    their_review = call(db, me(other), "INSERT INTO course_reviews (course_id, user_id, rating, title) "
                                       "VALUES (%s, %s, 3, 'Theirs') RETURNING id", (course.id, other))
    session = start(db, student)
    start(db, other)
    export = call(db, me(student), "SELECT export_my_data()")
    assert export["account"]["id"] == str(student) and export["account"]["email"] == student_email
    assert [e["id"] for e in export["enrollments"]] == [str(mine)]
    assert len(export["enrollments"][0]["lesson_progress"]) == len(course.lessons)
    assert [r["id"] for r in export["reviews"]] == [str(review)]
    assert [c["enrollment_id"] for c in export["certificates"]] == [str(mine)]
    assert [s["id"] for s in export["sessions"]] == [str(session)]
    text = json.dumps(export)
    for foreign in (other, other_email, theirs, their_review):
        assert str(foreign) not in text
    assert "password_hash" not in text and password_hash() not in text
    # one's notices without the outbox's bookkeeping (not readable by their person in SQL either)
    assert export["notifications"] != []
    assert all(not {"user_id", "dedup_key", "email_error", "email_attempts"} & set(n) for n in export["notifications"])


def test_the_export_never_holds_the_payment_details_ciphertext(database):
    db = database
    instructor = gen_user(db, "instructor")
    ciphertext = "v1.key2024." + "A" * 60
    assert call(db, me(instructor), "UPDATE instructor_settings SET payment_details = %s WHERE user_id = %s "
                                    "RETURNING user_id", (ciphertext, instructor)) == instructor
    export = call(db, me(instructor), "SELECT export_my_data()")
    assert export["instructor_settings"]["payment_details_stored"] is True
    assert "payment_details" not in export["instructor_settings"]
    assert ciphertext not in json.dumps(export) and "A" * 38 not in json.dumps(export)


def test_anon_and_the_deactivated_cannot_export(database):
    db = database
    user = gen_user(db)
    assert refused(db, Actor.anon(), "SELECT export_my_data()")[0] == DENIED
    assert refused(db, Actor.service(), "SELECT export_my_data()")[0] == DENIED
    db.rows("UPDATE users SET is_active = false WHERE id = %s", (user,))
    assert refused(db, me(user), "SELECT export_my_data()") == (DENIED, "sign_in_required")


# --- delete_account ----------------------------------------------------------------------

FIGURES = ("SELECT c.enrolled_count, c.completed_count, c.average_rating, c.review_count, c.total_revenue, "
           "p.total_students, p.average_rating AS instructor_rating "
           "FROM courses c JOIN instructor_profiles p ON p.user_id = c.instructor_id WHERE c.id = %s")


@pytest.fixture()
def leaving(database):
    """A student who completed a paid course with a certificate, reviewed it, signed in twice, asked for a
    reset and an email change, and has notices; another student on the same course."""
    db = database
    instructor = gen_user(db, "instructor", name="Ingrid Instructor")
    course = gen_course(db, instructor, price="49.99", certificate=True)
    student, email = gen_account(db, name="Leaving Learner")
    other, _ = gen_account(db)
    enrollment = complete_course(db, student, course)
    complete_course(db, other, course)
    review = call(db, me(student), "INSERT INTO course_reviews (course_id, user_id, rating, title, review_text) "
                                   "VALUES (%s, %s, 2, 'Meh', 'Could be better') RETURNING id", (course.id, student))
    call(db, me(other), "INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 5)",
         (course.id, other))
    start(db, student)
    start(db, student)
    reset_link(db, student)
    ask_change(db, student, "leaving.new@example.test")
    call(db, me(student), "INSERT INTO notification_settings (user_id, timezone) VALUES (%s, 'Europe/Paris')",
         (student,))
    return dict(db=db, instructor=instructor, course=course, student=student, email=email, other=other,
                enrollment=enrollment, review=review)


def test_deleting_a_students_account_anonymises_them_and_keeps_every_figure(leaving):
    db, student, course = leaving["db"], leaving["student"], leaving["course"]
    before = db.rows(FIGURES, (course.id,))
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s", (student,)) > 0
    assert close_account(db, student) == "deleted"

    row = db.rows("SELECT email::text AS email, full_name, avatar_url, is_active, organization_id FROM users "
                  "WHERE id = %s", (student,))[0]
    assert row == {"email": f"deleted-{student}@deleted.invalid", "full_name": "Former member", "avatar_url": None,
                   "is_active": False, "organization_id": None}
    for table in ("private.user_credentials", "private.password_resets", "user_sessions", "email_changes",
                  "notifications", "notification_settings", "notification_read_marks"):
        assert db.value(f"SELECT count(*) FROM {table} WHERE user_id = %s", (student,)) == 0, table
    assert db.value("SELECT count(*) FROM course_enrollments WHERE id = %s", (leaving["enrollment"],)) == 1
    assert db.value("SELECT count(*) FROM lesson_progress WHERE enrollment_id = %s",
                    (leaving["enrollment"],)) == len(course.lessons)
    assert db.value("SELECT rating FROM course_reviews WHERE id = %s", (leaving["review"],)) == 2
    assert db.value("SELECT student_name FROM certificates WHERE user_id = %s", (student,)) == "Former member"
    assert db.rows(FIGURES, (course.id,)) == before
    assert mismatches(db) == []
    # the account is gone for good: its claims are anon's, and no email goes to it
    assert refused(db, me(student), "SELECT export_my_data()") == (DENIED, "sign_in_required")
    assert request_reset(db, leaving["email"]) is True
    assert db.value("SELECT count(*) FROM private.password_resets") == 0
    # the other student is untouched
    assert db.value("SELECT is_active FROM users WHERE id = %s", (leaving["other"],)) is True


def test_a_deleted_students_name_and_address_are_in_no_table(leaving):
    db, student = leaving["db"], leaving["student"]
    assert tables_holding(db, "Leaving Learner") != []
    kinds = ("new_enrollment", "new_review")
    told = {kind: notices(db, leaving["instructor"], kind) for kind in kinds}
    theirs = {n["id"] for kind in kinds for n in told[kind] if n["payload"].get("student_name") == "Leaving Learner"}
    assert {kind for kind in kinds for n in told[kind] if n["id"] in theirs} == set(kinds), (
        "the instructor was told of the enrollment and of the review, by name")
    assert close_account(db, student) == "deleted"
    # the notices the instructor got of them name a former member now; nothing else of any notice changes
    for kind, before in told.items():
        after = notices(db, leaving["instructor"], kind)
        assert [n["payload"] for n in after] == [
            {**n["payload"], "student_name": "Former member"} if n["id"] in theirs else n["payload"]
            for n in before], kind
    assert "Leaving Learner" not in json.dumps(call(db, me(leaving["instructor"]), "SELECT export_my_data()"))
    # Reading: the throttles' counts (keyed by the address typed, whoever holds it, and forgotten after a
    # day) are not the account's data; everything else is.
    throttles = ("private.password_reset_requests", "private.sign_in_failures")
    assert {"name": tables_holding(db, "Leaving Learner"),
            "address": tables_holding(db, leaving["email"], skip=throttles)} == {"name": [], "address": []}


@pytest.mark.parametrize("sold", [True, False], ids=["paid_sale", "free_enrollment"])
def test_an_instructor_with_students_is_deactivated_with_everything_kept(database, sold):
    db = database
    instructor, email = gen_account(db, "instructor", name="Kept Teacher")
    course = gen_course(db, instructor, price="49.99" if sold else "0")
    student = gen_user(db)
    enrollment = complete_course(db, student, course) if sold else enroll(db, student, course.id)
    session = start(db, instructor)
    headline = "Teaching since 2001"
    call(db, me(instructor), "UPDATE instructor_profiles SET headline = %s WHERE user_id = %s", (headline, instructor))
    before = db.rows(FIGURES, (course.id,))
    assert close_account(db, instructor) == "deactivated"
    row = db.rows("SELECT email::text AS email, full_name, is_active FROM users WHERE id = %s", (instructor,))[0]
    assert row == {"email": email, "full_name": "Kept Teacher", "is_active": False}
    assert stored_hash(db, instructor) == password_hash()
    assert db.value("SELECT headline FROM instructor_profiles WHERE user_id = %s", (instructor,)) == headline
    assert db.value("SELECT count(*) FROM course_enrollments WHERE id = %s", (enrollment,)) == 1
    assert db.value("SELECT count(*) FROM revenue_transactions WHERE instructor_id = %s", (instructor,)) == (
        1 if sold else 0)
    assert sessions(db, instructor) == {session: False}
    assert db.rows(FIGURES, (course.id,)) == before


def test_an_instructor_without_students_is_deleted(database):
    db = database
    instructor, _ = gen_account(db, "instructor")
    gen_course(db, instructor)
    call(db, me(instructor), "UPDATE instructor_profiles SET bio = %s, social_links = %s WHERE user_id = %s",
         ("About me: twenty years of teaching people to write software.",
          json.dumps({"github": "https://github.com/me"}), instructor))
    assert close_account(db, instructor) == "deleted"
    profile = db.rows("SELECT bio, social_links FROM instructor_profiles WHERE user_id = %s", (instructor,))[0]
    assert profile == {"bio": None, "social_links": {}}


def test_an_org_admin_is_deleted_as_a_student_of_no_organization(database):
    db = database
    org = gen_org(db)
    org_admin, _ = gen_account(db, "org_admin", org=org)
    assert close_account(db, org_admin) == "deleted"
    assert db.rows("SELECT role::text AS role, organization_id, is_active FROM users WHERE id = %s", (org_admin,)) == [
        {"role": "student", "organization_id": None, "is_active": False}]


def test_an_admin_cannot_delete_their_account_and_anon_has_none(database):
    db = database
    admin = gen_user(db, "admin")
    assert call(db, me(admin), "SELECT account_deletion_outcome()") == "refused"
    assert refused(db, SIGN_IN, "SELECT delete_account(%s)", (admin,)) == (CHECK_VIOLATION, "admin_keeps_account")
    assert db.value("SELECT is_active FROM users WHERE id = %s", (admin,)) is True
    for actor in (me(admin), Actor.anon(), Actor.service()):
        assert refused(db, actor, "SELECT delete_account(%s)", (admin,))[0] == DENIED, actor.label
    assert refused(db, Actor.anon(), "SELECT account_deletion_outcome()")[0] == DENIED
    assert refused(db, me(admin), "SELECT private.deletion_outcome_of(%s)", (admin,))[0] == DENIED


# --- the profile's CHECKs and the at-risk thresholds ---------------------------------------------

VALID_PROFILE = {
    "education": json.dumps([{"degree": "MSc Computer Science", "institution": "ETH", "year": 2010},
                             {"degree": "BSc", "institution": "EPFL"}]),
    "certifications": json.dumps([{"name": "AWS Architect", "issuer": "Amazon", "year": 2021}, {"name": "CKA"}]),
    "work_experience": json.dumps([{"role": "Engineer", "company": "Acme", "from": 2010, "to": 2015},
                                   {"role": "Lead", "company": "Globex", "from": 2015}]),
    "social_links": json.dumps({"linkedin": "https://www.linkedin.com/in/someone",
                                "github": "https://github.com/someone", "mastodon": "https://mastodon.social/@me"}),
}
VALID_TAGS = ["python", "prompt engineering", "x" * 40]

INVALID_PROFILE = {
    "education_extra_key": ("education", [{"degree": "MSc", "institution": "ETH", "grade": "A"}],
                            "profile_education_rows"),
    "education_missing_institution": ("education", [{"degree": "MSc"}], "profile_education_rows"),
    "education_blank_degree": ("education", [{"degree": "  ", "institution": "ETH"}], "profile_education_rows"),
    "education_year_12": ("education", [{"degree": "MSc", "institution": "ETH", "year": 12}],
                          "profile_education_rows"),
    "education_year_as_text": ("education", [{"degree": "MSc", "institution": "ETH", "year": "2010"}],
                               "profile_education_rows"),
    "education_year_fraction": ("education", [{"degree": "MSc", "institution": "ETH", "year": 2010.5}],
                                "profile_education_rows"),
    "education_not_an_object": ("education", ["MSc at ETH"], "profile_education_rows"),
    "education_21_rows": ("education", [{"degree": "d", "institution": "i"}] * 21, "profile_education_rows"),
    "education_201_chars": ("education", [{"degree": "d" * 201, "institution": "i"}], "profile_education_rows"),
    "certification_missing_name": ("certifications", [{"issuer": "Amazon"}], "profile_certification_rows"),
    "certification_year_2101": ("certifications", [{"name": "X", "year": 2101}], "profile_certification_rows"),
    "work_year_12": ("work_experience", [{"role": "r", "company": "c", "from": 12}], "profile_work_experience_rows"),
    "work_extra_key": ("work_experience", [{"role": "r", "company": "c", "salary": "1"}],
                       "profile_work_experience_rows"),
    "social_http": ("social_links", {"github": "http://github.com/me"}, "profile_social_links"),
    "social_javascript": ("social_links", {"github": "javascript:alert(1)"}, "profile_social_links"),
    "social_unknown_network": ("social_links", {"myspace": "https://myspace.com/me"}, "profile_social_links"),
    "social_not_text": ("social_links", {"github": 42}, "profile_social_links"),
    "social_501_chars": ("social_links", {"github": "https://github.com/" + "a" * 482}, "profile_social_links"),
    # a host a browser reads otherwise than Python (review of issue 18): a user part, a backslash
    "social_user_part": ("social_links", {"github": "https://github.com@evil.example/me"}, "profile_social_links"),
    "social_backslash": ("social_links", {"github": "https://evil.example\\@github.com"}, "profile_social_links"),
}


def test_valid_profile_rows_pass(database):
    db = database
    instructor = gen_user(db, "instructor")
    sets = ", ".join(f"{column} = %({column})s" for column in VALID_PROFILE)
    assert call(db, me(instructor), f"UPDATE instructor_profiles SET {sets}, expertise_tags = %(tags)s "
                                    "WHERE user_id = %(me)s RETURNING user_id",
                {**VALID_PROFILE, "tags": VALID_TAGS, "me": instructor}) == instructor
    stored = db.rows("SELECT education, social_links, expertise_tags FROM instructor_profiles WHERE user_id = %s",
                     (instructor,))[0]
    assert stored["education"] == json.loads(VALID_PROFILE["education"])
    assert stored["expertise_tags"] == VALID_TAGS
    # empty is valid too
    assert call(db, me(instructor), "UPDATE instructor_profiles SET education = '[]', social_links = '{}', "
                                    "expertise_tags = '{}' WHERE user_id = %s RETURNING user_id",
                (instructor,)) == instructor


@pytest.mark.parametrize("case", list(INVALID_PROFILE))
def test_an_invalid_profile_row_is_the_check_violation_named_for_its_rule(database, case):
    db = database
    instructor = gen_user(db, "instructor")
    column, value, constraint = INVALID_PROFILE[case]
    assert refused(db, me(instructor), f"UPDATE instructor_profiles SET {column} = %s WHERE user_id = %s",
                   (json.dumps(value), instructor)) == (CHECK_VIOLATION, constraint)


@pytest.mark.parametrize("tags", [[f"tag{n}" for n in range(16)], ["x" * 41], ["   "], ["ok", None]],
                         ids=["16_tags", "41_chars", "blank", "null"])
def test_invalid_expertise_tags_are_refused(database, tags):
    db = database
    instructor = gen_user(db, "instructor")
    assert refused(db, me(instructor), "UPDATE instructor_profiles SET expertise_tags = %s::text[] WHERE user_id = %s",
                   (tags, instructor)) == (CHECK_VIOLATION, "profile_expertise_tags")


THRESHOLDS = {  # column: (lowest, highest)
    "at_risk_progress_percent": (1, 100),
    "at_risk_after_days": (1, 365),
    "inactive_after_days": (1, 365),
}


def test_new_thresholds_default_to_the_specification(database):
    db = database
    instructor = gen_user(db, "instructor")
    assert fetch(db, me(instructor), "SELECT at_risk_progress_percent, at_risk_after_days, inactive_after_days "
                                     "FROM instructor_settings WHERE user_id = %s", (instructor,)) == [
        {"at_risk_progress_percent": 30, "at_risk_after_days": 7, "inactive_after_days": 14}]


@pytest.mark.parametrize("column", list(THRESHOLDS))
def test_the_instructor_sets_their_thresholds_within_bounds(database, column):
    db = database
    instructor = gen_user(db, "instructor")
    low, high = THRESHOLDS[column]
    update = f"UPDATE instructor_settings SET {column} = %s WHERE user_id = %s RETURNING {column}"
    for ok in (low, high):
        assert call(db, me(instructor), update, (ok, instructor)) == ok
    for bad in (low - 1, high + 1):
        code, constraint = refused(db, me(instructor), update, (bad, instructor))
        assert (code, constraint) == (CHECK_VIOLATION, f"instructor_settings_{column}_check")


@pytest.mark.parametrize("who", ["other_instructor", "admin", "student", "org_admin"])
def test_nobody_changes_another_instructors_thresholds(database, who):
    """The update is filtered out (zero rows) for everyone but the instructor; anon holds no grant."""
    db = database
    org = gen_org(db)
    instructor = gen_user(db, "instructor", org=org)
    actor = me(gen_user(db, {"other_instructor": "instructor"}.get(who, who), org=org if who == "org_admin" else None))
    assert call(db, actor, "UPDATE instructor_settings SET at_risk_after_days = 99, at_risk_progress_percent = 99, "
                           "inactive_after_days = 99 WHERE user_id = %s RETURNING user_id", (instructor,)) is None
    assert db.rows("SELECT at_risk_progress_percent, at_risk_after_days, inactive_after_days FROM instructor_settings "
                   "WHERE user_id = %s", (instructor,)) == [
        {"at_risk_progress_percent": 30, "at_risk_after_days": 7, "inactive_after_days": 14}]
    assert refused(db, Actor.anon(), "UPDATE instructor_settings SET at_risk_after_days = 99")[0] == DENIED


def test_the_timezone_is_a_zone_name(database):
    db = database
    instructor = gen_user(db, "instructor")
    assert call(db, me(instructor), "UPDATE instructor_settings SET timezone = 'America/Argentina/Buenos_Aires' "
                                    "WHERE user_id = %s RETURNING timezone", (instructor,))
    assert refused(db, me(instructor), "UPDATE instructor_settings SET timezone = %s WHERE user_id = %s",
                   ("<script>", instructor)) == (CHECK_VIOLATION, "instructor_timezone_name")


# --- the limits under concurrency -------------------------------------------------------------

def at_once(db, actor, calls):
    """Each (sql, params) of ``calls`` on a connection of its own as ``actor``, all released together
    (a barrier, as tests/test_concurrency.py): each one's ("ok", first column) or ("error", SQLSTATE,
    constraint)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(n, sql, params):
        conn = db.connect_app()
        try:
            barrier.wait()
            with conn, conn.cursor() as cur:
                set_context(cur, actor)
                cur.execute(sql, params)
                results[n] = ("ok", cur.fetchone()[0])
        except psycopg2.Error as exc:
            results[n] = ("error", exc.pgcode, exc.diag.constraint_name)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n, sql, params)) for n, (sql, params) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_email_changes_count_each_other(database):
    """Eight requests for one person at once (the app, as portal_signin): the person's row is locked, so
    they go one after the other: five are made, each cancelling the one before, the rest refused, and one
    change stays pending (no deadlock, no unique violation of the pending index)."""
    db = database
    user, old = gen_account(db)
    bystander, _ = gen_account(db)
    results = at_once(db, SIGN_IN, [(ASK_CHANGE, (user, f"race{n}@example.test")) for n in range(8)])
    made = [r[1] for r in results if r[0] == "ok"]
    assert len(made) == 5, results
    assert sorted(r for r in results if r[0] != "ok") == [("error", CHECK_VIOLATION, "too_many_email_changes")] * 3
    rows = db.rows("SELECT id, confirmed_at IS NULL AND cancelled_at IS NULL AS pending FROM email_changes "
                   "WHERE user_id = %s ORDER BY created_at", (user,))
    assert {r["id"] for r in rows} == set(made)
    [pending] = [r["id"] for r in rows if r["pending"]]
    assert len(notices(db, user, "email_change")) == 5
    assert confirm_change(db, user, pending) is not None
    assert email_of(db, user) != old
    assert ask_change(db, bystander, "bystander.new@example.test") is not None, "another person's count is theirs"


@pytest.mark.parametrize("shared", ["email", "network_address"])
def test_concurrent_reset_requests_keep_the_limit(database, shared):
    """Eight requests at once with a limit of three (per address, or per network address): exactly three
    go on and make a reset each."""
    db = database
    user, email = gen_account(db)
    if shared == "email":
        calls = [(email, f"198.51.100.{n}", 3, 20) for n in range(8)]
    else:
        calls = [(email if n == 0 else f"probe-{n}@example.test", "203.0.113.9", 20, 3) for n in range(8)]
    results = at_once(db, SIGN_IN, [(f"SELECT request_password_reset(%s, %s, %s, %s, {TTL})", c) for c in calls])
    assert all(r[0] == "ok" for r in results), results
    assert sorted(r[1] for r in results) == [False] * 5 + [True] * 3
    assert db.value("SELECT count(*) FROM private.password_reset_requests") == 3
    expected = 3 if shared == "email" else (1 if results[0][1] else 0)
    assert db.value("SELECT count(*) FROM private.password_resets WHERE user_id = %s", (user,)) == expected
    assert len(notices(db, user, "password_reset")) == expected


# --- at most 50 open sessions -----------------------------------------------------------------

def test_a_person_keeps_at_most_fifty_open_sessions_the_least_recently_used_end(database):
    db = database
    user, other = gen_user(db), gen_user(db)
    theirs = start(db, other)
    opened = [start(db, user, f"Browser {n}") for n in range(50)]
    assert list(sessions(db, user).values()) == [True] * 50, "fifty are fine"
    # seen at distinct times; the least recently used is not the oldest one
    db.rows("UPDATE user_sessions s SET last_seen_at = now() - interval '1 hour' + n.i * interval '1 second' "
            "FROM unnest(%s::uuid[]) WITH ORDINALITY AS n(id, i) WHERE s.id = n.id", (opened,))
    db.rows("UPDATE user_sessions SET last_seen_at = now() - interval '2 hours' WHERE id = %s", (opened[7],))
    newest = start(db, user, "Browser 51")
    now = sessions(db, user)
    assert [sid for sid, on in now.items() if not on] == [opened[7]]
    assert sum(now.values()) == 50 and now[newest] is True
    newer = start(db, user, "Browser 52")
    now = sessions(db, user)
    assert {sid for sid, on in now.items() if not on} == {opened[7], opened[0]}
    assert sum(now.values()) == 50 and now[newer] is True
    assert active(db, user, opened[7]) is False and active(db, user, newer) is True
    assert sessions(db, other) == {theirs: True}, "another person's sessions are theirs"


# --- closing an account: its courses and workshops ---------------------------------------------

def visible_to_anon(db, course_id):
    return fetch(db, Actor.anon(), "SELECT id FROM courses WHERE id = %s", (course_id,)) != []


def test_a_deleted_instructors_courses_are_archived_and_their_teaching_ended(database):
    db = database
    instructor, _ = gen_account(db, "instructor")
    colleague = gen_user(db, "instructor")
    course = gen_course(db, instructor)
    draft = gen_course(db, instructor, status="draft")
    shared = gen_course(db, colleague)
    workshop = gen_workshop(db, instructor)
    their_workshop = gen_workshop(db, colleague)
    db.rows("INSERT INTO course_instructors (course_id, instructor_id) VALUES (%s, %s)", (shared.id, instructor))
    db.rows("INSERT INTO workshop_facilitators (workshop_id, facilitator_id) VALUES (%s, %s)",
            (their_workshop, instructor))
    student = gen_user(db)
    assert visible_to_anon(db, course.id)
    assert call(db, me(instructor), "SELECT account_deletion_outcome()") == "deleted"
    assert close_account(db, instructor) == "deleted"
    assert db.value("SELECT array_agg(status::text ORDER BY status::text) FROM courses WHERE instructor_id = %s",
                    (instructor,)) == ["archived", "archived"]
    assert not visible_to_anon(db, course.id) and not visible_to_anon(db, draft.id)
    assert refused(db, me(student), "SELECT enroll_in_course(%s)", (course.id,)) == ("P0002", "course_not_open")
    assert db.value("SELECT status::text FROM workshops WHERE id = %s", (workshop,)) == "cancelled"
    assert db.value("SELECT count(*) FROM course_instructors WHERE instructor_id = %s", (instructor,)) == 0
    assert db.value("SELECT count(*) FROM workshop_facilitators WHERE facilitator_id = %s", (instructor,)) == 0
    # the colleague's own course and workshop are theirs, untouched
    assert db.value("SELECT status::text FROM courses WHERE id = %s", (shared.id,)) == "published"
    assert db.value("SELECT status::text FROM workshops WHERE id = %s", (their_workshop,)) == "published"
    assert mismatches(db) == []


def test_a_deactivated_instructors_courses_are_archived_and_their_students_keep_learning(database):
    db = database
    instructor, _ = gen_account(db, "instructor")
    course = gen_course(db, instructor)
    quiet = gen_course(db, instructor)
    enrolled, newcomer, attendee = gen_user(db), gen_user(db), gen_user(db)
    enrollment = enroll(db, enrolled, course.id)
    empty_workshop = gen_workshop(db, instructor)
    full_workshop = gen_workshop(db, instructor)
    register(db, attendee, full_workshop)
    assert call(db, me(instructor), "SELECT account_deletion_outcome()") == "deactivated"
    assert close_account(db, instructor) == "deactivated"
    for c in (course, quiet):
        assert db.value("SELECT status::text FROM courses WHERE id = %s", (c.id,)) == "archived"
        assert not visible_to_anon(db, c.id)
        assert refused(db, me(newcomer), "SELECT enroll_in_course(%s)", (c.id,)) == ("P0002", "course_not_open")
    assert db.value("SELECT status::text FROM workshops WHERE id = %s", (empty_workshop,)) == "cancelled"
    assert db.value("SELECT status::text FROM workshops WHERE id = %s", (full_workshop,)) == "published", (
        "a workshop with registrations is kept for its attendees")
    # the enrolled student still opens a lesson and reads the outline
    assert call(db, me(enrolled), "SELECT start_lesson(%s)::text", (course.lessons[0],)) == "in_progress"
    outline = fetch(db, me(enrolled), "SELECT lesson_id, released FROM learning_outline(%s)", (course.id,))
    assert [r["lesson_id"] for r in outline] == course.lessons and all(r["released"] for r in outline)
    assert db.value("SELECT status::text FROM course_enrollments WHERE id = %s", (enrollment,)) in (
        "enrolled", "in_progress")
    assert mismatches(db) == []


# --- a profile for the instructor's students ---------------------------------------------------

def set_visibility(db, instructor, visibility):
    db.rows("UPDATE instructor_settings SET profile_visibility = %s WHERE user_id = %s", (visibility, instructor))
    assert db.value("SELECT visibility FROM instructor_profiles WHERE user_id = %s", (instructor,)) == visibility


def for_students(db, actor, instructor):
    return fetch(db, actor, "SELECT id, full_name, headline FROM instructor_for_their_students(%s)", (instructor,))


def test_a_students_only_profile_is_shown_to_the_instructors_own_students_only(database):
    db = database
    instructor = gen_user(db, "instructor", name="Selective Teacher")
    other_instructor = gen_user(db, "instructor")
    db.rows("UPDATE instructor_profiles SET headline = 'For my students' WHERE user_id = %s", (instructor,))
    set_visibility(db, instructor, "students")
    course = gen_course(db, instructor)
    paid = gen_course(db, instructor, price="49.99")
    theirs_elsewhere = gen_course(db, other_instructor)
    own, stranger, pending, elsewhere = gen_user(db), gen_user(db), gen_user(db), gen_user(db)
    enroll(db, own, course.id)
    enroll(db, pending, paid.id)   # not paid yet: not a student of theirs
    enroll(db, elsewhere, theirs_elsewhere.id)
    assert for_students(db, me(own), instructor) == [
        {"id": instructor, "full_name": "Selective Teacher", "headline": "For my students"}]
    for who in (stranger, pending, elsewhere, other_instructor):
        assert for_students(db, me(who), instructor) == [], who
    assert refused(db, Actor.anon(), "SELECT * FROM instructor_for_their_students(%s)", (instructor,))[0] == DENIED
    # it returns a 'students' profile only: a public or private one is not its to show
    for visibility in ("public", "private"):
        set_visibility(db, instructor, visibility)
        assert for_students(db, me(own), instructor) == [], visibility
    # nor another instructor's profile to the students of someone else
    set_visibility(db, other_instructor, "students")
    assert for_students(db, me(own), other_instructor) == []
    assert for_students(db, me(elsewhere), other_instructor) != []


def test_a_co_teachers_students_only_profile_is_shown_to_the_students_they_teach(database):
    """A co-instructor's "students" profile: the students of the course they co-teach see it (011), those
    of the owner's other courses do not."""
    db = database
    owner, co = gen_user(db, "instructor"), gen_user(db, "instructor", name="Co Teacher")
    set_visibility(db, co, "students")
    shared, alone = gen_course(db, owner), gen_course(db, owner)
    db.rows("INSERT INTO course_instructors (course_id, instructor_id) VALUES (%s, %s) RETURNING id",
            (shared.id, co))
    taught, untaught = gen_user(db), gen_user(db)
    enroll(db, taught, shared.id)
    enroll(db, untaught, alone.id)
    assert [row["id"] for row in for_students(db, me(taught), co)] == [co]
    assert for_students(db, me(untaught), co) == []


def test_closing_an_account_renames_it_in_notices_of_a_course_that_changed_hands(database):
    """The notice the first owner got of an enrollment names a former member after the student leaves,
    although an admin gave the course to someone else since (matched by kind and key, not recipient)."""
    db = database
    first, second = gen_user(db, "instructor"), gen_user(db, "instructor")
    student = gen_user(db, name="Secret Student")
    course = gen_course(db, first)
    enroll(db, student, course.id)
    db.rows("UPDATE courses SET instructor_id = %s WHERE id = %s RETURNING id", (second, course.id))
    assert close_account(db, student) == "deleted"
    names = [n["payload"]["student_name"] for n in notices(db, first, "new_enrollment")]
    assert names == ["Former member"]

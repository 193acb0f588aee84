"""Attacks on the database, sent the way an attacker holding the anon key or their own token would.

shared/spec/access-model.md, "Threat model": on Supabase, PostgREST exposes every table, view and
function of ``public`` to the API roles, so whatever ``anon``, ``authenticated`` or a signed-in
user's claims can do in SQL, an attacker can do. Every test here is one refusal of that model,
proved in raw SQL as the attacker: the app's role and claims (``db.act`` / ``db.attempt``), never
the portal's pages, never the owner.

The world is built as the owner with the factories of tests/support.py (and the few small
builders below); the attack itself always runs as an API role. Cases that only try things run in
a rolled-back transaction on one module-wide world (``world``); cases that need committed steps
(a deactivation by the owner, a refresh of the statistics, a revived enrollment) get their own
database.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import psycopg2
import psycopg2.extras
import pytest

from tests.support import pay_seat
from tests.support import (QUIZ, Actor, complete_course, enroll, gen_course, gen_org, gen_user, gen_workshop, pay,
                           register, set_context)

DENIED = "42501"          # insufficient_privilege
CHECK_VIOLATION = "23514"
PERMISSIONS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")
HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
RIGHT, ALL_WRONG = [1, 0], [0, 1]   # answers to support.QUIZ


# --- helpers ---------------------------------------------------------------------------

def fetch(db, actor, sql, params=None):
    """``sql`` as ``actor`` in a rolled-back transaction: every row it returns (dicts)."""
    with db.attempt(actor) as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def scalar(db, actor, sql, params=None):
    """The first column of the first row ``sql`` returns as ``actor`` (rolled back)."""
    got = fetch(db, actor, sql, params)
    return next(iter(got[0].values())) if got else None


def commit(db, actor, sql, params=None):
    """``sql`` as ``actor``, committed: the first column of its first row, if it returns one."""
    with db.act(actor) as cur:
        cur.execute(sql, params)
        row = cur.fetchone() if cur.description else None
        return next(iter(row.values())) if row else None


def refusal(db, actor, sql, params=None) -> str:
    """The SQLSTATE ``sql`` raises as ``actor``; the test fails when the statement succeeds."""
    with pytest.raises(psycopg2.Error) as caught:
        with db.attempt(actor) as cur:
            cur.execute(sql, params)
    return caught.value.pgcode


def sqlstate(db, actor, sql, params=None):
    """The SQLSTATE ``sql`` raises as ``actor`` (rolled back), or None when it succeeds."""
    try:
        with db.attempt(actor) as cur:
            cur.execute(sql, params)
    except psycopg2.Error as exc:
        return exc.pgcode
    return None


def outcome(db, actor, sql, params=None, check=None):
    """A write as ``actor`` (rolled back): its SQLSTATE when it raises, else (rows touched, the
    value of ``check`` read right after it in the same transaction)."""
    with db.attempt(actor) as cur:
        try:
            cur.execute(sql, params)
        except psycopg2.Error as exc:
            return exc.pgcode
        touched = cur.rowcount
        seen = None
        if check is not None:
            cur.execute(check, params)
            row = cur.fetchone()
            seen = next(iter(row.values())) if row else None
        return touched, seen


def ids(rows, key="id"):
    return {r[key] for r in rows}


def as_owner(db, sql, params=None):
    """Maintenance as the table owner (RLS bypassed): the setup an attacker cannot do."""
    return db.value(sql, params)


def co_teach(db, owner, course_id, instructor, *perms):
    """The owner adds ``instructor`` as a co-instructor holding only ``perms``."""
    permissions = json.dumps({p: p in perms for p in PERMISSIONS})
    return commit(db, Actor.user(owner), "INSERT INTO course_instructors (course_id, instructor_id, permissions) "
                                         "VALUES (%s, %s, %s) RETURNING id", (course_id, instructor, permissions))


def facilitate(db, owner, workshop_id, facilitator):
    return commit(db, Actor.user(owner), "INSERT INTO workshop_facilitators (workshop_id, facilitator_id) "
                                         "VALUES (%s, %s) RETURNING id", (workshop_id, facilitator))


def confirm_registration(db, registration_id):
    """The payment provider confirms a workshop seat (checkout, then its webhook event)."""
    pay_seat(db, registration_id)


def deactivate(db, *users):
    as_owner(db, "UPDATE users SET is_active = false WHERE id = ANY (%s::uuid[]) RETURNING id",
             ([str(u) for u in users],))


def submit(db, student, lesson, answers):
    """The student submits answers to a quiz (committed): submit_quiz's row."""
    with db.act(Actor.user(student)) as cur:
        cur.execute("SELECT * FROM submit_quiz(%s, %s::integer[])", (lesson, answers))
        return cur.fetchone()


# --- the module-wide world ----------------------------------------------------------------

@dataclass
class World:
    db: object
    u: dict
    org_a: object
    org_b: object
    course: object
    workshop: object
    e_student: object       # the student's paid enrollment in ``course``
    e_pending: object       # ``pending``'s unpaid enrollment in ``course``
    r_student: object       # the student's paid seat at ``workshop``
    r_pending: object       # ``pending``'s unpaid seat at ``workshop``

    def __repr__(self):
        return "World(seeded)"

    def actor(self, name):
        if name == "anon":
            return Actor.anon()
        if name == "service":
            return Actor.service()
        if name == "sign_in":
            return Actor.sign_in()
        return Actor.user(self.u[name], name)


def seed(db) -> World:
    """An organization's instructor (owner) with a paid course and a paid workshop; a co-instructor
    holding view_content only; a facilitator from another organization; a student who paid for both;
    a student (pending) who enrolled and registered without paying; a stranger; admins."""
    org_a, org_b = gen_org(db, "Acme Learning"), gen_org(db, "Globex Academy")
    u = {"owner": gen_user(db, "instructor", org=org_a, name="Olivia Owner"),
         "other_instructor": gen_user(db, "instructor", org=org_b, name="Gus Globex"),
         "facilitator": gen_user(db, "instructor", org=org_b, name="Fay Facilitator"),
         "co_view": gen_user(db, "instructor", name="Vic Viewer"),
         "student": gen_user(db, "student", name="Stu Dent"),
         "pending": gen_user(db, "student", name="Pat Pending"),
         "stranger": gen_user(db, "student", name="Sally Stranger"),
         "org_admin": gen_user(db, "org_admin", org=org_a, name="Acme Admin"),
         "admin": gen_user(db, "admin", name="Platform Admin")}
    course = gen_course(db, u["owner"], price="49.99", org=org_a, lessons=("text", "text", "quiz"))
    co_teach(db, u["owner"], course.id, u["co_view"], "view_content")
    e_student = enroll(db, u["student"], course.id)
    pay(db, e_student)
    e_pending = enroll(db, u["pending"], course.id)
    workshop = gen_workshop(db, u["owner"], price="25.00", org=org_a)
    facilitate(db, u["owner"], workshop, u["facilitator"])
    r_student = register(db, u["student"], workshop)
    confirm_registration(db, r_student)
    r_pending = register(db, u["pending"], workshop)
    # 021: attendance is taken once a workshop has started: this one is under way (moved as maintenance).
    as_owner(db, "UPDATE workshops SET start_time = now() - interval '1 hour', end_time = now() + interval '1 hour' "
                 "WHERE id = %s RETURNING id", (workshop,))
    as_owner(db, "INSERT INTO private.user_credentials (user_id, password_hash) VALUES (%s, %s) RETURNING user_id",
             (u["student"], HASH))
    return World(db, u, org_a, org_b, course, workshop, e_student, e_pending, r_student, r_pending)


@pytest.fixture(scope="module")
def world(module_database):
    return seed(module_database)


# --- 1. back-office and payment functions ----------------------------------------------------

# Called with real-looking, non-NULL arguments (a strict function given a NULL is folded away by
# the planner before any privilege check, which would prove nothing).
BACK_OFFICE = {
    "confirm_course_payment": "SELECT public.confirm_course_payment(gen_random_uuid())",
    "confirm_workshop_payment": "SELECT public.confirm_workshop_payment(gen_random_uuid())",
    "refund_course_enrollment": "SELECT public.refund_course_enrollment(gen_random_uuid())",
    "refund_workshop_registration": "SELECT public.refund_workshop_registration(gen_random_uuid())",
    "apply_payment_event": "SELECT public.apply_payment_event('evt_forged', gen_random_uuid(), "
                           "'payment.succeeded', 'forged', '{}'::jsonb)",
    "record_sale": "SELECT public.record_sale('course_enrollment', gen_random_uuid(), gen_random_uuid(), "
                   "gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 10.00, 'USD')",
    "record_refund": "SELECT public.record_refund(gen_random_uuid(), gen_random_uuid())",
    "archive_student_activity": "SELECT public.archive_student_activity(interval '1 second')",
    "rebuild_denormalized_figures": "SELECT public.rebuild_denormalized_figures(gen_random_uuid())",
    "refresh_course_figures": "SELECT public.refresh_course_figures(gen_random_uuid())",
    "refresh_instructor_monthly_stats": "SELECT public.refresh_instructor_monthly_stats()",
    "log_activity": "SELECT public.log_activity('enrolled', gen_random_uuid(), gen_random_uuid(), "
                    "gen_random_uuid(), gen_random_uuid(), '{}'::jsonb)",
    "issue_certificate": "SELECT public.issue_certificate(gen_random_uuid())",
    # 020: the payment webhook's refund
    "apply_refund_event": "SELECT public.apply_refund_event('evt_forged', gen_random_uuid(), NULL, 'forged', "
                          "'{}'::jsonb)",
}
SIGNED_IN_ONLY = {
    "mark_payouts_paid": "SELECT public.mark_payouts_paid(ARRAY[gen_random_uuid()])",
    "admin_refund": "SELECT public.admin_refund(gen_random_uuid(), gen_random_uuid())",
    "course_revenue": "SELECT public.course_revenue(gen_random_uuid())",
    # 020: payouts and refunds
    "create_payout": "SELECT public.create_payout(gen_random_uuid(), 'USD')",
    "mark_payout_paid": "SELECT public.mark_payout_paid(gen_random_uuid(), 'ref')",
    "cancel_payout": "SELECT public.cancel_payout(gen_random_uuid())",
    "admin_refund_sale": "SELECT public.admin_refund_sale(gen_random_uuid(), NULL, 'why')",
    "refund_my_sale": "SELECT public.refund_my_sale(gen_random_uuid(), 'why')",
    "revenue_period_figures": "SELECT * FROM public.revenue_period_figures(now(), now(), NULL, NULL)",
    "revenue_period_sums": "SELECT * FROM public.revenue_period_sums(now(), now(), NULL, NULL)",
    "my_payments": "SELECT * FROM public.my_payments(10, NULL, NULL, NULL)",
    "request_monthly_stats_refresh": "SELECT public.request_monthly_stats_refresh()",
    "unapplied_refund_events": "SELECT * FROM public.unapplied_refund_events(10)",
}


@pytest.mark.parametrize("who", ["anon", "student", "owner"])
@pytest.mark.parametrize("name", list(BACK_OFFICE))
def test_back_office_functions_are_not_executable_by_api_users(world, name, who):
    """The payment path, figures, activity and certificates functions refuse anon and signed-in users (42501)."""
    assert refusal(world.db, world.actor(who), BACK_OFFICE[name]) == DENIED


@pytest.mark.parametrize("name", list(SIGNED_IN_ONLY))
def test_signed_in_only_functions_refuse_anon(world, name):
    """Payouts, refunds and course revenue are not executable by anon (42501)."""
    assert refusal(world.db, Actor.anon(), SIGNED_IN_ONLY[name]) == DENIED


def test_an_instructor_cannot_pay_themself_out_or_refund(world):
    """mark_payouts_paid and admin_refund refuse a non-admin, even on their own revenue rows."""
    db, owner = world.db, world.actor("owner")
    mine = [r["id"] for r in fetch(db, owner, "SELECT id FROM revenue_transactions WHERE instructor_id = %s",
                                   (world.u["owner"],))]
    assert mine, "the owner has revenue rows to try"
    assert refusal(db, owner, "SELECT mark_payouts_paid(%s::uuid[])", ([str(i) for i in mine],)) == DENIED
    assert refusal(db, owner, "SELECT admin_refund(%s, %s)", (world.e_student, world.r_student)) == DENIED
    assert refusal(db, world.actor("student"), "SELECT admin_refund(%s, NULL)", (world.e_student,)) == DENIED
    assert db.value("SELECT count(*) FROM revenue_transactions WHERE instructor_id = %s "
                    "AND payout_status = 'paid'", (world.u["owner"],)) == 0
    # 020: nor through the payout batches or the admin's refund
    assert refusal(db, owner, "SELECT create_payout(%s)", (world.u["owner"],)) == DENIED
    assert refusal(db, owner, "SELECT admin_refund_sale(%s, NULL, 'mine')", (mine[0],)) == DENIED
    assert refusal(db, world.actor("student"), "SELECT admin_refund_sale(%s, 1, 'mine')", (mine[0],)) == DENIED
    assert db.value("SELECT count(*) FROM payouts WHERE instructor_id = %s", (world.u["owner"],)) == 0


# Direct writes a student might try on their own pending enrollment.
PAY_MYSELF = {
    "payment_status": "UPDATE course_enrollments SET payment_status = 'completed' WHERE id = %(e)s",
    "amount_paid": "UPDATE course_enrollments SET amount_paid = 0 WHERE id = %(e)s",
    "status": "UPDATE course_enrollments SET status = 'enrolled' WHERE id = %(e)s",
    "insert_enrollment": "INSERT INTO course_enrollments (course_id, user_id, status, payment_status) "
                         "VALUES (%(c)s, %(me)s, 'enrolled', 'completed')",
    "insert_checkout": "INSERT INTO checkouts (enrollment_id, user_id, course_id, provider, amount, currency, "
                       "status) VALUES (%(e)s, %(me)s, %(c)s, 'test', 0, 'USD', 'succeeded')",
    "insert_payment_event": "INSERT INTO payment_events (event_id, checkout_id, kind, outcome) "
                            "VALUES ('evt_self', gen_random_uuid(), 'payment.succeeded', 'paid')",
    "insert_revenue": "INSERT INTO revenue_transactions (instructor_id, student_id, course_id, enrollment_id, "
                      "transaction_type, amount, currency) VALUES (%(owner)s, %(me)s, %(c)s, %(e)s, "
                      "'course_enrollment', 0, 'USD')",
}


@pytest.mark.parametrize("name", list(PAY_MYSELF))
def test_a_student_cannot_write_their_own_enrollment_paid(world, name):
    """Every direct write toward a paid enrollment raises 42501 for its student."""
    params = {"e": world.e_pending, "c": world.course.id, "me": world.u["pending"], "owner": world.u["owner"]}
    assert refusal(world.db, world.actor("pending"), PAY_MYSELF[name], params) == DENIED


# An argument for every type the functions granted to authenticated take.
ARGUMENT = {
    "uuid": "%(id)s::uuid", "uuid[]": "ARRAY[%(id)s::uuid]", "text": "'completed'", "text[]": "'{view_content}'",
    "integer": "100", "integer[]": "ARRAY[1, 0]", "numeric": "49.99", "boolean": "true", "jsonb": "'{}'::jsonb",
    "timestamp with time zone": "now()", "interval": "interval '1 day'",
    "course_instructor_role": "'co-instructor'", "registration_status[]": "'{registered,attended}'",
    "bigint": "1", "enrollment_status": "'pending'", "activity_type": "'enrolled'",
    "enrollment_status[]": "'{enrolled}'",
    "user_role": "'instructor'",  # 017: admin_set_role, admin_users
    "character": "'USD'", "date": "current_date",  # 020: create_payout, next_payout_date
    "workshop_facilitator_role": "'assistant'",  # 021: add_workshop_facilitator
}


def test_a_student_cannot_mark_their_pending_enrollment_paid_by_any_function(world):
    """Every function a signed-in user may execute, called by the student with their enrollment's,
    checkout's and course's ids, leaves the enrollment pending and unpaid."""
    db = world.db
    functions = db.rows(
        """SELECT format('%I.%I', n.nspname, p.proname) AS name,
                  array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t) AS args
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname IN ('public', 'rls', 'private') AND p.prokind = 'f'
             AND has_function_privilege('authenticated', p.oid, 'EXECUTE')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                             AND d.objid = p.oid AND d.deptype = 'e')""")
    unknown = {t for f in functions for t in f["args"]} - set(ARGUMENT)
    assert not unknown, f"add an argument for {unknown}"
    calls = succeeded = 0
    with db.attempt(world.actor("pending")) as cur:
        cur.execute("SELECT start_checkout(%s, 'test') AS id", (world.e_pending,))
        candidates = [world.e_pending, cur.fetchone()["id"], world.course.id]
        for f in functions:
            sql = f"SELECT * FROM {f['name']}({', '.join(ARGUMENT[t] for t in f['args'])})"
            for candidate in candidates:
                calls += 1
                cur.execute("SAVEPOINT attack")
                try:
                    cur.execute(sql, {"id": str(candidate)})
                    succeeded += 1
                except psycopg2.Error:
                    cur.execute("ROLLBACK TO SAVEPOINT attack")
        cur.execute("SELECT status::text, payment_status::text, enrollment_amount_paid(id) AS paid "
                    "FROM course_enrollments WHERE id = %s", (world.e_pending,))
        after = cur.fetchone()
    assert calls > 100 and succeeded > 0, (calls, succeeded)
    assert (after["status"], after["payment_status"], after["paid"] or 0) == ("pending", "pending", 0)



def test_a_student_cannot_grant_themself_access_by_bulk_enrollment_or_invitation(world):
    """015: the student waiting to pay calls bulk_enroll on the course with a grant, for their own address,
    and accepts a forged invitation token: refused, and the enrollment stays pending and unpaid."""
    db = world.db
    with db.attempt(world.actor("pending")) as cur:
        cur.execute("SELECT email::text AS email FROM my_account()")
        own = cur.fetchone()["email"]
        cur.execute("SAVEPOINT attack")
        with pytest.raises(psycopg2.Error) as caught:
            cur.execute("SELECT * FROM bulk_enroll(%s, ARRAY[%s], true, NULL)", (world.course.id, own))
        assert caught.value.pgcode == DENIED
        cur.execute("ROLLBACK TO SAVEPOINT attack")
        cur.execute("SELECT accept_invitation(repeat('0', 64)) AS slug")
        assert cur.fetchone()["slug"] is None
        cur.execute("SELECT status::text, payment_status::text FROM course_enrollments WHERE id = %s",
                    (world.e_pending,))
        assert tuple(cur.fetchone().values()) == ("pending", "pending")


def test_a_student_cannot_revoke_read_or_unsuppress_an_invitation(world):
    """015: an invitation of the course (made by its owner as the API would): the student waiting to pay
    calls revoke_invitation on it, updates it directly, and reads whether it was suppressed (which would
    tell a deactivated account's address from an unknown one): each refused, the invitation open."""
    db = world.db
    invitation = db.value("INSERT INTO course_invitations (course_id, email, invited_by) "
                          "SELECT id, 'attack-target@example.test', instructor_id FROM courses WHERE id = %s "
                          "RETURNING id", (world.course.id,))
    try:
        for sql in ("SELECT revoke_invitation(%s)",
                    "UPDATE course_invitations SET revoked_at = now(), suppressed = false WHERE id = %s",
                    "SELECT suppressed FROM course_invitations WHERE id = %s"):
            assert refusal(db, world.actor("pending"), sql, (invitation,)) == DENIED, sql
        assert db.value("SELECT revoked_at IS NULL FROM course_invitations WHERE id = %s", (invitation,)) is True
    finally:
        db.rows("DELETE FROM course_invitations WHERE id = %s RETURNING 1", (invitation,))


# --- 2. TRUNCATE -------------------------------------------------------------------------------

NAMED_TABLES = ("certificates", "checkouts", "drip_unlocks", "payment_events", "review_helpful_votes",
                "review_reports")


@pytest.mark.parametrize("who", ["anon", "student"])
@pytest.mark.parametrize("table", NAMED_TABLES)
def test_api_roles_cannot_truncate_the_named_tables(world, table, who):
    """TRUNCATE (which no policy filters) raises 42501 for anon and a signed-in user."""
    assert refusal(world.db, world.actor(who), f"TRUNCATE {table}") == DENIED


@pytest.mark.parametrize("who", ["anon", "student", "service", "sign_in"])
def test_api_roles_cannot_truncate_any_table(world, who):
    """No table of public, private, rls or the job queue's schema (procrastinate, 010) can be truncated by an
    API role: TRUNCATE raises 42501 on each."""
    tables = [r["name"] for r in world.db.rows(
        "SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname IN ('public', 'private', 'rls', 'procrastinate') AND c.relkind IN ('r', 'p') ORDER BY 1")]
    assert len(tables) >= 25 and "procrastinate.procrastinate_jobs" in tables
    got = {table: sqlstate(world.db, world.actor(who), f"TRUNCATE {table}") for table in tables}
    assert {t: code for t, code in got.items() if code != DENIED} == {}


# --- 3. sign-in -------------------------------------------------------------------------------

SIGN_IN = {
    "credentials_for_sign_in": "SELECT * FROM public.credentials_for_sign_in(%(email)s)",
    "sign_in_throttled": "SELECT public.sign_in_throttled(%(email)s, '192.0.2.1', 5, 20, interval '15 minutes')",
    "record_sign_in_failure": "SELECT public.record_sign_in_failure(%(email)s, '192.0.2.1')",
}


def _email(world, who="student"):
    return world.db.value("SELECT email::text FROM users WHERE id = %s", (world.u[who],))


@pytest.mark.parametrize("who", ["anon", "student"])
@pytest.mark.parametrize("name", list(SIGN_IN))
def test_api_roles_cannot_run_the_sign_in_functions(world, name, who):
    """The password check and the throttle refuse anon and signed-in users (42501)."""
    assert refusal(world.db, world.actor(who), SIGN_IN[name], {"email": _email(world)}) == DENIED


def test_portal_signin_runs_the_sign_in_functions(world):
    """authenticator, as portal_signin, reads a hash, asks the throttle and records a failure."""
    email = _email(world)
    conn = world.db.connect_app()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('role', 'portal_signin', true)")
            cur.execute(SIGN_IN["credentials_for_sign_in"], {"email": email})
            assert cur.fetchall() == [(world.u["student"], HASH)]
            cur.execute(SIGN_IN["sign_in_throttled"], {"email": email})
            assert cur.fetchone() == (False,)
            cur.execute(SIGN_IN["record_sign_in_failure"], {"email": email})
            cur.execute("SELECT current_user")
            assert cur.fetchone() == ("portal_signin",)
        conn.rollback()
    finally:
        conn.close()


def test_portal_signin_reads_no_table_directly(world):
    """portal_signin holds no privilege on the credentials table itself (42501)."""
    conn = world.db.connect_app()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('role', 'portal_signin', true)")
            with pytest.raises(psycopg2.Error) as caught:
                cur.execute("SELECT password_hash FROM private.user_credentials")
        assert caught.value.pgcode == DENIED
    finally:
        conn.rollback()
        conn.close()


def test_portal_signin_is_nologin_and_only_authenticator_becomes_it(world):
    """portal_signin cannot log in, and its one member is authenticator (not anon nor authenticated)."""
    role = world.db.rows("SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'portal_signin'")
    assert role == [{"rolcanlogin": False, "rolsuper": False, "rolbypassrls": False}]
    members = world.db.rows("SELECT m.rolname FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member "
                            "WHERE a.roleid = 'portal_signin'::regrole")
    assert [r["rolname"] for r in members] == ["authenticator"]
    assert world.db.value("SELECT count(*) FROM pg_auth_members WHERE member = 'portal_signin'::regrole") == 0


# --- 4. workshop money and meeting link ---------------------------------------------------------

@pytest.mark.parametrize("who", ["anon", "student", "other_instructor", "facilitator", "owner"])
@pytest.mark.parametrize("column", ["total_revenue", "meeting_url"])
def test_workshop_money_and_link_columns_are_not_selectable(world, column, who):
    """SELECT of workshops.total_revenue or workshops.meeting_url raises 42501 for every API caller."""
    assert refusal(world.db, world.actor(who), f"SELECT {column} FROM workshops WHERE id = %s",
                   (world.workshop,)) == DENIED


@pytest.mark.parametrize("who, sees", [
    ("owner", True), ("org_admin", True), ("admin", True),
    ("facilitator", False), ("student", False), ("pending", False), ("stranger", False),
    ("other_instructor", False),
])
def test_workshop_revenue_answers_only_those_who_read_its_money(world, who, sees):
    """workshop_revenue() gives the figure to the owner, the org admin and admins, NULL to others."""
    got = scalar(world.db, world.actor(who), "SELECT workshop_revenue(%s)", (world.workshop,))
    assert got == (Decimal("25.00") if sees else None)


def test_workshop_revenue_is_not_executable_by_anon(world):
    """anon holds no EXECUTE on workshop_revenue (42501)."""
    assert refusal(world.db, Actor.anon(), "SELECT workshop_revenue(%s)", (world.workshop,)) == DENIED


@pytest.mark.parametrize("who, sees", [
    ("owner", True), ("facilitator", True), ("student", True), ("org_admin", True), ("admin", True),
    ("stranger", False), ("other_instructor", False),
])
def test_workshop_meeting_url_goes_to_staff_attendees_and_admins(world, who, sees):
    """workshop_meeting_url() gives the link to staff, a paid registrant, the org admin and admins."""
    got = scalar(world.db, world.actor(who), "SELECT workshop_meeting_url(%s)", (world.workshop,))
    assert got == ("https://meet.example.test/w" if sees else None)


def test_an_unpaid_registration_does_not_get_the_meeting_link(world):
    """A seat reserved on a paid workshop but not paid for is not a confirmed registration: no link.

    Reading: the threat model gives the link to "students with a confirmed registration"; on a paid
    workshop a registration is confirmed by confirm_workshop_payment (else anyone could register,
    never pay, and join)."""
    status = world.db.rows("SELECT status::text, payment_status::text FROM workshop_registrations WHERE id = %s",
                           (world.r_pending,))
    assert status == [{"status": "registered", "payment_status": "pending"}]
    assert scalar(world.db, world.actor("pending"), "SELECT workshop_meeting_url(%s)", (world.workshop,)) is None


def test_workshop_meeting_url_is_not_executable_by_anon(world):
    """anon holds no EXECUTE on workshop_meeting_url (42501)."""
    assert refusal(world.db, Actor.anon(), "SELECT workshop_meeting_url(%s)", (world.workshop,)) == DENIED


# --- 5. moving a workshop between organizations -----------------------------------------------

@pytest.mark.parametrize("target", ["own_org", "none"])
def test_a_facilitator_cannot_move_the_owners_workshop(world, target):
    """A facilitator's UPDATE of organization_id raises 42501 or touches nothing; the row keeps its org."""
    org = world.org_b if target == "own_org" else None
    got = outcome(world.db, world.actor("facilitator"),
                  "UPDATE workshops SET organization_id = %(org)s WHERE id = %(w)s",
                  {"org": org, "w": world.workshop},
                  check="SELECT organization_id FROM workshops WHERE id = %(w)s")
    assert got == DENIED or got == (0, world.org_a), got
    assert world.db.value("SELECT organization_id FROM workshops WHERE id = %s", (world.workshop,)) == world.org_a


@pytest.mark.parametrize("start, target, allowed", [
    ("standalone", "own_org", True),
    ("org", "none", True),
    ("standalone", "foreign_org", False),
    ("org", "foreign_org", False),
])
def test_the_owner_moves_a_workshop_into_their_own_organization_only(world, start, target, allowed):
    """The owner may move their workshop into their own organization or to none, never to a foreign one."""
    db = world.db
    workshop = world.workshop
    if start == "standalone":
        workshop = gen_workshop(db, world.u["owner"], org=None)
    org = {"own_org": world.org_a, "none": None, "foreign_org": world.org_b}[target]
    got = outcome(db, world.actor("owner"), "UPDATE workshops SET organization_id = %(org)s WHERE id = %(w)s",
                  {"org": org, "w": workshop}, check="SELECT organization_id FROM workshops WHERE id = %(w)s")
    assert got == ((1, org) if allowed else DENIED)


# --- 6. teachers are not students ----------------------------------------------------------------

@pytest.fixture()
def teaching(database):
    """A published free workshop with a facilitator, and a published course with a co-instructor
    (view_content), each teacher also holding — by maintenance, which the API never allows — a
    learner's row: the facilitator a 'registered' seat and an 'attended' one, the co-instructor a
    completed enrollment. The API must still refuse them every learner's act."""
    db = database
    owner = gen_user(db, "instructor", name="Olivia Owner")
    facilitator = gen_user(db, "instructor", name="Fay Facilitator")
    co = gen_user(db, "instructor", name="Cory Co")
    attendee = gen_user(db, "student", name="Ann Attendee")
    w_open = gen_workshop(db, owner)
    w_held = gen_workshop(db, owner)
    for w in (w_open, w_held):
        facilitate(db, owner, w, facilitator)
    own_seat = as_owner(db, "INSERT INTO workshop_registrations (workshop_id, user_id, status, payment_status) "
                            "VALUES (%s, %s, 'registered', 'completed') RETURNING id", (w_open, facilitator))
    as_owner(db, "INSERT INTO workshop_registrations (workshop_id, user_id, status, payment_status) "
                 "VALUES (%s, %s, 'attended', 'completed') RETURNING id", (w_held, facilitator))
    seat = register(db, attendee, w_held)
    # 021: attendance once it has started, feedback once it has ended: w_held is held (moved as maintenance).
    as_owner(db, "UPDATE workshops SET start_time = now() - interval '3 hours', end_time = now() - interval '1 hour' "
                 "WHERE id = %s RETURNING id", (w_held,))
    commit(db, Actor.user(owner), "UPDATE workshop_registrations SET status = 'attended' WHERE id = %s", (seat,))
    course = gen_course(db, owner, lessons=("text",))
    co_teach(db, owner, course.id, co, "view_content")
    as_owner(db, "INSERT INTO course_enrollments (course_id, user_id, status, payment_status, completed_at) "
                 "VALUES (%s, %s, 'completed', 'completed', now()) RETURNING id", (course.id, co))
    return dict(db=db, owner=owner, facilitator=facilitator, co=co, attendee=attendee, w_open=w_open,
                w_held=w_held, own_seat=own_seat, course=course)


@pytest.mark.parametrize("who", ["facilitator", "owner"])
def test_staff_cannot_register_for_their_workshop(teaching, who):
    """register_for_workshop() raises for the workshop's facilitator and owner; no seat is added."""
    t = teaching
    refusal(t["db"], Actor.user(t[who]), "SELECT register_for_workshop(%s)", (t["w_held"],))
    refusal(t["db"], Actor.user(t[who]), "SELECT register_for_workshop(%s)", (t["w_open"],))
    assert t["db"].value("SELECT count(*) FROM workshop_registrations WHERE user_id = %s", (t[who],)) == (
        2 if who == "facilitator" else 0)


def test_a_facilitator_cannot_mark_themself_attended(teaching):
    """A facilitator's UPDATE of their own seat to 'attended' raises 42501 or touches nothing."""
    t = teaching
    got = outcome(t["db"], Actor.user(t["facilitator"]),
                  "UPDATE workshop_registrations SET status = 'attended' WHERE id = %(r)s", {"r": t["own_seat"]},
                  check="SELECT status::text FROM workshop_registrations WHERE id = %(r)s")
    assert got == DENIED or got == (0, "registered"), got


def test_a_facilitator_cannot_give_feedback_on_their_workshop(teaching):
    """INSERT of workshop_feedback by its facilitator (even holding an attended seat) raises 42501,
    where an attendee's succeeds."""
    t = teaching
    feedback = ("INSERT INTO workshop_feedback (workshop_id, user_id, overall_satisfaction) "
                "VALUES (%(w)s, %(me)s, 5)")
    assert refusal(t["db"], Actor.user(t["facilitator"]), feedback, {"w": t["w_held"], "me": t["facilitator"]}) \
        == DENIED
    assert outcome(t["db"], Actor.user(t["attendee"]), feedback, {"w": t["w_held"], "me": t["attendee"]}) \
        == (1, None)


@pytest.mark.parametrize("who", ["co", "owner"])
def test_teachers_cannot_enroll_in_their_course(teaching, who):
    """enroll_in_course() raises for the course's co-instructor and owner."""
    t = teaching
    refusal(t["db"], Actor.user(t[who]), "SELECT enroll_in_course(%s)", (t["course"].id,))


def test_a_co_instructor_cannot_review_their_course(teaching):
    """A co-instructor holding a completed enrollment still cannot INSERT a review of the course (42501)."""
    t = teaching
    review = ("INSERT INTO course_reviews (course_id, user_id, rating, title, review_text) "
              "VALUES (%s, %s, 5, 'Best course', 'I would know.')")
    assert refusal(t["db"], Actor.user(t["co"]), review, (t["course"].id, t["co"])) == DENIED


# --- 7. quizzes and lesson progress -------------------------------------------------------------

@pytest.fixture()
def quiz(database):
    """A student enrolled in a free course with a text lesson and a quiz (passing score 70)."""
    db = database
    owner = gen_user(db, "instructor")
    student = gen_user(db, "student")
    course = gen_course(db, owner, lessons=("text", "quiz"))
    enrollment = enroll(db, student, course.id)
    return dict(db=db, owner=owner, student=student, course=course, enrollment=enrollment,
                text=course.lessons[0], quiz=course.lessons[1])


WRITE_PROGRESS = {
    "insert": "INSERT INTO lesson_progress (enrollment_id, lesson_id, user_id, course_id, status, quiz_score) "
              "VALUES (%(e)s, %(l)s, %(me)s, %(c)s, 'completed', 100)",
    "update_score": "UPDATE lesson_progress SET quiz_score = 100 WHERE lesson_id = %(l)s",
    "update_status": "UPDATE lesson_progress SET status = 'completed' WHERE lesson_id = %(l)s",
    "update_watch": "UPDATE lesson_progress SET watch_time_seconds = 99999 WHERE lesson_id = %(l)s",
    "update_stamp": "UPDATE lesson_progress SET completed_at = now() - interval '1 year' WHERE lesson_id = %(l)s",
    "delete": "DELETE FROM lesson_progress WHERE lesson_id = %(l)s",
}


@pytest.mark.parametrize("name", list(WRITE_PROGRESS))
def test_a_student_cannot_write_lesson_progress_directly(quiz, name):
    """INSERT, UPDATE (score, status, watch time, stamps) or DELETE of lesson_progress raises 42501."""
    q = quiz
    commit(q["db"], Actor.user(q["student"]), "SELECT start_lesson(%s)", (q["quiz"],))
    params = {"e": q["enrollment"], "l": q["quiz"], "me": q["student"], "c": q["course"].id}
    assert refusal(q["db"], Actor.user(q["student"]), WRITE_PROGRESS[name], params) == DENIED


@pytest.mark.parametrize("who", ["anon", "student", "owner"])
def test_the_quiz_column_is_not_selectable(quiz, who):
    """SELECT course_lessons.quiz (the answer key) raises 42501 for every API caller."""
    actor = Actor.anon() if who == "anon" else Actor.user(quiz[who])
    assert refusal(quiz["db"], actor, "SELECT quiz FROM course_lessons WHERE id = %s", (quiz["quiz"],)) == DENIED


def test_lesson_quiz_hides_the_answers_from_students(quiz):
    """lesson_quiz() gives an enrolled student the questions without "answer", the owner the whole quiz,
    and nothing to anon or a student not enrolled."""
    db = quiz["db"]
    seen = scalar(db, Actor.user(quiz["student"]), "SELECT lesson_quiz(%s)", (quiz["quiz"],))
    assert seen == {"questions": [{k: v for k, v in q.items() if k != "answer"} for q in QUIZ["questions"]]}
    assert scalar(db, Actor.user(quiz["owner"]), "SELECT lesson_quiz(%s)", (quiz["quiz"],)) == QUIZ
    assert scalar(db, Actor.anon(), "SELECT lesson_quiz(%s)", (quiz["quiz"],)) is None
    outsider = gen_user(db, "student")
    assert scalar(db, Actor.user(outsider), "SELECT lesson_quiz(%s)", (quiz["quiz"],)) is None


def test_submit_quiz_scores_in_the_database_and_keeps_the_best(quiz):
    """submit_quiz() scores the answers here (wrong ones by 0-based index), keeps the best score, and a
    later fail never undoes a pass; the key stays hidden after passing."""
    db, student, lesson = quiz["db"], quiz["student"], quiz["quiz"]

    def result(row):
        return (row["score"], row["passed"], row["best_score"], list(row["wrong"]), row["questions"])

    assert result(submit(db, student, lesson, ALL_WRONG)) == (0, False, 0, [0, 1], 2)
    assert result(submit(db, student, lesson, [1, 1])) == (50, False, 50, [1], 2)
    assert result(submit(db, student, lesson, RIGHT)) == (100, True, 100, [], 2)
    assert result(submit(db, student, lesson, ALL_WRONG)) == (0, False, 100, [0, 1], 2)
    progress = db.rows("SELECT status::text, quiz_score FROM lesson_progress WHERE enrollment_id = %s "
                       "AND lesson_id = %s", (quiz["enrollment"], lesson))
    assert progress == [{"status": "completed", "quiz_score": 100}]
    seen = scalar(db, Actor.user(student), "SELECT lesson_quiz(%s)", (lesson,))
    assert all("answer" not in q for q in seen["questions"])


# --- 8. the monthly statistics by organization ------------------------------------------------

def test_monthly_stats_give_an_org_admin_only_their_organizations_courses(database):
    """get_instructor_monthly_stats() sums, for an org admin, only the org's course; for the instructor
    both their org course and their standalone one; for another org's admin nothing."""
    db = database
    org, other_org = gen_org(db), gen_org(db, "Elsewhere")
    instructor = gen_user(db, "instructor", org=org)
    org_admin = gen_user(db, "org_admin", org=org)
    other_admin = gen_user(db, "org_admin", org=other_org)
    student = gen_user(db, "student")
    for course in (gen_course(db, instructor, price="30.00", org=org), gen_course(db, instructor, price="12.00")):
        pay(db, enroll(db, student, course.id))
    as_owner(db, "SELECT refresh_instructor_monthly_stats()")
    gross = "SELECT sum(gross_revenue) FROM get_instructor_monthly_stats(%s)"
    assert scalar(db, Actor.user(instructor), gross, (instructor,)) == Decimal("42.00")
    assert scalar(db, Actor.user(org_admin), gross, (instructor,)) == Decimal("30.00")
    assert scalar(db, Actor.user(other_admin), gross, (instructor,)) is None


# --- 9. a revived enrollment is priced again -----------------------------------------------------

def test_a_cancelled_free_enrollment_revived_after_the_course_became_paid_is_pending(database):
    """Re-enrolling after cancelling a free enrollment of a course now paid gives pending / pending / 0."""
    db = database
    owner, student = gen_user(db, "instructor"), gen_user(db, "student")
    course = gen_course(db, owner, price="0")
    enrollment = enroll(db, student, course.id)
    commit(db, Actor.user(student), "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    commit(db, Actor.user(owner), "UPDATE courses SET price_amount = 30 WHERE id = %s", (course.id,))
    assert enroll(db, student, course.id) == enrollment
    assert db.rows("SELECT status::text, payment_status::text, amount_paid FROM course_enrollments WHERE id = %s",
                   (enrollment,)) == [{"status": "pending", "payment_status": "pending", "amount_paid": 0}]
    assert fetch(db, Actor.user(student), "SELECT id FROM course_lessons WHERE course_id = %s AND NOT is_preview",
                 (course.id,)) == []


# --- 10. users and money on enrollments -------------------------------------------------------------

def test_anon_cannot_read_users(world):
    """Any SELECT on users as anon raises 42501."""
    assert refusal(world.db, Actor.anon(), "SELECT id FROM users") == DENIED
    assert refusal(world.db, Actor.anon(), "SELECT count(*) FROM users") == DENIED


@pytest.mark.parametrize("sql", ["SELECT amount_paid FROM course_enrollments WHERE course_id = %s",
                                 "SELECT sum(amount_paid) FROM course_enrollments WHERE course_id = %s",
                                 "SELECT * FROM course_enrollments WHERE course_id = %s"])
def test_a_view_content_co_instructor_cannot_read_amount_paid(world, sql):
    """A co-instructor with view_content only cannot select, sum or star-select amount_paid (42501)."""
    assert refusal(world.db, world.actor("co_view"), sql, (world.course.id,)) == DENIED


def test_the_view_content_co_instructor_still_sees_the_enrollments(world):
    """(Control) the same co-instructor reads the course's enrollments without their money."""
    got = fetch(world.db, world.actor("co_view"), "SELECT id FROM course_enrollments WHERE course_id = %s",
                (world.course.id,))
    assert ids(got) == {world.e_student, world.e_pending}


@pytest.mark.parametrize("who, sees", [("student", True), ("owner", True), ("org_admin", True), ("admin", True),
                                       ("co_view", False), ("pending", False), ("stranger", False),
                                       ("other_instructor", False)])
def test_enrollment_amount_paid_answers_the_student_and_revenue_readers(world, who, sees):
    """enrollment_amount_paid() gives the amount to the student and revenue readers, NULL to others."""
    got = scalar(world.db, world.actor(who), "SELECT enrollment_amount_paid(%s)", (world.e_student,))
    assert got == (Decimal("49.99") if sees else None)


@pytest.mark.parametrize("who", ["co_view", "stranger", "pending"])
def test_checkouts_are_read_only_by_their_student_and_revenue_readers(world, who):
    """The checkouts table (its amount included) shows no one else's row to a co-instructor without
    view_revenue or another student."""
    got = fetch(world.db, world.actor(who), "SELECT id, user_id FROM checkouts")
    assert {r["user_id"] for r in got} <= {world.u[who]}


# --- 11. deactivated accounts ---------------------------------------------------------------------

def test_a_deactivated_user_keeps_no_row_rights(database):
    """After deactivation an instructor updates nothing, a student reads no paid lesson, rls.uid() is NULL,
    and both read exactly what anon reads of the courses."""
    db = database
    instructor, student = gen_user(db, "instructor"), gen_user(db, "student")
    course = gen_course(db, instructor, price="20.00", lessons=("text", "text"))
    draft = gen_course(db, instructor, status="draft")
    pay(db, enroll(db, student, course.id))
    lessons = "SELECT id FROM course_lessons WHERE course_id = %s AND NOT is_preview"
    retitle = "UPDATE courses SET title = 'Taken over' WHERE id = %s"
    # Before: the rights exist (so the test can fail).
    assert len(fetch(db, Actor.user(student), lessons, (course.id,))) == 2
    assert outcome(db, Actor.user(instructor), retitle, (course.id,)) == (1, None)

    deactivate(db, instructor, student)

    assert outcome(db, Actor.user(instructor), retitle, (course.id,)) == (0, None)
    assert fetch(db, Actor.user(student), lessons, (course.id,)) == []
    anon_courses = ids(fetch(db, Actor.anon(), "SELECT id FROM courses"))
    assert anon_courses == {course.id}
    for who in (instructor, student):
        assert scalar(db, Actor.user(who), "SELECT rls.uid()") is None
        assert ids(fetch(db, Actor.user(who), "SELECT id FROM courses")) == anon_courses
    assert draft.id not in ids(fetch(db, Actor.user(instructor), "SELECT id FROM courses"))
    assert refusal(db, Actor.user(student), "SELECT enroll_in_course(%s)", (course.id,)) == DENIED


# --- 12. private and deactivated profiles ---------------------------------------------------------

@pytest.mark.parametrize("how", ["private_by_instructor", "private_by_owner", "deactivated"])
def test_a_hidden_instructor_has_no_public_profile(database, how):
    """A private or deactivated instructor's profile row is hidden from anon and other users, in the table
    and in public_instructors; a private instructor still reads their own."""
    db = database
    instructor, student, other = gen_user(db, "instructor"), gen_user(db, "student"), gen_user(db, "instructor")
    readers = [Actor.anon(), Actor.user(student), Actor.user(other)]
    profile = "SELECT user_id FROM instructor_profiles WHERE user_id = %s"
    listed = "SELECT id FROM public_instructors WHERE id = %s"
    for reader in readers:  # visible before
        assert len(fetch(db, reader, profile, (instructor,))) == 1
        assert len(fetch(db, reader, listed, (instructor,))) == 1

    if how == "private_by_instructor":
        assert commit(db, Actor.user(instructor), "UPDATE instructor_settings SET profile_visibility = 'private' "
                      "WHERE user_id = %s RETURNING user_id", (instructor,)) == instructor
    elif how == "private_by_owner":
        as_owner(db, "UPDATE instructor_settings SET profile_visibility = 'private' WHERE user_id = %s "
                     "RETURNING user_id", (instructor,))
    else:
        deactivate(db, instructor)

    for reader in readers:
        assert fetch(db, reader, profile, (instructor,)) == [], reader
        assert fetch(db, reader, listed, (instructor,)) == [], reader
    if how != "deactivated":
        assert len(fetch(db, Actor.user(instructor), profile, (instructor,))) == 1


# --- 13. what instructors see of users -------------------------------------------------------------

@pytest.mark.parametrize("column", ["role", "organization_id", "is_active"])
def test_instructors_cannot_select_users_role_organization_or_active_flag(world, column):
    """SELECT of users.role / organization_id / is_active raises 42501 for an instructor."""
    assert refusal(world.db, world.actor("owner"), f"SELECT {column} FROM users WHERE id = %s",
                   (world.u["student"],)) == DENIED


def test_instructors_read_name_and_email_of_their_students_only(world):
    """An instructor reads full_name and email of their student, and no row of a stranger."""
    db = world.db
    owner = world.actor("owner")
    got = fetch(db, owner, "SELECT full_name, email::text FROM users WHERE id = %s", (world.u["student"],))
    assert got == [{"full_name": "Stu Dent", "email": _email(world)}]
    assert fetch(db, owner, "SELECT full_name, email FROM users WHERE id = %s", (world.u["stranger"],)) == []


@pytest.mark.parametrize("who, role", [("owner", "instructor"), ("student", "student"), ("org_admin", "org_admin")])
def test_my_account_returns_the_callers_own_role(world, who, role):
    """my_account() returns one row: the caller's own id and role."""
    got = fetch(world.db, world.actor(who), "SELECT id, role::text FROM my_account()")
    assert got == [{"id": world.u[who], "role": role}]


# --- 14. helper functions and what anon may execute -----------------------------------------------

ROW_HELPERS = {
    "course_organization": "SELECT public.course_organization(gen_random_uuid())",
    "workshop_organization": "SELECT public.workshop_organization(gen_random_uuid())",
    "lesson_released_for": "SELECT public.lesson_released_for(gen_random_uuid(), gen_random_uuid())",
    "is_student_of_caller": "SELECT public.is_student_of_caller(gen_random_uuid())",
    "can_read_lesson": "SELECT public.can_read_lesson(gen_random_uuid(), gen_random_uuid(), true)",
}


@pytest.mark.parametrize("who", ["anon", "student"])
@pytest.mark.parametrize("name", list(ROW_HELPERS))
def test_row_helpers_are_not_executable_by_api_users(world, name, who):
    """The helpers that answer about any row refuse anon and signed-in users (42501)."""
    assert refusal(world.db, world.actor(who), ROW_HELPERS[name]) == DENIED


def test_anon_executes_exactly_five_security_definer_functions(world):
    """The SECURITY DEFINER functions anon may execute (schema auth aside) are sign_up, verify_certificate,
    lesson_quiz, (010) job_queue_health, which answers the health endpoints with two counts and
    nothing about any job, (015) invitation_target, which answers only the hash of a valid
    invitation's token, and (021) calendar_feed_workshops, which answers a valid feed token (its
    instructor's calendar sync on) with their workshops' public fields, never a meeting link."""
    got = {r["f"] for r in world.db.rows(
        "SELECT p.oid::regprocedure::text AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.prosecdef AND n.nspname <> 'auth' AND has_function_privilege('anon', p.oid, 'EXECUTE')")}
    assert got == {"sign_up(text,text,text,user_role)", "verify_certificate(text)", "lesson_quiz(uuid)",
                   "job_queue_health()", "invitation_target(text)", "calendar_feed_workshops(text)"}
    health = fetch(world.db, Actor.anon(), "SELECT * FROM job_queue_health()")
    assert len(health) == 1 and set(health[0]) == {"workers", "oldest_waiting_seconds"}


# --- 15. payment details are ciphertext ----------------------------------------------------------------

ENVELOPE = "v1.k2024." + "Q2lwaGVydGV4dC1ub25jZS1hbmQtdGFnLW9mLWFlcy1nY20tZW5jcnlwdGlvbg"


@pytest.mark.parametrize("details, accepted", [
    ("DE89 3704 0044 0532 0130 00", False),
    ("paypal: olivia@example.test", False),
    ("v1.k2024.short", False),
    ("v2.k2024." + ENVELOPE.split(".")[2], False),
    (ENVELOPE + " plain", False),
    (ENVELOPE, True),
])
def test_payment_details_accept_only_an_envelope(world, details, accepted):
    """instructor_settings.payment_details refuses plain text (23514) and accepts v1.<keyid>.<base64url>."""
    got = outcome(world.db, world.actor("owner"),
                  "UPDATE instructor_settings SET payment_details = %(d)s WHERE user_id = %(me)s",
                  {"d": details, "me": world.u["owner"]},
                  check="SELECT payment_details FROM instructor_settings WHERE user_id = %(me)s")
    assert got == ((1, details) if accepted else CHECK_VIOLATION)


# --- found by the read-only review after 007 landed in the tree --------------------------------

def test_teachers_cannot_vote_reviews_of_what_they_teach_helpful(database):
    """The owner and a co-instructor (even one with no permission) vote no review of their course
    helpful; a classmate may."""
    owner, co, author, classmate = (gen_user(database, "instructor"), gen_user(database, "instructor"),
                                    gen_user(database), gen_user(database))
    course = gen_course(database, owner)
    co_teach(database, owner, course.id, co)
    for student in (author, classmate):
        complete_course(database, student, course)
    review = commit(database, Actor.user(author), "INSERT INTO course_reviews (course_id, user_id, rating) "
                                                  "VALUES (%s, %s, 5) RETURNING id", (course.id, author))
    vote = "INSERT INTO review_helpful_votes (review_id) VALUES (%s)"
    assert refusal(database, Actor.user(owner), vote, (review,)) == "42501"
    assert refusal(database, Actor.user(co), vote, (review,)) == "42501"
    assert sqlstate(database, Actor.user(classmate), vote, (review,)) is None


def test_an_owner_cannot_add_a_second_primary_teacher(world):
    """'primary' is the owner alone: a direct insert with that role is a check violation."""
    assert refusal(world.db, world.actor("owner"),
                   "INSERT INTO course_instructors (course_id, instructor_id, role) VALUES (%s, %s, 'primary')",
                   (world.course.id, world.u["other_instructor"])) == "23514"


def test_a_facilitator_cannot_mark_an_unpaid_seat_attended(world):
    """Attendance is for a settled seat: the unpaid registration stays as it was (no_show is allowed)."""
    mark = "UPDATE workshop_registrations SET status = %s WHERE id = %s"
    assert refusal(world.db, world.actor("facilitator"), mark, ("attended", world.r_pending)) == "42501"
    assert outcome(world.db, world.actor("facilitator"), mark, ("no_show", world.r_pending))[0] == 1
    assert outcome(world.db, world.actor("facilitator"), mark, ("attended", world.r_student))[0] == 1


def test_a_pending_enrollment_does_not_open_a_students_only_profile(world):
    """A profile shown to the instructor's students is not shown for an unpaid, pending enrollment."""
    as_owner(world.db, "UPDATE instructor_settings SET profile_visibility = 'students' WHERE user_id = %s "
                       "RETURNING user_id", (world.u["owner"],))
    try:
        see = "SELECT count(*) FROM instructor_profiles WHERE user_id = %s"
        assert scalar(world.db, world.actor("pending"), see, (world.u["owner"],)) == 0
        assert scalar(world.db, world.actor("student"), see, (world.u["owner"],)) == 1
    finally:
        as_owner(world.db, "UPDATE instructor_settings SET profile_visibility = 'public' WHERE user_id = %s "
                           "RETURNING user_id", (world.u["owner"],))


def test_course_helpers_answer_only_the_courses_editors(world):
    """has_empty_quiz says nothing of another's course; another's outline lock is refused."""
    as_owner(world.db, "UPDATE course_lessons SET quiz = '{\"questions\": []}' WHERE course_id = %s "
                       "AND content_type = 'quiz' RETURNING id", (world.course.id,))
    try:
        ask = "SELECT has_empty_quiz(%s)"
        assert scalar(world.db, world.actor("owner"), ask, (world.course.id,)) is True
        assert scalar(world.db, world.actor("other_instructor"), ask, (world.course.id,)) is False
        assert refusal(world.db, world.actor("other_instructor"), "SELECT lock_course_outline(%s)",
                       (world.course.id,)) == "42501"
    finally:
        as_owner(world.db, "UPDATE course_lessons SET quiz = %s WHERE course_id = %s AND content_type = 'quiz' "
                           "RETURNING id", (json.dumps(QUIZ), world.course.id))


def test_service_role_does_not_read_payment_details(world):
    """The back office reads instructors' settings but not the ciphertext of their payment details."""
    assert refusal(world.db, Actor.service(), "SELECT payment_details FROM instructor_settings") == "42501"
    assert scalar(world.db, Actor.service(), "SELECT count(payout_schedule) FROM instructor_settings") >= 1


def test_inactive_completions_answer_only_who_may_view_the_course(database):
    """What a cancelled student had completed is counted for the course's teachers, and for
    nobody else (an empty answer, as for a course that does not exist)."""
    owner, other, student = gen_user(database, "instructor"), gen_user(database, "instructor"), gen_user(database)
    course = gen_course(database, owner, lessons=("text", "text"))
    enrollment = complete_course(database, student, course)
    as_owner(database, "UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s RETURNING id", (enrollment,))
    ask = "SELECT kind, n FROM inactive_completions(%s) ORDER BY kind"
    assert [(r["kind"], r["n"]) for r in fetch(database, Actor.user(owner), ask, (course.id,))] == [
        ("lesson", 1), ("lesson", 1), ("module", 1)]
    assert fetch(database, Actor.user(other), ask, (course.id,)) == []
    assert refusal(database, Actor.anon(), ask, (course.id,)) == "42501"


# --- 16. notices: the outbox (010) ----------------------------------------------------------------------
#
# A notice is written by the database alone (the triggers on the acts, the scheduled work through
# private.notify); its recipient reads it and sets read_at, nothing else, and nobody else sees it.

REMINDER = '{"title": "Prompt Clinic", "lead": "24h"}'


def notice(db, user, key) -> object:
    """A notice to ``user``, written as the scheduled work writes one (private.notify, as the owner)."""
    return as_owner(db, "SELECT private.notify(%s, 'workshop_reminder', %s::jsonb, %s)", (user, REMINDER, key))


@pytest.fixture(scope="module")
def notices(world):
    """The student's and the stranger's reminders (committed: the world is shared and read-mostly)."""
    return {who: notice(world.db, world.u[who], f"attack-{who}") for who in ("student", "stranger")}


FORGED_NOTICE = ("INSERT INTO notifications (user_id, event_type, payload, in_portal, email_state) "
                 "VALUES (%(to)s, 'enrollment_update', '{\"kind\": \"confirmed\", \"course_title\": \"Free money\"}', "
                 "true, 'off')")


@pytest.mark.parametrize("who", ["anon", "student", "owner", "admin", "service", "sign_in"])
@pytest.mark.parametrize("to", ["student", "stranger"])
def test_nobody_forges_a_notice(world, who, to):
    """INSERT into notifications raises 42501 for every API role, for oneself or another (only the
    database's triggers and scheduled functions write notices)."""
    assert refusal(world.db, world.actor(who), FORGED_NOTICE, {"to": world.u[to]}) == DENIED


def test_a_user_reads_only_their_own_notices(world, notices):
    """The student reads their notice; the stranger, the course owner, the org admin and a platform admin
    read no row of it; anon may not read the table at all."""
    db, mine = world.db, notices["student"]
    read = "SELECT id, event_type, payload, read_at FROM notifications WHERE id = %s"
    got = fetch(db, world.actor("student"), read, (mine,))
    assert [(r["id"], r["event_type"], r["payload"]["title"]) for r in got] == [
        (mine, "workshop_reminder", "Prompt Clinic")]
    for who in ("stranger", "owner", "org_admin", "admin", "co_view"):
        assert fetch(db, world.actor(who), read, (mine,)) == [], who
        assert world.u["student"] not in {r["user_id"] for r in fetch(db, world.actor(who),
                                                                        "SELECT user_id FROM notifications")}, who
    assert refusal(db, Actor.anon(), "SELECT count(*) FROM notifications") == DENIED


@pytest.mark.parametrize("who", ["stranger", "owner", "org_admin", "admin"])
def test_a_user_cannot_mark_another_users_notice_read(world, notices, who):
    """Marking the student's notice read touches no row for anyone else; the student's own mark works."""
    mark = "UPDATE notifications SET read_at = now() WHERE id = %(n)s"
    assert outcome(world.db, world.actor(who), mark, {"n": notices["student"]}) == (0, None)
    assert outcome(world.db, world.actor("student"), mark, {"n": notices["student"]},
                   check="SELECT read_at IS NOT NULL FROM notifications WHERE id = %(n)s") == (1, True)
    assert as_owner(world.db, "SELECT read_at FROM notifications WHERE id = %s", (notices["student"],)) is None


# Every column of one's own notice but read_at, set to a value an attacker would want.
NOTICE_COLUMNS = {
    "payload": "'{\"kind\": \"confirmed\", \"course_title\": \"Forged\"}'::jsonb",
    "email_state": "'sent'",
    "user_id": "%(other)s",
    "event_type": "'certificate_issued'",
    "in_portal": "false",
    "dedup_key": "NULL",
    "email_attempts": "0",
    "email_sent_at": "now()",
    "email_error": "'forged'",
    "created_at": "now() + interval '1 year'",
}


@pytest.mark.parametrize("column", list(NOTICE_COLUMNS))
def test_a_user_cannot_change_anything_but_read_at_of_their_own_notice(world, notices, column):
    """UPDATE of any column of one's own notice but read_at raises 42501 (alone, or along with read_at)."""
    params = {"n": notices["student"], "other": world.u["stranger"]}
    for sets in (f"{column} = {NOTICE_COLUMNS[column]}", f"read_at = now(), {column} = {NOTICE_COLUMNS[column]}"):
        assert refusal(world.db, world.actor("student"), f"UPDATE notifications SET {sets} WHERE id = %(n)s",
                       params) == DENIED, sets


def test_a_user_cannot_delete_their_own_notice(world, notices):
    """DELETE of one's own notice raises 42501: notices go with their recipient's account only."""
    assert refusal(world.db, world.actor("student"), "DELETE FROM notifications WHERE id = %s",
                   (notices["student"],)) == DENIED


@pytest.mark.parametrize("column", ["dedup_key", "email_attempts", "email_sent_at", "email_error"])
def test_the_delivery_columns_of_ones_own_notice_are_not_readable(world, notices, column):
    """The delivery's bookkeeping (Notification.UNREADABLE) is not selectable by its recipient (42501)."""
    assert refusal(world.db, world.actor("student"), f"SELECT {column} FROM notifications WHERE id = %s",
                   (notices["student"],)) == DENIED


def test_notification_settings_are_one_own_row(database):
    """The student saves their preferences; another user neither reads, changes, upserts nor deletes them,
    nor creates a row in the student's name; the student neither hands their row to someone else nor
    deletes it; anon reads nothing. The row is as the student saved it."""
    db = database
    student, stranger = gen_user(db), gen_user(db)
    saved = '{"new_review": false}'
    commit(db, Actor.user(student), "INSERT INTO notification_settings (user_id, email_notifications, timezone) "
                                    "VALUES (%s, %s, 'Europe/Paris') RETURNING user_id", (student, saved))
    params = {"s": student, "me": stranger}
    them, me = Actor.user(stranger), Actor.user(student)
    assert fetch(db, them, "SELECT * FROM notification_settings WHERE user_id = %(s)s", params) == []
    assert outcome(db, them, "UPDATE notification_settings SET email_notifications = '{}' "
                             "WHERE user_id = %(s)s", params) == (0, None)
    for sql in ("INSERT INTO notification_settings (user_id) VALUES (%(s)s)",
                "INSERT INTO notification_settings (user_id) VALUES (%(s)s) "
                "ON CONFLICT (user_id) DO UPDATE SET email_notifications = '{}'",
                "DELETE FROM notification_settings WHERE user_id = %(s)s"):
        assert refusal(db, them, sql, params) == DENIED, sql
    assert refusal(db, me, "UPDATE notification_settings SET user_id = %(me)s WHERE user_id = %(s)s",
                   params) == DENIED
    assert refusal(db, me, "DELETE FROM notification_settings WHERE user_id = %(s)s", params) == DENIED
    assert refusal(db, Actor.anon(), "SELECT count(*) FROM notification_settings") == DENIED
    # (Control) the student reads and changes their own.
    assert outcome(db, me, "UPDATE notification_settings SET timezone = 'Asia/Tokyo' WHERE user_id = %(s)s", params,
                   check="SELECT timezone FROM notification_settings WHERE user_id = %(s)s") == (1, "Asia/Tokyo")
    assert db.rows("SELECT user_id, email_notifications, timezone FROM notification_settings") == [
        {"user_id": student, "email_notifications": {"new_review": False}, "timezone": "Europe/Paris"}]


def test_a_deactivated_user_gets_no_notice(database):
    """private.notify writes nothing (NULL) for a deactivated account, and queues no email; an act that
    would notify them (a student enrolling in their course) notifies no one."""
    db = database
    instructor, student, admin = gen_user(db, "instructor"), gen_user(db), gen_user(db, "admin")
    course = gen_course(db, instructor)
    alert = "SELECT private.alert_admins('figures_mismatch', '{}'::jsonb, %s)"
    jobs = "SELECT count(*) FROM procrastinate.procrastinate_jobs"
    # (Control) active accounts get theirs.
    assert notice(db, student, "before") is not None
    assert as_owner(db, alert, ("before",)) == 1
    deactivate(db, instructor, student, admin)
    before = (db.value("SELECT count(*) FROM notifications"), db.value(jobs))
    assert before == (2, 2)
    assert notice(db, student, "after") is None
    assert notice(db, instructor, "after") is None
    assert as_owner(db, alert, ("after",)) == 0
    enroll(db, gen_user(db), course.id)  # a new enrollment in the deactivated instructor's course
    assert (db.value("SELECT count(*) FROM notifications"), db.value(jobs)) == before


# --- 17. the job queue (010) -------------------------------------------------------------------------------
#
# Schema procrastinate belongs to portal_worker: no API role holds anything in it, nor executes any
# function of private that 010 adds (the queue's entry point, private.defer_job, included).

QUEUE_STATEMENTS = {
    "select_jobs": "SELECT id, args FROM procrastinate.procrastinate_jobs",
    "insert_job": "INSERT INTO procrastinate.procrastinate_jobs (queue_name, task_name, args) "
                  "VALUES ('email', 'deliver_email', '{\"notification_id\": \"forged\"}')",
    "update_jobs": "UPDATE procrastinate.procrastinate_jobs SET status = 'failed'",
    "delete_events": "DELETE FROM procrastinate.procrastinate_events",
    "select_workers": "SELECT * FROM procrastinate.procrastinate_workers",
    "defer_jobs": "SELECT procrastinate.procrastinate_defer_jobs_v1(ARRAY[ROW('email', 'deliver_email', 0, NULL, "
                  "NULL, '{}'::jsonb, NULL)::procrastinate.procrastinate_job_to_defer_v1])",
    "fetch_job": "SELECT * FROM procrastinate.procrastinate_fetch_job_v2(ARRAY['email']::varchar[], NULL)",
    "retry_job": "SELECT procrastinate.procrastinate_retry_job_v2(1, now(), NULL, NULL, NULL)",
    "register_worker": "SELECT procrastinate.procrastinate_register_worker_v1()",
    "defer_job": "SELECT private.defer_job('email', 'deliver_email', '{\"notification_id\": \"forged\"}'::jsonb)",
}


@pytest.mark.parametrize("who", ["anon", "student", "admin", "service", "sign_in"])
@pytest.mark.parametrize("name", list(QUEUE_STATEMENTS))
def test_api_roles_have_no_privilege_on_the_job_queue(world, name, who):
    """Reading, writing or calling anything of schema procrastinate, or queueing a job through
    private.defer_job, raises 42501 for anon, a signed-in user, an admin, service_role and portal_signin."""
    assert refusal(world.db, world.actor(who), QUEUE_STATEMENTS[name]) == DENIED


# Each function of private that 010 adds, called with real-looking, non-NULL arguments.
PRIVATE_010 = {
    "notification_channels": "SELECT * FROM private.notification_channels(gen_random_uuid(), 'new_review')",
    "notify": "SELECT private.notify(gen_random_uuid(), 'certificate_issued', '{\"code\": \"forged\"}'::jsonb, 'x')",
    "send_workshop_reminders": "SELECT private.send_workshop_reminders(now())",
    "expire_checkouts": "SELECT private.expire_checkouts(interval '0 seconds')",
    "alert_admins": "SELECT private.alert_admins('figures_mismatch', '{}'::jsonb, 'forged')",
    "instructors_to_verify": "SELECT * FROM private.instructors_to_verify()",
    "verify_figures": "SELECT * FROM private.verify_figures(gen_random_uuid())",
    "email_to_send": "SELECT * FROM private.email_to_send(gen_random_uuid())",
    "record_email": "SELECT private.record_email(gen_random_uuid(), true, 'forged', false)",
    "record_job_error": "SELECT private.record_job_error(1, 1, 'forged')",
    "notify_enrollment": "SELECT private.notify_enrollment()",
    "notify_review": "SELECT private.notify_review()",
    "notify_certificate": "SELECT private.notify_certificate()",
}


@pytest.mark.parametrize("who", ["anon", "student", "admin", "service", "sign_in"])
@pytest.mark.parametrize("name", list(PRIVATE_010))
def test_api_roles_cannot_execute_the_private_functions_of_010(world, name, who):
    """Every function of private added by 010 (the outbox, the scheduled work, the delivery's
    bookkeeping, the triggers' functions) raises 42501 for every API role, and none of them is
    executable by an API role even were schema private opened to it."""
    assert refusal(world.db, world.actor(who), PRIVATE_010[name]) == DENIED
    granted = world.db.rows(
        "SELECT r.role FROM pg_proc p CROSS JOIN unnest(ARRAY['anon', 'authenticated', 'service_role', "
        "'portal_signin']) AS r (role) WHERE p.pronamespace = 'private'::regnamespace AND p.proname = %s "
        "AND has_function_privilege(r.role, p.oid, 'EXECUTE')", (name,))
    assert granted == []
    assert world.db.value("SELECT count(*) FROM pg_proc WHERE pronamespace = 'private'::regnamespace "
                          "AND proname = %s", (name,)) == 1


ADMIN_QUEUE = {
    "job_queue_counts": "SELECT * FROM public.job_queue_counts()",
    "job_queue_jobs": "SELECT * FROM public.job_queue_jobs('dead', NULL, 25)",
    "retry_dead_job": "SELECT public.retry_dead_job(1)",
}


def refused(db, actor, sql, params=None):
    """(SQLSTATE, constraint name) of the error ``sql`` raises as ``actor``; fails when it succeeds."""
    with pytest.raises(psycopg2.Error) as caught:
        with db.attempt(actor) as cur:
            cur.execute(sql, params)
    return caught.value.pgcode, caught.value.diag.constraint_name


@pytest.mark.parametrize("who", ["student", "owner", "org_admin", "co_view", "stranger"])
@pytest.mark.parametrize("name", list(ADMIN_QUEUE))
def test_the_queue_page_functions_refuse_anyone_but_a_platform_admin(world, name, who):
    """job_queue_counts, job_queue_jobs and retry_dead_job refuse a signed-in non-admin with 42501 and the
    refusal code not_permitted; anon may not execute them at all."""
    assert refused(world.db, world.actor(who), ADMIN_QUEUE[name]) == (DENIED, "not_permitted")
    assert refused(world.db, Actor.anon(), ADMIN_QUEUE[name]) == (DENIED, None)


@contextmanager
def as_worker(db, commit=False):
    """A connection as authenticator that becomes portal_worker for its session, as the worker's own do
    (portal.jobs: ``-c role=portal_worker``); rolled back unless ``commit``."""
    conn = db.connect_app()
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SET ROLE portal_worker")
            yield cur
        if commit:
            conn.commit()
    finally:
        conn.rollback()
        conn.close()


def worker_sqlstate(db, sql, params=None):
    """The SQLSTATE ``sql`` raises as portal_worker (rolled back), or None when it succeeds."""
    try:
        with as_worker(db) as cur:
            cur.execute(sql, params)
    except psycopg2.Error as exc:
        return exc.pgcode
    return None


def test_a_platform_admin_sees_the_queue_and_retries_a_dead_job(database):
    """A notice's email job fails for good in the worker's hands; a platform admin counts it dead, lists it
    with its error, and retries it: the job is due again and its notice's email pending again. A job that
    is not dead, or a state that does not exist, is refused by name; a deactivated admin is not an admin."""
    db = database
    admin, student, gone = gen_user(db, "admin"), gen_user(db), gen_user(db, "admin")
    deactivate(db, gone)
    note = notice(db, student, "dead-letter")
    job = db.value("SELECT id FROM procrastinate.procrastinate_jobs WHERE args ->> 'notification_id' = %s",
                   (str(note),))
    assert job is not None, "the notice's email was queued in its transaction"
    with as_worker(db, commit=True) as cur:  # the worker takes the job, and every attempt fails
        cur.execute("SELECT procrastinate.procrastinate_register_worker_v1() AS w")
        worker_id = cur.fetchone()["w"]
        cur.execute("SELECT id FROM procrastinate.procrastinate_fetch_job_v2(ARRAY['email']::varchar[], %s)",
                    (worker_id,))
        assert cur.fetchone()["id"] == job
        cur.execute("SELECT private.record_job_error(%s, 1, 'SMTPRecipientsRefused: mailbox full')", (job,))
        cur.execute("SELECT private.record_email(%s, false, 'mailbox full', true)", (note,))
        cur.execute("SELECT procrastinate.procrastinate_finish_job_v1(%s, 'failed', false)", (job,))
    assert db.value("SELECT email_state FROM notifications WHERE id = %s", (note,)) == "failed"
    me = Actor.user(admin)
    counts = {r["state"]: r["jobs"] for r in fetch(db, me, "SELECT * FROM job_queue_counts()")}
    assert counts == {"waiting": 0, "scheduled": 0, "retrying": 0, "running": 0, "dead": 1}
    dead = fetch(db, me, "SELECT id, task_name, args, error FROM job_queue_jobs('dead')")
    assert dead == [{"id": job, "task_name": "deliver_email", "args": {"notification_id": str(note)},
                     "error": "SMTPRecipientsRefused: mailbox full"}]
    commit(db, me, "SELECT retry_dead_job(%s)", (job,))
    assert db.rows("SELECT status::text, attempts FROM procrastinate.procrastinate_jobs WHERE id = %s",
                   (job,)) == [{"status": "todo", "attempts": 2}]  # one taken by the worker, one by the retry
    assert db.value("SELECT email_state FROM notifications WHERE id = %s", (note,)) == "pending"
    counts = {r["state"]: r["jobs"] for r in fetch(db, me, "SELECT * FROM job_queue_counts()")}
    assert (counts["dead"], counts["retrying"]) == (0, 1)
    assert refused(db, me, "SELECT retry_dead_job(%s)", (job,)) == ("P0002", "job_not_dead")
    assert refused(db, me, "SELECT * FROM job_queue_jobs('everything')") == ("22023", "unknown_job_state")
    assert refused(db, Actor.user(gone), "SELECT * FROM job_queue_counts()") == (DENIED, "not_permitted")


# portal_worker's allow-list (tests/test_grants.py EXECUTE), each called for real.
WORKER_CALLS = {
    "send_workshop_reminders": "SELECT private.send_workshop_reminders(now()) AS r",
    "expire_checkouts": "SELECT private.expire_checkouts(interval '1 day') AS r",
    "alert_admins": "SELECT private.alert_admins('figures_mismatch', '{\"mismatches\": 1}'::jsonb, 'attack') AS r",
    "instructors_to_verify": "SELECT count(*) AS r FROM private.instructors_to_verify()",
    "verify_figures": "SELECT count(*) AS r FROM private.verify_figures(%(owner)s)",
    "email_to_send": "SELECT email AS r FROM private.email_to_send(%(notice)s)",
    "record_email": "SELECT private.record_email(%(notice)s, true, NULL, false) AS r",
    "record_job_error": "SELECT private.record_job_error(%(job)s, 1, 'timeout') AS r",
    "refresh_instructor_monthly_stats": "SELECT public.refresh_instructor_monthly_stats() AS r",
    "archive_student_activity": "SELECT public.archive_student_activity(interval '100 years') AS r",
    "job_queue_health": "SELECT workers AS r FROM public.job_queue_health()",
}


@pytest.mark.parametrize("name", list(WORKER_CALLS))
def test_the_worker_runs_each_of_its_functions(world, notices, name):
    """authenticator, become portal_worker, runs each function granted to the worker, and each answers."""
    params = {"owner": world.u["owner"], "notice": notices["student"],
              "job": world.db.value("SELECT min(id) FROM procrastinate.procrastinate_jobs")}
    with as_worker(world.db) as cur:
        cur.execute(WORKER_CALLS[name], params)
        got = cur.fetchone()["r"]
        cur.execute("SELECT current_user")
        assert cur.fetchone()["current_user"] == "portal_worker"
        if name == "record_email":  # the delivery's bookkeeping, read back as the worker reads it
            cur.execute("SELECT email_state AS r FROM private.email_to_send(%(notice)s)", params)
            got = cur.fetchone()["r"]
    expected = {"send_workshop_reminders": 0, "expire_checkouts": 0, "alert_admins": 1, "instructors_to_verify": 4,
                "verify_figures": 0, "email_to_send": _email(world), "record_email": "sent",
                "archive_student_activity": 0, "job_queue_health": 0}
    if name in expected:
        assert got == expected[name]


def test_the_worker_uses_the_queue(world):
    """As portal_worker: register, defer a job, read it, take it, finish it and see its events, through the
    queue's functions and its tables directly (as procrastinate's client does), then unregister."""
    with as_worker(world.db) as cur:
        cur.execute("SELECT procrastinate.procrastinate_register_worker_v1() AS w")
        worker_id = cur.fetchone()["w"]
        cur.execute("SELECT (procrastinate.procrastinate_defer_jobs_v1(ARRAY[ROW('maintenance', 'probe', 100, "
                    "NULL, NULL, '{}'::jsonb, NULL)::procrastinate.procrastinate_job_to_defer_v1]))[1] AS id")
        job = cur.fetchone()["id"]
        cur.execute("SELECT task_name FROM procrastinate.procrastinate_jobs WHERE id = %s", (job,))
        assert cur.fetchone()["task_name"] == "probe"
        cur.execute("SELECT id FROM procrastinate.procrastinate_fetch_job_v2(ARRAY['maintenance']::varchar[], %s)",
                    (worker_id,))
        assert cur.fetchone()["id"] == job
        cur.execute("SELECT procrastinate.procrastinate_finish_job_v1(%s, 'succeeded', false)", (job,))
        cur.execute("SELECT array_agg(type::text ORDER BY id) AS t FROM procrastinate.procrastinate_events "
                    "WHERE job_id = %s", (job,))
        assert cur.fetchone()["t"] == ["deferred", "started", "succeeded"]
        cur.execute("UPDATE procrastinate.procrastinate_workers SET last_heartbeat = now() WHERE id = %s", (worker_id,))
        assert cur.rowcount == 1
        cur.execute("DELETE FROM procrastinate.procrastinate_jobs WHERE id = %s", (job,))
        assert cur.rowcount == 1
        cur.execute("SELECT procrastinate.procrastinate_unregister_worker_v1(%s)", (worker_id,))


WORKER_REFUSED = {
    "read_users": "SELECT email FROM public.users",
    "read_notifications": "SELECT payload FROM public.notifications",
    "mark_notices_sent": "UPDATE public.notifications SET email_state = 'sent', email_sent_at = now()",
    "read_settings": "SELECT * FROM public.notification_settings",
    "read_courses": "SELECT id FROM public.courses",
    "read_credentials": "SELECT password_hash FROM private.user_credentials",
    "read_job_errors": "SELECT error FROM private.job_errors",
    "notify": "SELECT private.notify(gen_random_uuid(), 'new_review', '{}'::jsonb, NULL)",
    "defer_job": "SELECT private.defer_job('email', 'deliver_email', '{}'::jsonb)",
    "job_queue_counts": "SELECT * FROM public.job_queue_counts()",
    "retry_dead_job": "SELECT public.retry_dead_job(1)",
    "enroll_in_course": "SELECT public.enroll_in_course(gen_random_uuid())",
    "confirm_course_payment": "SELECT public.confirm_course_payment(gen_random_uuid())",
    "rebuild_denormalized_figures": "SELECT public.rebuild_denormalized_figures(gen_random_uuid())",
    "credentials_for_sign_in": "SELECT * FROM public.credentials_for_sign_in('someone@example.test')",
}


@pytest.mark.parametrize("name", list(WORKER_REFUSED))
def test_the_worker_reads_no_table_of_the_portal_and_runs_nothing_else(world, name):
    """portal_worker reads no table of public or private (users, notices, credentials...) and calls no
    function outside its allow-list: 42501."""
    assert worker_sqlstate(world.db, WORKER_REFUSED[name]) == DENIED


def test_the_worker_and_the_api_roles_share_no_membership(world):
    """No API role is a member of portal_worker (its one member is authenticator: test_grants.py), and
    portal_worker is a member of no API role, so neither inherits nor may SET ROLE to the other's rights.
    (SET ROLE is checked against the session's user: a session as authenticator may become any of its
    roles, portal_worker as service_role; the app never lets a client's SQL through.)"""
    got = world.db.rows(
        "SELECT r.role, pg_has_role(r.role, 'portal_worker', 'MEMBER') AS in_worker, "
        "pg_has_role('portal_worker', r.role, 'MEMBER') AS worker_in "
        "FROM unnest(ARRAY['anon', 'authenticated', 'service_role', 'portal_signin']) AS r (role)")
    assert [(r["in_worker"], r["worker_in"]) for r in got] == [(False, False)] * 4
    assert world.db.value("SELECT pg_has_role('authenticator', 'portal_worker', 'MEMBER')") is True


# --- found by the review of 010 ---------------------------------------------------------------------------
#
# PostgreSQL searches the session's temporary schema FIRST for tables and types (never for functions)
# unless a search path names pg_temp explicitly, and every API role may create temporary objects
# (the database's default TEMP privilege to PUBLIC). A SECURITY DEFINER function that names a table or a
# type without a schema therefore resolves it to an object the caller made, and runs the caller's code
# (a trigger on a temporary table, a domain's CHECK) as the function's owner. Each test below plants
# such code, which records who ran it, then does what it may; the rule is that it never runs as
# another role. The fix (not made here: schema/ belongs to its migrations) is either to revoke
# TEMPORARY on the database from PUBLIC or to end every such search path with pg_temp.

PLANT = ("CREATE FUNCTION pg_temp.record_who_ran_me() RETURNS trigger LANGUAGE plpgsql AS $$ "
         "BEGIN PERFORM set_config('attack.ran_as', current_user::text, true); RETURN NEW; END $$")
PLANT_CHECK = ("CREATE FUNCTION pg_temp.record_who_checks_me(anyelement) RETURNS boolean LANGUAGE plpgsql AS $$ "
               "BEGIN PERFORM set_config('attack.ran_as', current_user::text, true); RETURN true; END $$")


def planted_code_ran_as(db, actor, plant, act, params=None):
    """Run ``plant`` then ``act`` as ``actor`` in one rolled-back transaction; return the role the planted
    code ran as, None when it never ran (or when the role may not create temporary objects at all)."""
    conn = db.connect_app()
    try:
        with conn.cursor() as cur:
            set_context(cur, actor)
            try:
                for statement in plant:
                    cur.execute(statement)
            except psycopg2.errors.InsufficientPrivilege:
                return None  # no temporary objects: nothing to plant
            cur.execute(act, params)
            cur.execute("SELECT current_user, nullif(current_setting('attack.ran_as', true), '')")
            who, ran_as = cur.fetchone()
            assert who == actor.role
            return ran_as
    finally:
        conn.rollback()
        conn.close()


def test_a_temporary_table_cannot_stand_in_for_the_job_queue(database):
    """A student who makes a temporary procrastinate_jobs (with a trigger) and enrolls in a free course
    (whose notice to the instructor queues an email) runs no code as the owner."""
    db = database
    instructor, student = gen_user(db, "instructor"), gen_user(db)
    course = gen_course(db, instructor)
    plant = (PLANT,
             "CREATE TEMPORARY TABLE procrastinate_jobs (id bigserial, queue_name text, task_name text, "
             "priority integer, lock text, queueing_lock text, args jsonb, scheduled_at timestamptz)",
             "GRANT ALL ON pg_temp.procrastinate_jobs, pg_temp.procrastinate_jobs_id_seq TO PUBLIC",
             "CREATE TRIGGER record_who BEFORE INSERT ON pg_temp.procrastinate_jobs "
             "FOR EACH ROW EXECUTE FUNCTION pg_temp.record_who_ran_me()")
    assert planted_code_ran_as(db, Actor.user(student), plant, "SELECT enroll_in_course(%s)",
                               (course.id,)) is None


def test_a_temporary_domain_cannot_stand_in_for_a_type(database):
    """anon, having made a temporary domain named uuid (with a CHECK), signs up: no code runs as the owner."""
    plant = (PLANT_CHECK,
             "CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (pg_temp.record_who_checks_me(VALUE))")
    assert planted_code_ran_as(database, Actor.anon(), plant,
                               "SELECT sign_up('temp@example.test', %s, 'Tempo Rary', 'student')", (HASH,)) is None


# --- 014: the instructor's private notes, the activity timeline ------------------------------------

NOTE = ("INSERT INTO instructor_student_notes (instructor_id, student_id, course_id, body) "
        "VALUES (%s, %s, %s, %s) RETURNING id")


@pytest.fixture(scope="module")
def owners_note(world):
    """The owner's note on the student (committed)."""
    return commit(world.db, world.actor("owner"), NOTE, (world.u["owner"], world.u["student"], world.course.id,
                                                          "Private: struggling since the move"))


@pytest.mark.parametrize("who", ["co_view", "other_instructor", "facilitator", "student", "org_admin", "admin"])
def test_nobody_but_its_author_reads_a_note(world, owners_note, who):
    """Another instructor of the same student (a co-instructor, the workshop's facilitator), the student the
    note is about, the org admin and the admin read nothing: not the row, not a count."""
    assert fetch(world.db, world.actor(who), "SELECT id, body FROM instructor_student_notes") == []
    assert scalar(world.db, world.actor(who), "SELECT count(*) FROM instructor_student_notes") == 0


@pytest.mark.parametrize("who", ["anon", "service"])
def test_anon_and_service_role_cannot_touch_notes(world, owners_note, who):
    assert refusal(world.db, world.actor(who), "SELECT id FROM instructor_student_notes") == DENIED


@pytest.mark.parametrize("who", ["co_view", "other_instructor", "facilitator", "student"])
def test_nobody_else_edits_or_deletes_a_note(world, owners_note, who):
    db = world.db
    assert outcome(db, world.actor(who), "UPDATE instructor_student_notes SET body = 'Rewritten' WHERE id = %s",
                   (owners_note,))[0] == 0
    assert outcome(db, world.actor(who), "DELETE FROM instructor_student_notes WHERE id = %s", (owners_note,))[0] == 0


@pytest.mark.parametrize("who, author, student", [
    ("co_view", "owner", "student"),             # forges the owner as author
    ("co_view", "co_view", "student"),           # a co-instructor without manage_students
    ("facilitator", "facilitator", "student"),   # the student's workshop, not a course of theirs
    ("other_instructor", "other_instructor", "student"),
    ("owner", "owner", "stranger"),              # not one of the owner's students
    ("student", "student", "pending"),           # a student writing about another
    ("pending", "owner", "pending"),             # a student planting a note "by" the owner
])
def test_a_note_cannot_be_forged(world, who, author, student):
    assert refusal(world.db, world.actor(who), NOTE, (world.u[author], world.u[student], None, "Forged")) == DENIED


def test_a_note_cannot_be_moved_to_another_author_or_student(world, owners_note):
    for column, value in (("instructor_id", world.u["co_view"]), ("student_id", world.u["pending"])):
        assert refusal(world.db, world.actor("owner"), f"UPDATE instructor_student_notes SET {column} = %s "
                                                       "WHERE id = %s", (value, owners_note)) == DENIED


@pytest.mark.parametrize("who", ["student", "pending", "stranger", "other_instructor", "admin"])
def test_the_activity_page_gives_nothing_outside_ones_teaching(world, who):
    """instructor_activity_page takes no instructor to lie about: a student (even with a student filter naming
    themself or another, a course filter naming the course), another instructor and an admin get nothing."""
    db = world.db
    for sql, params in (("SELECT * FROM instructor_activity_page()", None),
                        ("SELECT * FROM instructor_activity_page(p_course_id => %s)", (world.course.id,)),
                        ("SELECT * FROM instructor_activity_page(p_student_id => %s)", (world.u["student"],))):
        assert fetch(db, world.actor(who), sql, params) == []
    assert fetch(db, world.actor("owner"), "SELECT * FROM instructor_activity_page(p_student_id => %s)",
                 (world.u["student"],)), "the owner sees the student's activity"


def test_anon_cannot_read_the_activity_page(world):
    assert refusal(world.db, world.actor("anon"), "SELECT * FROM instructor_activity_page()") == DENIED


# --- 017: the platform admin's functions --------------------------------------------------------------
# Each checks that the caller is an active platform admin (rls.is_admin: the users row, never the
# claims' say-so); anon may not even execute them. More in tests/test_admin_sql.py.
ADMIN_ONLY = {
    "admin_set_role": "SELECT public.admin_set_role(gen_random_uuid(), 'instructor', 'x')",
    "admin_set_role_to_admin": "SELECT public.admin_set_role(gen_random_uuid(), 'admin', 'x')",
    "admin_set_active": "SELECT public.admin_set_active(gen_random_uuid(), false, 'x')",
    "admin_set_organization": "SELECT public.admin_set_organization(gen_random_uuid(), gen_random_uuid(), 'x')",
    "admin_set_instructor_flags": "SELECT public.admin_set_instructor_flags(gen_random_uuid(), true, true, 'x')",
    "admin_users": "SELECT * FROM public.admin_users('a', NULL, NULL, NULL, NULL, NULL, false, 10)",
    "admin_user": "SELECT * FROM public.admin_user(gen_random_uuid())",
    "admin_overview": "SELECT public.admin_overview()",
    "admin_revenue_by_month": "SELECT * FROM public.admin_revenue_by_month(12)",
}


@pytest.mark.parametrize("who", ["anon", "student", "owner"])
@pytest.mark.parametrize("name", list(ADMIN_ONLY))
def test_admin_functions_refuse_everyone_but_a_platform_admin(world, name, who):
    assert refusal(world.db, world.actor(who), ADMIN_ONLY[name]) == DENIED


def test_a_student_cannot_promote_themself_by_any_update(world):
    """role, organization and active flag are an admin's (guard_admin_only_columns), and even an admin
    cannot give the admin role through the API roles (017)."""
    me = world.actor("student")
    for sql in ("UPDATE users SET role = 'admin' WHERE id = (SELECT rls.uid())",
                "UPDATE users SET role = 'org_admin', organization_id = (SELECT id FROM organizations LIMIT 1) "
                "WHERE id = (SELECT rls.uid())"):
        assert refusal(world.db, me, sql) == DENIED


# --- 016: moderation and the audit log ------------------------------------------------------------

@pytest.fixture(scope="module")
def a_review(world):
    """A review of the course by its author, a student who completed it (committed)."""
    db = world.db
    author = gen_user(db, "student", name="Rita Reviewer")
    complete_course(db, author, world.course)
    return commit(db, Actor.user(author), "INSERT INTO course_reviews (course_id, user_id, rating, review_text) "
                                          "VALUES (%s, %s, 1, 'Attack me') RETURNING id", (world.course.id, author))


@pytest.mark.parametrize("who", ["owner", "author", "co_view", "org_admin", "other_instructor", "stranger",
                                 "pending"])
def test_a_non_admin_cannot_hide_a_review(world, a_review, who):
    """The course's owner, the author, a co-instructor, the org admin, another instructor or student: hiding
    (with or without a reason) is refused by the guard or touches no row; the review stays visible."""
    actor = Actor.user(as_owner(world.db, "SELECT user_id FROM course_reviews WHERE id = %s", (a_review,))) \
        if who == "author" else world.actor(who)
    for sql in ("UPDATE course_reviews SET is_visible = false, moderation_reason = 'x' WHERE id = %s",
                "UPDATE course_reviews SET is_visible = false WHERE course_id = ANY (SELECT id FROM courses) "
                "AND id = %s"):
        state = sqlstate(world.db, actor, sql, (a_review,))
        if state is None:
            assert outcome(world.db, actor, sql, (a_review,))[0] == 0
            assert who not in ("owner", "author"), "the guard refuses those the policy lets touch the row"
        else:
            assert state == DENIED
    assert as_owner(world.db, "SELECT is_visible FROM course_reviews WHERE id = %s", (a_review,)) is True


def test_an_org_admin_cannot_read_another_organizations_audit_rows(world):
    """The other organization's course price moves (an audit row of org_b); org_a's admin reads none of it,
    however asked; org_a's own row they read."""
    db = world.db
    other = gen_course(db, world.u["other_instructor"], org=world.org_b, price="10", lessons=())
    commit(db, world.actor("other_instructor"), "UPDATE courses SET price_amount = 11 WHERE id = %s RETURNING id",
           (other.id,))
    commit(db, world.actor("owner"), "UPDATE courses SET price_amount = 59.99 WHERE id = %s RETURNING id",
           (world.course.id,))
    for sql in ("SELECT id FROM audit_log WHERE entity_id = %(c)s",
                "SELECT id FROM audit_log WHERE organization_id = %(org)s",
                "SELECT id FROM audit_log WHERE course_id = %(c)s OR instructor_id = %(i)s"):
        assert fetch(db, world.actor("org_admin"), sql, {"c": other.id, "org": world.org_b,
                                                         "i": world.u["other_instructor"]}) == []
    assert scalar(db, world.actor("org_admin"), "SELECT count(*) FROM audit_log WHERE course_id = %s",
                  (world.course.id,)) >= 1


@pytest.mark.parametrize("who", ["anon", "student", "owner", "org_admin", "admin", "service"])
@pytest.mark.parametrize("sql", ["UPDATE audit_log SET reason = 'rewritten'", "DELETE FROM audit_log",
                                 "TRUNCATE audit_log",
                                 "INSERT INTO audit_log (actor_id, action, entity_type, entity_id) "
                                 "SELECT id, 'review.hidden', 'course_review', id FROM users LIMIT 1"])
def test_nobody_edits_the_audit_log(world, who, sql):
    """Anyone, an admin through authenticated and service_role included: every write is refused (42501),
    the actor cannot be forged by writing a row directly."""
    assert refusal(world.db, world.actor(who), sql) == DENIED


def test_not_even_the_owner_rewrites_the_audit_log(world):
    commit(world.db, world.actor("admin"), "UPDATE users SET role = 'instructor' WHERE id = %s RETURNING id",
           (world.u["stranger"],))
    for sql in ("UPDATE audit_log SET actor_id = NULL", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(psycopg2.Error) as refused:
            as_owner(world.db, sql)
        assert refused.value.pgcode == DENIED
    assert as_owner(world.db, "SELECT actor_id FROM audit_log WHERE entity_id = %s",
                    (world.u["stranger"],)) == world.u["admin"]
    as_owner(world.db, "UPDATE users SET role = 'student' WHERE id = %s RETURNING id", (world.u["stranger"],))


def test_the_author_cannot_undo_a_hide_or_wipe_reports_by_deleting_and_posting_again(world):
    """Review finding: the author of a hidden review deleted it and posted it again (visible), or deleted a
    reported one (its reports cascading away). Both deletes now touch no row, the hide and the reports stay,
    and posting again is refused (one review per student and course)."""
    db = world.db
    for hidden in (True, False):
        author = gen_user(db, "student")
        complete_course(db, author, world.course)
        review = commit(db, Actor.user(author), "INSERT INTO course_reviews (course_id, user_id, rating, "
                        "review_text) VALUES (%s, %s, 1, 'Rude') RETURNING id", (world.course.id, author))
        commit(db, world.actor("stranger"), "INSERT INTO review_reports (review_id, reason) VALUES (%s, 'offensive') "
               "RETURNING id", (review,))
        if hidden:
            commit(db, world.actor("admin"), "UPDATE course_reviews SET is_visible = false, moderation_reason = "
                   "'Rude' WHERE id = %s RETURNING id", (review,))
        assert outcome(db, Actor.user(author), "DELETE FROM course_reviews WHERE id = %s", (review,))[0] == 0
        assert sqlstate(db, Actor.user(author), "INSERT INTO course_reviews (course_id, user_id, rating, review_text) "
                        "VALUES (%s, %s, 1, 'bad again')", (world.course.id, author)) is not None
        assert as_owner(db, "SELECT is_visible FROM course_reviews WHERE id = %s", (review,)) is (not hidden)
        assert as_owner(db, "SELECT count(*) FROM review_reports WHERE review_id = %s", (review,)) == 1


# --- 022: lesson discussions, questions and answers, assignments -------------------------------------

@pytest.fixture(scope="module")
def talk(world):
    """A free course of the owner's with an assignment; the student enrolled comments, asks and hands in;
    the owner answers (committed)."""
    db = world.db
    course = gen_course(db, world.u["owner"], lessons=("text", "assignment"))
    co_teach(db, world.u["owner"], course.id, world.u["co_view"], "view_content")
    enroll(db, world.u["student"], course.id)
    me = world.actor("student")
    ids = {"course": course.id, "lesson": course.lessons[0], "assignment": course.lessons[1],
           "comment": commit(db, me, "INSERT INTO lesson_comments (course_id, lesson_id, body) "
                                     "VALUES (%s, %s, 'Mine') RETURNING id", (course.id, course.lessons[0])),
           "question": commit(db, me, "INSERT INTO course_questions (course_id, title) VALUES (%s, 'Mine?') "
                                      "RETURNING id", (course.id,)),
           "submission": commit(db, me, "SELECT submit_assignment(%s, 'Work', NULL)", (course.lessons[1],))}
    ids["answer"] = commit(db, world.actor("owner"), "INSERT INTO question_answers (question_id, course_id, body) "
                                                     "VALUES (%s, %s, 'Owner says') RETURNING id",
                           (ids["question"], course.id))
    return ids


@pytest.mark.parametrize("who", ["stranger", "pending", "other_instructor", "facilitator", "org_admin"])
def test_an_outsider_reads_and_writes_nothing_of_a_courses_discussion(world, talk, who):
    """A student of another course (or one whose enrollment is pending), another instructor, an org admin:
    nothing to read in any of the five tables, every write refused."""
    db, actor = world.db, world.actor(who)
    for table in ("lesson_comments", "course_questions", "question_answers", "assignment_submissions",
                  "discussion_reports"):
        with db.attempt(actor) as cur:
            cur.execute(f"SELECT count(*) AS n FROM {table}")
            assert cur.fetchone()["n"] == 0, table
    for sql, params in (
            ("INSERT INTO lesson_comments (course_id, lesson_id, body) VALUES (%s, %s, 'x')",
             (talk["course"], talk["lesson"])),
            ("INSERT INTO course_questions (course_id, title) VALUES (%s, 'Sneaky?')", (talk["course"],)),
            ("INSERT INTO question_answers (question_id, course_id, body) VALUES (%s, %s, 'x')",
             (talk["question"], talk["course"])),
            ("INSERT INTO discussion_reports (comment_id, reason) VALUES (%s, 'spam')", (talk["comment"],)),
            ("SELECT submit_assignment(%s, 'x', NULL)", (talk["assignment"],)),
            ("SELECT grade_assignment(%s, 100, NULL)", (talk["submission"],))):
        assert refusal(db, actor, sql, params) == DENIED, sql
    assert outcome(db, actor, "DELETE FROM lesson_comments WHERE id = %s", (talk["comment"],))[0] == 0


@pytest.mark.parametrize("who", ["student", "co_view", "stranger", "other_instructor"])
def test_nobody_grades_without_manage_students(world, talk, who):
    """The student grading themself, a co-instructor who reads content only, anyone else: refused by the
    function; no direct write exists (no grant)."""
    db, actor = world.db, world.actor(who)
    assert refusal(db, actor, "SELECT grade_assignment(%s, 100, 'self')", (talk["submission"],)) == DENIED
    assert refusal(db, actor, "UPDATE assignment_submissions SET score = 100, status = 'graded', graded_at = now() "
                              "WHERE id = %s", (talk["submission"],)) == DENIED
    assert as_owner(db, "SELECT status::text FROM assignment_submissions WHERE id = %s", (talk["submission"],)) \
        == "submitted"


@pytest.mark.parametrize("who", ["owner", "co_view", "pending", "stranger"])
def test_nobody_accepts_an_answer_on_behalf_of_the_asker(world, talk, who):
    state = outcome(world.db, world.actor(who), "UPDATE course_questions SET accepted_answer_id = %s WHERE id = %s",
                    (talk["answer"], talk["question"]))
    assert state == DENIED or state[0] == 0
    assert as_owner(world.db, "SELECT accepted_answer_id FROM course_questions WHERE id = %s",
                    (talk["question"],)) is None


def test_an_author_cannot_be_forged_nor_a_figure_written(world, talk):
    db, me = world.db, world.actor("student")
    assert refusal(db, me, "INSERT INTO lesson_comments (course_id, lesson_id, body, author_id) "
                           "VALUES (%s, %s, 'x', %s)", (talk["course"], talk["lesson"], world.u["owner"])) == DENIED
    for sql in ("UPDATE course_questions SET answer_count = 0 WHERE id = %s",
                "UPDATE lesson_comments SET open_report_count = 0 WHERE id = %s",
                "UPDATE student_progress SET comment_count = 99 WHERE id = %s"):
        assert refusal(db, me, sql, (talk["question"],)) == DENIED, sql

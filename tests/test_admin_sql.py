"""The platform admin's and the organization admin's rules in SQL (schema/017), proved as the API
roles an attacker would drive: every admin function refuses anyone but an active platform admin
(whatever the claims say), the rules about accounts hold for the functions and for a direct
UPDATE alike, a deactivated account is signed out and anonymous, and an organization admin reads
their own organization's rows only (never another's, never their instructors' standalone work)."""

from __future__ import annotations

import json
import uuid

import psycopg2
import pytest

from tests.support import Actor, enroll, gen_course, gen_org, gen_user, gen_workshop, pay, set_context

DENIED = "42501"
CHECK = "23514"

# Every admin function with arguments that would do something for an admin.
ADMIN_CALLS = {
    "admin_set_role": "SELECT admin_set_role(%(target)s, 'instructor', 'why')",
    "admin_set_active": "SELECT admin_set_active(%(target)s, false, 'why')",
    "admin_set_organization": "SELECT admin_set_organization(%(target)s, %(org)s, 'why')",
    "admin_set_instructor_flags": "SELECT admin_set_instructor_flags(%(teacher)s, true, true, 'why')",
    "admin_users": "SELECT * FROM admin_users(NULL, NULL, NULL, NULL, NULL, NULL, false, 10)",
    "admin_user": "SELECT * FROM admin_user(%(target)s)",
    "admin_overview": "SELECT admin_overview()",
    "admin_revenue_by_month": "SELECT * FROM admin_revenue_by_month(12)",
}


def refusal(db, actor, sql, params=None) -> tuple[str, str | None]:
    """(SQLSTATE, refusal code) of ``sql`` as ``actor``, rolled back; fails when it is not refused."""
    try:
        with db.attempt(actor) as cur:
            cur.execute(sql, params)
    except psycopg2.Error as exc:
        return exc.pgcode, exc.diag.constraint_name
    raise AssertionError(f"not refused: {sql}")


def run(db, actor, sql, params=None):
    """``sql`` as ``actor``, committed; its rows."""
    with db.act(actor) as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def one(db, actor, sql, params=None):
    rows = run(db, actor, sql, params)
    return next(iter(rows[0].values())) if rows else None


@pytest.fixture()
def cast(database):
    db = database
    org, other_org = gen_org(db, "Acme"), gen_org(db, "Globex")
    people = {
        "admin": gen_user(db, "admin"), "admin2": gen_user(db, "admin"),
        "student": gen_user(db, "student"), "teacher": gen_user(db, "instructor", org=org),
        "org_admin": gen_user(db, "org_admin", org=org), "other_org_admin": gen_user(db, "org_admin", org=other_org),
        "target": gen_user(db, "student", name="Target Person"),
    }
    return db, org, other_org, people


def params(people, org):
    return {"target": people["target"], "teacher": people["teacher"], "org": org}


# --- who may call the admin functions -------------------------------------------------------------

@pytest.mark.parametrize("name", list(ADMIN_CALLS))
@pytest.mark.parametrize("who", ["anon", "student", "teacher", "org_admin", "inactive_admin", "nobody"])
def test_no_one_but_an_active_platform_admin_calls_an_admin_function(cast, name, who):
    """A non-admin, a deactivated admin and forged claims (an id with no account) are all refused;
    anon may not even execute the functions."""
    db, org, _, people = cast
    if who == "inactive_admin":
        db.value("UPDATE users SET is_active = false WHERE id = %s RETURNING id", (people["admin2"],))
        actor = Actor.user(people["admin2"])
    elif who == "nobody":
        actor = Actor.user(uuid.uuid4())
    elif who == "anon":
        actor = Actor.anon()
    else:
        actor = Actor.user(people[who])
    state, code = refusal(db, actor, ADMIN_CALLS[name], params(people, org))
    assert state == DENIED
    if who != "anon":
        assert code == "admin_only"
    assert db.value("SELECT role::text || is_active::text FROM users WHERE id = %s", (people["target"],)) == \
        "studenttrue"


def test_claims_that_say_admin_do_not_make_an_admin(cast):
    """The caller is read from the users row (rls.uid / rls.is_admin), never from what the claims
    add: a student's token carrying role-like claims is still a student's."""
    db, org, _, people = cast
    forged = json.dumps({"role": "authenticated", "sub": str(people["student"]), "user_role": "admin",
                         "app_metadata": {"role": "admin"}})
    with pytest.raises(psycopg2.Error) as refused:
        with db.attempt(Actor.user(people["student"])) as cur:
            cur.execute("SELECT set_config('request.jwt.claims', %s, true)", (forged,))
            cur.execute("SELECT admin_set_role(%s, 'instructor')", (people["target"],))
    assert refused.value.pgcode == DENIED and refused.value.diag.constraint_name == "admin_only"


# --- roles ------------------------------------------------------------------------------------------

def test_student_to_instructor_creates_the_profile_and_settings_and_tells_them(cast):
    db, _, _, people = cast
    admin, target = Actor.user(people["admin"]), people["target"]
    assert db.value("SELECT count(*) FROM instructor_profiles WHERE user_id = %s", (target,)) == 0
    assert one(db, admin, "SELECT admin_set_role(%s, 'instructor', 'Teaches SQL')", (target,)) is True
    assert db.value("SELECT role::text FROM users WHERE id = %s", (target,)) == "instructor"
    assert db.value("SELECT visibility FROM instructor_profiles WHERE user_id = %s", (target,)) == "public"
    assert db.value("SELECT count(*) FROM instructor_settings WHERE user_id = %s", (target,)) == 1
    [notice] = db.rows("SELECT payload FROM notifications WHERE user_id = %s AND event_type = 'account_changed'",
                       (target,))
    assert notice["payload"] == {"kind": "role", "role": "instructor", "previous": "student", "reason": "Teaches SQL"}
    # the same again changes nothing and tells nobody twice
    assert one(db, admin, "SELECT admin_set_role(%s, 'instructor')", (target,)) is False
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s", (target,)) == 1
    # back to student while teaching nothing: allowed, the profile is hidden
    assert one(db, admin, "SELECT admin_set_role(%s, 'student')", (target,)) is True
    assert db.value("SELECT visibility FROM instructor_profiles WHERE user_id = %s", (target,)) == "hidden"


@pytest.mark.parametrize("teaching", ["owns_course", "owns_workshop", "co_teaches"])
@pytest.mark.parametrize("how", ["function", "update"])
def test_an_instructor_who_teaches_stays_an_instructor(cast, teaching, how):
    """Demoting an instructor who owns or co-teaches is refused with a reason, by the function and
    by an admin's direct UPDATE alike."""
    db, _, _, people = cast
    teacher = gen_user(db, "instructor")
    if teaching == "owns_course":
        gen_course(db, teacher, status="draft")
    elif teaching == "owns_workshop":
        gen_workshop(db, teacher)
    else:
        course = gen_course(db, gen_user(db, "instructor"))
        db.value("INSERT INTO course_instructors (course_id, instructor_id, role, permissions) "
                 "VALUES (%s, %s, 'co-instructor', '{}') RETURNING id", (course.id, teacher))
    sql = ("SELECT admin_set_role(%s, 'student')" if how == "function"
           else "UPDATE users SET role = 'student' WHERE id = %s")
    assert refusal(db, Actor.user(people["admin"]), sql, (teacher,)) == (CHECK, "instructor_still_teaches")
    assert db.value("SELECT role::text FROM users WHERE id = %s", (teacher,)) == "instructor"


@pytest.mark.parametrize("how", ["function", "update"])
@pytest.mark.parametrize("change", ["demote_self", "deactivate_self", "make_admin", "demote_other_admin",
                                    "leave_org_self"])
def test_admin_role_and_self_changes_are_refused(cast, how, change):
    """An admin never demotes, deactivates or moves themself (so the last admin stays), and the
    admin role is neither given nor taken through the API roles."""
    db, org, _, people = cast
    me = people["admin"]
    calls = {
        "demote_self": (("SELECT admin_set_role(%(me)s, 'student')",
                         "UPDATE users SET role = 'student' WHERE id = %(me)s"), "admin_changes_self"),
        "deactivate_self": (("SELECT admin_set_active(%(me)s, false)",
                             "UPDATE users SET is_active = false WHERE id = %(me)s"), "admin_changes_self"),
        "make_admin": (("SELECT admin_set_role(%(target)s, 'admin')",
                        "UPDATE users SET role = 'admin' WHERE id = %(target)s"), "admin_role_by_operators"),
        "demote_other_admin": (("SELECT admin_set_role(%(admin2)s, 'student')",
                                "UPDATE users SET role = 'student' WHERE id = %(admin2)s"), "admin_role_by_operators"),
        "leave_org_self": (("SELECT admin_set_organization(%(me)s, %(org)s)",
                            "UPDATE users SET organization_id = %(org)s WHERE id = %(me)s"), "admin_changes_self"),
    }
    (by_function, by_update), code = calls[change]
    sql = by_function if how == "function" else by_update
    values = {"me": me, "target": people["target"], "admin2": people["admin2"], "org": org}
    assert refusal(db, Actor.user(me), sql, values) == (DENIED, code)
    assert db.value("SELECT count(*) FROM users WHERE role = 'admin' AND is_active") == 2


@pytest.mark.parametrize("how", ["function", "update"])
def test_an_admin_neither_deactivates_nor_reactivates_another_admin(cast, how):
    """Deactivating a platform admin is the operators' (like the role): otherwise two admins
    deactivating each other at once leave none, and one stolen session locks every other out."""
    db, _, _, people = cast
    admin = Actor.user(people["admin"])
    sql = ("SELECT admin_set_active(%(a)s, %(v)s)" if how == "function"
           else "UPDATE users SET is_active = %(v)s WHERE id = %(a)s")
    assert refusal(db, admin, sql, {"a": people["admin2"], "v": False}) == (DENIED, "admin_active_by_operators")
    assert db.value("SELECT count(*) FROM users WHERE role = 'admin' AND is_active") == 2
    # an admin the operators deactivated is reactivated by them too
    db.value("UPDATE users SET is_active = false WHERE id = %s RETURNING id", (people["admin2"],))
    assert refusal(db, admin, sql, {"a": people["admin2"], "v": True}) == (DENIED, "admin_active_by_operators")
    assert db.value("SELECT is_active FROM users WHERE id = %s", (people["admin2"],)) is False


def test_two_admins_deactivating_each_other_at_once_leave_both_active(cast):
    """The race of the review: each admin's transaction passes require_admin before the other
    commits; both are now refused by the rule itself, so both stay active."""
    db, _, _, people = cast
    first, second = db.connect_app(), db.connect_app()
    try:
        outcomes = []
        for conn, me, other in ((first, "admin", "admin2"), (second, "admin2", "admin")):
            with conn.cursor() as cur:
                set_context(cur, Actor.user(people[me]))
                try:
                    cur.execute("SELECT admin_set_active(%s, false)", (people[other],))
                    outcomes.append("done")
                except psycopg2.Error as exc:
                    outcomes.append(exc.diag.constraint_name)
        for conn, outcome in zip((first, second), outcomes):
            if outcome == "done":
                conn.commit()
            else:
                conn.rollback()
    finally:
        first.close()
        second.close()
    assert outcomes == ["admin_active_by_operators", "admin_active_by_operators"]
    assert db.value("SELECT count(*) FROM users WHERE role = 'admin' AND is_active") == 2


def test_an_org_admin_does_not_move_to_another_organization_and_stay_its_admin(cast):
    """A direct UPDATE of an org admin's organization (keeping the role) is refused: they could
    rename the next organization. The function makes a moved org admin a student instead."""
    db, org, other_org, people = cast
    admin = Actor.user(people["admin"])
    for sql in ("UPDATE users SET organization_id = %(o)s WHERE id = %(u)s",
                "UPDATE users SET organization_id = %(o)s, role = 'org_admin' WHERE id = %(u)s"):
        assert refusal(db, admin, sql, {"o": other_org, "u": people["org_admin"]}) == \
            (CHECK, "org_admin_changes_organization")
    assert db.rows("SELECT role::text, organization_id FROM users WHERE id = %s", (people["org_admin"],)) == \
        [{"role": "org_admin", "organization_id": org}]
    # leaving the role with the move is allowed
    run(db, admin, "UPDATE users SET organization_id = %s, role = 'student' WHERE id = %s",
        (other_org, people["org_admin"]))
    assert db.rows("SELECT role::text, organization_id FROM users WHERE id = %s", (people["org_admin"],)) == \
        [{"role": "student", "organization_id": other_org}]


def test_an_org_admin_cannot_promote_themself_or_change_members(cast):
    db, org, _, people = cast
    me = Actor.user(people["org_admin"])
    assert refusal(db, me, "UPDATE users SET role = 'admin' WHERE id = %s", (people["org_admin"],))[0] == DENIED
    assert refusal(db, me, "SELECT admin_set_role(%s, 'admin')", (people["org_admin"],)) == (DENIED, "admin_only")
    with db.attempt(me) as cur:  # users_update: their members' rows are not theirs to update
        cur.execute("UPDATE users SET role = 'org_admin' WHERE id = %s", (people["teacher"],))
        assert cur.rowcount == 0
        cur.execute("UPDATE users SET full_name = 'Renamed' WHERE id = %s", (people["teacher"],))
        assert cur.rowcount == 0
    assert db.value("SELECT role::text FROM users WHERE id = %s", (people["teacher"],)) == "instructor"
    assert db.value("SELECT role::text FROM users WHERE id = %s", (people["org_admin"],)) == "org_admin"


def test_org_admin_role_needs_an_organization_and_leaving_it_ends_the_role(cast):
    db, org, other_org, people = cast
    admin, target = Actor.user(people["admin"]), people["target"]
    assert refusal(db, admin, "SELECT admin_set_role(%s, 'org_admin')", (target,)) == \
        (CHECK, "org_admin_needs_organization")
    assert one(db, admin, "SELECT admin_set_organization(%s, %s, NULL)", (target, org)) is True
    assert one(db, admin, "SELECT admin_set_role(%s, 'org_admin')", (target,)) is True
    # moved to another organization: a plain member there, no longer anyone's admin
    assert one(db, admin, "SELECT admin_set_organization(%s, %s)", (target, other_org)) is True
    assert db.rows("SELECT role::text, organization_id FROM users WHERE id = %s", (target,)) == \
        [{"role": "student", "organization_id": other_org}]
    assert one(db, admin, "SELECT admin_set_organization(%s, NULL)", (target,)) is True
    assert db.value("SELECT organization_id FROM users WHERE id = %s", (target,)) is None
    assert refusal(db, admin, "SELECT admin_set_organization(%s, %s)", (target, uuid.uuid4())) == \
        (CHECK, "organization_not_found")


def test_a_reason_is_at_most_500_characters(cast):
    db, _, _, people = cast
    assert refusal(db, Actor.user(people["admin"]), "SELECT admin_set_role(%s, 'instructor', %s)",
                   (people["target"], "x" * 501)) == (CHECK, "admin_reason_length")


def test_the_admins_reason_is_filed_with_the_audit_rows_of_the_act(cast):
    """The reason typed with an admin function is the reason of the audit rows its change writes
    (018), each act with its own (a later act without one files none); a non-admin who sets the
    setting the functions use annotates nothing of theirs."""
    db, org, _, people = cast
    admin, target = Actor.user(people["admin"]), people["target"]
    assert one(db, admin, "SELECT admin_set_role(%s, 'instructor', '  Asked by their manager ')",
               (target,)) is True
    assert one(db, admin, "SELECT admin_set_instructor_flags(%s, true, NULL, 'Checked their diploma')",
               (target,)) is True
    with db.act(admin) as cur:  # two acts in one transaction: the second has no reason
        cur.execute("SELECT admin_set_organization(%s, %s, 'Joined Acme')", (target, org))
        cur.execute("SELECT admin_set_active(%s, false)", (target,))
    assert db.rows("SELECT action, reason FROM audit_log WHERE entity_id = %s ORDER BY id", (target,)) == [
        {"action": "user.role_changed", "reason": "Asked by their manager"},
        {"action": "instructor.verified", "reason": "Checked their diploma"},
        {"action": "user.organization_changed", "reason": "Joined Acme"},
        {"action": "user.deactivated", "reason": None}]
    teacher = people["teacher"]
    run(db, Actor.user(teacher), "SELECT set_config('portal.audit_reason', 'The admin told me to', true); "
        "UPDATE courses SET price_amount = 12 WHERE id = %s", (gen_course(db, teacher).id,))
    assert db.value("SELECT count(*) FROM audit_log WHERE actor_id = %s AND reason IS NOT NULL", (teacher,)) == 0


def test_verify_and_feature_an_instructor(cast):
    db, _, _, people = cast
    admin = Actor.user(people["admin"])
    assert one(db, admin, "SELECT admin_set_instructor_flags(%s, true, NULL)", (people["teacher"],)) is True
    assert db.rows("SELECT is_verified, is_featured FROM instructor_profiles WHERE user_id = %s",
                   (people["teacher"],)) == [{"is_verified": True, "is_featured": False}]
    assert one(db, admin, "SELECT admin_set_instructor_flags(%s, NULL, true)", (people["teacher"],)) is True
    assert db.value("SELECT is_featured FROM instructor_profiles WHERE user_id = %s", (people["teacher"],)) is True
    assert refusal(db, admin, "SELECT admin_set_instructor_flags(%s, true, true)", (people["target"],)) == \
        (CHECK, "not_an_instructor")
    # the instructor may not verify themself, directly
    assert refusal(db, Actor.user(people["teacher"]),
                   "UPDATE instructor_profiles SET is_featured = false WHERE user_id = %s", (people["teacher"],))[0] \
        == DENIED


# --- deactivation ---------------------------------------------------------------------------------------

def test_deactivating_signs_out_everywhere_and_the_account_is_anonymous(cast):
    db, _, _, people = cast
    target = people["target"]
    me = Actor.user(target)
    sessions = [one(db, me, "SELECT start_session('agent', '127.0.0.1')") for _ in range(2)]
    assert one(db, me, "SELECT session_is_active(%s)", (sessions[0],)) is True
    assert one(db, Actor.user(people["admin"]), "SELECT admin_set_active(%s, false, 'Spam')", (target,)) is True
    assert db.value("SELECT count(*) FROM user_sessions WHERE user_id = %s AND revoked_at IS NULL", (target,)) == 0
    # their claims are anon's now: no caller, no session, no own row, no account
    assert one(db, me, "SELECT rls.uid()") is None
    assert one(db, me, "SELECT session_is_active(%s)", (sessions[1],)) is False
    assert run(db, me, "SELECT id FROM users WHERE id = %s", (target,)) == []
    assert run(db, me, "SELECT * FROM my_account()") == []
    assert refusal(db, me, "SELECT start_session('agent', '127.0.0.1')") == (DENIED, "sign_in_required")
    # no notice to a deactivated account; reactivating tells them
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s", (target,)) == 0
    assert one(db, Actor.user(people["admin"]), "SELECT admin_set_active(%s, true)", (target,)) is True
    assert one(db, me, "SELECT rls.uid()") == target
    assert db.value("SELECT payload ->> 'kind' FROM notifications WHERE user_id = %s AND "
                    "event_type = 'account_changed'", (target,)) == "reactivated"


# --- reads ----------------------------------------------------------------------------------------------------

def test_the_user_search_matches_name_or_email_and_filters(cast):
    db, org, _, people = cast
    admin = Actor.user(people["admin"])
    gen_user(db, "student", name="Percent 100% Person", email="pct@example.test")
    search = "SELECT full_name FROM admin_users(%s, NULL, NULL, NULL, NULL, NULL, false, 10)"
    found = run(db, admin, search, ("100%",))
    assert [r["full_name"] for r in found] == ["Percent 100% Person"]   # % is a plain character
    assert run(db, admin, search, ("10_%",)) == []
    by_email = run(db, admin, search, ("PCT@EXAMPLE",))
    assert len(by_email) == 1
    members = run(db, admin, "SELECT id FROM admin_users(NULL, NULL, NULL, %s, NULL, NULL, false, 10)", (org,))
    assert {r["id"] for r in members} == {people["teacher"], people["org_admin"]}
    admins = run(db, admin, "SELECT id FROM admin_users(NULL, 'org_admin', true, NULL, NULL, NULL, false, 10)")
    assert {r["id"] for r in admins} == {people["org_admin"], people["other_org_admin"]}


def test_a_search_of_one_or_two_characters_matches_no_one(cast):
    """Trigrams cannot serve one or two characters (every user would be read): no one matches."""
    db, _, _, people = cast
    admin = Actor.user(people["admin"])
    sql = "SELECT id FROM admin_users(%s, NULL, NULL, NULL, NULL, NULL, false, 10)"
    assert run(db, admin, sql, ("ta",)) == [] and run(db, admin, sql, (" t ",)) == []
    assert [r["id"] for r in run(db, admin, sql, ("target pers",))] == [people["target"]]


def test_the_user_list_pages_by_position_both_ways(cast):
    db, _, _, people = cast
    admin = Actor.user(people["admin"])
    everyone = run(db, admin, "SELECT id, created_at FROM admin_users(NULL, NULL, NULL, NULL, NULL, NULL, false, 100)")
    assert len(everyone) == db.value("SELECT count(*) FROM users")
    first = everyone[:3]
    after = run(db, admin, "SELECT id FROM admin_users(NULL, NULL, NULL, NULL, %s, %s, false, 3)",
                (first[-1]["created_at"], first[-1]["id"]))
    assert [r["id"] for r in after] == [r["id"] for r in everyone[3:6]]
    before = run(db, admin, "SELECT id FROM admin_users(NULL, NULL, NULL, NULL, %s, %s, true, 3)",
                 (everyone[3]["created_at"], everyone[3]["id"]))
    assert [r["id"] for r in reversed(before)] == [r["id"] for r in first]


def test_the_overview_counts_from_kept_figures(cast):
    db, _, _, people = cast
    course = gen_course(db, people["teacher"])
    enroll(db, people["target"], course.id)
    figures = one(db, Actor.user(people["admin"]), "SELECT admin_overview()")
    assert figures["users"]["admin"] == 2 and figures["users"]["org_admin"] == 2
    assert figures["courses"] == {"published": 1} and figures["enrollments"]["enrolled"] == 1
    assert figures["open_reports"] == 0 and figures["organizations"] == 2
    months = run(db, Actor.user(people["admin"]), "SELECT * FROM admin_revenue_by_month(12)")
    assert len(months) == 12 and months[0]["month"] < months[-1]["month"]


def test_users_by_role_are_kept_by_triggers(cast):
    """The overview's users by role come from private.user_role_counts, kept by deltas on insert
    (one statement of many rows too), change of role and delete; the check finds no mismatch."""
    db, org, _, people = cast
    admin = Actor.user(people["admin"])

    def kept():
        return {r["role"]: r["users"] for r in db.rows("SELECT role::text, users FROM private.user_role_counts")}

    def counted():
        return {r["role"]: r["n"] for r in db.rows("SELECT role::text, count(*) AS n FROM users GROUP BY role")}

    assert {k: v for k, v in kept().items() if v} == counted()
    db.value("INSERT INTO users (email, full_name, role) SELECT 'bulk' || n || '@example.test', 'Bulk', 'student' "
             "FROM generate_series(1, 3) n RETURNING 1")
    one(db, admin, "SELECT admin_set_role(%s, 'instructor')", (people["target"],))
    one(db, admin, "SELECT admin_set_organization(%s, %s)", (people["student"], org))
    one(db, admin, "SELECT admin_set_role(%s, 'org_admin')", (people["student"],))
    db.value("DELETE FROM users WHERE email = 'bulk1@example.test' RETURNING 1")
    assert {k: v for k, v in kept().items() if v} == counted()
    assert db.rows("SELECT * FROM private.verify_user_role_counts()") == []
    assert one(db, admin, "SELECT admin_overview()")["users"] == counted()
    # the check sees a drift
    db.value("UPDATE private.user_role_counts SET users = users + 1 WHERE role = 'admin' RETURNING 1")
    assert [r["role"] for r in db.rows("SELECT role::text FROM private.verify_user_role_counts()")] == ["admin"]


def test_a_demoted_members_profile_is_neither_counted_nor_flagged(cast):
    """A member demoted to student keeps a hidden, verified profile: the overview counts instructors'
    profiles only, and the admin may not verify or feature the hidden one."""
    db, _, _, people = cast
    admin = Actor.user(people["admin"])
    assert one(db, admin, "SELECT admin_set_instructor_flags(%s, true, true)", (people["teacher"],)) is True
    before = one(db, admin, "SELECT admin_overview()")["instructors"]
    assert (before["verified"], before["featured"]) == (1, 1)
    assert one(db, admin, "SELECT admin_set_role(%s, 'student')", (people["teacher"],)) is True
    after = one(db, admin, "SELECT admin_overview()")["instructors"]
    assert (after["profiles"], after["verified"], after["featured"]) == (before["profiles"] - 1, 0, 0)
    assert refusal(db, admin, "SELECT admin_set_instructor_flags(%s, false, NULL)", (people["teacher"],)) == \
        (CHECK, "not_an_instructor")
    assert db.value("SELECT is_verified FROM instructor_profiles WHERE user_id = %s", (people["teacher"],)) is True


def test_the_profile_notice_says_what_changed(cast):
    db, _, _, people = cast
    admin = Actor.user(people["admin"])
    one(db, admin, "SELECT admin_set_instructor_flags(%s, true, true)", (people["teacher"],))
    one(db, admin, "SELECT admin_set_instructor_flags(%s, NULL, false)", (people["teacher"],))
    payloads = [r["payload"] for r in db.rows(
        "SELECT payload FROM notifications WHERE user_id = %s AND event_type = 'account_changed' "
        "ORDER BY created_at, id", (people["teacher"],))]
    assert [(p["was_verified"], p["verified"], p["was_featured"], p["featured"]) for p in payloads] == \
        [(False, True, False, True), (True, True, True, False)]


# --- the organization admin reads their organization only -------------------------------------------------

@pytest.fixture()
def orgs(database):
    """Two organizations, each with an admin and an instructor who teaches an org course; the first
    instructor also has standalone courses (draft and published) and a standalone workshop, all sold."""
    db = database
    acme, globex = gen_org(db, "Acme"), gen_org(db, "Globex")
    acme_admin, globex_admin = gen_user(db, "org_admin", org=acme), gen_user(db, "org_admin", org=globex)
    ada, bob = gen_user(db, "instructor", org=acme), gen_user(db, "instructor", org=globex)
    courses = {
        "acme": gen_course(db, ada, org=acme, price="50"),
        "acme_draft": gen_course(db, ada, org=acme, status="draft"),
        "globex_draft": gen_course(db, bob, org=globex, status="draft", price="40"),
        "globex": gen_course(db, bob, org=globex, price="40"),
        "standalone": gen_course(db, ada, price="30"),
        "standalone_draft": gen_course(db, ada, status="draft"),
    }
    workshops = {"acme": gen_workshop(db, ada, org=acme), "standalone": gen_workshop(db, ada),
                 "globex": gen_workshop(db, bob, org=globex)}
    student = gen_user(db, "student")
    for key in ("acme", "globex", "standalone"):
        pay(db, enroll(db, student, courses[key].id))
    db.value("SELECT refresh_instructor_monthly_stats()")
    return db, {"acme": acme, "globex": globex}, {"acme": acme_admin, "globex": globex_admin}, \
        {"ada": ada, "bob": bob}, courses, workshops


def test_an_org_admin_reads_their_organizations_rows_only(orgs):
    db, org, admins, teachers, courses, workshops = orgs
    me = Actor.user(admins["acme"])
    ids = lambda rows: {r["id"] for r in rows}  # noqa: E731
    # courses: their organization's (drafts too); another organization's draft and their instructor's
    # standalone draft are invisible (published ones are public, so pages filter by organization)
    visible = ids(run(db, me, "SELECT id FROM courses"))
    assert {courses["acme"].id, courses["acme_draft"].id} <= visible
    assert courses["globex_draft"].id not in visible and courses["standalone_draft"].id not in visible
    assert ids(run(db, me, "SELECT id FROM courses WHERE organization_id = rls.admin_org()")) == \
        {courses["acme"].id, courses["acme_draft"].id}
    # workshops the same way
    assert ids(run(db, me, "SELECT id FROM workshops WHERE organization_id = rls.admin_org()")) == {workshops["acme"]}
    # enrollments and revenue: their organization's courses only
    enrolled = {r["course_id"] for r in run(db, me, "SELECT course_id FROM course_enrollments")}
    assert enrolled == {courses["acme"].id}
    sold = {r["course_id"] for r in run(db, me, "SELECT course_id FROM revenue_transactions")}
    assert sold == {courses["acme"].id}
    assert one(db, me, "SELECT course_revenue(%s)", (courses["acme"].id,)) == 50
    for key in ("globex", "standalone"):
        assert one(db, me, "SELECT course_revenue(%s)", (courses[key].id,)) is None
    assert one(db, me, "SELECT workshop_revenue(%s)", (workshops["standalone"],)) is None
    # the home's totals (023): the same kept figures summed once, their organization's only
    assert run(db, me, "SELECT * FROM org_revenue_totals()") == [{"course_revenue": 50, "workshop_revenue": 0}]
    # the months: their organization's sale, not the standalone one nor Globex's
    months = run(db, me, "SELECT * FROM org_revenue_by_month(12)")
    assert sum(m["gross_revenue"] for m in months) == 50 and sum(m["new_enrollments"] for m in months) == 1
    # members: their own organization's; another organization's users are not readable at all
    assert teachers["bob"] not in ids(run(db, me, "SELECT id FROM users"))
    assert run(db, me, "SELECT * FROM account_of(%s)", (teachers["bob"],)) == []


def test_org_instructor_ids_answer_the_callers_organization_only(cast):
    """The org admin's instructors: role instructor (not a demoted member, not another org's),
    active or not by the argument; nothing for anyone else."""
    db, org, _, people = cast
    gone = gen_user(db, "instructor", org=org)
    db.value("UPDATE users SET is_active = false WHERE id = %s RETURNING id", (gone,))
    sql = "SELECT rls.org_instructor_ids(%s) AS ids"
    mine = Actor.user(people["org_admin"])
    assert set(one(db, mine, sql, (None,))) == {people["teacher"], gone}
    assert one(db, mine, sql, (True,)) == [people["teacher"]]
    assert one(db, mine, sql, (False,)) == [gone]
    for other in ("other_org_admin", "admin", "teacher", "student"):
        assert one(db, Actor.user(people[other]), sql, (None,)) == [], other


def test_org_revenue_is_nothing_for_anyone_but_an_org_admin(orgs):
    db, _, _, teachers, _, _ = orgs
    assert run(db, Actor.user(teachers["ada"]), "SELECT * FROM org_revenue_by_month(12)") == []
    for who in (Actor.user(teachers["ada"]), Actor.user(teachers["bob"])):
        assert run(db, who, "SELECT * FROM org_revenue_totals()") == [{"course_revenue": 0, "workshop_revenue": 0}]
    with pytest.raises(psycopg2.Error) as refused:
        with db.attempt(Actor.anon()) as cur:
            cur.execute("SELECT * FROM org_revenue_by_month(12)")
    assert refused.value.pgcode == DENIED


def test_an_org_admin_cannot_read_another_organization_through_the_admin_functions(orgs):
    db, org, admins, _, _, _ = orgs
    assert refusal(db, Actor.user(admins["acme"]), "SELECT * FROM admin_users(NULL, NULL, NULL, %s, NULL, NULL, "
                   "false, 10)", (org["globex"],)) == (DENIED, "admin_only")


def test_the_search_expression_is_the_trigram_indexs(cast):
    """admin_users compares lower(full_name || ' ' || email::text), the expression of idx_users_search
    (013): the planner can answer a search from the index (seq scans off to make the choice visible on
    a small table), so a search at a million users reads the matches, not every user."""
    db = cast[0]
    with db.owner.cursor() as cur:
        cur.execute("BEGIN; SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN SELECT u.id FROM public.users u "
                    "WHERE lower(u.full_name || ' ' || u.email::text) LIKE '%zebulon%'")
        plan = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("ROLLBACK")
    assert "idx_users_search" in plan
    source = db.value("SELECT prosrc FROM pg_proc WHERE proname = 'admin_users'")
    assert "lower(u.full_name || '' '' || u.email::text) LIKE $2" in source

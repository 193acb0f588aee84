"""What the API roles may do, object by object: the grants are an allow-list, and they hold on Supabase.

shared/spec/access-model.md, "Threat model": the API roles (anon, authenticated, service_role) may be
driven directly, and the sign-in functions belong to portal_signin alone. A function is callable by an
API role only if it is named below; a money column or a meeting link is never readable by anon or
authenticated; and a database whose default privileges grant ALL to the API roles (Supabase's) ends up
with exactly the privileges of a plain one once migrated.

010 adds the job queue: schema procrastinate (the library's tables and functions) belongs to
portal_worker, the worker's NOLOGIN role, and no API role holds any privilege there; the worker
executes exactly its allow-list below and reads no table of the portal.
"""

from __future__ import annotations

import secrets

import psycopg2
import pytest

from portal import db as portal_db

API_ROLES = ("anon", "authenticated", "service_role", "portal_signin")
SCHEMAS = ("public", "private", "rls")
# The roles whose executable functions are allow-listed: the API roles and the job queue's worker (010).
WORKER = "portal_worker"
LISTED_ROLES = API_ROLES + (WORKER,)
QUEUE_SCHEMA = "procrastinate"

# Every function of schemas public, rls and private each role may EXECUTE (extension members and
# schema auth aside), as regprocedure text with schemas spelled out. Built from the GRANTs of
# schema/007_security.sql, 008_scale.sql and 010_notifications.sql and confirmed with the query of
# ``executable``. Sizes: anon 5, authenticated 99, service_role 14, portal_signin 12, portal_worker 18.
EXECUTE = {
    "anon": {
        "public.lesson_quiz(uuid)",
        "public.sign_up(text,text,text,public.user_role)",
        "public.verify_certificate(text)",
        # 010: the health endpoints' question (counts only: live workers, the oldest due job's age)
        "public.job_queue_health()",
        # 015: what an invitation's link shows (the token is the credential; only its hash is sent)
        "public.invitation_target(text)",
        # 021: a calendar feed's workshops (the feed token is the credential; public fields, no link)
        "public.calendar_feed_workshops(text)",
    },
    "authenticated": {
        # the caller's sets, for policies and guards running as the caller
        "rls.admin_org()",
        "rls.course_ids(text[])",
        "rls.enrolled_course_ids()",
        "rls.is_admin()",
        "rls.lesson_released(uuid)",
        "rls.member_org()",
        "rls.org_course_ids()",
        "rls.org_member_ids()",
        "rls.org_instructor_ids(boolean)",  # 017: the org admin's instructors
        "rls.org_workshop_ids()",
        "rls.owned_course_ids()",
        "rls.taught_course_ids()",
        "rls.owned_workshop_ids()",
        "rls.registered_workshop_ids(public.registration_status[])",
        "rls.role()",
        "rls.teacher_ids()",
        "rls.uid()",
        "rls.workshop_ids()",
        # guards' helpers, for the caller only
        "public.api_caller()",
        "public.refuse(text)",
        "public.current_user_role()",
        "public.is_platform_admin()",
        "public.has_course_permission(uuid,text)",
        "public.is_course_owner(uuid)",
        "public.is_workshop_staff(uuid)",
        "public.can_review_course(uuid)",
        "public.can_see_review(uuid)",
        "public.is_review_author(uuid)",
        "public.can_view_instructor(uuid)",
        # the account
        "public.my_account()",
        "public.account_of(uuid)",
        "public.verify_certificate(text)",
        # enrolling, registering, paying
        "public.enroll_in_course(uuid)",
        "public.register_for_workshop(uuid)",
        "public.start_checkout(uuid,text)",
        # learning
        "public.learning_outline(uuid)",
        "public.lesson_quiz(uuid)",
        "public.start_lesson(uuid)",
        "public.complete_lesson(uuid)",
        "public.record_watch_time(uuid,integer)",
        "public.submit_quiz(uuid,integer[])",
        # money and links, to those who may
        "public.course_revenue(uuid)",
        "public.workshop_revenue(uuid)",
        "public.workshop_meeting_url(uuid)",
        "public.enrollment_amount_paid(uuid)",
        "public.registration_amount_paid(uuid)",
        "public.admin_refund(uuid,uuid)",
        "public.mark_payouts_paid(uuid[])",
        # the course builder
        "public.add_course_instructor(uuid,text,public.course_instructor_role,jsonb)",
        "public.course_is_publishable(uuid)",
        "public.has_empty_quiz(uuid)",
        "public.lock_course_outline(uuid)",
        "public.require_content_editor(uuid)",
        "public.renumber_modules(uuid)",
        "public.renumber_lessons(uuid)",
        "public.move_module(uuid,integer)",
        "public.move_lesson(uuid,uuid,integer)",
        "public.delete_module(uuid)",
        "public.delete_lesson(uuid)",
        "public.shift_module(uuid,integer)",
        "public.shift_lesson(uuid,integer)",
        "public.is_iso_date(text)",
        "public.valid_drip_schedule(jsonb)",
        "public.valid_quiz(jsonb)",
        "public.drip_rule_met(jsonb,timestamp with time zone,text)",
        "public.drip_rule_opens_at(jsonb,timestamp with time zone,text)",
        # the instructor's dashboard
        "public.get_instructor_dashboard_stats(uuid)",
        "public.get_instructor_student_progress(uuid,uuid)",
        "public.get_instructor_student_progress_page(uuid,uuid,integer,timestamp with time zone,uuid)",
        "public.get_instructor_revenue_breakdown(uuid,timestamp with time zone,timestamp with time zone)",
        "public.get_instructor_recent_activity(uuid,integer,timestamp with time zone,uuid)",
        "public.get_instructor_monthly_stats(uuid)",
        "public.pending_approvals_count()",
        # 012: which reviews of the caller's own courses have open reports (ids only, never who or why)
        "public.reported_review_ids()",
        # 013: the roster's at-risk rule (inlined), the caller's thresholds and counts, payment apart
        "public.student_lagging(public.enrollment_status,timestamp with time zone,numeric,integer,integer,timestamp with time zone)",
        "public.student_inactive(public.enrollment_status,timestamp with time zone,timestamp with time zone,integer,timestamp with time zone)",
        "public.at_risk_thresholds()",
        "public.at_risk_count()",
        "public.awaiting_payment_count()",
        # 013: the caller's own students whose name or email contain a text (ids only)
        "public.roster_search(text,integer)",
        # 014: the caller's student activity (their timeline, co-taught courses, facilitated
        # workshops), filtered and paged; SECURITY INVOKER, for the caller only
        "public.instructor_activity_page(uuid,public.activity_type,uuid,integer,timestamp with time zone,uuid,"
        "timestamp with time zone,uuid,boolean)",
        "public.inactive_completions(uuid)",
        # 017: the platform admin's portal (each refuses anyone but an active platform admin: admin_only)
        "public.admin_set_role(uuid,public.user_role,text)",
        "public.admin_set_active(uuid,boolean,text)",
        "public.admin_set_organization(uuid,uuid,text)",
        "public.admin_set_instructor_flags(uuid,boolean,boolean,text)",
        "public.admin_users(text,public.user_role,boolean,uuid,timestamp with time zone,uuid,boolean,integer)",
        "public.admin_user(uuid)",
        "public.admin_overview()",
        "public.admin_revenue_by_month(integer)",
        # 017: the organization admin's months (their organization's rows only; nothing for others)
        "public.org_revenue_by_month(integer)",
        "public.org_revenue_totals()",  # 023: the home's two totals (their organization's; 0 for others)
        # 010: the admin's queue page (each refuses anyone but a platform admin: not_permitted)
        "public.job_queue_counts()",
        "public.job_queue_jobs(text,bigint,integer)",
        "public.mark_all_notifications_read()",
        "public.retry_dead_job(bigint)",
        "public.job_queue_health()",
        # 011: a "students only" profile, for the instructor's own students
        "public.instructor_for_their_students(uuid)",
        # 011: the account, each for the caller's own only (rls.uid(); refuses the anonymous)
        "public.start_session(text,text)",
        "public.session_is_active(uuid)",
        "public.end_sessions(uuid,uuid)",
        "public.cancel_email_change()",
        "public.export_my_data()",
        "public.account_deletion_outcome()",
        # 011: what the profile's checks call (immutable, read nothing)
        "public.valid_profile_rows(jsonb,text[],text[])",
        "public.valid_social_links(jsonb)",
        "public.valid_expertise_tags(text[])",
        # 015: bulk enrollment, invitations and announcements; each checks the caller itself
        # (manage_students on the course; a signed-in, active account for an invitation)
        "public.bulk_enroll_preview(uuid,text[])",
        "public.bulk_enroll(uuid,text[],boolean,integer)",
        "public.bulk_additions_left(integer)",
        "public.invitation_target(text)",
        "public.accept_invitation(text)",
        "public.revoke_invitation(uuid)",  # manage_students on the invitation's course
        "public.post_announcement(uuid,text,text,text)",
        "rls.course_ids_enrolled_as(public.enrollment_status[])",
        # 020: revenue. Refunds (the sale's instructor within the window; an admin, in full or in
        # part), payout batches (admins), the overview's figures (the caller's revenue, under RLS),
        # a student's own payments, and two plain helpers.
        "public.refund_my_sale(uuid,text)",
        "public.admin_refund_sale(uuid,numeric,text)",
        "public.create_payout(uuid,character)",
        "public.mark_payout_paid(uuid,text)",
        "public.cancel_payout(uuid)",
        "public.revenue_period_figures(timestamp with time zone,timestamp with time zone,uuid,uuid)",
        "public.revenue_period_sums(timestamp with time zone,timestamp with time zone,uuid,uuid)",
        "public.my_payments(integer,timestamp with time zone,uuid,uuid)",
        "public.refund_window()",
        "public.next_payout_date(text,date)",
        "public.request_monthly_stats_refresh()",  # admins: queue the nightly refresh now
        "public.unapplied_refund_events(integer)",  # admins: the provider's refunds not applied
        # 022: the policies' sets (the caller's courses whose comments / questions are on), the
        # student's hand-in (their own released assignment), the grade (manage_students on the course),
        # the dashboard's unanswered count (the caller's taught courses)
        "rls.comment_course_ids()",
        "rls.qa_course_ids()",
        # 022: the caller's own locked (drip) lessons and their questions, whose posts they do not read
        "rls.locked_lesson_ids()",
        "rls.locked_question_ids()",
        "public.submit_assignment(uuid,text,text)",
        "public.grade_assignment(uuid,numeric,text)",
        "public.unanswered_questions_count()",
        # 022: authors' names of one course's discussion, to its participants (and admins) only
        "public.discussion_author_names(uuid,uuid[])",
        "public.discussion_author_names_in(uuid[],uuid[])",  # the same for (course, author) pairs
        # 021: workshops; each checks the caller (the owner or an admin); the feed answers its token
        "public.cancel_workshop(uuid)",
        "public.add_workshop_facilitator(uuid,text,public.workshop_facilitator_role)",
        "public.calendar_feed_workshops(text)",
        "public.start_workshop_checkout(uuid,text)",  # the caller's own held seat only
        "public.my_waitlist_place(uuid)",  # the caller's own place only
    },
    "service_role": {
        # the payment path
        "public.apply_payment_event(text,uuid,text,text,jsonb)",
        "public.apply_refund_event(text,uuid,numeric,text,jsonb)",  # 020: the provider's refund
        "public.confirm_course_payment(uuid)",
        "public.refund_course_enrollment(uuid)",
        "public.refund_workshop_registration(uuid)",
        "public.course_revenue(uuid)",
        "public.verify_certificate(text)",
        # what its statements' checks and guards call
        "public.api_caller()",
        "public.is_iso_date(text)",
        "public.valid_drip_schedule(jsonb)",
        "public.valid_quiz(jsonb)",
        "public.valid_profile_rows(jsonb,text[],text[])",
        "public.valid_social_links(jsonb)",
        "public.valid_expertise_tags(text[])",
    },
    "portal_signin": {
        "public.credentials_for_sign_in(text)",
        "public.record_sign_in_failure(text,text)",
        "public.sign_in_throttled(text,text,integer,integer,interval)",
        # 011: a forgotten password (throttled; the same answer whether an account exists or not)
        "public.request_password_reset(text,text,integer,integer,interval)",
        "public.password_reset_target(bytea)",
        "public.complete_password_reset(bytea,text)",
        # 011: what hands an account on, for the person the app has just checked (the current
        # password, or a signed link): never callable by the API roles
        "public.set_password_hash(uuid,text)",
        "public.change_password(uuid,text,uuid)",
        "public.request_email_change(uuid,text)",
        "public.confirm_email_change(uuid,uuid)",
        "public.confirm_email_of(uuid,text)",
        "public.delete_account(uuid)",
    },
    # 010: the worker runs the scheduled work and delivers emails through these, and nothing else of
    # public, private or rls (its queue, schema procrastinate, is checked on its own below).
    WORKER: {
        "private.send_workshop_reminders(timestamp with time zone)",
        "private.expire_checkouts(interval)",
        "private.release_lapsed_seats(timestamp with time zone)",  # 021: unpaid held seats pass on
        "private.alert_admins(text,jsonb,text)",
        "private.instructors_to_verify()",
        "private.verify_figures(uuid)",
        "private.email_to_send(uuid)",
        "private.record_email(uuid,boolean,text,boolean)",
        "private.record_job_error(bigint,integer,text)",
        "private.drop_email(uuid)",
        "private.arm_password_reset(uuid,bytea,interval)",
        "private.prune_notifications(interval)",
        "public.refresh_instructor_monthly_stats()",
        "public.archive_student_activity(interval)",
        "public.job_queue_health()",
        # 015: the invitation email (its token's hash) and an announcement's fan-out
        "private.invitation_to_send(uuid)",
        "private.arm_invitation(uuid,text)",
        "private.invitation_sent(uuid)",
        "private.fan_out_announcement(uuid,integer)",
    },
}

# Money and meeting links: never readable by anon or authenticated (named functions answer them).
# A checkout's amount and the revenue rows are readable column-wise: their row policies keep
# the rows to the paying student and those who may read the course's revenue.
MONEY_TABLES = ("revenue_transactions", "checkouts", "payment_events", "course_enrollments",
                "workshop_registrations", "courses", "workshops")
NEVER_SELECTABLE = {
    "course_enrollments": {"amount_paid"},
    "workshop_registrations": {"amount_paid"},
    "courses": {"total_revenue", "total_earnings", "pending_payout"},
    "workshops": {"total_revenue", "total_earnings", "pending_payout", "meeting_url"},
}


def _rows(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute("SET search_path = ''")  # regprocedure / regclass spelled with their schema
        try:
            cur.execute(query, params)
            return cur.fetchall()
        finally:
            cur.execute("RESET search_path")


def executable(conn) -> dict:
    """role -> the functions of public, rls and private it may EXECUTE (extension members aside), for
    the API roles and the worker."""
    got = {role: set() for role in LISTED_ROLES}
    for role, function in _rows(conn, """
            SELECT r.role, p.oid::regprocedure::text
            FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            CROSS JOIN pg_catalog.unnest(%s::text[]) AS r (role)
            WHERE n.nspname = ANY (%s)
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                AND d.objid = p.oid AND d.deptype = 'e')
              AND pg_catalog.has_function_privilege(r.role, p.oid, 'EXECUTE')""",
                                (list(LISTED_ROLES), list(SCHEMAS))):
        got[role].add(function)
    return got


def privileges(conn) -> set:
    """Every effective privilege of the API roles and the worker on every relation, column, sequence
    and function of schemas public, private, rls and procrastinate, and on those schemas themselves:
    (role, kind, object, privilege)."""
    return set(_rows(conn, """
        WITH roles AS (SELECT pg_catalog.unnest(%(roles)s::text[]) AS role),
        rels AS (SELECT c.oid, c.relkind, c.oid::pg_catalog.regclass::text AS name
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = ANY (%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S'))
        SELECT r.role, 'relation', rels.name, p.priv
        FROM rels CROSS JOIN roles r
        CROSS JOIN pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
                                           'TRIGGER']) AS p (priv)
        WHERE rels.relkind <> 'S' AND pg_catalog.has_table_privilege(r.role, rels.oid, p.priv)
        UNION ALL
        SELECT r.role, 'sequence', rels.name, p.priv
        FROM rels CROSS JOIN roles r CROSS JOIN pg_catalog.unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS p (priv)
        WHERE rels.relkind = 'S' AND pg_catalog.has_sequence_privilege(r.role, rels.oid, p.priv)
        UNION ALL
        SELECT r.role, 'column', rels.name || '.' || pg_catalog.quote_ident(a.attname), p.priv
        FROM rels JOIN pg_catalog.pg_attribute a ON a.attrelid = rels.oid AND a.attnum > 0 AND NOT a.attisdropped
        CROSS JOIN roles r CROSS JOIN pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE']) AS p (priv)
        WHERE rels.relkind <> 'S' AND pg_catalog.has_column_privilege(r.role, rels.oid, a.attnum, p.priv)
        UNION ALL
        SELECT r.role, 'function', f.oid::pg_catalog.regprocedure::text, 'EXECUTE'
        FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace CROSS JOIN roles r
        WHERE n.nspname = ANY (%(schemas)s) AND pg_catalog.has_function_privilege(r.role, f.oid, 'EXECUTE')
        UNION ALL
        SELECT r.role, 'schema', s.name, p.priv
        FROM pg_catalog.unnest(%(schemas)s::text[]) AS s (name) CROSS JOIN roles r
        CROSS JOIN pg_catalog.unnest(ARRAY['USAGE', 'CREATE']) AS p (priv)
        WHERE pg_catalog.has_schema_privilege(r.role, s.name, p.priv)""",
                     {"roles": list(LISTED_ROLES), "schemas": list(SCHEMAS + (QUEUE_SCHEMA,))}))


def _describe(entries, limit=60):
    lines = sorted(" ".join(e) for e in entries)
    more = f"\n    ... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n    " + "\n    ".join(lines[:limit]) + more if lines else " none"


# --- the function allow-list ---------------------------------------------------------------------

@pytest.mark.parametrize("role", LISTED_ROLES)
def test_functions_executable_by_api_roles_are_exactly_the_allow_list(module_database, role):
    """The functions ``role`` may EXECUTE are exactly those of EXECUTE[role]: a new function is denied
    until someone adds it here (anon 5, authenticated 92, service_role 14, portal_signin 12,
    portal_worker 18)."""
    actual = executable(module_database.owner)[role]
    unexpected, missing = actual - EXECUTE[role], EXECUTE[role] - actual
    assert not unexpected and not missing, (
        f"{role} may execute functions that are not in tests/test_grants.py EXECUTE:"
        f"{_describe((f,) for f in unexpected)}\n"
        f"and may not execute these listed ones:{_describe((f,) for f in missing)}\n"
        "A new function is denied until someone adds it here: revoke it from the API roles in its "
        "migration, or add it to EXECUTE with the reason it is safe for that role.")


def test_the_allow_list_names_only_existing_functions(module_database):
    """Every function of the allow-list exists (a renamed function cannot linger in the list)."""
    existing = {f for (f,) in _rows(module_database.owner, """
        SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY (%s)""",
                                   (list(SCHEMAS),))}
    listed = set().union(*EXECUTE.values())
    assert listed - existing == set()


# --- the job queue (010) ---------------------------------------------------------------------------

def _queue_object(entry) -> bool:
    """Whether a ``privileges`` entry is about schema procrastinate or one of its objects."""
    _, kind, name, _ = entry
    return name == QUEUE_SCHEMA if kind == "schema" else name.startswith(QUEUE_SCHEMA + ".")


def test_no_api_role_holds_any_privilege_in_the_queue_schema(module_database):
    """anon, authenticated, service_role and portal_signin hold nothing in schema procrastinate: not its
    USAGE, no table, column, sequence or function (the worker does, so the sweep sees the schema)."""
    got = {e for e in privileges(module_database.owner) if _queue_object(e)}
    assert {e for e in got if e[0] in API_ROLES} == set(), _describe(e for e in got if e[0] in API_ROLES)
    assert (WORKER, "schema", QUEUE_SCHEMA, "USAGE") in got


def test_the_worker_holds_the_queue_and_reads_no_table_of_the_portal(module_database):
    """portal_worker: USAGE (not CREATE) on schema procrastinate; SELECT, INSERT, UPDATE and DELETE (not
    TRUNCATE, REFERENCES or TRIGGER) on each of its tables; USAGE and SELECT on each sequence; EXECUTE
    on each function. In public, private and rls: no relation, column or sequence privilege at all."""
    conn = module_database.owner
    mine = {(kind, name, priv) for role, kind, name, priv in privileges(conn) if role == WORKER}
    tables = {t for (t,) in _rows(conn, """SELECT c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c
                                          WHERE c.relnamespace = 'procrastinate'::pg_catalog.regnamespace
                                            AND c.relkind = 'r'""")}
    sequences = {t for (t,) in _rows(conn, """SELECT c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c
                                             WHERE c.relnamespace = 'procrastinate'::pg_catalog.regnamespace
                                               AND c.relkind = 'S'""")}
    functions = {f for (f,) in _rows(conn, """SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p
                                             WHERE p.pronamespace = 'procrastinate'::pg_catalog.regnamespace""")}
    assert {"procrastinate.procrastinate_jobs", "procrastinate.procrastinate_workers"} <= tables
    assert len(functions) >= 10 and sequences
    expected = ({("schema", QUEUE_SCHEMA, "USAGE")}
                | {("relation", t, p) for t in tables for p in ("SELECT", "INSERT", "UPDATE", "DELETE")}
                | {("sequence", q, p) for q in sequences for p in ("USAGE", "SELECT")}
                | {("function", f, "EXECUTE") for f in functions})
    queue = {e for e in mine if e[0] != "column" and _queue_object((WORKER, *e))}
    assert queue == expected, f"extra:{_describe(queue - expected)}\nmissing:{_describe(expected - queue)}"
    portal = {e for e in mine if e[0] in ("relation", "column", "sequence") and not _queue_object((WORKER, *e))}
    assert portal == set(), f"the worker reaches the portal's tables:{_describe(portal)}"


def test_the_queue_tables_have_one_policy_for_the_worker_alone(module_database):
    """Each table of the queue has row-level security (enabled and forced, test_migrations) and exactly one
    policy, worker_queue, for portal_worker: no API role is named by any policy of schema procrastinate."""
    policies = module_database.rows(
        """SELECT c.relname AS table, p.polname AS policy,
                  array(SELECT r.rolname::text FROM pg_roles r WHERE r.oid = ANY (p.polroles) ORDER BY 1) AS roles
           FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid
           WHERE c.relnamespace = 'procrastinate'::regnamespace AND c.relkind = 'r' ORDER BY 1""")
    assert len(policies) == 4
    assert {(r["policy"], tuple(r["roles"])) for r in policies} == {("worker_queue", (WORKER,))}


def test_the_worker_is_nologin_and_only_authenticator_becomes_it(module_database):
    """portal_worker cannot log in, bypasses no row security, inherits nothing, and its one member is
    authenticator (not anon, authenticated, service_role nor portal_signin)."""
    db = module_database
    assert db.rows("SELECT rolcanlogin, rolsuper, rolbypassrls, rolinherit, rolcreaterole, rolcreatedb "
                   "FROM pg_roles WHERE rolname = %s", (WORKER,)) == [
        {"rolcanlogin": False, "rolsuper": False, "rolbypassrls": False, "rolinherit": False,
         "rolcreaterole": False, "rolcreatedb": False}]
    members = db.rows("SELECT m.rolname FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member "
                      "WHERE a.roleid = %s::regrole", (WORKER,))
    assert [r["rolname"] for r in members] == ["authenticator"]
    assert db.value("SELECT count(*) FROM pg_auth_members WHERE member = %s::regrole", (WORKER,)) == 0


# --- money columns --------------------------------------------------------------------------------

def test_money_columns_and_meeting_links_are_never_selectable_by_anon_or_authenticated(module_database):
    """On the money tables, anon and authenticated can SELECT no amount paid, revenue, earnings, payout,
    checkout amount or meeting link (service_role, the back office, may); portal_signin reads nothing."""
    rows = _rows(module_database.owner, """
        SELECT r.role, c.relname::text, a.attname::text
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        CROSS JOIN pg_catalog.unnest(%s::text[]) AS r (role)
        WHERE n.nspname = 'public' AND c.relname = ANY (%s)
          AND pg_catalog.has_column_privilege(r.role, c.oid, a.attnum, 'SELECT')""",
                 (list(API_ROLES), list(MONEY_TABLES)))
    readable = {}
    for role, table, column in rows:
        readable.setdefault(role, {}).setdefault(table, set()).add(column)
    listing = "\n".join(f"  {role} {table}: {', '.join(sorted(cols))}"
                        for role, tables in sorted(readable.items()) for table, cols in sorted(tables.items()))
    leaks = {(role, table, column)
             for role in ("anon", "authenticated")
             for table, columns in NEVER_SELECTABLE.items()
             for column in columns & readable.get(role, {}).get(table, set())}
    assert leaks == set(), f"selectable money columns: {sorted(leaks)}\nevery selectable column:\n{listing}"
    assert readable.get("portal_signin", {}) == {}
    # The columns named exist (a rename would make the check vacuous).
    known = {(table, column) for _, table, column in rows}
    assert {(t, c) for t, cs in NEVER_SELECTABLE.items() for c in cs} <= known


def test_views_readable_by_api_roles_carry_no_money_or_link(module_database):
    """No view or materialized view anon or authenticated may read has a money or meeting-link column."""
    names = {c for cs in NEVER_SELECTABLE.values() for c in cs} | {"amount", "gross_revenue", "net_revenue"}
    rows = _rows(module_database.owner, """
        SELECT r.role, c.oid::pg_catalog.regclass::text, a.attname::text
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        CROSS JOIN pg_catalog.unnest(ARRAY['anon', 'authenticated']) AS r (role)
        WHERE n.nspname = ANY (%s) AND c.relkind IN ('v', 'm') AND a.attname = ANY (%s)
          AND pg_catalog.has_column_privilege(r.role, c.oid, a.attnum, 'SELECT')""",
                 (list(SCHEMAS), list(names)))
    assert rows == []


# --- the Supabase shape -----------------------------------------------------------------------------

SUPABASE_DEFAULTS = [
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, "
    "service_role",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, "
    "service_role",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, "
    "service_role",
]


@pytest.fixture()
def supabase_shaped(admin_dsn, cluster):
    """A fresh database owned by the run's owner whose default privileges grant ALL on new tables,
    sequences and functions in public to the API roles (as Supabase's do), then migrated; dropped after."""
    name = f"{cluster['run']}_supa_{secrets.token_hex(3)}"
    portal_db.create_database(admin_dsn, name, cluster["owner"])
    try:
        admin = psycopg2.connect(portal_db.with_dsn(admin_dsn, dbname=name))
        admin.autocommit = True
        try:
            with admin.cursor() as cur:
                for statement in SUPABASE_DEFAULTS:
                    cur.execute(statement.format(owner=psycopg2.extensions.quote_ident(cluster["owner"], cur)))
                cur.execute("""SELECT count(*) FROM pg_default_acl d
                               WHERE d.defaclrole = %s::regrole AND d.defaclnamespace = 'public'::regnamespace
                                 AND d.defaclacl::text LIKE '%%anon=%%'""", (cluster["owner"],))
                assert cur.fetchone()[0] == 3, "the Supabase default privileges are in place before migrating"
        finally:
            admin.close()
        owner_dsn = portal_db.with_dsn(admin_dsn, user=cluster["owner"], password=cluster["password"], dbname=name)
        portal_db.migrate(owner_dsn)
        conn = psycopg2.connect(owner_dsn)
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.close()
    finally:
        portal_db.drop_database(admin_dsn, name)


def test_a_supabase_shaped_database_ends_with_the_plain_privileges(supabase_shaped, database):
    """Migrated under default privileges that grant ALL to the API roles, a database gives anon,
    authenticated, service_role, portal_signin and portal_worker exactly the privileges of a plain
    migrated one, on every relation, column, sequence and function of public, private, rls and the job
    queue's schema procrastinate, and on the schemas themselves."""
    plain, supa = privileges(database.owner), privileges(supabase_shaped)
    assert ("anon", "function", "public.sign_up(text,text,text,public.user_role)", "EXECUTE") in plain
    assert ("portal_worker", "relation", "procrastinate.procrastinate_jobs", "INSERT") in plain
    assert len(plain) > 500
    extra, missing = supa - plain, plain - supa
    assert not extra and not missing, (
        f"privileges the Supabase defaults left behind:{_describe(extra)}\n"
        f"privileges missing on the Supabase-shaped database:{_describe(missing)}")


def test_a_supabase_shaped_database_gives_new_objects_nothing(supabase_shaped):
    """After migrating, a new table, sequence or function of the owner in public grants the API roles
    nothing: the migrations neutralised the Supabase default privileges."""
    with supabase_shaped.cursor() as cur:
        cur.execute("BEGIN")
        try:
            cur.execute("CREATE TABLE public.probe_later (id int)")
            cur.execute("CREATE SEQUENCE public.probe_later_seq")
            cur.execute("CREATE FUNCTION public.probe_later_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'")
            cur.execute("""
                SELECT r.role,
                       has_table_privilege(r.role, 'public.probe_later', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'),
                       has_sequence_privilege(r.role, 'public.probe_later_seq', 'USAGE, SELECT, UPDATE'),
                       has_function_privilege(r.role, 'public.probe_later_fn()', 'EXECUTE')
                FROM unnest(%s::text[]) AS r (role) ORDER BY 1""", (list(LISTED_ROLES),))
            got = cur.fetchall()
        finally:
            cur.execute("ROLLBACK")
    assert got == [(role, False, False, False) for role in sorted(LISTED_ROLES)]

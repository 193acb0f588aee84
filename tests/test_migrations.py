"""The migration runner, the roles model and the database-wide security invariants."""

import shutil
import threading

import psycopg2
import pytest

from portal import db
from tests.support import Actor, gen_user

# Every schema of ours, the job queue's (010: procrastinate's own tables, functions and types,
# installed by the runner into schema procrastinate and locked down by 010) included.
SCHEMAS = ("public", "private", "auth", "rls", "procrastinate")


@pytest.fixture()
def schema_copy(tmp_path):
    """A copy of schema/ to change without touching the real one."""
    target = tmp_path / "schema"
    shutil.copytree(db.SCHEMA_DIR, target)
    return target


def test_running_again_is_a_no_op(database):
    """Every file is recorded with its checksum, and a second run applies nothing."""
    assert db.migrate(database.owner_dsn) == []
    recorded = dict((r["name"], r["checksum"]) for r in database.rows("SELECT * FROM schema_migrations"))
    assert recorded == {p.name: db.checksum(p) for p in db.migration_files()}


def test_a_new_file_is_applied_in_its_own_transaction(database, schema_copy):
    """A new numbered file is applied and recorded; the rest stay as they were."""
    (schema_copy / "999_add_note.sql").write_text("CREATE TABLE public.note (id int);")
    assert db.migrate(database.owner_dsn, schema_copy) == ["999_add_note.sql"]
    assert database.value("SELECT count(*) FROM schema_migrations WHERE name = '999_add_note.sql'") == 1
    assert database.value("SELECT to_regclass('public.note') IS NOT NULL")


def test_a_failing_file_leaves_nothing_behind(database, schema_copy):
    """A file that fails half-way is rolled back whole and not recorded."""
    (schema_copy / "999_broken.sql").write_text(
        "CREATE TABLE public.half (id int);\nSELECT no_such_function();")
    with pytest.raises(psycopg2.errors.UndefinedFunction):
        db.migrate(database.owner_dsn, schema_copy)
    assert database.value("SELECT to_regclass('public.half')") is None
    assert database.value("SELECT count(*) FROM schema_migrations WHERE name = '999_broken.sql'") == 0


def test_an_edited_applied_file_stops_the_run(database, schema_copy):
    """A changed checksum stops the run with a clear message, before anything new is applied."""
    edited = schema_copy / "002_instructor_schema.sql"
    edited.write_text(edited.read_text() + "\n-- an innocent edit\n")
    (schema_copy / "999_later.sql").write_text("CREATE TABLE public.later (id int);")
    with pytest.raises(db.MigrationError, match="002_instructor_schema.sql was applied with checksum"
                                                ".*never edited.*new numbered file"):
        db.migrate(database.owner_dsn, schema_copy)
    assert database.value("SELECT to_regclass('public.later')") is None


def test_two_runs_at_once_on_a_fresh_database_apply_every_file_once(admin_dsn, cluster):
    """Two runners started together on an empty database both succeed; each file is applied
    (and recorded) exactly once, by one of them, in order."""
    name = cluster["run"] + "_concurrent"
    db.create_database(admin_dsn, name, cluster["owner"])
    owner_dsn = db.with_dsn(admin_dsn, user=cluster["owner"], password=cluster["password"], dbname=name)
    start, results = threading.Barrier(2), [None, None]

    def run(i):
        start.wait()
        try:
            results[i] = db.migrate(owner_dsn)
        except Exception as exc:  # reported by the assertion below
            results[i] = exc

    runners = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    try:
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join(timeout=600)
        assert not any(runner.is_alive() for runner in runners)
        assert all(isinstance(result, list) for result in results), results
        names = [path.name for path in db.migration_files()]
        assert sorted(results[0] + results[1]) == names, results
        conn = psycopg2.connect(owner_dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT name, checksum FROM schema_migrations ORDER BY applied_at, name")
                assert cur.fetchall() == [(path.name, db.checksum(path)) for path in db.migration_files()]
        finally:
            conn.close()
    finally:
        db.drop_database(admin_dsn, name)


def test_two_files_with_one_number_are_refused(schema_copy):
    """Order must be unambiguous."""
    (schema_copy / "002_other.sql").write_text("SELECT 1;")
    with pytest.raises(db.MigrationError, match="share a number"):
        db.migration_files(schema_copy)


def test_every_table_has_row_level_security_enabled_and_forced(database):
    """No table is left open, the owner included: every table of public, private, auth and the job
    queue's schema procrastinate has row-level security enabled and forced."""
    tables = database.rows(
        """SELECT n.nspname || '.' || c.relname AS name, c.relrowsecurity AS enabled,
                  c.relforcerowsecurity AS forced
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (%s)""", (list(SCHEMAS),))
    assert len(tables) >= 21
    names = {t["name"] for t in tables}
    # The sweep reaches the private tables and the job queue's (so it cannot pass vacuously).
    assert {"private.user_credentials", "private.job_errors", "procrastinate.procrastinate_jobs",
            "procrastinate.procrastinate_events", "procrastinate.procrastinate_workers",
            "procrastinate.procrastinate_periodic_defers"} <= names
    assert [t["name"] for t in tables if not (t["enabled"] and t["forced"])] == []


def test_the_roles_model(database):
    """The owner is no superuser; authenticator logs in with nothing of its own."""
    roles = {r["rolname"]: r for r in database.rows(
        "SELECT rolname, rolsuper, rolbypassrls, rolinherit, rolcanlogin FROM pg_roles "
        "WHERE rolname IN (current_user, 'anon', 'authenticated', 'service_role', 'authenticator', "
        "'portal_worker')")}
    owner = database.value("SELECT current_user")
    assert not roles[owner]["rolsuper"] and roles[owner]["rolbypassrls"]
    assert roles["authenticator"]["rolcanlogin"] and not roles["authenticator"]["rolinherit"]
    assert not roles["authenticator"]["rolsuper"] and not roles["authenticator"]["rolbypassrls"]
    assert not roles["anon"]["rolbypassrls"] and not roles["authenticated"]["rolbypassrls"]
    assert roles["service_role"]["rolbypassrls"]
    worker = roles["portal_worker"]  # 010: the job queue's worker, become by authenticator only
    assert not (worker["rolcanlogin"] or worker["rolsuper"] or worker["rolbypassrls"])
    owned = database.value(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)")
    assert owned == 0


def test_authenticator_reads_nothing_as_itself(database):
    """Without switching to anon or authenticated, the login role sees no table."""
    conn = database.connect_app()
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT * FROM courses")
    finally:
        conn.close()


def test_security_definer_functions_fix_search_path_and_are_not_public(database):
    """Every SECURITY DEFINER function pins search_path; none of ours is executable by PUBLIC."""
    unpinned = database.rows(
        """SELECT p.oid::regprocedure::text AS fn FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = ANY (%s) AND p.prosecdef
             AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%%')""",
        (list(SCHEMAS),))
    assert unpinned == []
    public_exec = database.rows(
        """SELECT p.oid::regprocedure::text AS fn FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = ANY (%s)
             AND NOT EXISTS (SELECT 1 FROM pg_depend d  -- extensions' own functions (citext)
                             WHERE d.objid = p.oid AND d.deptype = 'e')
             AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                         WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')""",
        (list(SCHEMAS),))
    assert public_exec == []


def test_no_caller_can_shadow_what_a_security_definer_function_names(database):
    """Every pinned search path ends with pg_temp (010): the API roles may create temporary tables,
    types and functions, which PostgreSQL searches first unless pg_temp is named, so a table or type a
    function names without a schema must never be one its caller made. Every function that runs as
    the owner pins its path (a SECURITY DEFINER one, and the queue's functions that defer_job calls)."""
    assert database.value("SELECT has_database_privilege('anon', current_database(), 'TEMPORARY')")
    unpinned = database.rows(
        """SELECT p.oid::regprocedure::text AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = ANY (%s) AND (p.prosecdef OR n.nspname = 'procrastinate')
             AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%%')""",
        (list(SCHEMAS),))
    assert unpinned == []
    unguarded = database.rows(
        """SELECT p.oid::regprocedure::text AS fn, c AS path FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace CROSS JOIN unnest(p.proconfig) c
           WHERE n.nspname = ANY (%s) AND c LIKE 'search_path=%%' AND c NOT LIKE '%%, pg_temp'""",
        (list(SCHEMAS),))
    assert unguarded == []


def test_the_queue_functions_pin_their_search_path(database):
    """Every function of the job queue's schema (procrastinate's own, which name their tables without a
    schema) runs with the search path 010 gave it, whatever its caller's path is."""
    paths = {r["fn"]: r["config"] for r in database.rows(
        """SELECT p.oid::regprocedure::text AS fn, p.proconfig AS config FROM pg_proc p
           WHERE p.pronamespace = 'procrastinate'::regnamespace""")}
    assert len(paths) >= 10
    assert {fn: config for fn, config in paths.items()
            if not any(c.startswith("search_path=procrastinate, pg_catalog") for c in config or [])} == {}


@pytest.mark.parametrize("actor", [Actor.anon(), Actor("authenticated", None, "authenticated")],
                         ids=["anon", "authenticated"])
def test_password_hashes_are_unreadable(database, actor):
    """The credentials table is out of reach of the API roles."""
    with database.attempt(actor) as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("SELECT * FROM private.user_credentials")


# An argon2id hash of the shape (and cost) the portal stores.
FAKE_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"


def test_sign_up_and_sign_in_functions(database):
    """Sign-up creates the user (and an instructor's records); only the sign-in role reads one hash by email."""
    fake_hash = FAKE_HASH
    with database.act(Actor.anon()) as cur:
        cur.execute("SELECT sign_up('New@Example.test', %s, 'New Teacher', 'instructor') AS id", (fake_hash,))
        new_id = cur.fetchone()["id"]
    with database.act(Actor.sign_in()) as cur:
        cur.execute("SELECT * FROM credentials_for_sign_in('new@example.TEST')")
        assert cur.fetchall() == [{"user_id": new_id, "password_hash": fake_hash}]
    with database.attempt(Actor.anon()) as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("SELECT * FROM credentials_for_sign_in('new@example.test')")
    assert database.value("SELECT count(*) FROM instructor_profiles WHERE user_id = %s", (new_id,)) == 1
    assert database.value("SELECT count(*) FROM instructor_settings WHERE user_id = %s", (new_id,)) == 1
    with database.attempt(Actor.anon()) as cur, pytest.raises(psycopg2.errors.CheckViolation):
        cur.execute("SELECT sign_up('boss@example.test', %s, 'Boss', 'admin')", (fake_hash,))
    with database.attempt(Actor.user(new_id)) as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("SELECT * FROM credentials_for_sign_in('new@example.test')")


@pytest.mark.parametrize("costly", ["$argon2id$v=19$m=4194304,t=2,p=1$c2FsdA$aGFzaA",
                                    "$argon2id$v=19$m=19456,t=4000,p=1$c2FsdA$aGFzaA",
                                    "$argon2id$v=19$m=19456,t=2,p=64$c2FsdA$aGFzaA",
                                    "$argon2id$x"])
def test_a_hash_that_would_make_sign_in_costly_is_refused(database, costly):
    """Signing up (as anon) or setting a password (as portal_signin, 011) with a hash beyond 64 MiB,
    10 passes or 4 lanes, or not argon2id's shape, is a check violation: verifying it is a denial of
    service."""
    with database.attempt(Actor.anon()) as cur, pytest.raises(psycopg2.errors.CheckViolation):
        cur.execute("SELECT sign_up('heavy@example.test', %s, 'Heavy Hash', 'student')", (costly,))
    with database.act(Actor.anon()) as cur:
        cur.execute("SELECT sign_up('light@example.test', %s, 'Light Hash', 'student') AS id", (FAKE_HASH,))
        user = cur.fetchone()["id"]
    with database.attempt(Actor.sign_in()) as cur, pytest.raises(psycopg2.errors.CheckViolation):
        cur.execute("SELECT set_password_hash(%s, %s)", (user, costly))


def test_an_inactive_account_has_no_credentials_to_check(database):
    """Deactivating a user stops sign-in without deleting anything."""
    user = gen_user(database, email="gone@example.test")
    database.rows("INSERT INTO private.user_credentials VALUES (%s, %s, now())", (user, FAKE_HASH))
    database.rows("UPDATE users SET is_active = false WHERE id = %s", (user,))
    with database.act(Actor.sign_in()) as cur:
        cur.execute("SELECT * FROM credentials_for_sign_in('gone@example.test')")
        assert cur.fetchall() == []


def test_request_context_is_transaction_local(database):
    """After a transaction as a user, the same connection carries no role and no claims."""
    user = gen_user(database)
    conn = database.connect_app()
    try:
        with database.act(Actor.user(user), conn) as cur:
            cur.execute("SELECT current_user AS who, auth.uid() AS uid")
            assert cur.fetchone() == {"who": "authenticated", "uid": user}
        with conn, conn.cursor() as cur:
            cur.execute("SELECT current_user, coalesce(current_setting('request.jwt.claims', true), '')")
            assert cur.fetchone() == ("authenticator", "")
    finally:
        conn.close()


def test_the_maintenance_commands(database, monkeypatch):
    """The CLI migrates (reporting what it applied), verifies and rebuilds as the owner."""
    from click.testing import CliRunner

    from portal.cli import main

    monkeypatch.setenv("DATABASE_URL", database.app_dsn)
    monkeypatch.setenv("MIGRATION_DATABASE_URL", database.owner_dsn)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "migrate"]).output == "database is up to date\n"
    database.rows("UPDATE instructor_profiles SET total_courses = 7 "
                  "WHERE user_id = %s", (gen_user(database, "instructor"),))
    verify = runner.invoke(main, ["db", "verify"])
    assert verify.exit_code == 1 and verify.output.endswith("1 mismatch(es)\n")
    assert runner.invoke(main, ["db", "rebuild"]).output == "1 row(s) corrected\n"
    assert runner.invoke(main, ["db", "verify"]).exit_code == 0


def test_the_roles_command_creates_what_is_missing_and_says_so(admin_dsn, cluster, monkeypatch):
    """`db roles` as a superuser is idempotent: on a server whose roles exist it creates nothing."""
    from click.testing import CliRunner

    from portal.cli import main

    monkeypatch.setenv("MIGRATION_DATABASE_URL", db.with_dsn(admin_dsn, user=cluster["owner"]))
    result = CliRunner().invoke(main, ["db", "roles", "--superuser-url", admin_dsn])
    assert result.exit_code == 0, result.output
    assert result.output == "every role exists\n"

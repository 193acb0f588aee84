"""Test harness: a real PostgreSQL, a migrated template, a fresh database per test.

The server is the embedded one, started once per run under pytest's temporary
directory, or the one ``TEST_DATABASE_URL`` names (a superuser URL). On a named
server the harness creates its own owner role and databases, all prefixed with
a random run id, and drops them (and any API role it had to create) at the end:
it touches nothing it did not create.
"""

from __future__ import annotations

import logging
import os
import secrets

import psycopg2
import pytest
from psycopg2 import sql

from portal import db
from tests.support import Database

log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def admin_dsn(tmp_path_factory):
    named = os.environ.get("TEST_DATABASE_URL")
    if named:
        yield named
        return
    server = db.start_embedded(tmp_path_factory.mktemp("embedded"))
    dsn = db.embedded_admin_dsn(server)
    _throwaway_durability(dsn)
    yield dsn
    server.cleanup()


# The embedded server of a test run lives in pytest's temporary directory and is thrown
# away with it, so it need not survive a crash: without fsync a database per test costs
# about 75 ms instead of 400 (creating it from the template, dropping it, the commits in
# between). A server TEST_DATABASE_URL names is never reconfigured.
THROWAWAY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _throwaway_durability(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name, value in THROWAWAY.items():
            cur.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        cur.execute("SELECT pg_reload_conf()")
    conn.close()


def _existing_roles(admin_dsn: str) -> set[str]:
    with psycopg2.connect(admin_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT rolname FROM pg_roles")
        roles = {row[0] for row in cur.fetchall()}
    conn.close()
    return roles


@pytest.fixture(scope="session")
def cluster(admin_dsn):
    """Roles and a migrated template database for this run."""
    run = "portal_test_" + secrets.token_hex(4)
    owner, template = run + "_owner", run + "_template"
    password = secrets.token_urlsafe(16)
    had_authenticator = "authenticator" in _existing_roles(admin_dsn)
    created = db.bootstrap_roles(
        admin_dsn, owner, owner_password=password,
        authenticator_password=None if had_authenticator else password)
    db.create_database(admin_dsn, template, owner)
    owner_dsn = db.with_dsn(admin_dsn, user=owner, password=password, dbname=template)
    db.migrate(owner_dsn)
    info = {"run": run, "owner": owner, "password": password, "template": template,
            "authenticator_password": None if had_authenticator else password}
    yield info
    _drop_run(admin_dsn, run, created)


def _drop_run(admin_dsn: str, run: str, created_roles: list[str]) -> None:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (run + "%",))
        for (name,) in cur.fetchall():
            db.drop_database(admin_dsn, name)
        # Roles this run created, dependents first; one still used elsewhere on
        # a shared server is left in place, and said so.
        for role in sorted(created_roles, key=lambda r: r != "authenticator"):
            try:
                cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
            except psycopg2.Error as exc:
                log.warning("left role %s in place: %s", role, exc.pgerror)
    conn.close()


def _fresh_database(admin_dsn, cluster, template: str | None = None):
    """A new database of this run, a copy of ``template`` (the migrated one by default)."""
    name = f"{cluster['run']}_{secrets.token_hex(4)}"
    db.create_database(admin_dsn, name, cluster["owner"], template=template or cluster["template"],
                       strategy=None if os.environ.get("TEST_DATABASE_URL") else "FILE_COPY")
    database = Database(
        owner_dsn=db.with_dsn(admin_dsn, user=cluster["owner"], password=cluster["password"], dbname=name),
        app_dsn=db.with_dsn(admin_dsn, user="authenticator", password=cluster["authenticator_password"],
                            dbname=name),
    )
    return name, database


@pytest.fixture()
def database(admin_dsn, cluster):
    """A fresh database cloned from the migrated template, dropped afterwards."""
    name, database = _fresh_database(admin_dsn, cluster)
    yield database
    database.close()
    db.drop_database(admin_dsn, name)


@pytest.fixture(scope="module")
def module_database(admin_dsn, cluster):
    """One database for a whole module: for read-mostly tables of cases that
    each run in a rolled-back transaction (``db.attempt``)."""
    name, database = _fresh_database(admin_dsn, cluster)
    yield database
    database.close()
    db.drop_database(admin_dsn, name)


@pytest.fixture(scope="session")
def demo_template(admin_dsn, cluster):
    """The demo data, loaded once per run into a database that modules copy (``demo_database``):
    the demo tests read it, the browser journeys write to their own copy."""
    from portal.demo import load_demo
    name, database = _fresh_database(admin_dsn, cluster)
    assert load_demo(db.Urls(app=database.app_dsn, owner=database.owner_dsn), progress=False) is True
    database.close()  # a template to copy has no one connected
    yield name
    db.drop_database(admin_dsn, name)


@pytest.fixture(scope="module")
def demo_database(admin_dsn, cluster, demo_template):
    """A fresh copy of the demo data for the module."""
    name, database = _fresh_database(admin_dsn, cluster, template=demo_template)
    yield database
    database.close()
    db.drop_database(admin_dsn, name)


@pytest.fixture(scope="module")
def world(module_database):
    """The shared cast of the HTTP tests on the module's own database: the course owner, a
    co-instructor per permission, another instructor, two students and an anonymous
    visitor, each with a signed-in client and a CSRF token (tests/course_web.py). A module
    that needs another cast defines its own ``world``."""
    from tests.course_web import build_student_side_world, close_world
    built = build_student_side_world(module_database)
    yield built
    close_world()


@pytest.fixture()
def app(database):
    """The web app on this test's database (pool of two connections as authenticator)."""
    from tests.web import close_app, make_app
    application = make_app(database)
    yield application
    close_app()


@pytest.fixture()
def client(app):
    return app.test_client()

"""The per-request database context: one transaction, role and claims first,
nothing left on the pooled connection, nothing kept from a failed request."""

from __future__ import annotations

import pytest
from flask import jsonify

from portal import db
from tests.support import gen_account, gen_course
from tests.web import close_app, make_app, sign_in

WHOAMI = """SELECT session_user::text AS session_user, current_user::text AS role,
                   auth.uid()::text AS uid, pg_backend_pid() AS pid,
                   (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS superuser,
                   (SELECT count(*) FROM courses WHERE status = 'draft') AS drafts"""


@pytest.fixture()
def probe_app(database):
    """The app with one pooled connection and two probe routes added for the test."""
    app = make_app(database, DATABASE_POOL_SIZE=1, PROPAGATE_EXCEPTIONS=False)

    @app.route("/_whoami")
    def whoami():
        cursor = db.database.execute_sql(WHOAMI)
        return jsonify(dict(zip([c[0] for c in cursor.description], cursor.fetchone())))

    @app.route("/_write_then_fail/<int:fail>")
    def write_then_fail(fail):
        db.database.execute_sql("UPDATE instructor_profiles SET headline = 'written' "
                                "WHERE user_id = auth.uid()")
        if fail:
            raise RuntimeError("half-way")
        return "ok"

    yield app
    close_app()


def test_anonymous_request_runs_as_anon(probe_app):
    """An anonymous request runs as anon through authenticator, never a superuser."""
    body = probe_app.test_client().get("/_whoami").get_json()
    assert body["session_user"] == "authenticator"
    assert body["role"] == "anon" and body["uid"] is None and body["superuser"] is False


def test_users_on_one_pooled_connection_see_their_own_rows(database, probe_app):
    """User A, then user B, on the same pooled connection: each sees only their own drafts."""
    (a, a_email), (b, b_email) = gen_account(database, "instructor"), gen_account(database, "instructor")
    gen_course(database, a, status="draft")
    gen_course(database, a, status="draft")
    gen_course(database, b, status="draft")
    seen = []
    for email in (a_email, b_email, a_email):
        client = probe_app.test_client()
        sign_in(client, email)
        seen.append(client.get("/_whoami").get_json())
    assert len({row["pid"] for row in seen}) == 1, "the pool of one should reuse its connection"
    assert [(row["uid"], row["drafts"]) for row in seen] == [(str(a), 2), (str(b), 1), (str(a), 2)]
    assert all(row["role"] == "authenticated" and row["session_user"] == "authenticator" for row in seen)


def test_pooled_connection_comes_back_clean(database, probe_app):
    """After a signed-in request the pooled connection holds no role and no claims."""
    user, email = gen_account(database, "instructor")
    client = probe_app.test_client()
    sign_in(client, email)
    assert client.get("/_whoami").get_json()["uid"] == str(user)
    with probe_app.app_context():
        db.database.connect(reuse_if_open=True)
        try:
            role, claims = db.database.execute_sql(
                "SELECT current_user::text, coalesce(current_setting('request.jwt.claims', true), '')"
            ).fetchone()
        finally:
            db.database.close()
    assert (role, claims) == ("authenticator", "")


def test_exception_half_way_keeps_nothing(database, probe_app):
    """A request that writes and then raises leaves nothing written; one that finishes commits."""
    user, email = gen_account(database, "instructor")
    client = probe_app.test_client()
    sign_in(client, email)
    response = client.get("/_write_then_fail/1")
    assert response.status_code == 500
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert database.value("SELECT headline FROM instructor_profiles WHERE user_id = %s", (user,)) is None
    assert client.get("/_write_then_fail/0").status_code == 200
    assert database.value("SELECT headline FROM instructor_profiles WHERE user_id = %s", (user,)) == "written"


def test_database_refusal_is_not_a_500(database, probe_app):
    """A constraint violation becomes a 422 and an RLS refusal a 404; both roll back."""
    @probe_app.route("/_bad_value")
    def bad_value():
        db.database.execute_sql("UPDATE instructor_profiles SET bio = 'too short' WHERE user_id = auth.uid()")
        return "unreachable"

    @probe_app.route("/_forbidden")
    def forbidden():
        db.database.execute_sql("INSERT INTO revenue_transactions (instructor_id, transaction_type, amount, "
                                "platform_fee_amount, instructor_earnings) VALUES (auth.uid(), 'course_enrollment', 1, 0, 1)")
        return "unreachable"

    user, email = gen_account(database, "instructor")
    client = probe_app.test_client()
    sign_in(client, email)
    assert client.get("/_bad_value").status_code == 422
    assert client.get("/_forbidden").status_code == 404
    assert database.value("SELECT count(*) FROM revenue_transactions") == 0
    assert client.get("/_whoami").status_code == 200, "the connection is usable afterwards"

"""Sign-up, sign-in and sign-out over HTTP: good and bad credentials,
throttling, CSRF, safe redirects, cookies and sessions."""

from __future__ import annotations

import pytest

from portal import config as portal_config
from portal import secretbox
from tests.support import PASSWORD, gen_account
from tests.web import close_app, csrf_token, htmx, make_app, post, sign_in, text

GENERIC = "That email and password do not match an account."

# A key ring of the production shape (portal/secretbox.py), made for the run.
PRODUCTION_KEYS = "k1:" + secretbox.new_key()
# Production sends email with links to where the portal is reached (portal/config.py).
PORTAL_URL = "https://portal.example.test"


def _sign_up(client, **fields):
    data = {"full_name": "Grace Hopper", "email": "grace@example.test", "password": "a long passphrase",
            "role": "student"}
    data.update(fields)
    return post(client, "/sign-up", data)


def test_sign_in_page_has_a_csrf_protected_form(client):
    """The sign-in page renders a form with a CSRF field and labelled inputs."""
    page = text(client.get("/sign-in"))
    assert 'name="csrf_token"' in page
    assert '<label for="email">' in page and '<label for="password">' in page


def test_student_signs_up_and_lands_on_their_learning(database, client):
    """A student signs up, is signed in at once, and lands on My learning."""
    response = _sign_up(client)
    assert response.status_code == 303 and response.headers["Location"] == "/learning/"
    row = database.rows("SELECT u.role::text AS role, c.password_hash FROM users u "
                        "JOIN private.user_credentials c ON c.user_id = u.id WHERE u.email = %s",
                        ("grace@example.test",))[0]
    assert row["role"] == "student"
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in row["password_hash"]
    assert client.get("/learning/").status_code == 200


def test_instructor_sign_up_creates_profile_and_default_settings(database, client):
    """An instructor also gets a profile row and a settings row with the specification's defaults."""
    assert _sign_up(client, role="instructor", email="ada@example.test").headers["Location"] == "/dashboard"
    settings = database.rows("SELECT s.* FROM instructor_settings s JOIN users u ON u.id = s.user_id "
                             "WHERE u.email = 'ada@example.test'")[0]
    assert (settings["auto_approve_enrollments"], settings["allow_course_reviews"], settings["payout_schedule"],
            settings["profile_visibility"], settings["timezone"]) == (True, True, "monthly", "public", "UTC")
    assert settings["email_notifications"]["new_enrollment"] is True
    assert database.value("SELECT count(*) FROM instructor_profiles p JOIN users u ON u.id = p.user_id "
                          "WHERE u.email = 'ada@example.test'") == 1
    page = text(client.get("/dashboard"))
    assert "get your teaching started" in page, "a new instructor sees the next steps"


@pytest.mark.parametrize("fields, field, message", [
    ({"full_name": ""}, "full_name", "Enter your name."),
    ({"full_name": "x" * 201}, "full_name", "At most 200 characters."),
    ({"email": "not-an-email"}, "email", "Enter an email address like name@example.com."),
    ({"email": ""}, "email", "Enter your email."),
    ({"password": "short"}, "password", "Use 12 to 128 characters."),
    ({"password": "x" * 129}, "password", "Use 12 to 128 characters."),
    ({"role": "admin"}, "role", "Not a valid choice"),
])
def test_sign_up_bad_input_keeps_values_and_explains(database, client, fields, field, message):
    """Bad sign-up input comes back 422 with the message on its field and the other values kept."""
    response = _sign_up(client, **fields)
    page = text(response)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page and message in page
    if field != "full_name":
        assert 'value="Grace Hopper"' in page
    assert database.value("SELECT count(*) FROM users") == 0


def test_sign_up_with_a_taken_email_is_a_form_error(database, client):
    """A second account with the same email (any case) is refused on the email field, not a 500."""
    gen_account(database, "student", email="taken@example.test")
    response = _sign_up(client, email="TAKEN@example.test")
    assert response.status_code == 422
    assert "already exists" in text(response)
    assert database.value("SELECT count(*) FROM users") == 1


def test_sign_in_good_credentials_renews_the_session(database, app):
    """Signing in starts a new session: nothing from the anonymous one survives; cookie flags are set."""
    user, email = gen_account(database, "instructor")
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    response = sign_in(client, email)
    assert response.headers["Location"] == "/dashboard"
    cookie = response.headers.getlist("Set-Cookie")[0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"] == str(user)


@pytest.mark.parametrize("which", ["wrong password", "unknown email"])
def test_sign_in_bad_credentials_share_one_message(database, client, which):
    """A wrong password and an unknown email get the same 422 message, and are counted."""
    _, email = gen_account(database, "student")
    if which == "unknown email":
        email = "nobody@example.test"
    response = post(client, "/sign-in", {"email": email, "password": "not the password"})
    assert response.status_code == 422 and GENERIC in text(response)
    assert f'value="{email}"' in text(response), "the email is kept"
    assert database.value("SELECT count(*) FROM private.sign_in_failures WHERE email = %s", (email,)) == 1
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_sign_in_is_throttled_per_account_across_workers(database):
    """After the account's limit of failures even the right password is refused, in every worker."""
    _, email = gen_account(database, "student")
    worker_a = make_app(database, SIGN_IN_ACCOUNT_LIMIT=3).test_client()
    for _ in range(3):
        assert post(worker_a, "/sign-in", {"email": email, "password": "wrong guess!"}).status_code == 422
    close_app()
    # A second app instance (another gunicorn worker, its own pool) sees the same count.
    worker_b = make_app(database, SIGN_IN_ACCOUNT_LIMIT=3).test_client()
    response = post(worker_b, "/sign-in", {"email": email, "password": PASSWORD})
    assert response.status_code == 429 and "Too many failed sign-ins" in text(response)
    with worker_b.session_transaction() as session:
        assert "_user_id" not in session
    close_app()


def test_sign_in_is_throttled_per_address(database):
    """Failures spread over many emails from one address hit the address limit."""
    _, email = gen_account(database, "student")
    client = make_app(database, SIGN_IN_ADDRESS_LIMIT=4).test_client()
    for n in range(4):
        post(client, "/sign-in", {"email": f"guess{n}@example.test", "password": "wrong guess!"})
    assert post(client, "/sign-in", {"email": email, "password": PASSWORD}).status_code == 429
    other_address = post(client, "/sign-in", {"email": email, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other_address.status_code == 303, "another address is not affected"
    close_app()


def test_sign_in_without_csrf_token_is_refused(database, client):
    """A sign-in form posted without its CSRF token is refused and signs nobody in."""
    _, email = gen_account(database, "student")
    response = post(client, "/sign-in", {"email": email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400 and "expired" in text(response)
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.mark.parametrize("path", ["/sign-up", "/sign-out"])
def test_other_forms_without_csrf_token_are_refused(database, client, path):
    """Sign-up and sign-out without a CSRF token are refused (400), nothing changes."""
    _, email = gen_account(database, "student")
    sign_in(client, email) if path == "/sign-out" else None
    response = client.post(path, data={"full_name": "X Y", "email": "x@example.test",
                                       "password": "a long passphrase", "role": "student"})
    assert response.status_code == 400
    assert database.value("SELECT count(*) FROM users") == 1
    if path == "/sign-out":
        assert client.get("/learning/").status_code == 200, "still signed in"


@pytest.mark.parametrize("target, expected", [
    ("/courses/", "/courses/"),
    ("https://evil.example/steal", "/dashboard"),
    ("//evil.example/steal", "/dashboard"),
    ("/\\evil.example", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
])
def test_next_redirects_only_to_local_paths(database, client, target, expected):
    """``next`` is followed only when it is a path on this site."""
    _, email = gen_account(database, "instructor")
    response = post(client, "/sign-in", {"email": email, "password": PASSWORD, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == expected


def test_protected_page_sends_anonymous_user_to_sign_in_and_back(database, client):
    """An anonymous visit to the dashboard goes to sign-in with next, and back after signing in."""
    response = client.get("/dashboard")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in?next=/dashboard"
    _, email = gen_account(database, "instructor")
    page = text(client.get(response.headers["Location"]))
    assert 'name="next" value="/dashboard"' in page


def test_htmx_sign_in_answers_with_hx_redirect(database, client):
    """Through htmx, success answers HX-Redirect and failure swaps the form fragment (422)."""
    _, email = gen_account(database, "instructor")
    token = csrf_token(client)
    bad = client.post("/sign-in", data={"email": email, "password": "nope", "csrf_token": token}, headers=htmx())
    assert bad.status_code == 422 and "<html" not in text(bad) and GENERIC in text(bad)
    good = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token},
                       headers=htmx())
    assert good.status_code == 204 and good.headers["HX-Redirect"] == "/dashboard"


def test_sign_out_ends_the_session(database, client):
    """Signing out (POST with CSRF) ends the session; the dashboard asks to sign in again."""
    _, email = gen_account(database, "instructor")
    sign_in(client, email)
    response = post(client, "/sign-out", token_from="/dashboard")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert client.get("/dashboard").status_code == 303
    assert client.get("/sign-out").status_code == 405


def test_deactivated_account_loses_its_session(database, client):
    """A user deactivated after signing in is anonymous on the next request."""
    user, email = gen_account(database, "instructor")
    sign_in(client, email)
    database.value("UPDATE users SET is_active = false WHERE id = %s RETURNING id", (user,))
    assert client.get("/dashboard").status_code == 303
    assert post(client, "/sign-in", {"email": email, "password": PASSWORD}).status_code == 422


def test_production_refuses_the_test_payment_provider_and_the_development_webhook_secret(database, monkeypatch):
    """Production takes no payment through the test provider, nor webhooks signed with the development secret."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    real = {"SECRET_KEY": "x" * 40, "PAYMENT_CHECKOUT_URL": "https://pay.example.test/c/{checkout_id}",
            "PAYMENT_DETAILS_KEYS": PRODUCTION_KEYS, "PORTAL_URL": PORTAL_URL}
    with pytest.raises(portal_config.ConfigError, match="test provider"):
        make_app(database, **real, PAYMENT_PROVIDER="test", PAYMENT_WEBHOOK_SECRET="w" * 40)
    with pytest.raises(portal_config.ConfigError, match="PAYMENT_WEBHOOK_SECRET"):
        make_app(database, **real, PAYMENT_WEBHOOK_SECRET=portal_config.DEVELOPMENT_WEBHOOK_SECRET)
    with pytest.raises(portal_config.ConfigError, match="PAYMENT_CHECKOUT_URL"):
        make_app(database, SECRET_KEY="x" * 40, PAYMENT_WEBHOOK_SECRET="w" * 40, PAYMENT_DETAILS_KEYS=PRODUCTION_KEYS,
                 PORTAL_URL=PORTAL_URL)


def test_production_needs_its_own_keys_for_payment_details(database, monkeypatch):
    """Production will not start without PAYMENT_DETAILS_KEYS, with a bad one, or with the development key id."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    real = {"SECRET_KEY": "x" * 40, "PAYMENT_WEBHOOK_SECRET": "w" * 40,
            "PAYMENT_CHECKOUT_URL": "https://pay.example.test/c/{checkout_id}", "PORTAL_URL": PORTAL_URL}
    with pytest.raises(portal_config.ConfigError, match="PAYMENT_DETAILS_KEYS"):
        make_app(database, **real)
    with pytest.raises(portal_config.ConfigError, match="32 bytes"):
        make_app(database, **real, PAYMENT_DETAILS_KEYS="k1:c2hvcnQ")
    with pytest.raises(portal_config.ConfigError, match="for development"):
        make_app(database, **real, PAYMENT_DETAILS_KEYS="dev:" + secretbox.new_key())


def test_production_refuses_the_development_secret(database, monkeypatch):
    """Production mode will not start with the development secret; with a real one cookies are Secure."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(portal_config.ConfigError, match="SECRET_KEY"):
        make_app(database, SECRET_KEY=portal_config.DEVELOPMENT_SECRET)
    app = make_app(database, SECRET_KEY="x" * 40, PAYMENT_WEBHOOK_SECRET="w" * 40,
                   PAYMENT_CHECKOUT_URL="https://pay.example.test/checkout/{checkout_id}",
                   PAYMENT_DETAILS_KEYS=PRODUCTION_KEYS, PORTAL_URL=PORTAL_URL)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    close_app()


def test_a_stored_hash_beyond_the_sign_in_budget_is_refused_without_verifying_it():
    """A hash whose own parameters ask for more than 64 MiB, 10 passes or 4 lanes fails as a wrong
    password would (the database refuses to store one; this is the second lock)."""
    from argon2 import PasswordHasher

    from portal import passwords
    costly = PasswordHasher(time_cost=11, memory_cost=8 * 1024, parallelism=1).hash("right")
    assert passwords.verify_password(costly, "right") is False
    assert passwords.verify_password(passwords.hash_password("right"), "right") is True


def test_signing_in_after_a_posted_form_comes_back_to_a_page_not_to_the_action(client):
    """An anonymous POST (enroll, approve...) sends to sign-in with the page it came from; an
    action as ``next`` (it answers no GET) is never where signing in lands."""
    from portal.web import safe_next
    with client.application.test_request_context():
        assert safe_next("/catalog/some-course/enroll", "/home") == "/home"
        assert safe_next("/catalog/some-course", "/home") == "/catalog/some-course"
        assert safe_next("//evil.example/x", "/home") == "/home"
    response = client.post("/students/approvals/00000000-0000-0000-0000-000000000001/approve",
                           data={"csrf_token": csrf_token(client, "/sign-in")},
                           headers={"Referer": "http://localhost/students/approvals?page=2"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in?next=/students/approvals?page%3D2"


# --- confirming the address (010: no email but the confirmation before it) -------------------------

def _confirmation(database, app, email):
    """The confirmation email the worker would send to ``email``, composed as the worker does."""
    from types import SimpleNamespace

    from portal import mail
    [row] = database.rows("SELECT e.* FROM notifications n CROSS JOIN LATERAL private.email_to_send(n.id) e "
                          "WHERE n.event_type = 'email_confirmation' AND e.email = %s", (email,))
    assert row["email_state"] == "pending" and row["wanted"]
    return mail.compose(app, SimpleNamespace(**row))


def _link(message) -> str:
    import re
    text_part = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/sign-up/confirm/\S+)", text_part).group(1)


def test_sign_up_sends_one_confirmation_and_no_other_email_until_it_is_followed(database, app, client):
    """The address is unconfirmed: one email (no unsubscribe link), no bell notice; the notices of what
    the account does reach the bell but not the address. Following the link (GET asks, POST confirms)
    lets the next ones through; following it again says there is nothing to confirm."""
    from tests.support import enroll, gen_course, gen_user
    assert _sign_up(client, role="instructor", email="ada@example.test").status_code == 303
    user = database.value("SELECT id FROM users WHERE email = 'ada@example.test'")
    [notice] = database.rows("SELECT * FROM notifications WHERE user_id = %s", (user,))
    assert (notice["event_type"], notice["in_portal"], notice["email_state"]) == ("email_confirmation", False, "pending")
    message = _confirmation(database, app, "ada@example.test")
    assert message["Subject"] == "Confirm your email address" and "List-Unsubscribe" not in message
    course = gen_course(database, user)
    enroll(database, gen_user(database, "student"), course.id)
    assert database.value("SELECT email_state FROM notifications WHERE user_id = %s AND event_type = "
                          "'new_enrollment'", (user,)) == "off"
    link = _link(message)
    page = client.get(link)
    assert page.status_code == 200 and "ada@example.test" in text(page)
    assert database.value("SELECT email_confirmed_at FROM users WHERE id = %s", (user,)) is None  # GET asks only
    done = post(client, link, {}, token_from="/no-such-page")
    assert done.status_code == 200 and "is confirmed" in text(done)
    assert database.value("SELECT email_confirmed_at IS NOT NULL FROM users WHERE id = %s", (user,))
    enroll(database, gen_user(database, "student"), course.id)
    assert database.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'new_enrollment' "
                          "AND email_state = 'pending'", (user,)) == 1
    again = post(client, link, {}, token_from="/no-such-page")
    assert again.status_code == 200 and "needs no confirming" in text(again)


def test_a_confirmation_link_confirms_only_its_own_address_and_user(database, app, client):
    """Signed out or as someone else, the link confirms its user's address; tampered, expired or about an
    address the account no longer has, it confirms nothing; without the page's CSRF token, nothing."""
    import time as clock
    from portal.notifications import events
    user, email = gen_account(database, "student")
    database.value("UPDATE users SET email_confirmed_at = NULL WHERE id = %s RETURNING 1", (user,))
    with app.test_request_context():
        good = events.confirmation_token(user, email)
        other_address = events.confirmation_token(user, "someone-else@example.test")
        real_time = clock.time
        try:
            clock.time = lambda: real_time() - 8 * 86400   # a link made eight days ago
            expired = events.confirmation_token(user, email)
        finally:
            clock.time = real_time
    for bad in (good[:-2] + "xx", expired, "x" * 500):
        assert client.get(f"/sign-up/confirm/{bad}").status_code == 404
    assert post(client, f"/sign-up/confirm/{good}", {}, csrf=False).status_code == 400
    refused = post(client, f"/sign-up/confirm/{other_address}", {}, token_from="/sign-in")
    assert refused.status_code == 200 and "needs no confirming" in text(refused)
    assert database.value("SELECT email_confirmed_at FROM users WHERE id = %s", (user,)) is None
    _, someone = gen_account(database, "instructor")
    sign_in(client, someone)
    assert "is confirmed" in text(post(client, f"/sign-up/confirm/{good}", {}, token_from="/no-such-page"))
    assert database.value("SELECT email_confirmed_at IS NOT NULL FROM users WHERE id = %s", (user,))


def test_an_address_an_admin_changes_is_confirmed_again(database):
    """A new address is unconfirmed and gets its own confirmation email; nothing else goes there before."""
    from tests.support import Actor
    user, _ = gen_account(database, "student")
    admin, _ = gen_account(database, "admin")
    with database.act(Actor.user(admin)) as cur:
        cur.execute("UPDATE users SET email = 'new-address@example.test' WHERE id = %s", (user,))
    assert database.value("SELECT email_confirmed_at FROM users WHERE id = %s", (user,)) is None
    [notice] = database.rows("SELECT * FROM notifications WHERE user_id = %s", (user,))
    assert notice["event_type"] == "email_confirmation" and notice["payload"]["email"] == "new-address@example.test"
    assert database.value("SELECT count(*) FROM procrastinate.procrastinate_jobs") == 1

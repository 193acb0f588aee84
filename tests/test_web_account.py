"""The account over HTTP (011): name and photo, sessions the server can end, a new password, a
forgotten one, a new email address, one's data, and closing the account. Every action: the
anonymous, CSRF, bad input, and nobody else's account."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import pytest

from tests.support import PASSWORD, Actor, enroll, gen_account, gen_course
from tests.web import close_app, make_app, post, same_but_tokens, sign_in, text

NEW_PASSWORD = "a brand new passphrase"


def _signed_in(app, database, role="student"):
    user, email = gen_account(database, role)
    client = app.test_client()
    sign_in(client, email)
    return user, email, client


def _is_signed_in(client) -> bool:
    response = client.get("/account/")
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/sign-in")
        return False
    assert response.status_code == 200
    return True


# --- the page, and who may use it ---------------------------------------------------------

@pytest.mark.parametrize("role", ["student", "instructor", "org_admin", "admin"])
def test_every_role_has_the_account_page(database, app, role):
    from tests.support import gen_org
    user, email = gen_account(database, role, org=gen_org(database) if role == "org_admin" else None)
    client = app.test_client()
    sign_in(client, email)
    page = text(client.get("/account/"))
    assert email in page and "Where you are signed in" in page and "this browser" in page


ACTIONS = ["/account/name", "/account/email", "/account/email/cancel", "/account/password",
           f"/account/sessions/{uuid.uuid4()}/end", "/account/sessions/end-others", "/account/sessions/end-all",
           "/account/delete"]


@pytest.mark.parametrize("path", ACTIONS + ["/account/", "/account/export"])
def test_the_anonymous_are_sent_to_sign_in(client, path):
    response = client.get(path) if path in ("/account/", "/account/export", "/account/delete") \
        else post(client, path, {})
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("path", ACTIONS)
def test_every_action_needs_its_csrf_token(database, app, path):
    user, _, client = _signed_in(app, database)
    before = database.rows("SELECT full_name, email FROM users WHERE id = %s", (user,))
    response = post(client, path, {"full_name": "Changed"}, csrf=False)
    assert response.status_code == 400
    assert database.rows("SELECT full_name, email FROM users WHERE id = %s", (user,)) == before
    assert _is_signed_in(client)


def test_name_and_photo_are_saved_and_bad_input_is_kept_with_its_errors(database, app):
    user, _, client = _signed_in(app, database)
    bad = post(client, "/account/name", {"full_name": "  ", "avatar_url": "http://not-https.example/x.png"},
               token_from="/account/")
    assert bad.status_code == 422
    assert "Enter your name." in text(bad) and "Use an https:// address." in text(bad)
    assert 'value="http://not-https.example/x.png"' in text(bad)
    good = post(client, "/account/name", {"full_name": "Grace Brewster Hopper",
                                          "avatar_url": "https://images.example/grace.png"}, token_from="/account/")
    assert good.status_code == 303
    assert database.rows("SELECT full_name, avatar_url FROM users WHERE id = %s", (user,)) == [
        {"full_name": "Grace Brewster Hopper", "avatar_url": "https://images.example/grace.png"}]


# --- sessions --------------------------------------------------------------------------------

def test_a_cookie_copied_before_sign_out_stops_working_after_it(database, app):
    """The server ends the session: a copy of the cookie taken while signed in is signed out too."""
    _, _, client = _signed_in(app, database)
    thief = app.test_client()
    thief.set_cookie("portal_session", client.get_cookie("portal_session").value)
    assert _is_signed_in(thief)
    post(client, "/sign-out", {}, token_from="/account/")
    assert not _is_signed_in(thief)


def test_sign_out_everywhere_ends_every_session(database, app):
    user, email, here = _signed_in(app, database)
    there = app.test_client()
    sign_in(there, email)
    response = post(here, "/account/sessions/end-all", {}, token_from="/account/")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert not _is_signed_in(here) and not _is_signed_in(there)
    assert database.value("SELECT count(*) FROM user_sessions WHERE user_id = %s AND revoked_at IS NULL",
                          (user,)) == 0


def test_one_other_session_is_ended_and_another_persons_is_not_found(database, app):
    user, email, here = _signed_in(app, database)
    there = app.test_client()
    sign_in(there, email)
    _, _, stranger = _signed_in(app, database)
    theirs = database.value("SELECT id FROM user_sessions WHERE user_id = %s AND revoked_at IS NULL "
                            "ORDER BY created_at DESC LIMIT 1", (user,))
    assert post(stranger, f"/account/sessions/{theirs}/end", {}, token_from="/account/").status_code == 404
    assert _is_signed_in(there)
    assert post(here, f"/account/sessions/{theirs}/end", {}, token_from="/account/").status_code == 303
    assert not _is_signed_in(there) and _is_signed_in(here)


def test_a_new_password_needs_the_current_one_and_signs_out_the_other_sessions(database, app):
    user, email, here = _signed_in(app, database)
    there = app.test_client()
    sign_in(there, email)
    wrong = post(here, "/account/password", {"current": "not my password", "password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD}, token_from="/account/")
    assert wrong.status_code == 422 and "That is not your current password." in text(wrong)
    differ = post(here, "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD,
                                              "confirm": NEW_PASSWORD + "!"}, token_from="/account/")
    assert differ.status_code == 422 and "The two passwords differ." in text(differ)
    short = post(here, "/account/password", {"current": PASSWORD, "password": "short", "confirm": "short"},
                 token_from="/account/")
    assert short.status_code == 422 and "Use 12 to 128 characters." in text(short)
    assert _is_signed_in(there)
    done = post(here, "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD}, token_from="/account/")
    assert done.status_code == 303
    assert _is_signed_in(here) and not _is_signed_in(there)
    sign_in(app.test_client(), email, NEW_PASSWORD)


def test_guessing_the_current_password_is_throttled_like_signing_in(database):
    app = make_app(database, SIGN_IN_ACCOUNT_LIMIT=2)
    try:
        _, _, client = _signed_in(app, database)
        for _ in range(2):
            post(client, "/account/password", {"current": "a guess", "password": NEW_PASSWORD,
                                               "confirm": NEW_PASSWORD}, token_from="/account/")
        right = post(client, "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD}, token_from="/account/")
        assert right.status_code == 422 and "Too many wrong passwords" in text(right)
    finally:
        close_app()


# --- a forgotten password ------------------------------------------------------------------

def _reset_link(database, app, email) -> str:
    """Send the reset emails as the worker does (it makes the token and stores its hash) and
    return the link of the one to ``email``."""
    from tests.test_jobs import _run_worker
    box = app.config["MAIL_CAPTURE_DIR"]
    _run_worker(database, MAIL_BACKEND="capture", MAIL_CAPTURE_DIR=box)
    from email import message_from_bytes, policy

    from portal import mail
    found = [message_from_bytes(m.as_bytes(), policy=policy.default) for m in mail.capture_box(app).values()
             if email in m["To"] and m["Subject"] == "Choose a new password"]
    assert found, "the reset email was sent"
    body = found[-1].get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/reset-password/\S+)", body).group(1)


def test_the_same_answer_whether_or_not_an_account_exists(database, app, client):
    _, email = gen_account(database, "student")
    known = post(client, "/forgot-password", {"email": email})
    unknown = post(client, "/forgot-password", {"email": "no-one-here@example.test"})
    assert known.status_code == unknown.status_code == 200
    # The pages differ only in the address and the CSRF token, which is signed with the time: two
    # requests on either side of a second differ there (the test failed when they did).
    assert same_but_tokens(text(known).replace(email, "X")) == \
        same_but_tokens(text(unknown).replace("no-one-here@example.test", "X"))
    assert database.value("SELECT count(*) FROM private.password_resets r JOIN users u ON u.id = r.user_id "
                          "WHERE u.email = %s", (email,)) == 1
    bad = post(client, "/forgot-password", {"email": "not an address"})
    assert bad.status_code == 422 and 'value="not an address"' in text(bad)
    assert post(client, "/forgot-password", {"email": email}, csrf=False).status_code == 400


def test_reset_requests_are_throttled_per_address_whether_or_not_it_has_an_account(database):
    app = make_app(database, PASSWORD_RESET_ACCOUNT_LIMIT=2)
    try:
        client = app.test_client()
        _, email = gen_account(database, "student")
        for address in (email, "nobody-at-all@example.test"):
            for _ in range(2):
                assert post(client, "/forgot-password", {"email": address}).status_code == 200
            third = post(client, "/forgot-password", {"email": address})
            assert third.status_code == 429 and "Too many reset requests" in text(third)
    finally:
        close_app()


def test_a_reset_link_works_once_signs_in_and_ends_every_other_session(database, app, tmp_path):
    app.config["MAIL_CAPTURE_DIR"] = str(tmp_path / "mail")
    user, email, elsewhere = _signed_in(app, database)
    client = app.test_client()
    post(client, "/forgot-password", {"email": email})
    link = _reset_link(database, app, email)
    token = link.rsplit("/", 1)[1]
    stored = database.value("SELECT token_hash FROM private.password_resets WHERE user_id = %s", (user,))
    assert bytes(stored) == hashlib.sha256(token.encode()).digest(), "only the token's hash is stored"
    assert token not in json.dumps(database.rows("SELECT payload FROM notifications WHERE user_id = %s", (user,)),
                                   default=str)
    page = client.get(link)
    assert page.status_code == 200 and email in text(page)
    differ = post(client, link, {"password": NEW_PASSWORD, "confirm": "something else"}, token_from=link)
    assert differ.status_code == 422 and "The two passwords differ." in text(differ)
    done = post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, token_from=link)
    assert done.status_code == 303 and done.headers["Location"] == "/learning/"
    assert _is_signed_in(client) and not _is_signed_in(elsewhere)
    assert client.get(link).status_code == 404, "a link works once"
    sign_in(app.test_client(), email, NEW_PASSWORD)


def test_an_expired_or_unknown_reset_link_is_not_found(database, app, tmp_path):
    app.config["MAIL_CAPTURE_DIR"] = str(tmp_path / "mail")
    user, email = gen_account(database, "student")
    client = app.test_client()
    post(client, "/forgot-password", {"email": email})
    link = _reset_link(database, app, email)
    database.value("UPDATE private.password_resets SET expires_at = now() - interval '1 second' "
                   "WHERE user_id = %s RETURNING 1", (user,))
    assert client.get(link).status_code == 404
    assert post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                token_from="/forgot-password").status_code == 404
    assert client.get("/reset-password/" + "x" * 43).status_code == 404
    assert client.get("/reset-password/short").status_code == 404


# --- a new email address --------------------------------------------------------------------

def test_a_new_address_needs_the_password_and_changes_when_its_link_is_followed(database, app, tmp_path):
    from types import SimpleNamespace

    from portal import mail
    user, email, client = _signed_in(app, database)
    new = f"moved-{uuid.uuid4().hex[:8]}@example.test"
    wrong = post(client, "/account/email", {"new_email": new, "email_password": "wrong one"},
                 token_from="/account/")
    assert wrong.status_code == 422 and f'value="{new}"' in text(wrong)
    same = post(client, "/account/email", {"new_email": email, "email_password": PASSWORD}, token_from="/account/")
    assert same.status_code == 422 and "That is already your address." in text(same)
    asked = post(client, "/account/email", {"new_email": new, "email_password": PASSWORD}, token_from="/account/")
    assert asked.status_code == 303
    assert f"Waiting for you to confirm <strong>{new}</strong>" in text(client.get("/account/"))
    [row] = database.rows("SELECT e.* FROM notifications n CROSS JOIN LATERAL private.email_to_send(n.id) e "
                          "WHERE n.user_id = %s AND n.event_type = 'email_change'", (user,))
    assert row["email"] == new and row["wanted"]
    message = mail.compose(app, SimpleNamespace(**row))
    link = re.search(r"https?://[^/\s]+(/account/email/confirm/\S+)",
                     message.get_body(preferencelist=("plain",)).get_content()).group(1)
    assert client.get(link).status_code == 200
    assert database.value("SELECT email FROM users WHERE id = %s", (user,)) == email, "GET asks only"
    done = post(client, link, {}, token_from="/account/")
    assert done.status_code == 200 and new in text(done)
    assert database.rows("SELECT email, email_confirmed_at IS NOT NULL AS confirmed FROM users WHERE id = %s",
                         (user,)) == [{"email": new, "confirmed": True}]
    [told] = database.rows("SELECT e.email FROM notifications n CROSS JOIN LATERAL private.email_to_send(n.id) e "
                           "WHERE n.user_id = %s AND n.event_type = 'email_changed'", (user,))
    assert told["email"] == email, "the old address is told"
    again = post(client, link, {}, token_from="/account/")
    assert again.status_code == 422 and "no longer valid" in text(again)
    sign_in(app.test_client(), new)


def test_an_email_change_link_is_its_persons_only_and_a_taken_address_is_refused(database, app):
    from portal.notifications import events
    user, _, client = _signed_in(app, database)
    _, taken = gen_account(database, "student")
    post(client, "/account/email", {"new_email": taken, "email_password": PASSWORD}, token_from="/account/")
    change = database.value("SELECT id FROM email_changes WHERE user_id = %s", (user,))
    with app.app_context():
        good = events.email_change_token(user, change)
        forged_for_other = events.email_change_token(uuid.uuid4(), change)
    assert client.get(f"/account/email/confirm/{good[:-2]}xx").status_code == 404
    assert post(client, f"/account/email/confirm/{good}", {}, csrf=False).status_code == 400
    other = post(app.test_client(), f"/account/email/confirm/{forged_for_other}", {}, token_from="/sign-in")
    assert other.status_code == 422 and "no longer valid" in text(other), "a change is its own person's only"
    refused = post(client, f"/account/email/confirm/{good}", {}, token_from="/account/")
    assert refused.status_code == 422 and "Another account uses that address." in text(refused)


def test_a_pending_change_can_be_cancelled(database, app):
    user, _, client = _signed_in(app, database)
    post(client, "/account/email", {"new_email": "elsewhere@example.test", "email_password": PASSWORD},
         token_from="/account/")
    assert post(client, "/account/email/cancel", {}, token_from="/account/").status_code == 303
    assert database.value("SELECT cancelled_at IS NOT NULL FROM email_changes WHERE user_id = %s", (user,))
    assert "Waiting for you to confirm" not in text(client.get("/account/"))


# --- one's data, and closing the account -------------------------------------------------------

def test_the_export_is_ones_own_data_as_json(database, app):
    user, email, client = _signed_in(app, database)
    teacher = gen_account(database, "instructor")[0]
    enroll(database, user, gen_course(database, teacher).id)
    response = client.get("/account/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="instructor-portal-data-')
    data = json.loads(response.get_data())
    assert data["account"]["email"] == email and len(data["enrollments"]) == 1
    assert all(s["id"] for s in data["sessions"])


def test_a_student_closes_their_account_and_is_anonymised(database, app):
    user, email, client = _signed_in(app, database)
    teacher = gen_account(database, "instructor")[0]
    course = gen_course(database, teacher)
    enroll(database, user, course.id)
    page = client.get("/account/delete")
    assert page.status_code == 200 and "Former member" in text(page)
    unticked = post(client, "/account/delete", {"delete_password": PASSWORD}, token_from="/account/delete")
    assert unticked.status_code == 422 and "Tick the box to confirm." in text(unticked)
    wrong = post(client, "/account/delete", {"delete_password": "nope", "understood": "y"},
                 token_from="/account/delete")
    assert wrong.status_code == 422 and "That is not your current password." in text(wrong)
    done = post(client, "/account/delete", {"delete_password": PASSWORD, "understood": "y"},
                token_from="/account/delete")
    assert done.status_code == 303 and done.headers["Location"] == "/catalog/"
    assert database.rows("SELECT full_name, email, is_active FROM users WHERE id = %s", (user,)) == [
        {"full_name": "Former member", "email": f"deleted-{user}@deleted.invalid", "is_active": False}]
    assert database.value("SELECT count(*) FROM course_enrollments WHERE user_id = %s", (user,)) == 1
    assert not _is_signed_in(client)
    assert post(app.test_client(), "/sign-in", {"email": email, "password": PASSWORD}).status_code == 422


def test_an_instructor_with_students_is_deactivated_and_an_admin_cannot_close_theirs(database, app):
    teacher, _, client = _signed_in(app, database, "instructor")
    enroll(database, gen_account(database, "student")[0], gen_course(database, teacher).id)
    assert "deactivated" in text(client.get("/account/delete"))
    done = post(client, "/account/delete", {"delete_password": PASSWORD, "understood": "y"},
                token_from="/account/delete")
    assert done.status_code == 303
    row = database.rows("SELECT full_name, is_active FROM users WHERE id = %s", (teacher,))[0]
    assert row["is_active"] is False and row["full_name"] != "Former member"
    admin, _, admin_client = _signed_in(app, database, "admin")
    assert "closed by the operators" in text(admin_client.get("/account/delete"))
    refused = post(admin_client, "/account/delete", {"delete_password": PASSWORD, "understood": "y"},
                   token_from="/account/delete")
    assert refused.status_code == 422
    assert database.value("SELECT is_active FROM users WHERE id = %s", (admin,)) is True
    with database.act(Actor.user(admin)) as cur:
        cur.execute("SELECT account_deletion_outcome() AS outcome")
        assert cur.fetchone()["outcome"] == "refused"


@pytest.mark.parametrize("sid", [12345, ["a list"], "not-a-uuid", str(uuid.uuid4())])
def test_a_session_id_of_the_wrong_shape_or_unknown_signs_the_request_out(database, app, sid):
    """Whatever ``sid`` the (signed) cookie carries that is not an open session of its user, the request
    is anonymous: to sign-in, never a 500."""
    _, _, client = _signed_in(app, database)
    with client.session_transaction() as session:
        session["sid"] = sid
    assert not _is_signed_in(client)

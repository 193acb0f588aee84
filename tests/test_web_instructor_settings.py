"""The instructor's settings page (issue 18, "Instructor settings"): teaching, payouts, calendar,
time zone, each section saved on its own (htmx: the section's fragment and a confirmation; plain
forms: post/redirect/get). Every route as every actor (tests/routes_settings.py names the POSTs for
test_web_routes.py), missing CSRF tokens, bad input (422, values kept, field errors), an
instructor's save touching only their own row, payment details stored only as an envelope and
shown only by their last four, and the student side honouring the teaching choices.

Each test that saves uses an instructor of its own (``fresh``), so the cases do not depend on
one another's settings."""

from __future__ import annotations

import re

import pytest

from portal import secretbox
from portal.config import payment_details_keys
from tests.course_web import send, slug
from tests.support import complete_course, gen_account, gen_course, gen_org
from tests.web import csrf_token, htmx, notified, sign_in, text

SIGN_IN = "sign in"
SECTIONS = {
    "teaching": {"auto_approve_enrollments": "y", "allow_student_questions": "y", "allow_course_reviews": "y",
                 "profile_visibility": "public"},
    "payouts": {"payment_method": "bank_transfer", "payment_details": "DE89 3704 0044 0532 0130 00",
                "payout_schedule": "weekly"},
    "calendar": {"calendar_sync_enabled": "y", "calendar_provider": "google"},
    "time": {"timezone": "Europe/Paris", "at_risk_progress_percent": "25", "at_risk_after_days": "10",
             "inactive_after_days": "21"},
}
COLUMNS = ("auto_approve_enrollments, allow_student_questions, allow_course_reviews, profile_visibility, "
           "payment_method, payment_details, payout_schedule, calendar_sync_enabled, calendar_provider, timezone, "
           "at_risk_progress_percent, at_risk_after_days, inactive_after_days")


@pytest.fixture(scope="module")
def world(world):
    """The shared cast (tests/conftest.py) with a platform admin and an organization admin."""
    org = gen_org(world.database)
    for actor, role in (("admin", "admin"), ("org_admin", "org_admin")):
        world.users[actor], world.emails[actor] = gen_account(world.database, role,
                                                              org=org if role == "org_admin" else None)
        world.clients[actor] = world.app.test_client()
        sign_in(world.clients[actor], world.emails[actor])
    return world


def fresh(world):
    """A new instructor with a signed-in client: (id, client, token)."""
    user, address = gen_account(world.database, "instructor")
    client = world.app.test_client()
    sign_in(client, address)
    return user, client, csrf_token(client, "/no-such-page")


def settings_row(world, user) -> dict:
    return world.database.rows(f"SELECT {COLUMNS} FROM instructor_settings WHERE user_id = %s", (user,))[0]


def save(client, token, section, data, **kwargs):
    return client.post(f"/settings/{section}", data={**data, "csrf_token": token}, **kwargs)


def opened(world, user) -> str:
    """The stored details opened with the test app's key ring."""
    ring = payment_details_keys(world.app.config)
    return secretbox.open_envelope(settings_row(world, user)["payment_details"], user, ring)


# --- who may --------------------------------------------------------------------------------------

def test_the_page_shows_every_section_and_the_links(world):
    """The instructor's page: four section forms (htmx posts on change, a Save button each) and the
    links to the profile editor, the notification settings and the account page."""
    page = text(world.clients["owner"].get("/settings/"))
    for section in SECTIONS:
        assert f'id="settings-{section}"' in page and f'hx-post="/settings/{section}"' in page
        assert f'action="/settings/{section}"' in page
    assert page.count('hx-trigger="change, submit"') == 4 and page.count('type="submit"') >= 4
    for href in ('href="/settings/profile"', 'href="/settings/notifications"', 'href="/account/"'):
        assert href in page
    assert "The address your calendar subscribes to comes with the Workshops area." in page
    assert "Your students: only students enrolled in your courses can see it" in page
    assert "No payout details saved yet." in page


@pytest.mark.parametrize("actor, expected", [("student", 404), ("admin", 404), ("org_admin", 404),
                                             ("anon", SIGN_IN)])
@pytest.mark.parametrize("section", SECTIONS)
def test_only_instructors_save_settings(world, section, actor, expected):
    """Each section's POST: students and admins get a 404, visitors are sent to sign in."""
    token = world.tokens[actor] if actor != "anon" else csrf_token(world.clients["anon"], "/sign-in")
    response = save(world.clients[actor], token, section, SECTIONS[section])
    if expected == SIGN_IN:
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_saves_as_a_plain_form_and_over_htmx(world, section):
    """A plain post is a 303 back to the section with the message flashed; the htmx post answers the
    section's fragment (no page around it) with the confirmation, and the row holds the values."""
    user, client, token = fresh(world)
    response = save(client, token, section, SECTIONS[section])
    assert response.status_code == 303 and response.headers["Location"] == f"/settings/#settings-{section}"
    with client.session_transaction() as session:
        assert [kind for kind, _ in session.get("_flashes", [])] == ["success"]
    data = dict(SECTIONS[section])
    if section == "payouts":
        data["payment_details"] = ""  # the stored details are kept
    response = save(client, token, section, data, headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and f'id="settings-{section}"' in body
    assert notified(response)["kind"] == "success" and "saved" in notified(response)["message"]
    assert "HX-Request" in response.headers.get("Vary", "")
    row = settings_row(world, user)
    expected = {"teaching": {"auto_approve_enrollments": True, "allow_student_questions": True,
                             "allow_course_reviews": True, "profile_visibility": "public"},
                "payouts": {"payment_method": "bank_transfer", "payout_schedule": "weekly"},
                "calendar": {"calendar_sync_enabled": True, "calendar_provider": "google"},
                "time": {"timezone": "Europe/Paris", "at_risk_progress_percent": 25, "at_risk_after_days": 10,
                         "inactive_after_days": 21}}[section]
    assert {name: row[name] for name in expected} == expected


@pytest.mark.parametrize("section", SECTIONS)
def test_a_save_without_the_csrf_token_is_refused(world, section):
    """No token, no change: a 400."""
    user, client, _ = fresh(world)
    before = settings_row(world, user)
    assert client.post(f"/settings/{section}", data=SECTIONS[section]).status_code == 400
    assert settings_row(world, user) == before


def test_a_save_changes_only_the_callers_row(world):
    """There is no id in the address: each section writes the signed-in instructor's row and no other."""
    user, client, token = fresh(world)
    other, _, _ = fresh(world)
    others_before = settings_row(world, other)
    owner_before = settings_row(world, world.users["owner"])
    for section, data in SECTIONS.items():
        assert save(client, token, section, {**data, "user_id": str(other)}).status_code == 303
    assert settings_row(world, other) == others_before
    assert settings_row(world, world.users["owner"]) == owner_before
    assert settings_row(world, user)["timezone"] == "Europe/Paris"


# --- teaching -------------------------------------------------------------------------------------

def test_teaching_saves_unchecked_boxes_and_the_visibility(world):
    """Boxes left unchecked are off; the visibility choice is stored (and the profile follows it)."""
    user, client, token = fresh(world)
    assert save(client, token, "teaching", {"profile_visibility": "private"}).status_code == 303
    row = settings_row(world, user)
    assert (row["auto_approve_enrollments"], row["allow_student_questions"], row["allow_course_reviews"],
            row["profile_visibility"]) == (False, False, False, "private")
    page = text(client.get("/settings/"))
    assert re.search(r'<input[^>]* checked id="profile_visibility-2"[^>]*value="private"', page)


def test_teaching_with_a_bad_visibility_is_a_422_keeping_the_values(world):
    """An unknown visibility: the section again (422) with its field error, the boxes as posted; nothing saved."""
    user, client, token = fresh(world)
    before = settings_row(world, user)
    for headers in ({}, htmx()):
        response = save(client, token, "teaching", {"allow_course_reviews": "y", "profile_visibility": "everyone"},
                        headers=headers)
        body = text(response)
        assert response.status_code == 422 and "field-error" in body and "Not a valid choice" in body
        assert re.search(r'<input[^>]* checked id="allow_course_reviews"', body)
        assert not re.search(r'<input[^>]* checked id="auto_approve_enrollments"', body)
        assert ("<html" in body) == (not headers)
        assert notified(response) == ({"message": "Not saved: check the highlighted fields.", "kind": "error"}
                                      if headers else None)
    assert settings_row(world, user) == before


def test_reviews_turned_off_in_settings_close_the_course_page(world):
    """The instructor turns reviews off on this page: a student who completed the course reads that
    reviews are closed, is offered no form, and cannot post one."""
    user, client, token = fresh(world)
    course = gen_course(world.database, user, lessons=("text",))
    complete_course(world.database, world.users["student"], course)
    course_slug = slug(world, course)
    assert 'href="/catalog/%s/review"' % course_slug in text(world.clients["student"].get(f"/catalog/{course_slug}"))
    assert save(client, token, "teaching", {**SECTIONS["teaching"], "allow_course_reviews": ""}).status_code == 303
    page = text(world.clients["student"].get(f"/catalog/{course_slug}"))
    assert "The instructor has turned reviews off for this course." in page
    assert f'href="/catalog/{course_slug}/review"' not in page
    assert world.clients["student"].get(f"/catalog/{course_slug}/review").status_code == 404
    response = send(world, "student", f"/catalog/{course_slug}/review", {"rating": "5", "title": "Great"})
    assert response.status_code == 404
    assert world.database.value("SELECT count(*) FROM course_reviews WHERE course_id = %s", (course.id,)) == 0


def test_auto_approve_turned_off_in_settings_makes_enrollments_wait(world):
    """With automatic approval off on this page, a student's enrollment waits for the instructor;
    turned on again, the next one starts at once."""
    user, client, token = fresh(world)
    waiting, at_once = (gen_course(world.database, user, lessons=("text",)) for _ in range(2))
    assert save(client, token, "teaching", {**SECTIONS["teaching"], "auto_approve_enrollments": ""}).status_code == 303
    assert send(world, "student", f"/catalog/{slug(world, waiting)}/enroll").status_code == 303
    assert save(client, token, "teaching", SECTIONS["teaching"]).status_code == 303
    assert send(world, "student", f"/catalog/{slug(world, at_once)}/enroll").status_code == 303
    status = {row["course_id"]: row["status"] for row in world.database.rows(
        "SELECT course_id, status FROM course_enrollments WHERE user_id = %s AND course_id IN (%s, %s)",
        (world.users["student"], waiting.id, at_once.id))}
    assert status == {waiting.id: "pending", at_once.id: "enrolled"}


# --- payouts --------------------------------------------------------------------------------------

def test_payment_details_are_stored_as_an_envelope_and_shown_by_the_last_four(world):
    """The stored value is an envelope (v1.<key>.<…>) that never holds the plain text; it opens to the
    details; the page shows "•••• 3000" and not the details; the field is blank."""
    user, client, token = fresh(world)
    assert save(client, token, "payouts", SECTIONS["payouts"]).status_code == 303
    stored = settings_row(world, user)["payment_details"]
    assert stored.startswith("v1.") and "DE89" not in stored and "3704" not in stored.upper()
    assert opened(world, user) == "DE89370400440532013000"
    page = text(client.get("/settings/"))
    assert "Saved: •••• 3000" in page
    assert "DE89" not in page and "0532" not in page and "3704" not in page
    assert re.search(r'<input [^>]*id="payment_details"[^>]*value="">', page)


def test_blank_details_keep_the_stored_ones(world):
    """Changing the schedule with the details left blank keeps the envelope as it was."""
    user, client, token = fresh(world)
    save(client, token, "payouts", SECTIONS["payouts"])
    before = settings_row(world, user)["payment_details"]
    response = save(client, token, "payouts", {"payment_method": "bank_transfer", "payment_details": "",
                                               "payout_schedule": "monthly"}, headers=htmx())
    assert response.status_code == 200 and "Saved: •••• 3000" in text(response)
    row = settings_row(world, user)
    assert (row["payment_details"], row["payout_schedule"]) == (before, "monthly")


@pytest.mark.parametrize("method, details, plain", [
    ("paypal", "payouts@example.com", "payouts@example.com"),
    ("stripe", "acct_9Zy8Xw7Vu6", "acct_9Zy8Xw7Vu6"),
    ("bank_transfer", "gb29 nwbk 6016 1331 9268 19", "GB29NWBK60161331926819"),
])
def test_each_method_takes_its_own_kind_of_details(world, method, details, plain):
    """PayPal: an email; Stripe: acct_ and 8–40 letters and digits; a bank: 8–34 letters and digits."""
    user, client, token = fresh(world)
    response = save(client, token, "payouts", {"payment_method": method, "payment_details": details,
                                               "payout_schedule": "biweekly"}, headers=htmx())
    assert response.status_code == 200 and f"Saved: •••• {plain[-4:]}" in text(response)
    assert details not in text(response)
    assert opened(world, user) == plain and settings_row(world, user)["payment_method"] == method


@pytest.mark.parametrize("method, details, message", [
    ("bank_transfer", "DE89-3704", "8 to 34 letters and digits"),
    ("bank_transfer", "1234567", "8 to 34 letters and digits"),
    ("bank_transfer", "A" * 35, "8 to 34 letters and digits"),
    ("paypal", "not-an-email", "the email address of your PayPal account"),
    ("stripe", "acct_short", "acct_ followed by 8 to 40"),
    ("stripe", "cus_1234567890", "acct_ followed by 8 to 40"),
    ("wire", "DE89370400440532013000", "Not a valid choice"),
    ("", "DE89370400440532013000", "Choose how you are paid."),
])
def test_details_that_do_not_fit_the_method_are_a_422(world, method, details, message):
    """Details that do not fit the method: the section again (422), the message on the field, the other
    values kept; the details are not echoed back, and nothing is stored."""
    user, client, token = fresh(world)
    for headers in ({}, htmx()):
        response = save(client, token, "payouts", {"payment_method": method, "payment_details": details,
                                                   "payout_schedule": "weekly"}, headers=headers)
        body = text(response)
        assert response.status_code == 422 and message in body and "field-error" in body
        assert details not in body
        assert re.search(r'<input[^>]* checked id="payout_schedule-0"', body), "the schedule as posted"
    row = settings_row(world, user)
    assert (row["payment_method"], row["payment_details"], row["payout_schedule"]) == (None, None, "monthly")


def test_a_new_method_needs_new_details(world):
    """Switching from a bank to PayPal with the details blank asks for the PayPal address (422):
    the bank's details are never kept under another method."""
    user, client, token = fresh(world)
    save(client, token, "payouts", SECTIONS["payouts"])
    before = settings_row(world, user)
    response = save(client, token, "payouts", {"payment_method": "paypal", "payment_details": "",
                                               "payout_schedule": "weekly"}, headers=htmx())
    assert response.status_code == 422 and "the email address of your PayPal account" in text(response)
    assert settings_row(world, user) == before
    response = save(client, token, "payouts", {"payment_method": "", "payment_details": "",
                                               "payout_schedule": "weekly"})
    assert response.status_code == 422 and "Choose how you are paid." in text(response)


def test_details_under_an_older_key_still_show_their_last_four(world):
    """After a new key is put first (the ring "B,<old>"), details sealed under the old key open with
    their own key id; a save seals under the new one."""
    user, client, token = fresh(world)
    save(client, token, "payouts", SECTIONS["payouts"])
    old_ring = world.app.config.get("PAYMENT_DETAILS_KEYS")
    old_id = settings_row(world, user)["payment_details"].split(".")[1]
    old_key = secretbox._b64encode(payment_details_keys(world.app.config)[old_id])
    world.app.config["PAYMENT_DETAILS_KEYS"] = f"B:{secretbox.new_key()},{old_id}:{old_key}"
    try:
        assert "Saved: •••• 3000" in text(client.get("/settings/"))
        save(client, token, "payouts", {**SECTIONS["payouts"], "payment_details": "NL91 ABNA 0417 1643 00"})
        assert settings_row(world, user)["payment_details"].startswith("v1.B.")
        assert opened(world, user) == "NL91ABNA0417164300"
    finally:
        world.app.config["PAYMENT_DETAILS_KEYS"] = old_ring


def test_the_plain_details_reach_no_log(world, caplog):
    """Saved with every logger at DEBUG (the queries peewee logs included), no record holds the details."""
    import logging
    user, client, token = fresh(world)
    with caplog.at_level(logging.DEBUG):
        stripe = {**SECTIONS["payouts"], "payment_method": "stripe"}
        assert save(client, token, "payouts", {**stripe, "payment_details": "acct_Secret1234Zq"}).status_code == 303
        assert save(client, token, "payouts", {**stripe, "payment_details": "acct_Bad!"}).status_code == 422
    assert caplog.records, "something was logged"
    assert not [r for r in caplog.records if "Secret1234" in r.getMessage() or "acct_Bad" in r.getMessage()]
    assert "Secret1234" not in settings_row(world, user)["payment_details"]


def test_details_sealed_for_one_instructor_do_not_open_for_another(world):
    """The envelope is bound to its row: copied onto another instructor's row, it does not open
    (and that instructor's page says the saved details cannot be read)."""
    user, client, token = fresh(world)
    other, other_client, _ = fresh(world)
    save(client, token, "payouts", SECTIONS["payouts"])
    world.database.value("UPDATE instructor_settings SET payment_method = 'bank_transfer', payment_details = "
                         "(SELECT payment_details FROM instructor_settings WHERE user_id = %s) "
                         "WHERE user_id = %s RETURNING 1", (user, other))
    with pytest.raises(secretbox.SecretBoxError):
        opened(world, other)
    page = text(other_client.get("/settings/"))
    assert "Saved details can no longer be read" in page and "3000" not in page


# --- calendar and time zone -----------------------------------------------------------------------

def test_calendar_sync_without_a_provider_is_a_field_error(world):
    """Sync on without a calendar: 422 with the message on the calendar field (never the database's 500)."""
    user, client, token = fresh(world)
    for headers in ({}, htmx()):
        response = save(client, token, "calendar", {"calendar_sync_enabled": "y", "calendar_provider": ""},
                        headers=headers)
        body = text(response)
        assert response.status_code == 422 and 'id="calendar_provider-error"' in body
        assert "Choose the calendar to sync with, or turn syncing off." in body
        assert re.search(r'<input[^>]* checked id="calendar_sync_enabled"', body)
    assert settings_row(world, user)["calendar_sync_enabled"] is False
    assert save(client, token, "calendar", {"calendar_provider": "outlook"}).status_code == 303
    row = settings_row(world, user)
    assert (row["calendar_sync_enabled"], row["calendar_provider"]) == (False, "outlook")


def test_an_unknown_calendar_or_time_zone_is_a_422(world):
    """A provider or a zone that is not offered: a field error, the value not stored."""
    user, client, token = fresh(world)
    response = save(client, token, "calendar", {"calendar_sync_enabled": "y", "calendar_provider": "yahoo"})
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    response = save(client, token, "time", {**SECTIONS["time"], "timezone": "Mars/Olympus"}, headers=htmx())
    assert response.status_code == 422 and 'id="timezone-error"' in text(response)
    row = settings_row(world, user)
    assert (row["calendar_provider"], row["timezone"]) == (None, "UTC")


def test_the_time_zone_is_offered_and_kept(world):
    """The zone list is the notification page's; the saved zone is the one selected."""
    user, client, token = fresh(world)
    save(client, token, "time", {**SECTIONS["time"], "timezone": "America/New_York"})
    page = text(client.get("/settings/"))
    assert re.search(r'<option selected value="America/New_York">America/New York</option>', page)
    assert settings_row(world, user)["timezone"] == "America/New_York"


def test_new_instructors_have_the_default_thresholds(world):
    """30 % after 7 days, inactive after 14 days (011's defaults), shown in the section."""
    user, client, _ = fresh(world)
    page = text(client.get("/settings/"))
    for name, value in (("at_risk_progress_percent", 30), ("at_risk_after_days", 7), ("inactive_after_days", 14)):
        assert settings_row(world, user)[name] == value
        assert re.search(rf'<input [^>]*id="{name}"[^>]*value="{value}"', page), name


@pytest.mark.parametrize("name, value, message", [
    ("at_risk_progress_percent", "0", "Enter a percentage from 1 to 100."),
    ("at_risk_progress_percent", "101", "Enter a percentage from 1 to 100."),
    ("at_risk_progress_percent", "", "Enter a percentage from 1 to 100."),
    ("at_risk_after_days", "366", "Enter a number of days from 1 to 365."),
    ("at_risk_after_days", "seven", "Not a valid integer value."),
    ("inactive_after_days", "-3", "Enter a number of days from 1 to 365."),
    ("inactive_after_days", "1e3", "Not a valid integer value."),
])
def test_thresholds_out_of_range_are_a_422_keeping_the_values(world, name, value, message):
    """A threshold outside 011's CHECK: a field error (422), the other values as posted, nothing stored."""
    user, client, token = fresh(world)
    before = settings_row(world, user)
    for headers in ({}, htmx()):
        response = save(client, token, "time", {**SECTIONS["time"], name: value}, headers=headers)
        body = text(response)
        assert response.status_code == 422 and f'id="{name}-error"' in body and message in body
        assert re.search(r'<option selected value="Europe/Paris">', body)
        for other in ("at_risk_progress_percent", "at_risk_after_days", "inactive_after_days"):
            if other != name:
                assert re.search(rf'<input [^>]*id="{other}"[^>]*value="{SECTIONS["time"][other]}"', body), other
    assert settings_row(world, user) == before

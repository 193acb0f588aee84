"""The bell in a real browser: the demo instructor sees their unread count, reads a notice in place,
and turns an email off in the notification settings; the demo admin runs a dead job again; an
email's unsubscribe link works signed out."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import expect

from portal.demo import DEMO_ADMIN_EMAIL, DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD, DEMO_STUDENT_EMAIL
from portal.notifications import events
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.web import SECRET_KEY

PAGE_WIDTH = "document.documentElement.scrollWidth"



def _unread(database, user) -> int:
    return database.value("SELECT count(*) FROM notifications WHERE user_id = %s AND in_portal AND read_at IS NULL",
                          (user,))


def test_the_bell_counts_reads_in_place_and_the_settings_turn_an_email_off(demo_server, page):
    """The demo instructor's bell shows their unread count; on the notices page marking one read (htmx) drops
    the count without a reload; the settings page turns one kind of email off and keeps the others."""
    base, database = demo_server
    maya = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    unread = _unread(database, maya)
    assert unread > 1, "the demo leaves a few unread notices for its sign-ins"
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL)

    bell = page.locator("#bell")
    expect(bell.locator(".bell__count")).to_have_text(f"{unread} unread")
    expect(page.get_by_role("link", name=f"Notifications {unread} unread")).to_be_visible()
    bell.click()
    expect(page).to_have_url(f"{base}/notifications/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    notices = page.locator(".notice--unread")
    expect(notices).to_have_count(unread)
    check_accessibility(page, "notifications")
    screenshot(page, "notifications-1280")

    # Mark the newest read in place: the notice loses its button, the bell its one, and the page stays.
    page.evaluate("window.notReloaded = true")
    first = notices.first
    notice_id = first.get_attribute("id").removeprefix("notice-")
    summary = first.locator(".notice__summary").text_content().replace("Unread: ", "").strip()
    first.get_by_role("button", name=re.compile("^Mark as read")).click()
    read = page.locator(f"#notice-{notice_id}")
    expect(read).not_to_have_class(re.compile("notice--unread"))
    expect(read.get_by_role("button")).to_have_count(0)
    expect(read).to_contain_text(summary)
    expect(bell.locator(".bell__count")).to_have_text(f"{unread - 1} unread")
    expect(notices).to_have_count(unread - 1)
    assert page.evaluate("window.notReloaded") is True, "marked read without a reload"
    assert database.value("SELECT read_at IS NOT NULL FROM notifications WHERE id = %s", (notice_id,)) is True
    assert _unread(database, maya) == unread - 1
    check_accessibility(page, "notifications after marking one read")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(bell.locator(".bell__count")).to_have_text(f"{unread - 1} unread")
    assert page.evaluate(PAGE_WIDTH) <= 390
    screenshot(page, "notifications-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The settings: turn off the review emails, keep the rest; the page says so and shows what was saved.
    page.get_by_role("link", name="Choose what you are told, and how").click()
    expect(page).to_have_url(f"{base}/settings/notifications")
    reviews = page.get_by_role("group", name="A student reviews your course")
    expect(reviews.get_by_label("Email")).to_be_checked()
    check_accessibility(page, "notification settings")
    screenshot(page, "notification-settings-1280")
    reviews.get_by_label("Email").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page).to_have_url(f"{base}/settings/notifications")
    expect(page.locator("#messages")).to_contain_text("Your notification settings are saved.")
    expect(reviews.get_by_label("Email")).not_to_be_checked()
    expect(reviews.get_by_label("In the portal")).to_be_checked()
    expect(page.get_by_role("group", name="A student enrolls in your course or asks to").get_by_label("Email")) \
        .to_be_checked()
    saved = database.rows("SELECT email_notifications, push_notifications FROM instructor_settings "
                          "WHERE user_id = %s", (maya,))[0]
    assert saved["email_notifications"]["new_review"] is False and saved["email_notifications"]["new_enrollment"] is True
    assert saved["push_notifications"]["new_review"] is True
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate(PAGE_WIDTH) <= 390
    screenshot(page, "notification-settings-390")
    assert page.console_errors == [], "no script or CSP errors"


def test_the_admin_runs_a_dead_job_again(demo_server, page):
    """The demo admin's job queue counts each state, lists a dead email with why it failed, and runs it again."""
    base, database = demo_server
    notice = database.value("SELECT n.id FROM notifications n JOIN users u ON u.id = n.user_id "
                            "WHERE u.email = %s AND n.email_state = 'pending' ORDER BY n.created_at LIMIT 1",
                            (DEMO_INSTRUCTOR_EMAIL,))
    job = database.value("UPDATE procrastinate.procrastinate_jobs SET status = 'failed', attempts = 5 "
                         "WHERE task_name = 'deliver_email' AND args ->> 'notification_id' = %s RETURNING id",
                         (str(notice),))
    database.value("SELECT private.record_job_error(%s, 5, 'SMTPServerDisconnected: Connection unexpectedly closed')",
                   (job,))
    database.value("SELECT private.record_email(%s, false, 'SMTPServerDisconnected', true)", (notice,))
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email").fill(DEMO_ADMIN_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/admin/")
    page.goto(f"{base}/admin/jobs")
    tabs = page.get_by_role("navigation", name="Job states")
    expect(tabs.get_by_role("link", name=re.compile(r"^Dead \(1\)$"))).to_have_attribute("aria-current", "page")
    row = page.locator("tr", has_text="SMTPServerDisconnected: Connection unexpectedly closed")
    expect(row).to_contain_text("deliver_email")
    check_accessibility(page, "job queue")
    screenshot(page, "admin-jobs-1280")
    row.get_by_role("button", name=f"Run again job {job}").click()
    expect(page.locator("#messages")).to_contain_text(f"Job {job} will run again now.")
    expect(page.get_by_role("heading", name="No dead jobs")).to_be_visible()
    expect(tabs.get_by_role("link", name=re.compile(r"^Retrying \(1\)$"))).to_be_visible()
    assert database.value("SELECT email_state FROM notifications WHERE id = %s", (notice,)) == "pending"
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/admin/jobs?state=retrying")
    screenshot(page, "admin-jobs-390")
    assert page.evaluate(PAGE_WIDTH) <= 390
    assert page.console_errors == []


def test_an_emails_unsubscribe_link_works_signed_out(demo_server, page):
    """Signed out, the link of an email asks first, then stops that one kind of email for its reader."""
    base, database = demo_server
    student = database.value("SELECT id FROM users WHERE email = %s", (DEMO_STUDENT_EMAIL,))
    signer = Flask(__name__)
    signer.config["SECRET_KEY"] = SECRET_KEY  # the demo server's (tests/web.py make_app)
    with signer.app_context():
        token = events.unsubscribe_token(student, "review_response")
    page.goto(f"{base}/notifications/unsubscribe/{token}")
    expect(page.get_by_text("Stop the emails you get when “an instructor answers your review”?")).to_be_visible()
    check_accessibility(page, "unsubscribe")
    screenshot(page, "unsubscribe")
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.get_by_role("status").filter(has_text="you will get no more emails")).to_be_visible()
    assert database.value("SELECT email_notifications ->> 'review_response' FROM notification_settings "
                          "WHERE user_id = %s", (student,)) == "false"
    check_accessibility(page, "unsubscribed")
    assert page.console_errors == []

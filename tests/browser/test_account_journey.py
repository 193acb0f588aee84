"""Issue 18's journey in a real browser: a new instructor completes the profile (an anonymous
visitor's public page shows it), turns off review emails, sets a payout method (only its last
four characters are shown back), changes the password (the other browser is signed out); a
student resets a forgotten password from the email in the outbox.

The reset email is sent by the worker, run in a process of its own as in production (in this
process its app would rebind the live server's database handle), into a capture mailbox that the
live server shows at /dev/mail/; the link is read there and followed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import check_accessibility, run_email_worker, screenshot, sign_in
from tests.support import PASSWORD, gen_account

PAGE_WIDTH = "document.documentElement.scrollWidth"
FIRST_PASSWORD = "a much longer passphrase"
NEW_PASSWORD = "another long passphrase, changed"
IBAN = "DE89 3704 0044 0532 0130 00"
HEADLINE = "Data engineer who teaches testing without fear"
BIO = ("I have built data pipelines for ten years and now teach people to test them, "
       "one small and calm step at a time.")


def _second_browser(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    return context, context.new_page()


def test_a_new_instructor_completes_the_profile_turns_off_review_emails_and_changes_the_password(
        mail_server, browser, page):
    base, database, _ = mail_server
    page.goto(f"{base}/sign-up")
    page.get_by_label("Full name").fill("Ines Instructor")
    page.get_by_label("Email").fill("ines@example.test")
    page.get_by_label("Password").fill(FIRST_PASSWORD)
    page.get_by_label("Teach: create courses and run workshops").check()
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base}/dashboard")
    ines = database.value("SELECT id FROM users WHERE email = 'ines@example.test'")

    # 1. The profile: headline, a bio (the counter follows), a tag, an education row, a social link.
    page.goto(f"{base}/settings/profile")
    check_accessibility(page, "profile editor (new instructor)")
    page.get_by_label("Headline").fill(HEADLINE)
    bio = page.get_by_label("Bio", exact=True)
    bio.fill(BIO[:20])
    expect(page.locator("#bio-counter")).to_have_text("20 of 2000 characters (30 more needed)")
    bio.fill(BIO)
    expect(page.locator("#bio-counter")).to_have_text(f"{len(BIO)} of 2000 characters")
    page.get_by_label("Expertise").fill("Data testing")
    rows = page.locator("#education .profile-row")
    before = rows.count()
    page.get_by_role("button", name="Add a row to education").click()
    expect(rows).to_have_count(before + 1)
    expect(page.get_by_label("Headline")).to_have_value(HEADLINE), "what was typed is kept"
    # A new profile starts with one empty row: fill the first empty one.
    row = 0 if not page.locator("#education-0-degree").input_value() else before
    page.locator(f"#education-{row}-degree").fill("MSc Computer Science")
    page.locator(f"#education-{row}-institution").fill("University of Testing")
    page.locator(f"#education-{row}-year").fill("2014")
    page.get_by_label("LinkedIn").fill("https://www.linkedin.com/in/ines-instructor")
    page.get_by_role("button", name="Save profile", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Your profile is saved.")
    expect(page).to_have_url(f"{base}/settings/profile")
    check_accessibility(page, "profile editor (saved)")
    screenshot(page, "account-journey-profile-editor")
    saved = database.rows("SELECT headline, bio, expertise_tags, education, social_links FROM instructor_profiles "
                          "WHERE user_id = %s", (ines,))[0]
    assert saved["headline"] == HEADLINE and saved["bio"] == BIO
    assert saved["education"][0]["degree"] == "MSc Computer Science"
    assert saved["social_links"]["linkedin"] == "https://www.linkedin.com/in/ines-instructor"

    # ... and an anonymous visitor's public page shows it.
    visitor_context, visitor = _second_browser(browser)
    try:
        visitor.goto(f"{base}/instructors/{ines}")
        expect(visitor.get_by_text(HEADLINE)).to_be_visible()
        expect(visitor.get_by_text(BIO)).to_be_visible()
        expect(visitor.get_by_text("MSc Computer Science")).to_be_visible()
        check_accessibility(visitor, "public instructor page")
        screenshot(visitor, "account-journey-public-page")
    finally:
        visitor_context.close()

    # 2. No more review emails; the saved state survives a reload.
    page.goto(f"{base}/settings/notifications")
    reviews = page.get_by_role("group", name="A student reviews your course")
    expect(reviews.get_by_label("Email")).to_be_checked()
    reviews.get_by_label("Email").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#messages")).to_contain_text("Your notification settings are saved.")
    page.reload()
    expect(reviews.get_by_label("Email")).not_to_be_checked()
    expect(reviews.get_by_label("In the portal")).to_be_checked()
    screenshot(page, "account-journey-notification-settings")
    assert database.value("SELECT email_notifications ->> 'new_review' FROM instructor_settings "
                          "WHERE user_id = %s", (ines,)) == "false"

    # 3. A payout method: the IBAN is saved as it is typed (htmx, on change), and only its last four
    # characters ever come back, even after a reload.
    page.goto(f"{base}/settings/")
    payouts = page.locator("#settings-payouts")
    expect(payouts.locator("#payment-details-saved")).to_have_text("No payout details saved yet.")
    payouts.get_by_label("Payout method").select_option("bank_transfer")
    expect(payouts.locator("#payment_details-error")).to_contain_text("IBAN")
    payouts.get_by_label("Payout details").fill(IBAN)
    payouts.get_by_label("Payout details").blur()
    expect(page.locator("#messages")).to_contain_text("saved")
    expect(page.locator("#payment-details-saved")).to_have_text("Saved: •••• 3000")
    expect(payouts.get_by_label("Payout details")).to_have_value("")
    page.reload()
    expect(page.locator("#payment-details-saved")).to_have_text("Saved: •••• 3000")
    expect(payouts.get_by_label("Payout method")).to_have_value("bank_transfer")
    html = page.content()
    assert IBAN not in html and IBAN.replace(" ", "") not in html, "never the whole IBAN"
    assert "370400440532013000" not in html
    stored = database.value("SELECT payment_details FROM instructor_settings WHERE user_id = %s", (ines,))
    assert stored.startswith("v1.") and IBAN.replace(" ", "") not in stored, "sealed, never plain"
    check_accessibility(page, "instructor settings")
    payouts.scroll_into_view_if_needed()
    screenshot(page, "account-journey-payouts")

    # 4. The password changes here; the other browser, signed in as her too, is signed out.
    other_context, other = _second_browser(browser)
    try:
        sign_in(other, base, "ines@example.test", FIRST_PASSWORD, lands=None)
        expect(other).to_have_url(f"{base}/dashboard")
        page.goto(f"{base}/account/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
        expect(page.locator("table.sessions tbody tr")).to_have_count(2)
        check_accessibility(page, "account page")
        password = page.get_by_role("region", name="Password")
        password.get_by_label("Current password").fill(FIRST_PASSWORD)
        password.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        password.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
        password.get_by_role("button", name="Change the password").click()
        expect(page).to_have_url(f"{base}/account/")
        expect(page.locator("#messages")).to_contain_text("Your password is changed. One other session was "
                                                          "signed out.")
        expect(page.locator("table.sessions tbody tr")).to_have_count(1)
        screenshot(page, "account-journey-account")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert page.evaluate(PAGE_WIDTH) <= 390
        screenshot(page, "account-journey-account-390")
        page.set_viewport_size({"width": 1280, "height": 900})

        other.reload()
        expect(other).to_have_url(re.compile(re.escape(f"{base}/sign-in")))
        expect(other.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        other_context.close()
    assert page.console_errors == [], "no script or CSP errors"


def test_a_student_resets_a_forgotten_password_from_the_email(mail_server, page):
    base, database, mailbox = mail_server
    _, email = gen_account(database, "student", name="Sam Forgetful", email="sam.forgetful@example.test")
    page.goto(f"{base}/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(f"{base}/forgot-password")
    check_accessibility(page, "forgot password")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("status").filter(has_text=f"If an account uses {email}")).to_be_visible()
    check_accessibility(page, "forgot password (sent)")
    screenshot(page, "account-journey-forgot-password")

    # The worker sends the email; the development mailbox shows it, with the link.
    run_email_worker(database, mailbox, base)
    page.goto(f"{base}/dev/mail/")
    page.locator("tr", has_text=email).filter(has_text="Choose a new password") \
        .get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    body = page.locator(".mail-text").text_content()
    link = re.search(re.escape(base) + r"/reset-password/\S+", body)
    assert link, body
    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    expect(page.get_by_text(email)).to_be_visible()
    check_accessibility(page, "reset password")
    screenshot(page, "account-journey-reset-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page).to_have_url(f"{base}/learning/")

    # Signed in with the new password, and only with it.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(f"{base}/sign-in")))
    sign_in(page, base, email, PASSWORD, lands=None)
    expect(page).to_have_url(re.compile(re.escape(f"{base}/sign-in")))
    sign_in(page, base, email, NEW_PASSWORD, lands=None)
    expect(page).to_have_url(f"{base}/learning/")
    assert page.console_errors == [], "no script or CSP errors"
    assert page.goto(link.group(0)).status == 404, "a reset link works once"

"""The profile editor in a real browser: the demo instructor sees the bio's live counter, adds an
education row with htmx, saves (the confirmation shows), and the preview and the public page show
the new row; the editor and the preview pass axe at a laptop's and a phone's width."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL
from tests.browser.conftest import check_accessibility, screenshot, sign_in



def test_the_instructor_edits_the_profile_and_previews_it(demo_server, page):
    """Counter, "Add a row" (htmx), save with a confirmation, the new row in the preview and on the public page."""
    base, database = demo_server
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL)
    page.goto(f"{base}/settings/profile")
    check_accessibility(page, "profile editor")

    bio = page.get_by_label("Bio", exact=True)
    bio.fill("Too short.")
    expect(page.locator("#bio-counter")).to_have_text("10 of 2000 characters (40 more needed)")

    rows = page.locator("#education .profile-row")
    before = rows.count()
    page.get_by_role("button", name="Add a row to education").click()
    expect(rows).to_have_count(before + 1)
    new_degree = page.locator(f"#education-{before}-degree")
    expect(new_degree).to_be_focused()
    expect(page.get_by_label("Bio", exact=True)).to_have_value("Too short."), "the typed bio is kept"

    new_degree.fill("Certificate in Browser Testing")
    page.locator(f"#education-{before}-institution").fill("Playwright Academy")
    page.get_by_role("button", name="Save profile", exact=True).click()
    expect(page.locator("#bio-error")).to_contain_text("Write between 50 and 2000 characters")
    check_accessibility(page, "profile editor with errors")

    page.get_by_label("Bio", exact=True).fill("I teach people to test what they build, calmly and one step at a time.")
    page.get_by_role("button", name="Save profile", exact=True).click()
    expect(page).to_have_url(f"{base}/settings/profile")
    expect(page.locator("#messages")).to_contain_text("Your profile is saved.")
    screenshot(page, "profile-editor")

    page.get_by_role("link", name="Preview your public page").first.click()
    expect(page.locator(".profile-preview-banner")).to_contain_text("Who can see it now: Everyone")
    expect(page.get_by_text("Certificate in Browser Testing")).to_be_visible()
    check_accessibility(page, "profile preview")
    screenshot(page, "profile-preview")
    maya = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    page.goto(f"{base}/instructors/{maya}")
    expect(page.get_by_text("Certificate in Browser Testing")).to_be_visible()
    assert page.console_errors == []

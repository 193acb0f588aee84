"""The admin portals in a real browser (issue 17): the platform admin finds a student by name (htmx
search), makes them an instructor, deactivates and reactivates the account, each with its
confirmation; the organization admin opens their home and one of the organization's courses.
Every page passes the accessibility check; screenshots in test-artifacts/."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.demo import DEMO_ADMIN_EMAIL, DEMO_ORG_ADMIN_EMAIL
from tests.browser.conftest import check_accessibility, screenshot, sign_in


def test_the_admin_changes_an_account_and_the_org_admin_reads_their_home(demo_server, page):
    base, database = demo_server
    student = database.rows("SELECT id, full_name FROM users WHERE role = 'student' AND is_active "
                            "AND organization_id IS NULL ORDER BY created_at, id LIMIT 1")[0]
    sign_in(page, base, DEMO_ADMIN_EMAIL, lands="/admin/")
    expect(page.get_by_role("heading", name="Platform overview")).to_be_visible()
    expect(page.locator('[data-figure="open_reports"]')).to_be_visible()
    check_accessibility(page, "platform overview")
    screenshot(page, "admin-overview-1280")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page).to_have_url(f"{base}/admin/users")
    page.get_by_label("Name or email").fill(student["full_name"])   # htmx searches as one types
    expect(page).to_have_url(re.compile(r"/admin/users\?q="))
    link = page.locator("#user-list").get_by_role("link", name=student["full_name"])
    expect(link).to_have_count(1)
    check_accessibility(page, "users (search)")
    link.click()
    expect(page).to_have_url(f"{base}/admin/users/{student['id']}")

    # the role: without the tick the form comes back, with it the role changes
    page.get_by_label("Role", exact=True).last.select_option("instructor")
    page.locator("#role-reason").fill("Runs the Tuesday workshop")
    page.get_by_role("button", name="Change the role").click()
    expect(page.get_by_text("Tick the box to confirm.")).to_be_visible()
    page.get_by_label("I understand this changes what the person can see and do").check()
    page.get_by_role("button", name="Change the role").click()
    expect(page.get_by_role("status")).to_contain_text("is now: Instructor")
    expect(page.locator('[data-field="role"]')).to_have_text("Instructor")
    assert database.value("SELECT role::text FROM users WHERE id = %s", (student["id"],)) == "instructor"
    check_accessibility(page, "a user's page")
    screenshot(page, "admin-user-1280")

    # deactivate (confirmed), then reactivate
    page.get_by_label("I understand the person is signed out everywhere and cannot sign in").check()
    page.get_by_role("button", name="Deactivate the account").click()
    expect(page.get_by_role("status")).to_contain_text("deactivated and signed out everywhere")
    expect(page.locator('[data-field="status"]')).to_have_text("Deactivated")
    assert database.value("SELECT is_active FROM users WHERE id = %s", (student["id"],)) is False
    page.get_by_role("button", name="Reactivate the account").click()
    expect(page.locator('[data-field="status"]')).to_have_text("Active")
    assert database.value("SELECT is_active FROM users WHERE id = %s", (student["id"],)) is True

    # the organization admin
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/(catalog/|sign-in)"))
    sign_in(page, base, DEMO_ORG_ADMIN_EMAIL, lands="/organization/")
    expect(page.locator('[data-figure="courses"]')).not_to_have_text("0")
    check_accessibility(page, "organization home")
    screenshot(page, "organization-home-1280")
    page.get_by_role("link", name="See the courses").click()
    expect(page).to_have_url(f"{base}/organization/courses")
    first = page.locator("#org-courses tbody th a").first
    title = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("heading", name="Enrollments by status")).to_be_visible()
    check_accessibility(page, "an organization course")
    screenshot(page, "organization-course-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "organization-course-390")
    assert page.console_errors == []

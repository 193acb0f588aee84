"""The instructor's first journey in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD
from tests.browser.conftest import screenshot
from tests.support import Actor


def test_demo_instructor_sees_cards_activity_and_chart(demo_server, page):
    """Sign in as the demo instructor: cards equal the database's figures, the feed pages on, the chart draws."""
    base, database = demo_server
    email, password = DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/catalog/")   # a signed-out visitor starts at the public catalog
    page.get_by_role("link", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/dashboard")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    instructor = database.value("SELECT id FROM users WHERE email = %s", (email,))
    with database.act(Actor.user(instructor)) as cur:
        cur.execute("SELECT * FROM get_instructor_dashboard_stats(%s)", (instructor,))
        stats = cur.fetchone()
    assert stats["total_students"] > 0
    students = page.locator('[data-figure="total_students"]')
    expect(students).to_have_attribute("data-value", str(stats["total_students"]))
    expect(students).to_have_text(f"{stats['total_students']:,}")

    items = page.locator(".activity__item")
    expect(items).to_have_count(20)
    page.get_by_role("link", name="Show older activity").click()
    expect(items).to_have_count(40)
    expect(page.locator("#trend-chart")).to_have_attribute("data-drawn", "true")
    path = screenshot(page, "instructor-dashboard")
    assert path.stat().st_size > 10_000
    assert page.console_errors == [], "no script or CSP errors"

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than the screen
    page.reload()
    expect(students).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "instructor-dashboard-phone")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/sign-in")
    expect(page.locator("#messages")).to_contain_text("signed out")


def test_new_instructor_signs_up_and_sees_next_steps(demo_server, page):
    """Sign up as an instructor with a mistake, fix it in place, and land on the empty dashboard."""
    base, database = demo_server
    page.goto(f"{base}/sign-up")
    page.get_by_label("Full name").fill("Nova Teacher")
    page.get_by_label("Email").fill("nova@example.test")
    page.get_by_label("Password").fill("short")
    page.get_by_label("Teach: create courses and run workshops").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_have_text("Use 12 to 128 characters.")
    expect(page.get_by_label("Full name")).to_have_value("Nova Teacher")
    page.get_by_label("Password").fill("a much longer passphrase")
    page.get_by_label("Password").press("Enter")  # the keyboard alone submits the form
    expect(page).to_have_url(f"{base}/dashboard")
    expect(page.get_by_role("heading", name="Let's get your teaching started")).to_be_visible()
    screenshot(page, "new-instructor-dashboard")
    assert database.value("SELECT role::text FROM users WHERE email = 'nova@example.test'") == "instructor"
    assert page.console_errors == []

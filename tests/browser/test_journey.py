"""The instructor's first journey in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.support import Actor, enroll, gen_account


def test_demo_instructor_sees_cards_activity_and_chart(demo_server, page):
    """Sign in as the demo instructor: cards equal the database's figures, the feed pages on, the chart draws."""
    base, database = demo_server
    email, password = DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/catalog/")   # a signed-out visitor starts at the public catalog
    page.get_by_role("link", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/sign-in")
    check_accessibility(page, "sign-in")
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
    check_accessibility(page, "instructor dashboard")
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
    check_accessibility(page, "sign-up with a field error")
    page.get_by_label("Password").fill("a much longer passphrase")
    page.get_by_label("Password").press("Enter")  # the keyboard alone submits the form
    expect(page).to_have_url(f"{base}/dashboard")
    expect(page.get_by_role("heading", name="Let's get your teaching started")).to_be_visible()
    check_accessibility(page, "a new instructor's dashboard")
    screenshot(page, "new-instructor-dashboard")
    assert database.value("SELECT role::text FROM users WHERE email = 'nova@example.test'") == "instructor"
    assert page.console_errors == []


# What escapes its box, measured in the page: a card's figure (the text itself, which may be wider
# than its <dd>), and the page's own width.
FIGURES_OUTSIDE_CARDS = """() => [...document.querySelectorAll('.cards .stat')].flatMap(card => {
    const figure = card.querySelector('dd'), text = document.createRange();
    text.selectNodeContents(figure);
    const box = card.getBoundingClientRect(), shown = text.getBoundingClientRect();
    const inside = shown.left >= box.left && shown.right <= box.right && shown.top >= box.top
        && shown.bottom <= box.bottom && figure.scrollWidth <= figure.clientWidth;
    return inside ? [] : [figure.textContent.trim()];
})"""
PAGE_WIDTH = "document.documentElement.scrollWidth"



def test_dashboard_cards_hold_large_figures_at_desktop_and_phone_widths(demo_server, page):
    """The demo's figures, then larger money ("$17,245.60", "$1,234,567.89"), stay inside their cards
    at 1280 and 390 px, and the page (menu with Catalog included) is never wider than the window."""
    base, _ = demo_server
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog")).to_be_visible()
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.reload()   # laid out (the chart drawn) at this width
        expect(page.locator('[data-figure="total_revenue"]')).to_be_visible()
        assert page.evaluate(FIGURES_OUTSIDE_CARDS) == [], f"the demo's figures at {width} px"
        page.evaluate("""() => {
            document.querySelector('[data-figure="total_revenue"]').textContent = '$17,245.60';
            document.querySelector('[data-figure="pending_revenue"]').textContent = '$1,234,567.89';
        }""")
        assert page.evaluate(FIGURES_OUTSIDE_CARDS) == [], f"large figures at {width} px"
        assert page.evaluate(PAGE_WIDTH) <= width
        screenshot(page, f"dashboard-large-figures-{width}")
    assert page.console_errors == []


def test_approval_actions_line_up_with_their_rows_and_the_page_reflows_on_a_phone(demo_server, page):
    """Each row's Approve/Decline cell sits in its row under the actions column at 1280 px; at 390 px
    the table scrolls in its box (its hidden labels included) and the page does not scroll sideways."""
    base, database = demo_server
    lena = database.value("SELECT id FROM users WHERE email = 'lena.novak@demo.test'")
    database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                   "RETURNING 1", (lena,))
    course = database.value("SELECT id FROM courses WHERE instructor_id = %s AND status = 'published' "
                            "ORDER BY price_amount, created_at LIMIT 1", (lena,))
    enroll(database, gen_account(database, "student", name="Wanda Waiting")[0], course)
    sign_in(page, base, "lena.novak@demo.test")
    page.goto(f"{base}/students/approvals")
    rows = page.locator(".approval-table tbody tr")
    expect(rows.filter(has_text="Wanda Waiting")).to_have_count(1)
    misplaced = page.evaluate("""() => {
        return [...document.querySelectorAll('.approval-table tbody tr')].flatMap(row => {
            // each row against its own table's header (awaiting payment is a table of its own)
            const head = row.closest('table').querySelectorAll('thead th')[4].getBoundingClientRect();
            const r = row.getBoundingClientRect(), cell = row.querySelector('.approval__actions');
            const c = cell.getBoundingClientRect();
            const fits = Math.abs(c.left - head.left) < 1 && Math.abs(c.right - head.right) < 1
                && Math.abs(c.top - r.top) < 1 && Math.abs(c.bottom - r.bottom) < 1;
            return fits ? [] : [row.id];
        });
    }""")
    assert misplaced == [], "each actions cell is in its row, under the actions column"
    check_accessibility(page, "enrollment approvals")
    screenshot(page, "approvals-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(rows.filter(has_text="Wanda Waiting")).to_have_count(1)
    assert page.evaluate(PAGE_WIDTH) <= 390
    screenshot(page, "approvals-390")
    assert page.console_errors == []


def test_the_accessibility_check_reports_what_it_finds(demo_server, page):
    """An image without alt text on the sign-in page fails the check at both widths, naming the rule and
    the element; injecting axe-core breaks no CSP rule."""
    base, _ = demo_server
    page.goto(f"{base}/sign-in")
    page.evaluate("""() => { const img = document.createElement('img');
                            img.src = '/static/favicon.svg'; img.id = 'unlabelled';
                            document.querySelector('main').append(img); }""")
    with pytest.raises(AssertionError) as failure:
        check_accessibility(page, "sign-in with an unlabelled image")
    report = str(failure.value)
    assert "1280px image-alt" in report and "390px image-alt" in report and "#unlabelled: Fix any" in report
    assert page.viewport_size == {"width": 1280, "height": 900}, "the page is left as it was"
    assert page.console_errors == []

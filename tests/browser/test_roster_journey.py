"""The students roster in a real browser (issue 15, part A): the dashboard's at-risk banner loads
after the page and leads to the at-risk students; the filters work with htmx; the page passes the
accessibility check and reflows on a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.support import Actor

PAGE_WIDTH = "document.documentElement.scrollWidth"


def test_the_instructor_follows_the_at_risk_banner_to_the_roster_and_filters_it(demo_server, page):
    base, database = demo_server
    instructor = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    with database.act(Actor.user(instructor)) as cur:
        cur.execute("SELECT at_risk_count() AS n")
        at_risk = cur.fetchone()["n"]
    assert at_risk > 0, "the demo has students at risk"
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL)
    page.goto(f"{base}/dashboard")
    banner = page.locator("#students-at-risk")
    expect(banner).to_contain_text(f"{at_risk:,} student")
    banner.get_by_role("link", name="See who").click()
    expect(page).to_have_url(f"{base}/students/?risk=at_risk")
    rows = page.locator(".roster-table tbody tr")
    expect(rows.first).to_contain_text("At risk: ")
    assert rows.count() == min(at_risk, 25)
    check_accessibility(page, "students roster (at risk)")
    screenshot(page, "roster-at-risk-1280")

    page.get_by_label("Sort by").select_option("progress")  # htmx swaps the list, the address follows
    expect(page).to_have_url(re.compile(r"/students/\?.*risk=at_risk.*&sort=progress"))
    shown = [float(v) for v in page.locator(".roster-table progress").evaluate_all(
        "bars => bars.map(b => b.getAttribute('value'))")]
    assert shown == sorted(shown)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(rows.first).to_be_visible()
    assert page.evaluate(PAGE_WIDTH) <= 390
    screenshot(page, "roster-at-risk-390")
    assert page.console_errors == []

"""Issue 14's journey in a real browser: an instructor creates and publishes a hybrid paid workshop
of one seat; two students register (the second is waitlisted); the first cancels, the second is
promoted and pays through the checkout; attendance is taken; feedback is given; the instructor sees
the NPS and the dashboard's workshop figures move; the .ics parses with icalendar at the right local
time. Times are moved as maintenance would (the workshop "is held"), never waited for."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL
from tests.browser.conftest import check_accessibility, screenshot, sign_in

ZONE = "America/New_York"


def _figure(page, base, name) -> int:
    page.goto(f"{base}/dashboard")
    return int(page.locator(f'[data-figure="{name}"]').inner_text().replace(",", "").strip())


def _signed_in_page(browser, base, email):
    """A browser context of its own for a student, signed in once (sign-ins are throttled)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    student = context.new_page()
    student.console_errors = []
    student.on("pageerror", lambda error: student.console_errors.append(str(error)))
    sign_in(student, base, email, lands=None)
    expect(student.get_by_role("button", name="Sign out")).to_be_attached()
    return student


def test_a_hybrid_workshop_from_planning_to_feedback(demo_server, page, browser):
    base, database = demo_server
    first, second = (r["email"] for r in database.rows(
        "SELECT email::text FROM users WHERE role = 'student' AND is_active ORDER BY email LIMIT 2"))
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL)
    before = {name: _figure(page, base, name) for name in ("total_workshops", "upcoming_workshops")}

    # Plan: hybrid (a location and a link), in New York's zone, one seat at $20.
    page.get_by_role("link", name="Workshops", exact=True).click()
    page.get_by_role("link", name="New workshop").click()
    start = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=10)).replace(hour=18, minute=30, second=0, microsecond=0)
    page.get_by_label("Title", exact=True).fill("Hybrid Prompt Clinic")
    page.get_by_label("Description").fill("Bring a real task; leave with prompts that work.")
    page.get_by_label("Hybrid").check()
    page.get_by_label("Location").fill("Brightpath Studio, 5th Avenue 100, New York")
    page.get_by_label("Meeting link").fill("https://meet.demo.test/hybrid-clinic")
    page.get_by_label("Time zone").select_option(ZONE)
    page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Seats", exact=True).fill("1")
    page.get_by_label("Price", exact=True).fill("20")
    check_accessibility(page, "new workshop")
    page.get_by_role("button", name="Save as draft").click()
    expect(page).to_have_url(re.compile(r"/workshops/[0-9a-f-]{36}$"))
    workshop = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".status--published")).to_be_visible()
    screenshot(page, "workshop-1-published")
    slug = database.value("SELECT slug FROM workshops WHERE id = %s", (workshop,))
    assert _figure(page, base, "total_workshops") == before["total_workshops"] + 1
    assert _figure(page, base, "upcoming_workshops") == before["upcoming_workshops"] + 1

    # The first student registers and pays (test checkout); the second is waitlisted.
    one, two = _signed_in_page(browser, base, first), _signed_in_page(browser, base, second)
    one.goto(f"{base}/workshops/w/{slug}")
    check_accessibility(one, "workshop page")
    one.get_by_role("button", name=re.compile("Register and pay")).click()
    expect(one).to_have_url(re.compile(r"/checkout/"))
    one.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(one.locator("#my-status")).to_have_text("You are registered.")
    expect(one.locator("#meeting-link")).to_be_visible()
    two.goto(f"{base}/workshops/w/{slug}")
    two.get_by_role("button", name="Join the waitlist").click()
    expect(two.locator("#my-status")).to_contain_text("number 1 on the waitlist")
    expect(two.locator("#meeting-link")).to_have_count(0)
    screenshot(two, "workshop-2-waitlisted")

    # The first cancels (confirmed in a dialog): the seat is the second's, who pays for it.
    one.once("dialog", lambda dialog: dialog.accept())
    one.get_by_role("button", name="Cancel my registration").click()
    expect(one.get_by_role("button", name=re.compile("Register and pay|Join the waitlist"))).to_be_visible()
    two.goto(f"{base}/workshops/w/{slug}")
    expect(two.locator("#my-status")).to_contain_text("Your seat is held")
    two.get_by_role("button", name=re.compile(r"^Pay ")).click()
    two.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(two.locator("#my-status")).to_have_text("You are registered.")
    screenshot(two, "workshop-3-promoted-and-paid")

    # The .ics: the library reads it, at 18:30 in New York.
    ics = two.request.get(f"{base}/workshops/w/{slug}.ics")
    event = Calendar.from_ical(ics.body()).walk("VEVENT")[0]
    assert event.decoded("dtstart").astimezone(ZoneInfo(ZONE)).strftime("%H:%M") == "18:30"
    assert str(event["dtstart"].params["TZID"]) == ZONE and "meet.demo.test" in str(event["description"])

    # It is held (moved as maintenance would): the instructor takes attendance with one click.
    database.value("UPDATE workshops SET start_time = now() - interval '30 minutes', "
                   "end_time = now() + interval '90 minutes' WHERE id = %s RETURNING 1", (workshop,))
    page.goto(f"{base}/workshops/{workshop}/registrations")
    page.get_by_role("button", name=re.compile("^Present")).focus()
    page.keyboard.press("Enter")  # keyboard only: the row is swapped and the focus stays on its button
    expect(page.locator(".status--attended")).to_have_text("Attended")
    assert page.evaluate("document.activeElement.id").startswith("present-")
    check_accessibility(page, "registrations")
    screenshot(page, "workshop-4-attendance")

    # It has ended: the attendee gives feedback (a promoter), once.
    database.value("UPDATE workshops SET end_time = now() - interval '1 minute' WHERE id = %s RETURNING 1",
                   (workshop,))
    two.goto(f"{base}/workshops/w/{slug}")
    two.get_by_role("link", name="Give feedback").click()
    for group in ("Overall", "Content", "Delivery", "Interaction"):
        two.get_by_role("group", name=group).get_by_label("5", exact=True).check()
    two.get_by_role("group", name=re.compile("recommend")).get_by_label("10", exact=True).check()
    two.get_by_label("What went well").fill("Real tasks, real prompts.")
    check_accessibility(two, "feedback form")
    two.get_by_role("button", name="Send feedback").click()
    expect(two.locator("#my-status")).to_contain_text("Thank you for your feedback")
    assert one.console_errors == [] and two.console_errors == []

    # The instructor sees the NPS (+100: one promoter) and the comment; the figures moved.
    page.goto(f"{base}/workshops/{workshop}/feedback")
    expect(page.locator("#nps-value")).to_have_text("+100")
    expect(page.get_by_text("Real tasks, real prompts.")).to_be_visible()
    screenshot(page, "workshop-5-feedback-nps")
    assert database.value("SELECT attended_count FROM workshops WHERE id = %s", (workshop,)) == 1
    assert _figure(page, base, "upcoming_workshops") == before["upcoming_workshops"]
    assert page.console_errors == []

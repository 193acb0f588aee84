"""The instructor's settings page in a real browser: each section saves as it changes (htmx), with the
confirmation in the message region and no reload; payout details are taken, and only their last four
are shown back; a refused value is a field error in place; and the page passes axe at both widths."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.browser.test_notifications_journey import PAGE_WIDTH


def test_settings_save_as_they_change(demo_server, page):
    """Turn reviews off, set PayPal as the payout method, try syncing without a calendar, change
    the at-risk threshold: each saved in place, said in the message region, stored in the database."""
    base, database = demo_server
    maya = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL)
    page.goto(f"{base}/settings/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    check_accessibility(page, "settings")
    screenshot(page, "settings-1280")
    page.evaluate("window.notReloaded = true")

    messages = page.locator("#messages")
    page.get_by_label("Let students review your courses").uncheck()
    expect(messages).to_contain_text("Your teaching settings are saved.")
    assert database.value("SELECT allow_course_reviews FROM instructor_settings WHERE user_id = %s", (maya,)) is False

    payouts = page.locator("#settings-payouts")
    payouts.get_by_label("Payout method").select_option("paypal")
    expect(payouts.locator("#payment_details-error")).to_contain_text("PayPal account")
    payouts.get_by_label("Payout details").fill("maya.payouts@example.com")
    payouts.get_by_label("Payout details").blur()
    expect(page.locator("#payment-details-saved")).to_have_text("Saved: •••• .com")
    expect(payouts.get_by_label("Payout details")).to_have_value("")
    stored = database.value("SELECT payment_details FROM instructor_settings WHERE user_id = %s", (maya,))
    assert stored.startswith("v1.") and "maya" not in stored

    calendar = page.locator("#settings-calendar")
    expect(calendar.get_by_label("Sync my workshops to a calendar")).to_be_checked()  # the demo's choice
    calendar.get_by_label("Calendar", exact=True).select_option("")
    expect(calendar.locator("#calendar_provider-error")).to_contain_text("Choose the calendar")
    check_accessibility(page, "settings with a field error")
    calendar.get_by_label("Calendar", exact=True).select_option("outlook")
    expect(calendar.locator("#calendar_provider-error")).to_have_count(0)

    page.get_by_label("At risk below this progress (percent)").fill("40")
    page.get_by_label("At risk below this progress (percent)").blur()
    expect(messages).to_contain_text("Your time zone and at-risk thresholds are saved.")
    row = database.rows("SELECT calendar_sync_enabled, calendar_provider, at_risk_progress_percent "
                        "FROM instructor_settings WHERE user_id = %s", (maya,))[0]
    assert (row["calendar_sync_enabled"], row["calendar_provider"], row["at_risk_progress_percent"]) == \
        (True, "outlook", 40)
    assert page.evaluate("window.notReloaded") is True, "saved without a reload"
    screenshot(page, "settings-saved-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate(PAGE_WIDTH) <= 390
    screenshot(page, "settings-390")
    assert page.console_errors == [], "no script or CSP errors"

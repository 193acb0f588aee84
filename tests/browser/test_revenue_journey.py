"""Revenue in a real browser (issue 16): a student pays through the test provider, the instructor sees
the sale and refunds it inside the window, the student sees the refund and loses access, an admin
makes and pays a payout, and the instructor sees it paid with its statement. The money rules
(private.verify_money) hold on the demo data before and after."""

from __future__ import annotations

import csv
import re
from decimal import Decimal

from playwright.sync_api import expect

from portal.demo import DEMO_ADMIN_EMAIL, DEMO_INSTRUCTOR_EMAIL
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.support import gen_course


def test_a_sale_refunded_in_the_window_and_a_payout_paid(demo_server, browser, page):
    base, database = demo_server
    assert database.rows("SELECT * FROM private.verify_money()") == []   # the demo's money, as loaded
    teacher = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    course = gen_course(database, teacher, price="49.99", lessons=("text",), title="Ledger Basics")
    slug = database.value("SELECT slug::text FROM courses WHERE id = %s", (course.id,))

    # The student signs up and pays through the test provider.
    page.goto(f"{base}/sign-up")
    page.get_by_label("Full name").fill("Lee Ledger")
    page.get_by_label("Email").fill("lee@example.test")
    page.get_by_label("Password").fill("a long and private passphrase")
    page.get_by_label("Learn: take courses and join workshops").check()
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base}/learning/")
    page.goto(f"{base}/catalog/{slug}")
    page.get_by_role("button", name="Buy for $49.99").click()
    page.get_by_role("button", name="Pay $49.99").click()
    expect(page).to_have_url(f"{base}/learn/{slug}/lessons/{course.lessons[0]}")
    sale = database.value("SELECT r.id FROM revenue_transactions r JOIN course_enrollments e ON e.id = r.enrollment_id "
                          "WHERE e.course_id = %s", (course.id,))

    # The instructor sees the sale in this month's overview and transactions, and refunds it.
    teaching = browser.new_context(viewport={"width": 1280, "height": 900})
    instructor = teaching.new_page()
    sign_in(instructor, base, DEMO_INSTRUCTOR_EMAIL)
    instructor.get_by_role("link", name="Revenue").first.click()
    expect(instructor).to_have_url(f"{base}/revenue/")
    expect(instructor.locator('[data-figure="gross"]')).not_to_have_text("$0.00")
    check_accessibility(instructor, "revenue overview")
    screenshot(instructor, "revenue-overview")
    instructor.get_by_role("link", name="Transactions").first.click()
    expect(instructor.locator(f"#tx-{sale}")).to_contain_text("Ledger Basics")
    screenshot(instructor, "revenue-transactions")
    instructor.locator(f"#tx-{sale} a").click()
    expect(instructor).to_have_url(f"{base}/revenue/transactions/{sale}")
    instructor.get_by_label("Reason").fill("Bought the wrong course")
    instructor.get_by_role("button", name="Refund $49.99").click()
    expect(instructor.locator(".field-error")).to_contain_text("Tick the box")   # confirm first
    instructor.get_by_label("I understand the student is refunded").check()
    instructor.get_by_role("button", name="Refund $49.99").click()
    expect(instructor.locator('[data-field="refunded"]')).to_contain_text("$49.99")
    check_accessibility(instructor, "a refunded sale")
    screenshot(instructor, "revenue-sale-refunded")

    # The student sees the refund and its receipt, and has lost access to the course.
    page.goto(f"{base}/revenue/receipts")
    refund = database.value("SELECT id FROM revenue_transactions WHERE refund_of = %s", (sale,))
    expect(page.locator(f"#receipt-{refund}")).to_contain_text("−$49.99")
    page.locator(f"#receipt-{refund} a").click()
    expect(page.locator("main")).to_contain_text("Bought the wrong course")
    check_accessibility(page, "refund receipt")
    screenshot(page, "receipt-refund")
    player = page.request.get(f"{base}/learn/{slug}/lessons/{course.lessons[0]}", max_redirects=0)
    assert player.status in (303, 404), player.status   # no player: the lesson is closed to them
    assert "/learn/" not in player.headers.get("location", "")
    assert database.value("SELECT status::text FROM course_enrollments WHERE course_id = %s", (course.id,)) == \
        "refunded"

    # An admin makes the instructor's payout, reviews it and marks it paid.
    office = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = office.new_page()
    sign_in(admin, base, DEMO_ADMIN_EMAIL, lands="/admin/")
    admin.goto(f"{base}/revenue/admin/payouts")
    row = admin.locator(f'tr[data-instructor="{teacher}"]')
    row.get_by_role("button", name=re.compile("Make a payout")).click()
    expect(admin).to_have_url(re.compile(rf"{re.escape(base)}/revenue/admin/payouts/[0-9a-f-]{{36}}$"))
    payout = admin.url.rsplit("/", 1)[1]
    screenshot(admin, "admin-payout-review")
    admin.get_by_label("Payment reference").fill("WIRE-2026-12")
    admin.get_by_label("I have sent this amount").check()
    admin.get_by_role("button", name="Mark paid").click()
    expect(admin.locator('[data-status="paid"]').first).to_be_visible()

    # The instructor sees it paid, with its rows and its statement.
    instructor.goto(f"{base}/revenue/payouts")
    expect(instructor.locator(f"#payout-{payout} [data-status]")).to_contain_text("Paid")
    instructor.locator(f"#payout-{payout} a").click()
    expect(instructor.locator("main")).to_contain_text("WIRE-2026-12")
    check_accessibility(instructor, "a paid payout")
    screenshot(instructor, "revenue-payout-paid")
    with instructor.expect_download() as download:
        instructor.get_by_role("link", name="Download the statement (CSV)").click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as statement:
        lines = list(csv.DictReader(statement))
    total = database.value("SELECT total_amount FROM payouts WHERE id = %s", (payout,))
    assert len(lines) == database.value("SELECT line_count FROM payouts WHERE id = %s", (payout,))
    assert sum(Decimal(line["Earnings"]) for line in lines) == total > 0

    teaching.close()
    office.close()
    assert database.rows("SELECT * FROM private.verify_money()") == []
    assert database.rows("SELECT * FROM verify_denormalized_figures()") == []
    assert page.console_errors == [], "no script or CSP errors"

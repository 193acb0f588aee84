"""The student's side in a real browser: from the catalog to a verified certificate and a review,
then the instructor seeing it all; and a paid enrollment through the test provider."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.support import Actor, gen_course, gen_lesson

STUDENT_PASSWORD = "a long and private passphrase"


def _course(database, title, *, price="0", certificate=False, kinds=("text", "quiz", "assignment")):
    """A published course of the demo instructor's with one module of ``kinds`` (quizzes from tests.support)."""
    teacher = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    course = gen_course(database, teacher, price=price, certificate=certificate, lessons=(), title=title)
    for kind in kinds:
        gen_lesson(database, course, course.modules[0], kind, passing_score=50)
    # A code line wider than a phone: the accessibility checks see how the player shows it.
    database.rows("UPDATE course_lessons SET body = %s WHERE course_id = %s", (
        "Read this **carefully**.\n\n```sql\nSELECT region, count(*) AS orders, sum(amount) AS revenue "
        "FROM orders WHERE ordered_at >= date '2025-01-01' GROUP BY region ORDER BY revenue DESC;\n```\n", course.id))
    return course, database.value("SELECT slug::text FROM courses WHERE id = %s", (course.id,))


def _sign_up(page, base, name, email):
    page.get_by_role("link", name="Create account").first.click()
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STUDENT_PASSWORD)
    page.get_by_label("Learn: take courses and join workshops").check()
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base}/learning/")



def test_a_visitor_learns_a_course_gets_a_certificate_reviews_it_and_the_instructor_sees_it(demo_server, page):
    """Catalog, sign-up, free enrollment, every lesson (a quiz failed then passed), certificate
    verified while signed out, a review; then the instructor's dashboard and course insight."""
    base, database = demo_server
    course, slug = _course(database, "Meeting Magic", certificate=True)

    # An anonymous visitor finds the course by typing in the catalog's search box.
    page.goto(f"{base}/catalog/")
    page.get_by_label("Search").fill("Meeting Magic")
    expect(page.locator("#catalog-results .course-card")).to_have_count(1)
    check_accessibility(page, "catalog search")
    screenshot(page, "catalog-search")
    page.locator("#catalog-results").get_by_role("link", name="Meeting Magic").click()
    expect(page).to_have_url(f"{base}/catalog/{slug}")
    expect(page.get_by_role("link", name="Sign in to enroll")).to_be_visible()
    check_accessibility(page, "course page, signed out")
    screenshot(page, "course-page-anonymous")

    # Sign up as a student, come back and enroll for free: the player opens on the first lesson.
    _sign_up(page, base, "Robin Learner", "robin@example.test")
    student = database.value("SELECT id FROM users WHERE email = 'robin@example.test'")
    page.goto(f"{base}/catalog/{slug}")
    page.get_by_role("button", name="Enroll for free").click()
    expect(page).to_have_url(f"{base}/learn/{slug}/lessons/{course.lessons[0]}")
    expect(page.locator("#course-progress")).to_contain_text("0% complete")
    expect(page.locator(".lesson-text strong")).to_have_text("carefully")  # sanitized Markdown
    check_accessibility(page, "player: a text lesson")

    # The text lesson: complete and go on (an htmx swap that pushes the next lesson's address).
    page.get_by_role("button", name=re.compile("^Mark complete")).click()
    expect(page).to_have_url(f"{base}/learn/{slug}/lessons/{course.lessons[1]}")
    expect(page.locator("#course-progress")).to_contain_text("33.3% complete")

    # The quiz: both answers wrong fails (0%), then both right passes.
    page.get_by_label("First", exact=True).first.check()
    page.get_by_label("Second", exact=True).last.check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("#quiz-result")).to_contain_text("You scored 0%.")
    expect(page.locator("#quiz-result")).to_contain_text("below the pass mark")
    check_accessibility(page, "player: a failed quiz")
    screenshot(page, "player-quiz-failed")
    page.get_by_label("Second", exact=True).first.check()
    page.get_by_label("First", exact=True).last.check()
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("#quiz-result")).to_contain_text("You scored 100%.")
    expect(page.locator("#course-progress")).to_contain_text("66.7% complete")

    # The assignment, the last lesson: handed in (no Mark complete), a passing grade from the
    # instructor completes it; the course is complete and the certificate is ready.
    page.get_by_role("link", name=re.compile("^Next: ")).click()
    expect(page.get_by_role("button", name=re.compile("^Mark complete"))).to_have_count(0)
    page.get_by_role("textbox", name="Your answer").fill("My meeting plan, step by step.")
    page.get_by_role("button", name="Hand in your work").click()
    expect(page.locator("#submission")).to_contain_text("waiting for a grade")
    teacher = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("SELECT grade_assignment(id, 80, 'Good plan') FROM assignment_submissions WHERE user_id = %s",
                    (student,))
    page.reload()
    expect(page.locator("#course-progress")).to_contain_text("100% complete")
    expect(page.get_by_role("heading", name="You have completed this course")).to_be_visible()
    check_accessibility(page, "player: the course completed")
    screenshot(page, "player-completed")
    page.get_by_role("link", name="Your certificate").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/certificates/[0-9a-f]{{32}}$"))
    certificate_url = page.url
    code = certificate_url.rsplit("/", 1)[1]
    assert database.value("SELECT certificate_url FROM student_progress WHERE user_id = %s", (student,)) == \
        f"/certificates/{code}"

    # My learning lists the completed course with its certificate.
    page.get_by_role("link", name="My learning").first.click()
    expect(page.locator("main")).to_contain_text("Meeting Magic")
    expect(page.locator(f'main a[href="/certificates/{code}"]').first).to_be_visible()
    check_accessibility(page, "my learning")
    screenshot(page, "my-learning")

    # A review from the course page.
    page.goto(f"{base}/catalog/{slug}")
    page.get_by_role("link", name="Write a review").click()
    page.get_by_role("button", name="Publish your review").click()   # no rating yet: kept on the form
    expect(page.locator("#review-form")).to_contain_text("Choose a rating from 1 to 5 stars.")
    check_accessibility(page, "review form with an error")
    page.get_by_label("5 — Excellent").check()
    page.get_by_label("Title").fill("Shorter, better meetings")
    page.get_by_role("textbox", name="Your review").fill("Practical <b>and</b> kind.")
    page.get_by_role("button", name="Publish your review").click()
    expect(page).to_have_url(re.compile(rf"/catalog/{slug}#reviews$"))
    expect(page.locator("#reviews")).to_contain_text("Practical <b>and</b> kind.")   # escaped, as typed
    check_accessibility(page, "course page, enrolled and reviewed")
    screenshot(page, "course-page-reviewed")
    assert page.console_errors == [], "no script or CSP errors"

    # Signed out, anyone can verify the certificate by its address.
    page.get_by_role("button", name="Sign out").click()
    page.goto(certificate_url)
    expect(page.locator(".certificate-check")).to_contain_text("Valid.")
    expect(page.locator(".certificate__name")).to_have_text("Robin Learner")
    check_accessibility(page, "certificate, signed out")
    screenshot(page, "certificate")
    pdf = page.request.get(f"{certificate_url}.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    # The instructor sees the new student, the activity, the completion and the rating.
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD, lands=None)
    expect(page).to_have_url(f"{base}/dashboard")
    teacher = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("SELECT total_students FROM get_instructor_dashboard_stats(%s)", (teacher,))
        students = cur.fetchone()["total_students"]
    expect(page.locator('[data-figure="total_students"]')).to_have_attribute("data-value", str(students))
    feed = page.locator(".activity__item")
    expect(feed.filter(has_text="Robin Learner").first).to_be_visible()
    expect(page.locator(".activity--course_completed", has_text="Robin Learner")).to_have_count(1)
    expect(page.locator(".activity--review_posted", has_text="Robin Learner")).to_have_count(1)
    screenshot(page, "instructor-dashboard-after-student")
    page.goto(f"{base}/courses/{course.id}/insight")
    for name, value in (("enrolled_count", "1"), ("completed_count", "1"), ("average_rating", "5.00"),
                        ("review_count", "1")):
        expect(page.locator(f'[data-figure="{name}"]')).to_have_attribute("data-value", value)
    check_accessibility(page, "course insight")
    screenshot(page, "course-insight-after-student")
    assert page.console_errors == [], "no script or CSP errors"
    assert database.rows("SELECT * FROM verify_denormalized_figures()") == []


def test_a_paid_course_is_declined_then_paid_through_the_test_provider(demo_server, page):
    """Buy, decline on the test provider's page, try again, pay: enrolled, one sale with its fee."""
    base, database = demo_server
    course, slug = _course(database, "Negotiation Clinic", price="80.00", kinds=("text",))
    page.goto(f"{base}/catalog/{slug}")
    _sign_up(page, base, "Pat Payer", "pat@example.test")
    page.goto(f"{base}/catalog/{slug}")
    page.get_by_role("button", name="Buy for $80.00").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/checkout/[0-9a-f-]{{36}}$"))
    expect(page.locator(".test-mode")).to_contain_text("no real money moves")
    check_accessibility(page, "checkout")
    screenshot(page, "checkout-test-mode")

    page.get_by_role("button", name="Decline the payment").click()
    expect(page.locator("#checkout")).to_contain_text("Failed")
    check_accessibility(page, "checkout, payment failed")
    page.get_by_role("button", name="Try again").click()
    page.get_by_role("button", name="Pay $80.00").click()
    expect(page).to_have_url(f"{base}/learn/{slug}/lessons/{course.lessons[0]}")
    expect(page.locator("#messages")).to_contain_text("Payment received")

    student = database.value("SELECT id FROM users WHERE email = 'pat@example.test'")
    enrollment = database.rows("SELECT id, status::text, payment_status::text, amount_paid FROM course_enrollments "
                               "WHERE user_id = %s", (student,))
    assert [(e["status"], e["payment_status"], e["amount_paid"]) for e in enrollment] == [
        ("enrolled", "completed", Decimal("80.00"))]
    sales = database.rows("SELECT amount, platform_fee_amount, instructor_earnings FROM revenue_transactions "
                          "WHERE enrollment_id = %s", (enrollment[0]["id"],))
    assert sales == [{"amount": Decimal("80.00"), "platform_fee_amount": Decimal("16.00"),
                      "instructor_earnings": Decimal("64.00")}]
    outcomes = [r["status"] for r in database.rows("SELECT status::text FROM checkouts WHERE enrollment_id = %s "
                                                   "ORDER BY created_at", (enrollment[0]["id"],))]
    assert outcomes == ["failed", "succeeded"]
    events = database.rows("SELECT kind, outcome FROM payment_events v JOIN checkouts c ON c.id = v.checkout_id "
                           "WHERE c.enrollment_id = %s ORDER BY received_at", (enrollment[0]["id"],))
    assert [(e["kind"], e["outcome"]) for e in events] == [("payment.failed", "failed"),
                                                          ("payment.succeeded", "succeeded")]
    assert page.console_errors == [], "no script or CSP errors"


# The video's host never answers (the page sees a video still loading); the test then tells the
# player what a playing video would: its length and how far it has got.
VIDEO_AT = """([duration, position, events]) => {
    const video = document.querySelector('video');
    Object.defineProperty(video, 'duration', {value: duration, configurable: true});
    Object.defineProperty(video, 'currentTime', {value: position, writable: true, configurable: true});
    events.forEach(name => video.dispatchEvent(new Event(name)));
}"""


def test_a_video_lessons_mark_complete_waits_until_the_video_is_watched(demo_server, page):
    """Mark complete appears at 80% of the video (not at 50%), comes back at once when the recorded watch
    time is enough, and is there when the video cannot play here (watched through the link)."""
    base, database = demo_server
    course, slug = _course(database, "Video Basics", kinds=("video", "text", "video"))
    page.route("https://video.example.test/**", lambda route: None)
    page.goto(f"{base}/catalog/{slug}")
    _sign_up(page, base, "Vera Viewer", "vera@example.test")
    page.goto(f"{base}/catalog/{slug}")
    page.get_by_role("button", name="Enroll for free").click()
    expect(page).to_have_url(f"{base}/learn/{slug}/lessons/{course.lessons[0]}")
    button = page.get_by_role("button", name=re.compile("^Mark complete"))
    note = page.locator("[data-watch-note]")
    expect(note).to_contain_text("Watch the video to mark it complete")
    expect(button).to_be_hidden()
    page.evaluate(VIDEO_AT, [600, 300, ["loadedmetadata", "timeupdate"]])
    expect(button).to_be_hidden()                                    # half of it: not yet
    with page.expect_response(lambda response: response.url.endswith("/watch")) as reported:
        page.evaluate(VIDEO_AT, [600, 480, ["timeupdate", "pause"]])  # 80%, and the pause reports it
    assert reported.value.status == 204
    expect(button).to_be_visible()
    expect(note).to_contain_text("You have watched the video")
    check_accessibility(page, "player: a video lesson, watched")
    screenshot(page, "player-video-watched")

    page.reload()                                   # the recorded 480 s are enough once the length is known
    expect(button).to_be_hidden()
    page.evaluate(VIDEO_AT, [600, 0, ["loadedmetadata"]])
    expect(button).to_be_visible()
    button.click()
    expect(page).to_have_url(f"{base}/learn/{slug}/lessons/{course.lessons[1]}")

    assert page.console_errors == [], "no script or CSP errors"

    page.unroute("https://video.example.test/**")
    page.route("https://video.example.test/**", lambda route: route.abort())
    page.goto(f"{base}/learn/{slug}/lessons/{course.lessons[2]}")
    expect(note).to_contain_text("does not play here")                # the link is the way to watch it
    expect(button).to_be_visible()
    assert database.value("SELECT watch_time_seconds FROM lesson_progress WHERE lesson_id = %s",
                          (course.lessons[0],)) == 480
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == [], "only the video failed"

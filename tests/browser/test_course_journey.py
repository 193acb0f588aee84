"""An instructor builds a course from nothing to published, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.demo import DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.support import gen_course, gen_lesson, gen_module



def _add_lesson(page, module_title, title, kind, video_url=None):
    form = page.get_by_role("form", name=f"Add a lesson to “{module_title}”")
    form.get_by_label("Lesson title").fill(title)
    form.get_by_label("Type").select_option(label=kind)
    if video_url:
        form.get_by_label("Video address").fill(video_url)
    form.get_by_role("button", name="Add lesson").click()
    expect(page.locator(".lesson", has_text=title)).to_be_visible()


def test_create_structure_drip_share_and_publish_a_course(demo_server, page):
    """Create a course, add two modules and three lessons (one quiz), reorder, drip, add a co-instructor, publish."""
    base, database = demo_server
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD)
    colleague = database.value("SELECT email FROM users WHERE role = 'instructor' AND email <> %s "
                               "ORDER BY email LIMIT 1", (DEMO_INSTRUCTOR_EMAIL,))

    # Create: title and description, the slug is made from the title.
    page.get_by_role("link", name="Courses", exact=True).click()
    page.get_by_role("link", name="New course").click()
    page.get_by_label("Title", exact=True).fill("Facilitation Foundations")
    page.get_by_label("Description").fill("Run meetings people are glad they came to.")
    # Repeatable inputs, added and removed in place: three outcomes typed, the second removed.
    learn = page.locator("fieldset[data-items]").first
    for n, outcome in enumerate(["Set a purpose", "Fill the room", "Close with decisions"], 1):
        if n > 1:
            learn.locator("[data-items-add]").click()
        learn.get_by_label(f"item {n}", exact=False).last.fill(outcome)
    learn.get_by_role("button", name="Remove item 2").click()
    expect(learn.locator("[data-items-input]")).to_have_count(2)
    check_accessibility(page, "new course")
    page.get_by_role("button", name="Create the course").click()
    expect(page).to_have_url(re.compile(r"/courses/[0-9a-f-]{36}/curriculum$"))
    course_id = page.url.split("/")[-2]
    assert database.value("SELECT slug FROM courses WHERE id = %s", (course_id,)) == "facilitation-foundations"
    assert database.value("SELECT what_you_will_learn FROM courses WHERE id = %s", (course_id,)) == [
        "Set a purpose", "Close with decisions"]

    # Two modules, added in place; each time the message region at the top says so, visibly.
    for title in ("Foundations", "Practice"):
        adder = page.locator("#module-add")
        adder.get_by_label("Module title").fill(title)
        adder.get_by_role("button", name="Add module").click()
        expect(page.locator(".module__title", has_text=title)).to_be_visible()
        expect(page.locator("#messages-status .message__text")).to_have_text(f"Module “{title}” added.")
    expect(page.locator("#messages-status .message")).to_be_in_viewport()

    # Three lessons, one of them a quiz.
    _add_lesson(page, "Foundations", "Why meetings fail", "Text")
    _add_lesson(page, "Foundations", "Check your understanding", "Quiz")
    _add_lesson(page, "Practice", "Watch a facilitated session", "Video", "https://video.example.test/session")

    # The quiz: one question, three choices, the second one right, a pass mark of 80.
    quiz = page.locator(".lesson", has_text="Check your understanding")
    quiz.get_by_role("link", name=re.compile("Edit")).click()
    editor = page.locator("form", has=page.get_by_role("button", name="Add a question"))
    editor.get_by_role("button", name="Add a question").click()
    choices = editor.get_by_label(re.compile(r"^Choice \d+$"))
    expect(choices).to_have_count(2)
    editor.get_by_role("button", name="Add a choice to question 1").click()
    expect(choices).to_have_count(3)
    expect(editor.get_by_label("Video address")).to_be_hidden()   # only the quiz's fields show
    editor.get_by_label("Question text").fill("What makes a meeting worth having?")
    for n, choice in enumerate(["A long agenda", "A clear purpose", "Many attendees"], 1):
        editor.get_by_label(f"Choice {n}", exact=True).fill(choice)
    editor.get_by_label("Correct answer: choice 2 of question 1").check()
    editor.get_by_label("Passing score").fill("80")
    check_accessibility(page, "curriculum with the quiz editor open")
    editor.get_by_role("button", name="Save lesson", exact=True).last.click()
    expect(page.locator(".lesson", has_text="Check your understanding")).to_be_visible()
    quiz_row = database.rows("SELECT quiz, passing_score FROM course_lessons WHERE course_id = %s "
                             "AND content_type = 'quiz'", (course_id,))[0]
    assert quiz_row["passing_score"] == 80
    assert quiz_row["quiz"]["questions"][0]["answer"] == 1
    assert quiz_row["quiz"]["questions"][0]["choices"][1] == "A clear purpose"

    # Reorder with the keyboard-usable buttons: Practice first, the quiz before the text lesson.
    page.get_by_role("button", name="Move module “Practice” up").click()
    expect(page.locator(".module__title").first).to_have_text("Practice")
    page.get_by_role("button", name="Move lesson “Check your understanding” up").click()
    expect(page.locator("#modules .lesson").nth(1)).to_contain_text("Check your understanding")
    modules = [r["title"] for r in database.rows(
        "SELECT title FROM course_modules WHERE course_id = %s ORDER BY position", (course_id,))]
    assert modules == ["Practice", "Foundations"]
    lessons = [r["title"] for r in database.rows(
        "SELECT l.title FROM course_lessons l JOIN course_modules m ON m.id = l.module_id "
        "WHERE l.course_id = %s ORDER BY m.position, l.position", (course_id,))]
    assert lessons == ["Watch a facilitated session", "Check your understanding", "Why meetings fail"]
    check_accessibility(page, "curriculum")
    screenshot(page, "course-curriculum")

    # "Move to…", with the keyboard alone: the lesson goes back to the end of Foundations.
    page.get_by_role("link", name="Move to… (lesson “Check your understanding”)").focus()
    page.keyboard.press("Enter")
    place = page.get_by_label("Move the lesson “Check your understanding” to")
    expect(place).to_be_focused()
    place.select_option(label="Position 2 in “Foundations”, after “Why meetings fail”")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Move button
    moved = page.get_by_role("link", name="Move to… (lesson “Check your understanding”)")
    expect(moved).to_be_focused()
    expect(page.locator("#messages-status")).to_contain_text(
        "Lesson “Check your understanding” is now 2 of 2 in module “Foundations”.")
    lessons = [r["title"] for r in database.rows(
        "SELECT l.title FROM course_lessons l JOIN course_modules m ON m.id = l.module_id "
        "WHERE l.course_id = %s ORDER BY m.position, l.position", (course_id,))]
    assert lessons == ["Watch a facilitated session", "Why meetings fail", "Check your understanding"]

    # And by drag and drop (SortableJS): Foundations back to the top by its handle.
    handle = page.locator(".module", has_text="Foundations").locator(".module__handle")
    with page.expect_response(lambda r: r.url.endswith("/move") and r.request.method == "POST") as moved:
        handle.drag_to(page.locator(".module", has_text="Practice").locator(".module__handle"))
    assert moved.value.ok
    expect(page.locator(".module__title").first).to_have_text("Foundations")
    modules = [r["title"] for r in database.rows(
        "SELECT title FROM course_modules WHERE course_id = %s ORDER BY position", (course_id,))]
    assert modules == ["Foundations", "Practice"]

    # Drip: Foundations opens a week after enrollment (one row of the schedule's table).
    page.get_by_role("link", name="Drip release").click()
    page.get_by_label("Release content over time").check()
    expect(page.get_by_label("Days after enrollment for the module “Foundations”")).to_be_hidden()
    page.get_by_label("Release of the module “Foundations”").select_option("days")
    page.get_by_label("Days after enrollment for the module “Foundations”").fill("7")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator("#drip-rules")).to_contain_text("7 days")
    expect(page.locator("#messages-status .message")).to_contain_text("Drip schedule saved. Drip release is on.")
    expect(page.locator("#messages-status .message")).to_be_visible()
    foundations = database.value("SELECT id FROM course_modules WHERE course_id = %s AND title = 'Foundations'",
                                 (course_id,))
    row = database.rows("SELECT drip_content, drip_schedule FROM courses WHERE id = %s", (course_id,))[0]
    assert row["drip_content"] and row["drip_schedule"] == {str(foundations): 7}
    check_accessibility(page, "drip release")
    screenshot(page, "course-drip")

    # A co-instructor who may edit content.
    page.get_by_role("link", name="Team").click()
    page.get_by_label("Email of the instructor").fill(colleague)
    page.get_by_label("Edit content").check()
    page.get_by_role("button", name="Add to the team").click()
    expect(page.locator("#team-list .teacher")).to_have_count(2)
    perms = database.value("SELECT permissions FROM course_instructors WHERE course_id = %s", (course_id,))
    assert perms["edit_content"] and perms["view_content"]
    check_accessibility(page, "team")
    screenshot(page, "course-team")

    # Publish from the details page; the list shows it under Published.
    page.get_by_role("link", name="Details").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".course-header .status")).to_have_text("Published")
    check_accessibility(page, "course details")
    assert database.value("SELECT status::text FROM courses WHERE id = %s", (course_id,)) == "published"
    page.get_by_role("link", name="Courses", exact=True).first.click()
    page.get_by_role("link", name=re.compile("^Published")).click()
    expect(page.locator("#course-results")).to_contain_text("Facilitation Foundations")
    check_accessibility(page, "course list")
    screenshot(page, "course-list")
    assert page.console_errors == [], "no script or CSP errors"


def _demo_course(database, title: str, modules: list[tuple[str, int]]):
    """A draft course of the demo instructor's: (module title, number of lessons) in order."""
    instructor = database.value("SELECT id FROM users WHERE email = %s", (DEMO_INSTRUCTOR_EMAIL,))
    (first, count), *rest = modules
    course = gen_course(database, instructor, status="draft", title=title, lessons=("text",) * count)
    database.value("UPDATE course_modules SET title = %s WHERE id = %s RETURNING 1", (first, course.modules[0]))
    for name, count in rest:
        module = gen_module(database, course, name)
        for _ in range(count):
            gen_lesson(database, course, module)
    return course


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_deleting_with_the_keyboard_keeps_the_focus_nearby(demo_server, page):
    """Each delete (Enter on its button, confirmed) leaves the focus on the next item's title, else the previous
    one's, else the module's (last lesson) or "Add a module" (last module); the message shows and can be dismissed."""
    base, database = demo_server
    course = _demo_course(database, "Keyboard Course", [("Basics", 3), ("Second", 1), ("Third", 0)])
    basics, second, third = course.modules
    l1, l2, l3, l4 = course.lessons
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD)
    page.goto(f"{base}/courses/{course.id}/curriculum")
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm's question

    def delete(name: str, focused: str):
        page.get_by_role("button", name=name, exact=True).focus()
        page.keyboard.press("Enter")
        expect(page.locator(f"#{focused}")).to_be_focused()
        assert _focused_id(page) == focused

    delete("Delete lesson “Lesson 2”", f"lesson-{l3}-title")        # the next lesson
    expect(page.locator("#messages-status .message__text")).to_have_text("Lesson “Lesson 2” deleted.")
    expect(page.locator("#messages-status .message")).to_be_visible()
    delete("Delete lesson “Lesson 3”", f"lesson-{l1}-title")        # the last one: the previous lesson
    delete("Delete lesson “Lesson 1”", f"module-{basics}-title")    # none left: its module
    delete("Delete module “Basics”", f"module-{second}-title")      # the next module
    delete("Delete module “Third”", f"module-{second}-title")       # the last one: the previous module
    check_accessibility(page, "curriculum with a message after deletes")
    screenshot(page, "course-curriculum-after-deletes")
    delete("Delete module “Second”", "module-add-title")            # none left: "Add a module"
    expect(page.locator("#messages-status .message__text")).to_have_text(
        "Module “Second” deleted with its 1 lesson.")
    assert database.value("SELECT count(*) FROM course_modules WHERE course_id = %s", (course.id,)) == 0
    assert l4 not in [r["id"] for r in database.rows("SELECT id FROM course_lessons WHERE course_id = %s",
                                                     (course.id,))]

    # Dismiss: the message goes, and the focus goes on to the page, not to its top.
    page.get_by_role("button", name="Dismiss this message").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#messages .message")).to_have_count(0)
    assert _focused_id(page) == "main"
    assert page.console_errors == [], "no script or CSP errors"


def test_move_to_works_without_javascript(demo_server, browser):
    """With scripting off, "Move to…" is a link to the page with the form open, and the form a plain POST
    answered by a 303 whose page says what moved."""
    base, database = demo_server
    course = _demo_course(database, "Plain Course", [("Alpha", 1), ("Beta", 1), ("Gamma", 1)])
    alpha, beta, gamma = course.modules
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, base, DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD)
        page.goto(f"{base}/courses/{course.id}/curriculum")
        page.get_by_role("link", name="Move to… (module “Alpha”)").click()
        expect(page).to_have_url(f"{base}/courses/{course.id}/modules/{alpha}/move")
        place = page.get_by_label("Move the module “Alpha” to")
        expect(place).to_have_value("1")
        place.select_option(label="Position 3, after “Gamma”")
        page.get_by_role("button", name="Move", exact=True).click()
        expect(page).to_have_url(f"{base}/courses/{course.id}/curriculum#module-{alpha}")
        expect(page.locator("#messages-status")).to_contain_text("Module “Alpha” is now 3 of 3.")
        expect(page.locator(".module__title")).to_have_text(["Beta", "Gamma", "Alpha"])
        assert [r["id"] for r in database.rows("SELECT id FROM course_modules WHERE course_id = %s "
                                               "ORDER BY position", (course.id,))] == [beta, gamma, alpha]
        screenshot(page, "course-move-to-without-javascript")
    finally:
        context.close()

    # The same page with scripting on, for the accessibility check (axe runs in the page).
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, base, DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD)
        page.goto(f"{base}/courses/{course.id}/modules/{alpha}/move")
        expect(page.get_by_label("Move the module “Alpha” to")).to_be_visible()
        check_accessibility(page, "move to")
    finally:
        context.close()


def test_drip_schedule_is_a_compact_table(demo_server, page):
    """The schedule of a 12-lesson course is one table row per module and lesson: the page of a new course
    stays under 1,400 px at 1280 px wide (a fieldset per item made it 3,225), and the keyboard goes row by row."""
    base, database = demo_server
    course = _demo_course(database, "Twelve Lessons", [("Start", 4), ("Middle", 4), ("End", 4)])
    sign_in(page, base, DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD)
    page.goto(f"{base}/courses/{course.id}/drip")
    expect(page.locator(".drip-table--edit tbody tr")).to_have_count(15)
    height = page.evaluate("document.documentElement.scrollHeight")
    schedule = page.locator("#drip-rules").bounding_box()["height"]
    screenshot(page, "course-drip-12-lessons")
    assert height < 1400, f"the drip page is {height} px tall"
    assert schedule < 800, f"the schedule is {schedule} px tall"  # whatever the unlocks below take

    kind = page.get_by_label("Release of the lesson “Lesson 5”")
    kind.select_option("days")
    days = page.get_by_label("Days after enrollment for the lesson “Lesson 5”")
    expect(days).to_be_visible()
    expect(page.get_by_label("Date for the lesson “Lesson 5”")).to_be_hidden()
    kind.focus()
    page.keyboard.press("Tab")
    expect(days).to_be_focused()
    page.keyboard.type("14")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Release of the lesson “Lesson 6”")).to_be_focused()
    page.get_by_label("Release content over time").check()
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator("#messages-status .message__text")).to_have_text(
        "Drip schedule saved. Drip release is on.")
    expect(page.locator("#messages-status .message")).to_be_in_viewport()  # seen from the Save button too
    lesson = course.lessons[4]
    assert database.value("SELECT drip_schedule FROM courses WHERE id = %s", (course.id,)) == {str(lesson): 14}

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the rows stack, nothing wider than the screen
    page.reload()
    expect(page.get_by_label("Days after enrollment for the lesson “Lesson 5”")).to_have_value("14")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "course-drip-12-lessons-phone")
    assert page.console_errors == [], "no script or CSP errors"

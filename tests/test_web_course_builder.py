"""The curriculum builder over HTTP: modules and lessons added, edited,
deleted and moved in place (htmx) or by plain forms; positions stay 0..n-1;
bad input comes back with its values; and whoever may not edit is refused by
the database (404) with nothing changed."""

from __future__ import annotations

import html
import re

import pytest

from tests.support import gen_lesson, gen_module
from tests.web import htmx, notified, text

REFUSED = ("co_view", "co_manage", "other_instructor", "student")  # signed in, may not edit: 404




def send(world, actor: str, path: str, data: dict | None = None, *, csrf: bool = True, hx: bool = False):
    """POST as ``actor`` (with the session's CSRF token unless ``csrf`` is false)."""
    data = dict(data or {})
    if csrf:
        data["csrf_token"] = world.tokens[actor]
    return world.clients[actor].post(path, data=data, headers=htmx() if hx else {})


def outline(world, course) -> dict:
    """Every module and lesson of the course as stored (the database's owner sees all)."""
    modules = world.database.rows("SELECT id, title, description, position FROM course_modules "
                                  "WHERE course_id = %s ORDER BY position", (course.id,))
    lessons = world.database.rows(
        "SELECT id, module_id, title, position, content_type::text AS type, body, video_url, duration_minutes, "
        "is_preview, quiz, passing_score FROM course_lessons WHERE course_id = %s ORDER BY module_id, position",
        (course.id,))
    return {"modules": modules, "lessons": lessons}


def module_order(world, course) -> list:
    return [m["id"] for m in outline(world, course)["modules"]]


def lesson_order(world, module_id) -> list:
    return [r["id"] for r in world.database.rows(
        "SELECT id FROM course_lessons WHERE module_id = %s ORDER BY position", (module_id,))]


def assert_dense(world, course) -> None:
    """Module positions are 0..n-1 in the course, lesson positions 0..n-1 in each module."""
    state = outline(world, course)
    assert [m["position"] for m in state["modules"]] == list(range(len(state["modules"])))
    for module in state["modules"]:
        positions = [lesson["position"] for lesson in state["lessons"] if lesson["module_id"] == module["id"]]
        assert positions == list(range(len(positions))), module["title"]


def base(course) -> str:
    return f"/courses/{course.id}"


def lesson_form(**changes) -> dict:
    data = {"title": "A lesson", "content_type": "text", "duration_minutes": "5", "body": ""}
    data.update(changes)
    return data


# Each write route: (name, path from the course, form data from the course, what it changes).
WRITES = {
    "module_add": (lambda c: f"{base(c)}/modules", lambda c: {"title": "Brand new module"}),
    "module_save": (lambda c: f"{base(c)}/modules/{c.modules[0]}", lambda c: {"title": "Renamed module"}),
    "module_delete": (lambda c: f"{base(c)}/modules/{c.modules[1]}/delete", lambda c: {"confirm": "yes"}),
    "module_move": (lambda c: f"{base(c)}/modules/{c.modules[1]}/move", lambda c: {"by": "-1"}),
    "lesson_add": (lambda c: f"{base(c)}/modules/{c.modules[0]}/lessons",
                   lambda c: {"title": "Brand new lesson", "content_type": "text"}),
    "lesson_save": (lambda c: f"{base(c)}/lessons/{c.lessons[0]}",
                    lambda c: lesson_form(title="Renamed lesson", module=str(c.modules[0]))),
    "lesson_delete": (lambda c: f"{base(c)}/lessons/{c.lessons[0]}/delete", lambda c: {"confirm": "yes"}),
    "lesson_move": (lambda c: f"{base(c)}/lessons/{c.lessons[0]}/move", lambda c: {"by": "1"}),
    # "Move to…": a chosen place (the module's, or <module id>:<place> for a lesson)
    "module_move_to": (lambda c: f"{base(c)}/modules/{c.modules[0]}/move", lambda c: {"position": "2"}),
    "lesson_move_to": (lambda c: f"{base(c)}/lessons/{c.lessons[0]}/move",
                       lambda c: {"position": f"{c.modules[1]}:1"}),
}


# --- who may write ------------------------------------------------------------------

@pytest.mark.parametrize("route", WRITES)
@pytest.mark.parametrize("actor", ["owner", "co_edit"])
def test_editors_write_with_a_plain_form(world, route, actor):
    """The owner and a co-instructor with edit_content change the outline; a plain form gets a 303 back."""
    course = world.course()
    path, data = WRITES[route]
    before = outline(world, course)
    response = send(world, actor, path(course), data(course))
    assert response.status_code == 303, text(response)[:300]
    assert response.headers["Location"].startswith(f"{base(course)}/curriculum")
    assert outline(world, course) != before
    assert_dense(world, course)


@pytest.mark.parametrize("route", WRITES)
def test_editors_write_with_htmx_and_get_a_fragment(world, route):
    """With htmx the answer is a fragment (no page around it) and the message to show (notify)."""
    course = world.course()
    path, data = WRITES[route]
    before = outline(world, course)
    response = send(world, "co_edit", path(course), data(course), hx=True)
    assert response.status_code == 200, text(response)[:300]
    assert "<html" not in text(response)
    message = notified(response)
    assert message["kind"] == "success" and message["message"].endswith(".")
    assert outline(world, course) != before


@pytest.mark.parametrize("route", WRITES)
@pytest.mark.parametrize("actor", REFUSED)
def test_others_are_refused_and_nothing_changes(world, route, actor):
    """A co-instructor without edit_content, another instructor and a student get 404; the outline is unchanged."""
    course = world.course()
    path, data = WRITES[route]
    before = outline(world, course)
    response = send(world, actor, path(course), data(course))
    assert response.status_code == 404
    assert outline(world, course) == before


@pytest.mark.parametrize("route", WRITES)
def test_co_view_is_refused_by_the_database_with_htmx_too(world, route):
    """co_view's htmx write is a 404 fragment retargeted to the messages, and nothing changes."""
    course = world.course()
    path, data = WRITES[route]
    before = outline(world, course)
    response = send(world, "co_view", path(course), data(course), hx=True)
    assert response.status_code == 404 and response.headers.get("HX-Retarget") == "#messages"
    assert outline(world, course) == before


@pytest.mark.parametrize("route", WRITES)
def test_anonymous_writes_go_to_sign_in(world, route):
    """An anonymous POST is sent to sign in, and changes nothing."""
    course = world.course()
    path, data = WRITES[route]
    before = outline(world, course)
    response = send(world, "anon", path(course), data(course))
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    assert outline(world, course) == before


@pytest.mark.parametrize("route", WRITES)
def test_missing_csrf_token_is_refused(world, route):
    """A POST without the CSRF token is a 400, and changes nothing."""
    course = world.course()
    path, data = WRITES[route]
    before = outline(world, course)
    response = send(world, "owner", path(course), data(course), csrf=False)
    assert response.status_code == 400
    assert outline(world, course) == before


# --- reading: the page, one item, its form --------------------------------------------

def reads(course) -> dict:
    return {"module_show": f"{base(course)}/modules/{course.modules[0]}",
            "module_edit": f"{base(course)}/modules/{course.modules[0]}/edit",
            "lesson_show": f"{base(course)}/lessons/{course.lessons[0]}",
            "lesson_edit": f"{base(course)}/lessons/{course.lessons[0]}/edit"}


@pytest.mark.parametrize("route", ["module_show", "module_edit", "lesson_show", "lesson_edit"])
def test_item_urls_are_fragments_for_htmx_and_pages_otherwise(world, route):
    """Each item URL answers htmx with its fragment and a plain GET with the whole page showing it."""
    course = world.course()
    path = reads(course)[route]
    owner = world.clients["owner"]
    fragment, page = owner.get(path, headers=htmx()), owner.get(path)
    assert fragment.status_code == page.status_code == 200
    assert "<html" not in text(fragment) and "<html" in text(page)
    assert "HX-Request" in fragment.headers["Vary"]
    item = f"module-{course.modules[0]}" if route.startswith("module") else f"lesson-{course.lessons[0]}"
    assert f'id="{item}' in text(fragment) and f'id="{item}' in text(page)
    if route.endswith("edit"):
        assert "<form" in text(fragment) and "autofocus" in text(fragment)
        assert 'class="lesson lesson--editing"' in text(page) or 'class="module__head module-form"' in text(page)


@pytest.mark.parametrize("actor, show, edit", [
    ("co_edit", 200, 200), ("co_view", 200, 404), ("co_manage", 404, 404),
    ("other_instructor", 404, 404), ("student", 404, 404)])
def test_item_urls_by_actor(world, actor, show, edit):
    """Showing needs view_content, the edit form edit_content; others get 404."""
    course = world.course()
    client = world.clients[actor]
    paths = reads(course)
    for route, path in paths.items():
        expected = edit if route.endswith("edit") else show
        assert client.get(path, headers=htmx()).status_code == expected, route


def test_item_urls_send_anonymous_visitors_to_sign_in(world):
    """Anonymous visitors are sent to sign in from every item URL."""
    course = world.course()
    for path in reads(course).values():
        response = world.clients["anon"].get(path)
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")


def test_read_only_outline_has_no_edit_controls(world):
    """A co-instructor without edit_content sees every module and lesson but no form, mover or drag handle."""
    course = world.course()
    page = text(world.clients["co_view"].get(f"{base(course)}/curriculum"))
    assert page.count('class="module card"') == 2 and page.count('class="lesson lesson--') == 3
    for control in ("<form class=\"mover\"", "Add a module", "Add lesson", "module__handle", "/edit\"",
                    "builder.js", "Sortable.min.js"):
        assert control not in page, control
    assert "read-only" in page


def test_editor_outline_has_every_control_and_the_scripts(world):
    """An editor's page has movers, edit links, delete forms, add forms and the drag-and-drop scripts."""
    course = world.course()
    page = text(world.clients["co_edit"].get(f"{base(course)}/curriculum"))
    assert page.count('class="mover"') == 5 and page.count("hx-confirm=") == 5
    assert 'id="module-add"' in page and page.count('class="lesson-add"') == 2
    assert "js/builder.js" in page and "Sortable.min.js" in page
    assert 'aria-live="polite"' in page


def test_empty_course_shows_the_empty_state(world):
    """A course without modules says so and offers the add-module form."""
    course = world.course(status="draft", modules=())
    world.database.value("DELETE FROM course_modules WHERE course_id = %s RETURNING 1", (course.id,))
    page = text(world.clients["owner"].get(f"{base(course)}/curriculum"))
    assert "No modules yet" in page and 'id="module-add"' in page


def test_adding_the_first_module_with_htmx_clears_the_empty_state(world):
    """The new module comes with a fresh add form and an emptied empty-state box (out of band)."""
    course = world.course(status="draft", modules=())
    world.database.value("DELETE FROM course_modules WHERE course_id = %s RETURNING 1", (course.id,))
    response = send(world, "owner", f"{base(course)}/modules", {"title": "Getting started"}, hx=True)
    body = text(response)
    assert response.status_code == 200 and body.lstrip().startswith("<li class=\"module card\"")
    assert 'id="curriculum-empty" hx-swap-oob="true"></div>' in body
    assert 'id="module-add"' in body and 'hx-swap-oob="true"' in body and "Getting started" in body
    assert module_order(world, course) and outline(world, course)["modules"][0]["position"] == 0


def test_deleting_the_last_module_with_htmx_brings_the_empty_state_back(world):
    """Deleting the only module answers with nothing in its place and the empty state out of band."""
    course = world.course(modules=(("text",),))
    response = send(world, "owner", f"{base(course)}/modules/{course.modules[0]}/delete", {"confirm": "yes"},
                    hx=True)
    assert response.status_code == 200 and "No modules yet" in text(response)
    assert module_order(world, course) == []


# --- modules and lessons: adding, saving, deleting --------------------------------------

def test_added_module_and_lesson_go_to_the_end(world):
    """A new module is last in the course, a new lesson last in its module, whatever position is sent."""
    course = world.course()
    send(world, "owner", f"{base(course)}/modules", {"title": "Third", "description": "More", "position": "0"})
    state = outline(world, course)
    assert [m["title"] for m in state["modules"]][-1] == "Third" and state["modules"][-1]["description"] == "More"
    send(world, "owner", f"{base(course)}/modules/{course.modules[0]}/lessons",
         {"title": "Last one", "content_type": "video", "video_url": "https://v.example.test/x", "position": "0"})
    last = world.database.rows("SELECT title, content_type::text AS t, video_url FROM course_lessons "
                               "WHERE module_id = %s ORDER BY position DESC LIMIT 1", (course.modules[0],))[0]
    assert last == {"title": "Last one", "t": "video", "video_url": "https://v.example.test/x"}
    assert_dense(world, course)


def test_added_quiz_lesson_has_a_pass_mark_and_no_questions(world):
    """A new quiz lesson starts with an empty question list and a passing score of 70."""
    course = world.course()
    response = send(world, "owner", f"{base(course)}/modules/{course.modules[1]}/lessons",
                    {"title": "Check yourself", "content_type": "quiz"}, hx=True)
    assert response.status_code == 200 and "0 questions · pass 70%" in text(response)
    row = world.database.rows("SELECT quiz, passing_score FROM course_lessons WHERE title = 'Check yourself' "
                              "AND course_id = %s", (course.id,))[0]
    assert row == {"quiz": {"questions": []}, "passing_score": 70}


def test_saving_a_module_with_htmx_returns_its_heading(world):
    """Saving swaps the form back to the heading with the new title and description."""
    course = world.course()
    response = send(world, "owner", f"{base(course)}/modules/{course.modules[0]}",
                    {"title": "  Basics  ", "description": "Where it begins"}, hx=True)
    body = text(response)
    assert response.status_code == 200 and 'class="module__head"' in body
    assert ">Basics</h3>" in body and "Where it begins" in body
    assert outline(world, course)["modules"][0]["title"] == "Basics"


def test_saving_each_lesson_type(world):
    """Text (Markdown body), video (URL, duration), assignment (instructions) and preview are stored as sent."""
    course = world.course()
    lesson = course.lessons[0]
    path = f"{base(course)}/lessons/{lesson}"
    module = str(course.modules[0])
    cases = [
        (lesson_form(title="Read", body="# Hello\n\nSome **bold** text.", is_preview="y", module=module),
         {"type": "text", "body": "# Hello\n\nSome **bold** text.", "is_preview": True, "video_url": None}),
        (lesson_form(title="Watch", content_type="video", video_url="https://v.example.test/a", duration_minutes="42",
                     body="dropped", module=module),
         {"type": "video", "video_url": "https://v.example.test/a", "duration_minutes": 42, "body": None,
          "is_preview": False}),
        (lesson_form(title="Do", content_type="assignment", body="Build a birdhouse.", module=module),
         {"type": "assignment", "body": "Build a birdhouse.", "video_url": None, "quiz": None}),
    ]
    for data, expected in cases:
        assert send(world, "owner", path, data).status_code == 303
        row = next(r for r in outline(world, course)["lessons"] if r["id"] == lesson)
        assert row["title"] == data["title"]
        for key, value in expected.items():
            assert row[key] == value, (data["title"], key)


def test_saving_a_quiz_stores_its_questions(world):
    """Questions, choices and the correct choice's index are stored in the quiz shape the database checks."""
    course = world.course()
    quiz = course.lessons[1]
    data = lesson_form(title="Quiz time", content_type="quiz", passing_score="80", module=str(course.modules[0]),
                       **{"questions-0-prompt": "2 + 2?", "questions-0-choices-0": "3", "questions-0-choices-1": "4",
                          "questions-0-answer": "1",
                          "questions-1-prompt": "Sky?", "questions-1-choices-0": "Blue",
                          "questions-1-choices-1": "Green", "questions-1-choices-2": "Red", "questions-1-answer": "0"})
    response = send(world, "owner", f"{base(course)}/lessons/{quiz}", data, hx=True)
    assert response.status_code == 200 and "2 questions · pass 80%" in text(response)
    row = next(r for r in outline(world, course)["lessons"] if r["id"] == quiz)
    assert row["passing_score"] == 80 and row["quiz"] == {"questions": [
        {"prompt": "2 + 2?", "choices": ["3", "4"], "answer": 1},
        {"prompt": "Sky?", "choices": ["Blue", "Green", "Red"], "answer": 0}]}
    form = text(world.clients["owner"].get(f"{base(course)}/lessons/{quiz}/edit", headers=htmx()))
    assert re.search(r'name="questions-0-answer" value="1" checked', form)
    assert 'value="Green"' in form and "Question 2" in form


def test_quiz_questions_and_choices_are_added_and_removed_in_place(world):
    """The quiz buttons return the form with the change, unsaved; the answer follows its choice."""
    course = world.course()
    quiz = course.lessons[1]
    path = f"{base(course)}/lessons/{quiz}"
    start = lesson_form(title="Q", content_type="quiz", passing_score="70", module=str(course.modules[0]))
    response = send(world, "owner", path, {**start, "action": "add_question"}, hx=True)
    body = text(response)
    assert response.status_code == 200 and "Question 1" in body
    assert body.count('name="questions-0-choices-') == 2
    focused = re.search(r'<textarea[^>]*autofocus[^>]*id="([^"]+)"', body)
    assert focused and focused.group(1).endswith("questions-0-prompt"), "the new question's prompt has the focus"
    three = {**start, "questions-0-prompt": "Pick", "questions-0-choices-0": "a", "questions-0-choices-1": "b",
             "questions-0-choices-2": "c", "questions-0-answer": "2"}
    body = text(send(world, "owner", path, {**three, "action": "remove_choice:0:0"}, hx=True))
    assert 'value="a"' not in body and 'value="b"' in body and 'value="c"' in body
    assert re.search(r'name="questions-0-answer" value="1" checked', body), "the answer moved with its choice"
    body = text(send(world, "owner", path, {**three, "action": "add_choice:0"}, hx=True))
    assert body.count('name="questions-0-choices-') == 4
    body = text(send(world, "owner", path, {**three, "action": "remove_question:0"}, hx=True))
    assert "No questions yet" in body
    assert outline(world, course)["lessons"][1]["title"] != "Q", "nothing was saved"
    assert send(world, "co_view", path, {**three, "action": "add_question"}).status_code == 404
    assert send(world, "owner", path, {**three, "action": "explode"}).status_code == 400


def test_quiz_step_without_javascript_returns_the_page_with_the_form_open(world):
    """A plain POST of a quiz button answers with the whole page, the lesson's form open in place."""
    course = world.course()
    quiz = course.lessons[1]
    response = send(world, "owner", f"{base(course)}/lessons/{quiz}",
                    {**lesson_form(content_type="quiz", passing_score="70", module=str(course.modules[0])),
                     "action": "add_question"})
    page = text(response)
    assert response.status_code == 200 and "<html" in page and "lesson--editing" in page and "Question 1" in page


def test_preview_renders_markdown_through_the_sanitizer(world):
    """The preview action shows the body as sanitized HTML: Markdown renders, scripts do not."""
    course = world.course()
    body = "Some **bold** and [a link](https://example.test).\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))"
    response = send(world, "owner", f"{base(course)}/lessons/{course.lessons[0]}",
                    {**lesson_form(body=body, module=str(course.modules[0])), "action": "preview"}, hx=True)
    page = text(response)
    preview = page[page.index('class="prose lesson-preview"'):]
    preview = preview[:preview.index("</div>")]
    assert "<strong>bold</strong>" in preview and 'rel="noopener noreferrer nofollow"' in preview
    assert "<script" not in preview and "&lt;script&gt;" in preview, "typed HTML is shown as text"
    assert 'href="javascript:' not in preview
    assert outline(world, course)["lessons"][0]["body"] is None, "previewing saves nothing"


def test_lesson_module_select_moves_it_to_the_end_of_another_module(world):
    """Choosing another module in the lesson form moves the lesson there, last, and renumbers both modules."""
    course = world.course()
    first, second = course.modules
    moving = course.lessons[0]
    response = send(world, "owner", f"{base(course)}/lessons/{moving}",
                    lesson_form(title="Travelling", module=str(second)), hx=True)
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#modules"
    assert text(response).lstrip().startswith('<ol id="modules"')
    assert lesson_order(world, second)[-1] == moving and moving not in lesson_order(world, first)
    assert_dense(world, course)


def test_delete_without_javascript_asks_first(world):
    """A plain delete without confirmation shows the question in place and deletes nothing."""
    course = world.course()
    before = outline(world, course)
    for path, question in ((f"{base(course)}/modules/{course.modules[0]}/delete", "Delete module"),
                           (f"{base(course)}/lessons/{course.lessons[0]}/delete", "Delete lesson")):
        response = send(world, "owner", path)
        assert response.status_code == 200 and question in text(response) and 'value="yes"' in text(response)
    assert outline(world, course) == before
    assert send(world, "co_view", f"{base(course)}/modules/{course.modules[0]}/delete").status_code == 404


def test_deleting_a_module_deletes_its_lessons_and_closes_the_gap(world):
    """The middle module goes with its lessons; the others are renumbered 0..n-1."""
    course = world.course(modules=(("text",), ("text", "text"), ("video",)))
    middle = course.modules[1]
    response = send(world, "owner", f"{base(course)}/modules/{middle}/delete", {"confirm": "yes"})
    assert response.status_code == 303
    assert module_order(world, course) == [course.modules[0], course.modules[2]]
    assert world.database.value("SELECT count(*) FROM course_lessons WHERE module_id = %s", (middle,)) == 0
    assert_dense(world, course)


def test_deleting_a_lesson_closes_the_gap(world):
    """Deleting the first of three lessons leaves positions 0 and 1."""
    course = world.course(modules=(("text", "text", "text"),))
    send(world, "owner", f"{base(course)}/lessons/{course.lessons[0]}/delete", {"confirm": "yes"}, hx=True)
    assert lesson_order(world, course.modules[0]) == course.lessons[1:]
    assert_dense(world, course)


# --- moving -----------------------------------------------------------------------

def test_modules_move_up_down_and_to_an_index(world):
    """by=-1, by=1 and to=<index> reorder the modules; positions stay dense and unique."""
    course = world.course(modules=(("text",), ("text",), ("text",), ("text",)))
    a, b, c, d = course.modules
    move = lambda module, data: send(world, "owner", f"{base(course)}/modules/{module}/move", data)  # noqa: E731
    move(c, {"by": "-1"})
    assert module_order(world, course) == [a, c, b, d]
    move(a, {"by": "1"})
    assert module_order(world, course) == [c, a, b, d]
    move(d, {"to": "0"})
    assert module_order(world, course) == [d, c, a, b]
    move(d, {"to": "99"})
    assert module_order(world, course) == [c, a, b, d]
    move(c, {"by": "-1"})  # already first: stays
    assert module_order(world, course) == [c, a, b, d]
    assert_dense(world, course)


def test_lessons_move_within_and_across_modules(world):
    """by and to reorder lessons; module=<id>&to=<index> moves one into another module and renumbers both."""
    course = world.course(modules=(("text", "text", "text"), ("text", "text")))
    first, second = course.modules
    l1, l2, l3, l4, l5 = course.lessons
    move = lambda lesson, data: send(world, "owner", f"{base(course)}/lessons/{lesson}/move", data)  # noqa: E731
    move(l3, {"by": "-1"})
    assert lesson_order(world, first) == [l1, l3, l2]
    move(l1, {"to": "2"})
    assert lesson_order(world, first) == [l3, l2, l1]
    move(l2, {"module": str(second), "to": "1"})
    assert lesson_order(world, first) == [l3, l1] and lesson_order(world, second) == [l4, l2, l5]
    move(l5, {"module": str(first), "to": "0"})
    assert lesson_order(world, first) == [l5, l3, l1] and lesson_order(world, second) == [l4, l2]
    assert_dense(world, course)


def test_move_with_htmx_returns_the_list_marked_for_focus(world):
    """A keyboard move answers with the whole list, naming the moved item and direction for builder.js."""
    course = world.course()
    response = send(world, "owner", f"{base(course)}/modules/{course.modules[1]}/move", {"by": "-1"}, hx=True)
    body = text(response)
    assert response.status_code == 200 and body.lstrip().startswith('<ol id="modules"')
    assert f'data-moved="module-{course.modules[1]}"' in body and 'data-moved-by="up"' in body
    assert "is now 1 of 2" in notified(response)["message"]
    assert body.index(f'id="module-{course.modules[1]}"') < body.index(f'id="module-{course.modules[0]}"')


# --- "Move to…": a chosen place, without a mouse or JavaScript --------------------------

def move_forms(course) -> dict:
    return {"module": f"{base(course)}/modules/{course.modules[0]}/move",
            "lesson": f"{base(course)}/lessons/{course.lessons[0]}/move"}


def options(body: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of every option of the page's "Move to" select."""
    return [(m.group(2), html.unescape(m.group(3)), bool(m.group(1)))
            for m in re.finditer(r'<option( selected)? value="([^"]*)">([^<]*)</option>', body)]


@pytest.mark.parametrize("kind", ["module", "lesson"])
def test_move_to_form_is_a_fragment_for_htmx_and_the_page_otherwise(world, kind):
    """GET …/move: the places to choose, the current one chosen; htmx gets the form, a plain GET the page with it open."""
    course = world.course()
    path = move_forms(course)[kind]
    owner = world.clients["owner"]
    fragment, page = owner.get(path, headers=htmx()), owner.get(path)
    assert fragment.status_code == page.status_code == 200
    assert "<html" not in text(fragment) and "<html" in text(page) and "HX-Request" in fragment.headers["Vary"]
    for body in (text(fragment), text(page)):
        assert f'action="{path}"' in body and 'name="position"' in body and "autofocus" in body
    places = options(text(fragment))
    if kind == "module":  # two modules: first or second
        assert [(v, sel) for v, _, sel in places] == [("1", True), ("2", False)]
        assert places[1][1] == "Position 2, after “Module 2”"
    else:  # lesson 1 of module 1 (two lessons) can go to 2 places there, or 2 in module 2 (one lesson)
        first, second = course.modules
        assert [v for v, _, _ in places] == [f"{first}:1", f"{first}:2", f"{second}:1", f"{second}:2"]
        assert [sel for _, _, sel in places] == [True, False, False, False]
        assert places[0][1].endswith("(where it is now)") and "after “Lesson 2”" in places[1][1]
        assert 'optgroup label="Module 2: Module 2"' in text(fragment)
    assert 'class="lesson lesson--moving"' in text(page) or 'class="module__head move-form"' in text(page)


@pytest.mark.parametrize("actor, status", [("co_edit", 200), ("co_view", 404), ("co_manage", 404),
                                           ("other_instructor", 404), ("student", 404)])
def test_move_to_form_needs_edit_content(world, actor, status):
    """Only editors get the "Move to…" form; everyone else a 404."""
    course = world.course()
    for path in move_forms(course).values():
        assert world.clients[actor].get(path, headers=htmx()).status_code == status, path
        assert world.clients[actor].get(path).status_code == status, path


def test_move_to_form_sends_anonymous_visitors_to_sign_in(world):
    """An anonymous GET of a "Move to…" form goes to sign in."""
    course = world.course()
    for path in move_forms(course).values():
        response = world.clients["anon"].get(path)
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")


def test_move_to_puts_a_module_at_the_chosen_place(world):
    """position=<n> puts the module n-th; the list comes back for htmx, marked for focus on "Move to…"."""
    course = world.course(modules=(("text",), ("text",), ("text",), ("text",)))
    a, b, c, d = course.modules
    path = lambda module: f"{base(course)}/modules/{module}/move"  # noqa: E731
    response = send(world, "owner", path(a), {"position": "3"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/curriculum#module-{a}")
    assert module_order(world, course) == [b, c, a, d]
    response = send(world, "co_edit", path(d), {"position": "1"}, hx=True)
    body = text(response)
    assert response.status_code == 200 and body.lstrip().startswith('<ol id="modules"')
    assert f'data-moved="module-{d}"' in body and 'data-moved-by="to"' in body
    assert notified(response) == {"message": "Module “Module 4” is now 1 of 4.", "kind": "success"}
    assert module_order(world, course) == [d, b, c, a]
    assert_dense(world, course)


def test_move_to_puts_a_lesson_at_the_chosen_place_in_any_module(world):
    """position=<module id>:<n> puts the lesson n-th in that module, its own or another; both are renumbered."""
    course = world.course(modules=(("text", "text", "text"), ("text", "text")))
    first, second = course.modules
    l1, l2, l3, l4, l5 = course.lessons
    path = lambda lesson: f"{base(course)}/lessons/{lesson}/move"  # noqa: E731
    assert send(world, "owner", path(l1), {"position": f"{first}:3"}).status_code == 303
    assert lesson_order(world, first) == [l2, l3, l1]
    response = send(world, "owner", path(l3), {"position": f"{second}:2"}, hx=True)
    assert response.status_code == 200 and 'data-moved-by="to"' in text(response)
    assert notified(response)["message"] == "Lesson “Lesson 3” is now 2 of 3 in module “Module 2”."
    assert lesson_order(world, first) == [l2, l1] and lesson_order(world, second) == [l4, l3, l5]
    assert send(world, "owner", path(l5), {"position": f"{first}:1"}).status_code == 303
    assert lesson_order(world, first) == [l5, l2, l1] and lesson_order(world, second) == [l4, l3]
    assert_dense(world, course)


@pytest.mark.parametrize("kind, position, message", [
    ("module", "0", "not in the list any more"),
    ("module", "3", "not in the list any more"),   # two modules: there is no third place
    ("module", "-1", "not in the list any more"),
    ("module", "first", "not in the list any more"),
    ("module", "", "Choose a place."),
    ("lesson", "{first}:4", "not in the list any more"),  # two lessons there: three places at most
    ("lesson", "{first}:0", "not in the list any more"),
    ("lesson", "{other}:1", "not in the list any more"),  # a module of another course
    ("lesson", "{first}", "not in the list any more"),
    ("lesson", "", "Choose a place."),
])
def test_bad_move_to_place_comes_back_with_422(world, kind, position, message):
    """A place that is not offered is refused with 422 and the form again (not clamped); nothing moves."""
    course, other = world.course(), world.course()
    position = position.format(first=course.modules[0], other=other.modules[0])
    before = outline(world, course)
    path = move_forms(course)[kind]
    for hx in (False, True):
        response = send(world, "owner", path, {"position": position}, hx=hx)
        body = html.unescape(text(response))
        assert response.status_code == 422 and message in body, (position, hx)
        assert f'id="{kind}-{course.modules[0] if kind == "module" else course.lessons[0]}-move-position-error"' in body
        assert 'name="position"' in body and ("<html" in body) is not hx
        if hx:
            place = f"#module-{course.modules[0]}-head" if kind == "module" else f"#lesson-{course.lessons[0]}"
            assert response.headers["HX-Retarget"] == place and response.headers["HX-Reswap"] == "outerHTML"
    assert outline(world, course) == before


def test_bad_move_to_place_from_someone_who_may_not_edit_is_a_404(world):
    """co_view gets no form back for a bad place either: 404, and nothing moves."""
    course = world.course()
    before = outline(world, course)
    for path in move_forms(course).values():
        assert send(world, "co_view", path, {"position": "99"}).status_code == 404
    assert outline(world, course) == before


@pytest.mark.parametrize("data", [{}, {"by": "2"}, {"by": "up"}, {"to": "-1"}, {"to": "x"}])
def test_malformed_moves_are_a_400(world, data):
    """A move needs by=-1|1 or a non-negative to=<index>; anything else is a 400 and changes nothing."""
    course = world.course()
    before = outline(world, course)
    assert send(world, "owner", f"{base(course)}/modules/{course.modules[0]}/move", data).status_code == 400
    assert send(world, "owner", f"{base(course)}/lessons/{course.lessons[0]}/move", data).status_code == 400
    assert outline(world, course) == before


# --- another course's modules and lessons ------------------------------------------------

def test_sub_resources_of_another_course_are_404(world):
    """A module or lesson of course B reached through course A's URLs is a 404, and B is unchanged."""
    mine, theirs = world.course(), world.course()
    before = outline(world, theirs)
    m, lesson = theirs.modules[0], theirs.lessons[0]
    a = base(mine)
    for path in (f"{a}/modules/{m}", f"{a}/modules/{m}/edit", f"{a}/lessons/{lesson}", f"{a}/lessons/{lesson}/edit"):
        assert world.clients["owner"].get(path).status_code == 404, path
    for path, data in ((f"{a}/modules/{m}", {"title": "Hijack"}), (f"{a}/modules/{m}/delete", {"confirm": "yes"}),
                       (f"{a}/modules/{m}/move", {"by": "1"}),
                       (f"{a}/modules/{m}/lessons", {"title": "Intruder", "content_type": "text"}),
                       (f"{a}/lessons/{lesson}", lesson_form(title="Hijack", module=str(m))),
                       (f"{a}/lessons/{lesson}/delete", {"confirm": "yes"}),
                       (f"{a}/lessons/{lesson}/move", {"by": "1"}),
                       (f"{a}/lessons/{mine.lessons[0]}/move", {"module": str(m), "to": "0"})):
        assert send(world, "owner", path, data).status_code == 404, path
    assert outline(world, theirs) == before


def test_unknown_ids_are_404(world):
    """Ids that exist nowhere are a 404."""
    course = world.course()
    nowhere = "00000000-0000-4000-8000-000000000000"
    assert world.clients["owner"].get(f"{base(course)}/modules/{nowhere}").status_code == 404
    assert world.clients["owner"].get(f"/courses/{nowhere}/curriculum").status_code == 404
    assert send(world, "owner", f"{base(course)}/lessons/{nowhere}/delete", {"confirm": "yes"}).status_code == 404


# --- bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("title, message", [("", "Give the module a title."), ("   ", "Give the module a title."),
                                            ("x" * 201, "At most 200 characters.")])
def test_bad_module_title_comes_back_with_422(world, title, message):
    """Adding or saving a module with no title or a title over 200 characters is a 422 with the value kept."""
    course = world.course()
    before = outline(world, course)
    for path, hx in ((f"{base(course)}/modules", False), (f"{base(course)}/modules", True),
                     (f"{base(course)}/modules/{course.modules[0]}", False),
                     (f"{base(course)}/modules/{course.modules[0]}", True)):
        response = send(world, "owner", path, {"title": title, "description": "Kept text"}, hx=hx)
        page = text(response)
        assert response.status_code == 422 and message in page, (path, hx)
        assert "Kept text" in page and (title.strip() == "" or f'value="{title}"' in page)
        assert ("<html" in page) is not hx
    assert outline(world, course) == before


def test_bad_input_from_someone_who_may_not_edit_is_a_404_too(world):
    """A co-instructor without edit_content gets no form back for bad input either: 404."""
    course = world.course()
    for path, data in ((f"{base(course)}/modules", {"title": ""}),
                       (f"{base(course)}/modules/{course.modules[0]}", {"title": ""}),
                       (f"{base(course)}/modules/{course.modules[0]}/lessons", {"title": ""}),
                       (f"{base(course)}/lessons/{course.lessons[0]}", lesson_form(title=""))):
        assert send(world, "co_view", path, data).status_code == 404, path


def test_bad_new_module_with_htmx_is_retargeted_to_its_form(world):
    """The add form's 422 replaces the form itself, not the list it appends to."""
    course = world.course()
    response = send(world, "owner", f"{base(course)}/modules", {"title": ""}, hx=True)
    assert response.headers["HX-Retarget"] == "#module-add" and response.headers["HX-Reswap"] == "outerHTML"
    response = send(world, "owner", f"{base(course)}/modules/{course.modules[0]}/lessons", {"title": ""}, hx=True)
    assert response.status_code == 422 and response.headers["HX-Retarget"] == f"#lesson-add-{course.modules[0]}"


@pytest.mark.parametrize("data, field, message", [
    ({"title": ""}, "title", "Give the lesson a title."),
    ({"title": "y" * 201}, "title", "At most 200 characters."),
    ({"title": "Clip", "content_type": "video"}, "video_url", "needs the address of its video"),
    ({"title": "Clip", "content_type": "video", "video_url": "ftp://v.example.test/x"}, "video_url", "http://"),
    ({"title": "Clip", "content_type": "video", "video_url": "javascript:alert(1)"}, "video_url", "http://"),
    ({"title": "Odd", "content_type": "podcast"}, "content_type", "Not a valid choice"),
])
def test_bad_new_lesson_comes_back_with_422(world, data, field, message):
    """A new lesson without a title, too long a title, a video without (or with a bad) URL: 422, values kept."""
    course = world.course()
    before = outline(world, course)
    response = send(world, "owner", f"{base(course)}/modules/{course.modules[0]}/lessons", data)
    page = text(response)
    assert response.status_code == 422 and message in html.unescape(page)
    assert f'id="lesson-add-{course.modules[0]}-{field}-error"' in page
    if data.get("video_url"):
        assert f'value="{html.escape(data["video_url"])}"' in page
    assert outline(world, course) == before


@pytest.mark.parametrize("changes, message", [
    ({"title": ""}, "Give the lesson a title."),
    ({"title": "z" * 201}, "At most 200 characters."),
    ({"duration_minutes": "1441"}, "Enter 0 to 1,440 minutes."),
    ({"duration_minutes": "-1"}, "Enter 0 to 1,440 minutes."),
    ({"content_type": "video", "video_url": ""}, "needs the address of its video"),
    ({"content_type": "video", "video_url": "www.example.test/v"}, "http://"),
    ({"body": "b" * 100_001}, "At most 100,000 characters."),
    ({"content_type": "quiz", "passing_score": "101"}, "Enter a score from 0 to 100."),
    ({"content_type": "quiz", "passing_score": "-5"}, "Enter a score from 0 to 100."),
    ({"content_type": "quiz", "passing_score": ""}, "A quiz needs a passing score"),
    ({"content_type": "quiz", "passing_score": "70", "questions-0-prompt": "No choices?"}, "Give 2 to 10 choices."),
    ({"content_type": "quiz", "passing_score": "70", "questions-0-prompt": "One choice",
      "questions-0-choices-0": "only", "questions-0-answer": "0"}, "Give 2 to 10 choices."),
    ({"content_type": "quiz", "passing_score": "70", "questions-0-prompt": "Which?", "questions-0-choices-0": "a",
      "questions-0-choices-1": "b", "questions-0-answer": "2"}, "Mark one of this question"),
    ({"content_type": "quiz", "passing_score": "70", "questions-0-prompt": "Which?", "questions-0-choices-0": "a",
      "questions-0-choices-1": "b"}, "Mark the correct choice."),
    ({"content_type": "quiz", "passing_score": "70", "questions-0-prompt": "", "questions-0-choices-0": "a",
      "questions-0-choices-1": "", "questions-0-answer": "0"}, "Write the question."),
    ({"module": "00000000-0000-4000-8000-000000000000"}, "Not a valid choice"),
])
def test_bad_lesson_edit_comes_back_with_422(world, changes, message):
    """Each limit of the lesson form is a 422 with a field message and the other values kept."""
    course = world.course()
    before = outline(world, course)
    data = lesson_form(title="Keep me", body="Kept body", module=str(course.modules[0]))
    data.update(changes)
    for hx in (False, True):
        response = send(world, "owner", f"{base(course)}/lessons/{course.lessons[1]}", data, hx=hx)
        page = html.unescape(text(response))
        assert response.status_code == 422 and message in page, (changes, hx)
        assert 'class="field-error"' in page and ("<html" in page) is not hx
        if changes.get("title", "Keep me") == "Keep me":
            assert 'value="Keep me"' in page
        if "body" not in changes:
            assert "Kept body" in page
    assert outline(world, course) == before


def test_a_co_editor_who_is_removed_meanwhile_is_refused(world):
    """Permissions are read by the database at write time: once edit_content is taken away, the write is a 404."""
    course = world.course()
    world.database.value("UPDATE course_instructors SET permissions = permissions || '{\"edit_content\": false}' "
                         "WHERE course_id = %s AND instructor_id = %s RETURNING 1",
                         (course.id, world.users["co_edit"]))
    before = outline(world, course)
    assert send(world, "co_edit", f"{base(course)}/modules", {"title": "Late"}).status_code == 404
    assert send(world, "co_edit", f"{base(course)}/modules/{course.modules[0]}/move", {"to": "1"}).status_code == 404
    assert outline(world, course) == before


def test_growing_course_renders_every_module_and_lesson(world):
    """Extra modules and lessons all appear in order on the page."""
    course = world.course()
    for n in range(3):
        module = gen_module(world.database, course, f"Extra {n}")
        gen_lesson(world.database, course, module)
    page = text(world.clients["owner"].get(f"{base(course)}/curriculum"))
    assert page.count('class="module card"') == 5 and page.count('class="lesson lesson--') == 6
    assert page.index("Extra 0") < page.index("Extra 1") < page.index("Extra 2")

"""Drip release over HTTP: the schedule (edit_content, under RLS on courses)
and per-student early unlocks (manage_students, under RLS on drip_unlocks),
and what an enrolled student can then read."""

from __future__ import annotations

import html
import re

import pytest

from tests.support import Actor, enroll, gen_account
from tests.web import htmx, notified, text





def send(world, actor: str, path: str, data: dict | None = None, *, csrf: bool = True, hx: bool = False):
    data = dict(data or {})
    if csrf:
        data["csrf_token"] = world.tokens[actor]
    return world.clients[actor].post(path, data=data, headers=htmx() if hx else {})


def drip(course) -> str:
    return f"/courses/{course.id}/drip"


def key(item_id) -> str:
    return "r" + str(item_id).replace("-", "")


def rules(course, on: bool = True, **by_item) -> dict:
    """The schedule form: drip on/off and, per item id, ("days", n) / ("date", "YYYY-MM-DD") / ("none",)."""
    data = {"drip_content": "y"} if on else {}
    for item_id, rule in by_item.items():
        data[f"{key(item_id)}-kind"] = rule[0]
        if rule[0] == "days":
            data[f"{key(item_id)}-days"] = str(rule[1])
        elif rule[0] == "date":
            data[f"{key(item_id)}-on"] = rule[1]
    return data


def stored(world, course) -> tuple:
    row = world.database.rows("SELECT drip_content, drip_schedule FROM courses WHERE id = %s", (course.id,))[0]
    return row["drip_content"], row["drip_schedule"]


def unlock_rows(world, course) -> list:
    return world.database.rows("SELECT id, enrollment_id, user_id, module_id, lesson_id, unlocked_by "
                               "FROM drip_unlocks WHERE course_id = %s ORDER BY created_at", (course.id,))


def enrolled(world, course, name: str = "Ada Student"):
    """A new student enrolled in the (free, published) course: (user id, enrollment id)."""
    student, _ = gen_account(world.database, "student", name=name)
    return student, enroll(world.database, student, course.id)


# --- the page -----------------------------------------------------------------------

def test_owner_sees_schedule_and_unlocks_full_page_and_fragment(world):
    """The owner gets the whole page on a plain GET and the drip fragment for htmx, both sections in each."""
    course = world.course()
    page, fragment = world.clients["owner"].get(drip(course)), world.clients["owner"].get(drip(course), headers=htmx())
    assert page.status_code == fragment.status_code == 200
    assert "<html" in text(page) and "<html" not in text(fragment) and "HX-Request" in page.headers["Vary"]
    for body in (text(page), text(fragment)):
        assert 'id="drip-rules"' in body and 'id="drip-unlocks"' in body and "Save schedule" in body
        assert "Drip release is off" in body
    assert 'aria-current="page">Drip release' in text(page)


@pytest.mark.parametrize("actor, status, rules_form, unlocks", [
    ("co_edit", 200, True, False),      # view + edit content: the schedule, no unlocks
    ("co_view", 200, False, False),     # view only: the schedule read-only
    ("co_manage", 200, False, True),    # manage students only: unlocks, no schedule
    ("co_revenue", 404, False, False),
    ("co_none", 404, False, False),
    ("other_instructor", 404, False, False),
    ("student", 404, False, False),
])
def test_each_teacher_sees_the_sections_they_may_use(world, actor, status, rules_form, unlocks):
    """The schedule form needs edit_content, the unlocks manage_students; the rest of the page view_content."""
    course = world.course()
    world.database.value("UPDATE courses SET drip_schedule = jsonb_build_object(%s::text, 7) WHERE id = %s "
                         "RETURNING 1", (str(course.modules[1]), course.id))
    response = world.clients[actor].get(drip(course))
    assert response.status_code == status
    if status != 200:
        return
    body = text(response)
    assert ("Save schedule" in body) is rules_form
    assert ('id="drip-unlocks"' in body) is unlocks
    if actor == "co_view":
        assert "7 days after enrollment" in body and "needs the “Edit content” permission" in body


def test_anonymous_visitors_sign_in_first(world):
    """Every drip URL sends an anonymous visitor to sign in."""
    course = world.course()
    response = world.clients["anon"].get(drip(course))
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    for path in (drip(course), f"{drip(course)}/unlocks"):
        response = send(world, "anon", path, rules(course))
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")


# --- the schedule -------------------------------------------------------------------

def test_owner_saves_rules_and_the_page_explains_them(world):
    """Days and dates per module and lesson are stored as the database's rules and explained in plain words."""
    course = world.course()
    m1, m2 = course.modules
    text_lesson, quiz_lesson, video_lesson = course.lessons
    data = rules(course, **{str(m2): ("days", 30), str(quiz_lesson): ("date", "2031-09-01"),
                            str(video_lesson): ("days", 7), str(m1): ("none",)})
    response = send(world, "owner", drip(course), data)
    assert response.status_code == 303 and response.headers["Location"] == drip(course)
    assert stored(world, course) == (True, {str(m2): 30, str(quiz_lesson): "2031-09-01", str(video_lesson): 7})
    page = html.unescape(text(world.clients["owner"].get(drip(course))))
    assert "Drip release is on." in page
    assert "Opens 30 days after the student enrolls" in page
    assert "Opens on 1 Sep 2031" in page
    assert "Opens 30 days after the student enrolls" in page  # the video lesson waits for its module (30 > 7)
    assert re.search(r'name="%s-days"[^>]*value="30"' % key(m2), page)
    assert re.search(r'<option selected value="date">', page)


def test_schedule_form_is_a_table_with_a_named_control_per_item(world):
    """One row per module and lesson (a row header each, column headers above); every control's name says
    whose rule it is, and the rows keep the form's field names (the same POST)."""
    course = world.course()
    body = html.unescape(text(world.clients["owner"].get(drip(course))))
    table = body[body.index('<table class="drip-table drip-table--edit">'):]
    table = table[:table.index("</table>")]
    assert table.count('<th scope="col">') == 4
    assert table.count('<th scope="row">') == len(course.modules) + len(course.lessons) == 5
    names = [("module", "Module", course.modules[0]), ("module", "Module 2", course.modules[1]),
             ("lesson", "Lesson 1", course.lessons[0]), ("lesson", "Lesson 3", course.lessons[2])]
    for kind, title, item in names:
        assert re.search(r'aria-label="Release of the %s “%s”"[^>]*name="%s-kind"' % (kind, title, key(item)), table)
        assert re.search(r'aria-label="Days after enrollment for the %s “%s”"[^>]*name="%s-days"'
                         % (kind, title, key(item)), table)
        assert re.search(r'aria-label="Date for the %s “%s”"[^>]*name="%s-on"' % (kind, title, key(item)), table)
    assert "<fieldset" not in table


def test_co_editor_saves_with_htmx_and_gets_the_schedule_fragment(world):
    """A co-instructor with edit_content saves; htmx gets the schedule section back and an announcement."""
    course = world.course()
    response = send(world, "co_edit", drip(course), rules(course, **{str(course.modules[0]): ("days", 3)}), hx=True)
    body = text(response)
    assert response.status_code == 200 and body.lstrip().startswith('<section class="card panel drip-rules"')
    assert "Opens 3 days after the student enrolls" in body
    assert "Drip release is on" in notified(response)["message"]
    assert stored(world, course) == (True, {str(course.modules[0]): 3})


def test_turning_drip_off_keeps_the_rules(world):
    """Unchecking drip stores drip_content false; the rules stay for next time."""
    course = world.course()
    send(world, "owner", drip(course), rules(course, **{str(course.modules[1]): ("days", 10)}))
    send(world, "owner", drip(course), rules(course, on=False, **{str(course.modules[1]): ("days", 10)}))
    assert stored(world, course) == (False, {str(course.modules[1]): 10})


def test_rules_of_another_course_are_ignored(world):
    """Only this course's modules and lessons are read from the form; a foreign id changes nothing."""
    course, other = world.course(), world.course()
    data = rules(course, **{str(other.modules[0]): ("days", 5), str(course.modules[0]): ("days", 1)})
    assert send(world, "owner", drip(course), data).status_code == 303
    assert stored(world, course)[1] == {str(course.modules[0]): 1}
    assert stored(world, other) == (False, {})


@pytest.mark.parametrize("actor", ["co_view", "co_manage", "co_none", "other_instructor", "student"])
def test_others_cannot_change_the_schedule(world, actor):
    """Without edit_content the database refuses (404) and the schedule is unchanged."""
    course = world.course()
    response = send(world, actor, drip(course), rules(course, **{str(course.modules[0]): ("days", 9)}))
    assert response.status_code == 404
    assert stored(world, course) == (False, {})


def test_bad_input_from_someone_who_may_not_use_a_form_is_a_404(world):
    """co_view's bad schedule and co_edit's bad unlock get a 404, not a form."""
    course = world.course()
    bad = rules(course, **{str(course.modules[0]): ("days", -1)})
    assert send(world, "co_view", drip(course), bad).status_code == 404
    assert send(world, "co_edit", f"{drip(course)}/unlocks", {"target": "course"}).status_code == 404


def test_schedule_without_csrf_token_is_refused(world):
    """Saving the schedule without the CSRF token is a 400, and nothing changes."""
    course = world.course()
    assert send(world, "owner", drip(course), rules(course, **{str(course.modules[0]): ("days", 9)}),
                csrf=False).status_code == 400
    assert stored(world, course) == (False, {})


@pytest.mark.parametrize("rule, field, message", [
    (("days", -1), "days", "Enter 0 to 3,650 days."),
    (("days", 3651), "days", "Enter 0 to 3,650 days."),
    (("days", "soon"), "days", "Not a valid integer value."),
    (("days", ""), "days", "Enter a number of days"),
    (("date", "2026-02-30"), "on", "Enter a date like 2026-09-01."),
    (("date", "next week"), "on", "Enter a date like 2026-09-01."),
    (("date", ""), "on", "Choose the date."),
    (("sometimes",), "kind", "Not a valid choice"),
])
def test_bad_rules_come_back_with_422(world, rule, field, message):
    """A negative or too large number of days, a bad date, a missing value: 422, the value kept, nothing saved."""
    course = world.course()
    module = course.modules[1]
    data = rules(course, **{str(module): rule, str(course.modules[0]): ("days", 2)})
    for hx in (False, True):
        response = send(world, "owner", drip(course), data, hx=hx)
        body = html.unescape(text(response))
        assert response.status_code == 422 and message in body, (rule, hx)
        assert f'id="{key(module)}-{field}-error"' in body
        assert ("<html" in body) is not hx
        if len(rule) > 1 and rule[1] != "":
            assert f'value="{rule[1]}"' in body
        assert re.search(r'name="%s-days"[^>]*value="2"' % key(course.modules[0]), body), "other rules kept"
    assert stored(world, course) == (False, {})


# --- early unlocks ------------------------------------------------------------------

@pytest.mark.parametrize("actor", ["owner", "co_manage"])
def test_unlocks_are_added_listed_and_removed(world, actor):
    """The owner and a co-instructor with manage_students unlock the course, a module, a lesson; and remove one."""
    course = world.course()
    student, enrollment = enrolled(world, course, name="Grace Hopper")
    page = text(world.clients[actor].get(drip(course)))
    assert "Grace Hopper" in page, "enrolled students are offered by name"
    targets = ["course", f"module:{course.modules[1]}", f"lesson:{course.lessons[0]}"]
    if actor == "co_manage":  # cannot read the outline (no view_content): the whole course only
        assert f"module:{course.modules[1]}" not in page
        targets = targets[:1]
    for target in targets:
        response = send(world, actor, f"{drip(course)}/unlocks", {"enrollment": str(enrollment), "target": target})
        assert response.status_code == 303, text(response)[:400]
    rows = unlock_rows(world, course)
    assert len(rows) == len(targets) and {r["user_id"] for r in rows} == {student}
    assert {r["unlocked_by"] for r in rows} == {world.users[actor]}
    listed = html.unescape(text(world.clients[actor].get(drip(course))))
    assert listed.count("<td>Grace Hopper</td>") == len(targets) and "The whole course" in listed
    teacher = "Owner" if actor == "owner" else "Co Manage"
    assert f"<td>{teacher}</td>" in listed
    response = send(world, actor, f"{drip(course)}/unlocks/{rows[0]['id']}/delete", hx=True)
    assert response.status_code == 200 and 'id="drip-unlocks"' in text(response)
    assert [r["id"] for r in unlock_rows(world, course)] == [r["id"] for r in rows[1:]]


def test_unlock_with_htmx_returns_the_section(world):
    """Adding with htmx answers with the unlocks section (listing the new one) and an announcement."""
    course = world.course()
    _, enrollment = enrolled(world, course, name="Alan Turing")
    response = send(world, "owner", f"{drip(course)}/unlocks",
                    {"enrollment": str(enrollment), "target": f"module:{course.modules[1]}"}, hx=True)
    body = html.unescape(text(response))
    assert response.status_code == 200 and body.lstrip().startswith('<section class="card panel drip-unlocks"')
    assert "<td>Alan Turing</td>" in body and "Module: Module 2" in body
    assert "Alan Turing" in notified(response)["message"]


@pytest.mark.parametrize("actor", ["co_view", "co_edit", "co_none", "other_instructor", "student"])
def test_others_cannot_add_or_remove_unlocks(world, actor):
    """Without manage_students the database refuses both (404); nothing is added or removed."""
    course = world.course()
    _, enrollment = enrolled(world, course)
    send(world, "owner", f"{drip(course)}/unlocks", {"enrollment": str(enrollment), "target": "course"})
    before = unlock_rows(world, course)
    assert len(before) == 1
    response = send(world, actor, f"{drip(course)}/unlocks",
                    {"enrollment": str(enrollment), "target": f"module:{course.modules[0]}"})
    assert response.status_code == 404
    assert send(world, actor, f"{drip(course)}/unlocks/{before[0]['id']}/delete").status_code == 404
    assert unlock_rows(world, course) == before


def test_unlock_without_csrf_token_is_refused(world):
    """Adding or removing an unlock without the CSRF token is a 400."""
    course = world.course()
    _, enrollment = enrolled(world, course)
    assert send(world, "owner", f"{drip(course)}/unlocks", {"enrollment": str(enrollment), "target": "course"},
                csrf=False).status_code == 400
    assert unlock_rows(world, course) == []
    send(world, "owner", f"{drip(course)}/unlocks", {"enrollment": str(enrollment), "target": "course"})
    unlock = unlock_rows(world, course)[0]["id"]
    assert send(world, "owner", f"{drip(course)}/unlocks/{unlock}/delete", csrf=False).status_code == 400
    assert len(unlock_rows(world, course)) == 1


def test_bad_unlocks_come_back_with_422(world):
    """No student, a student of another course, a foreign lesson, or a repeat: 422 with a message, nothing added."""
    course, other = world.course(), world.course()
    _, enrollment = enrolled(world, course)
    _, foreign = enrolled(world, other)
    cases = [({"target": "course"}, "Choose a student."),
             ({"enrollment": str(foreign), "target": "course"}, "Not a valid choice"),
             ({"enrollment": "not-an-id", "target": "course"}, "Not a valid choice"),
             ({"enrollment": str(enrollment), "target": f"lesson:{other.lessons[0]}"}, "Not a valid choice")]
    for data, message in cases:
        response = send(world, "owner", f"{drip(course)}/unlocks", data)
        assert response.status_code == 422 and message in html.unescape(text(response)), data
    assert unlock_rows(world, course) == []
    send(world, "owner", f"{drip(course)}/unlocks", {"enrollment": str(enrollment), "target": "course"})
    response = send(world, "owner", f"{drip(course)}/unlocks", {"enrollment": str(enrollment), "target": "course"},
                    hx=True)
    assert response.status_code == 422 and "already has that unlocked" in text(response)
    assert 'value="course" selected' in text(response) or 'selected value="course"' in text(response)
    assert len(unlock_rows(world, course)) == 1


def test_unlock_of_another_course_is_404(world):
    """Removing an unlock through another course's URL is a 404, and the unlock stays."""
    course, other = world.course(), world.course()
    _, enrollment = enrolled(world, other)
    send(world, "owner", f"{drip(other)}/unlocks", {"enrollment": str(enrollment), "target": "course"})
    unlock = unlock_rows(world, other)[0]["id"]
    assert send(world, "owner", f"{drip(course)}/unlocks/{unlock}/delete").status_code == 404
    assert len(unlock_rows(world, other)) == 1


def test_student_search_narrows_the_choices(world):
    """The student search (active search) lists only matching enrolled students."""
    course = world.course()
    enrolled(world, course, name="Katherine Johnson")
    enrolled(world, course, name="Dorothy Vaughan")
    body = text(world.clients["owner"].get(f"{drip(course)}?student_q=kath", headers=htmx()))
    chooser = body[body.index('id="unlock-student"'):body.index("</select>", body.index('id="unlock-student"'))]
    assert "Katherine Johnson" in chooser and "Dorothy Vaughan" not in chooser


# --- what the student sees ------------------------------------------------------------

def readable_lessons(world, student, course) -> set:
    """The course's lessons the student may read, asked as the student under RLS."""
    with world.database.act(Actor.user(student)) as cur:
        cur.execute("SELECT id FROM course_lessons WHERE course_id = %s", (course.id,))
        return {row["id"] for row in cur.fetchall()}


def test_drip_locks_a_module_until_an_early_unlock(world):
    """With drip on and module 2 thirty days out, an enrolled student cannot read its lessons until unlocked."""
    course = world.course()
    module_two_lessons = set(course.lessons[2:])
    student, enrollment = enrolled(world, course)
    assert readable_lessons(world, student, course) == set(course.lessons), "drip off: everything is open"
    send(world, "owner", drip(course), rules(course, **{str(course.modules[1]): ("days", 30)}))
    assert readable_lessons(world, student, course) == set(course.lessons) - module_two_lessons
    send(world, "owner", f"{drip(course)}/unlocks",
         {"enrollment": str(enrollment), "target": f"module:{course.modules[1]}"})
    assert readable_lessons(world, student, course) == set(course.lessons)
    unlock = unlock_rows(world, course)[0]["id"]
    send(world, "co_manage", f"{drip(course)}/unlocks/{unlock}/delete")
    assert readable_lessons(world, student, course) == set(course.lessons) - module_two_lessons


def test_a_future_date_locks_a_lesson_and_a_whole_course_unlock_opens_it(world):
    """A lesson dated in the future is locked; unlocking the whole course for the student opens it."""
    course = world.course()
    quiz = course.lessons[1]
    student, enrollment = enrolled(world, course)
    send(world, "owner", drip(course), rules(course, **{str(quiz): ("date", "2099-01-01")}))
    assert quiz not in readable_lessons(world, student, course)
    other, _ = enrolled(world, course, name="Someone Else")
    send(world, "co_manage", f"{drip(course)}/unlocks", {"enrollment": str(enrollment), "target": "course"})
    assert quiz in readable_lessons(world, student, course)
    assert quiz not in readable_lessons(world, other, course), "an unlock is for one student only"

"""The course team page over HTTP: the owner adds co-instructors and
assistants by email, changes their permissions and removes them; nobody else
reaches the page or its writes, and the database refuses them anyway."""

from __future__ import annotations

import html
import json
import re

import psycopg2
import pytest

from tests.course_web import CO_PERMISSIONS, PERMISSIONS
from tests.support import Actor, gen_account
from tests.web import htmx, notified, post, text

TOKEN_PAGE = "/catalog/"  # any full page carries the session's CSRF token (the sign-out form)




def team(course) -> str:
    return f"/courses/{course.id}/team"


def members(world, course) -> list[dict]:
    """The course's team rows, as the owner of the database sees them."""
    return world.database.rows(
        "SELECT id, instructor_id, role::text, permissions FROM course_instructors WHERE course_id = %s "
        "ORDER BY created_at, id", (course.id,))


def member_id(world, course, actor: str):
    return world.database.value("SELECT id FROM course_instructors WHERE course_id = %s AND instructor_id = %s",
                                (course.id, world.users[actor]))


def grants(*names) -> dict:
    return {name: name in names for name in PERMISSIONS}


def form(email=None, role="co-instructor", *permissions) -> dict:
    data = {"role": role, **{name: "y" for name in permissions}}
    if email is not None:
        data["email"] = email
    return data


def checked(html: str, kind: str = "checkbox") -> set[str]:
    """The names (checkboxes) or values (radios) of the checked inputs of one kind in ``html``."""
    found = set()
    for tag in re.findall(r"<input [^>]*>", html):
        if f'type="{kind}"' in tag and re.search(r"\schecked[\s>]", tag):
            found.add(re.search(r'name="([^"]+)"' if kind == "checkbox" else r'value="([^"]+)"', tag).group(1))
    return found


def add(world, course, data, actor="owner", **kwargs):
    return post(world.clients[actor], team(course), data, token_from=TOKEN_PAGE, **kwargs)


# --- the page ---------------------------------------------------------------------

def test_owner_sees_the_primary_first_then_every_member(world):
    """The owner is listed first as Primary without a remove control, then each member with their permissions."""
    course = world.course()
    response = world.clients["owner"].get(team(course))
    page = text(response)
    assert response.status_code == 200 and "<html" in page and "HX-Request" in response.headers["Vary"]
    names = re.findall(r'<h3 class="teacher__name"[^>]*>([^<]+)', page)
    assert names[0].strip() == "Owner"
    assert [n.strip() for n in names[1:]] == [a.replace("_", " ").title() for a in CO_PERMISSIONS]
    primary = page[page.index('id="teacher-primary"'):page.index("</li>", page.index('id="teacher-primary"'))]
    assert "Primary" in primary and "cannot be removed" in primary
    assert "Remove" not in primary and "<form" not in primary and "checkbox" not in primary
    assert page.count(">Remove<span") == len(CO_PERMISSIONS)
    # co_edit's row shows view and edit checked and nothing else.
    row_id = member_id(world, course, "co_edit")
    row = page[page.index(f'id="teacher-{row_id}"'):]
    row = row[:row.index("</li>")]
    assert checked(row) == {"view_content", "edit_content"}
    for label in ("View content", "Edit content", "Manage students", "View revenue", "Respond to reviews"):
        assert label in row
    assert "Includes View content" in row, "the hint says edit implies view"
    assert 'id="team-empty" class="team-empty" hidden' in page


def test_team_page_answers_htmx_with_its_fragment(world):
    """An htmx GET gets the page's fragment (header, list and form), not a whole page."""
    course = world.course()
    response = world.clients["owner"].get(team(course), headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert 'id="team-list"' in body and 'id="team-add"' in body and 'aria-current="page"' in body


def test_empty_state_when_the_owner_teaches_alone(world):
    """A course without co-teachers says so, with the add form beside it."""
    course = world.course(co=False)
    page = text(world.clients["owner"].get(team(course)))
    assert 'id="team-empty" class="team-empty">' in page and "You teach this course alone" in page
    assert 'class="teacher" id="teacher-' not in page


def test_every_field_has_a_label_and_unique_id(world):
    """One form per member: ids never repeat on the page, and every input has its label."""
    page = text(world.clients["owner"].get(team(world.course())))
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1][:5]
    for control in re.findall(r'<input[^>]+type="(?:checkbox|email)"[^>]*>', page):
        control_id = re.search(r'\sid="([^"]+)"', control).group(1)
        assert f'for="{control_id}"' in page, control_id
    radios = re.findall(r'<input[^>]+type="radio"[^>]*>', page)
    assert radios and len(re.findall(r'<label class="choice"><input[^>]+type="radio"', page)) == len(radios)


# --- adding -----------------------------------------------------------------------

def test_owner_adds_a_co_instructor_by_email(world):
    """A plain form adds the instructor with the chosen permissions and redirects (303) to the page."""
    course = world.course(co=False)
    response = add(world, course, form(world.emails["co_view"].upper(), "co-instructor",
                                       "view_content", "respond_reviews"))
    assert response.status_code == 303 and response.headers["Location"] == team(course)
    [row] = members(world, course)
    assert row["instructor_id"] == world.users["co_view"] and row["role"] == "co-instructor"
    assert row["permissions"] == grants("view_content", "respond_reviews")
    page = text(world.clients["owner"].get(team(course)))
    assert "Co View joined the team as co-instructor." in page and "Co View</h3>" in page
    assert 'id="team-empty" class="team-empty" hidden' in page


def test_owner_adds_an_assistant_in_place_with_htmx(world):
    """With htmx the answer is a fresh form, the new row appended out of band, the empty state hidden."""
    course = world.course(co=False)
    response = add(world, course, form(world.emails["co_manage"], "assistant", "manage_students"), headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    [row] = members(world, course)
    assert row["role"] == "assistant" and row["permissions"] == grants("manage_students")
    assert body.lstrip().startswith('<form id="team-add"')
    appended = r'<ul hx-swap-oob="beforeend:#team-list">\s*<li class="teacher" id="teacher-' + str(row["id"])
    assert re.search(appended, body)
    assert 'id="team-empty" class="team-empty" hidden hx-swap-oob="true"' in body
    assert notified(response) == {"message": "Co Manage joined the team as assistant.", "kind": "success"}
    assert "#messages" not in body, "the message comes through notify(), not out of band"
    fresh = body[body.index('id="team-add"'):body.index("</form>")]
    assert 'value="' + world.emails["co_manage"] not in fresh and "autofocus" in fresh


def test_edit_content_brings_view_content(world):
    """Granting edit_content alone stores view_content too (an editor must read what they edit)."""
    course = world.course(co=False)
    assert add(world, course, form(world.emails["co_none"], "co-instructor", "edit_content")).status_code == 303
    [row] = members(world, course)
    assert row["permissions"] == grants("view_content", "edit_content")


@pytest.mark.parametrize("who, message", [
    ("nobody@example.test", "No active instructor has that email"),
    ("student", "No active instructor has that email"),
    ("owner", "That is your own email"),
])
def test_adding_someone_who_cannot_join_is_a_field_error(world, who, message):
    """Unknown emails, students and the owner's own email come back as a 422 on the email field, values kept."""
    course = world.course(co=False)
    email = world.emails.get(who, who)
    for headers in ({}, htmx()):
        response = add(world, course, form(email, "assistant", "view_revenue"), headers=headers)
        body = text(response)
        assert response.status_code == 422, body[:300]
        assert ("<html" in body) is (not headers)
        error = re.search(r'<p class="field-error" id="email-error">([^<]+)</p>', body)
        assert error and message in error.group(1)
        assert f'value="{email}"' in body and 'aria-invalid="true"' in body
        form_html = body[body.index('id="team-add"'):]
        assert checked(form_html, "radio") == {"assistant"} and checked(form_html) == {"view_revenue"}
    assert members(world, course) == []


def test_adding_someone_already_on_the_team_is_a_field_error(world):
    """A second add of the same instructor is a 422 on the email, not a 500, and changes nothing."""
    course = world.course()
    before = members(world, course)
    response = add(world, course, form(world.emails["co_view"], "co-instructor", "view_content"))
    assert response.status_code == 422 and "already on the team" in text(response)
    assert members(world, course) == before


@pytest.mark.parametrize("data, field, message", [
    (form("x@example.test", "primary"), "role", "Not a valid choice"),
    (form("x@example.test", "owner"), "role", "Not a valid choice"),
    (form("x@example.test", ""), "role", "Choose a role."),
    (form("not-an-email"), "email", "Enter an email address like name@example.com."),
    (form(""), "email", "Enter the instructor's email."),
    (form("a" * 250 + "@example.test"), "email", "At most 254 characters."),
])
def test_bad_add_input_is_a_422_with_a_message_on_the_field(world, data, field, message):
    """Each bad value is refused before the database, on its own field."""
    course = world.course(co=False)
    response = add(world, course, data)
    body = text(response)
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', body)
    assert error and message in html.unescape(error.group(1))
    assert members(world, course) == []


# --- changing ---------------------------------------------------------------------

def test_owner_changes_role_and_permissions(world):
    """A plain post saves the new role and flags (303 back to the row); htmx gets the saved row."""
    course = world.course()
    row = member_id(world, course, "co_view")
    path = f"{team(course)}/{row}"
    response = post(world.clients["owner"], path, form(None, "assistant", "manage_students", "view_revenue"),
                    token_from=TOKEN_PAGE)
    assert response.status_code == 303 and response.headers["Location"] == f"{team(course)}#teacher-{row}"
    saved = world.database.rows("SELECT role::text, permissions FROM course_instructors WHERE id = %s", (row,))[0]
    assert saved == {"role": "assistant", "permissions": grants("manage_students", "view_revenue")}

    response = post(world.clients["owner"], path, form(None, "co-instructor", "edit_content"),
                    token_from=TOKEN_PAGE, headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<li class="teacher" id="teacher-{row}"')
    assert checked(body) == {"view_content", "edit_content"}, "the row shows what was saved, edit with view"
    assert notified(response) == {"message": "Saved Co View's role and permissions.", "kind": "success"}
    assert world.database.value("SELECT permissions FROM course_instructors WHERE id = %s", (row,)) == \
        grants("view_content", "edit_content")


def test_bad_change_is_a_422_with_the_values_kept(world):
    """A bad role comes back on the row (htmx) or the page (plain) with the posted flags, nothing saved."""
    course = world.course()
    row = member_id(world, course, "co_view")
    path = f"{team(course)}/{row}"
    for headers in ({}, htmx()):
        response = post(world.clients["owner"], path, form(None, "primary", "view_revenue"),
                        token_from=TOKEN_PAGE, headers=headers)
        body = text(response)
        assert response.status_code == 422 and ("<html" in body) is (not headers)
        assert "Not a valid choice" in body and "Nothing was saved" in body
        row_html = body[body.index(f'id="teacher-{row}"'):]
        row_html = row_html[:row_html.index("</li>")]
        assert checked(row_html) == {"view_revenue"} and checked(row_html, "radio") == set()
    assert world.database.value("SELECT permissions FROM course_instructors WHERE id = %s", (row,)) == \
        grants("view_content")


def test_changing_a_member_of_another_course_is_a_404(world):
    """A team row of another course (even the owner's own) cannot be reached through this course's URL."""
    course, other = world.course(), world.course()
    foreign = member_id(world, other, "co_view")
    response = post(world.clients["owner"], f"{team(course)}/{foreign}", form(None, "assistant"),
                    token_from=TOKEN_PAGE)
    assert response.status_code == 404
    assert post(world.clients["owner"], f"{team(course)}/{foreign}/delete", {},
                token_from=TOKEN_PAGE).status_code == 404
    assert world.clients["owner"].get(f"{team(course)}/{foreign}/delete").status_code == 404
    assert world.database.rows("SELECT role::text, permissions FROM course_instructors WHERE id = %s", (foreign,)) \
        == [{"role": "co-instructor", "permissions": grants("view_content")}]


# --- removing ---------------------------------------------------------------------

def test_owner_removes_a_member_after_confirming(world):
    """Without JS a confirmation page asks first; its form removes the member and redirects."""
    course = world.course()
    row = member_id(world, course, "co_respond")
    page = text(world.clients["owner"].get(team(course)))
    assert f'hx-confirm="Remove Co Respond from this course?' in page
    assert f'href="{team(course)}/{row}/delete"' in page and f'hx-post="{team(course)}/{row}/delete"' in page
    confirm = world.clients["owner"].get(f"{team(course)}/{row}/delete")
    body = text(confirm)
    assert confirm.status_code == 200 and "Remove Co Respond from this course?" in body
    assert f'action="{team(course)}/{row}/delete"' in body and f'href="{team(course)}"' in body
    fragment = world.clients["owner"].get(f"{team(course)}/{row}/delete", headers=htmx())
    assert fragment.status_code == 200 and "<html" not in text(fragment) and "Remove Co Respond" in text(fragment)
    assert member_id(world, course, "co_respond") == row, "the confirmation page changes nothing"
    response = post(world.clients["owner"], f"{team(course)}/{row}/delete", {}, token_from=TOKEN_PAGE)
    assert response.status_code == 303 and response.headers["Location"] == team(course)
    assert member_id(world, course, "co_respond") is None
    assert len(members(world, course)) == len(CO_PERMISSIONS) - 1
    assert "Co Respond no longer teaches this course." in text(world.clients["owner"].get(team(course)))


def test_removing_with_htmx_drops_the_row_and_shows_the_empty_state_when_alone(world):
    """The htmx answer has no row (the swap removes it); the last removal shows the empty state."""
    course = world.course(co=False)
    add(world, course, form(world.emails["co_view"], "co-instructor", "view_content"))
    add(world, course, form(world.emails["co_edit"], "co-instructor", "view_content"))
    first, second = [row["id"] for row in members(world, course)]
    body = text(post(world.clients["owner"], f"{team(course)}/{first}/delete", {}, token_from=TOKEN_PAGE,
                     headers=htmx()))
    assert 'class="teacher"' not in body and 'id="team-empty" class="team-empty" hidden hx-swap-oob="true"' in body
    response = post(world.clients["owner"], f"{team(course)}/{second}/delete", {}, token_from=TOKEN_PAGE,
                    headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert 'id="team-empty" class="team-empty" hx-swap-oob="true"' in body
    assert notified(response)["message"] == "Co Edit no longer teaches this course."
    assert members(world, course) == []
    again = post(world.clients["owner"], f"{team(course)}/{second}/delete", {}, token_from=TOKEN_PAGE)
    assert again.status_code == 404, "a removed member is gone"


def test_the_primary_instructor_cannot_be_removed(world):
    """The owner has no team row: no control, and no URL (the owner's id, the course's id) reaches them."""
    course = world.course()
    owner = world.users["owner"]
    for target in (owner, course.id):
        assert post(world.clients["owner"], f"{team(course)}/{target}/delete", {},
                    token_from=TOKEN_PAGE).status_code == 404
        assert world.clients["owner"].get(f"{team(course)}/{target}/delete").status_code == 404
        assert post(world.clients["owner"], f"{team(course)}/{target}", form(None, "assistant"),
                    token_from=TOKEN_PAGE).status_code == 404
    assert world.database.value("SELECT instructor_id FROM courses WHERE id = %s", (course.id,)) == owner
    assert len(members(world, course)) == len(CO_PERMISSIONS)
    # Nor can the owner become a team member of their own course (so removable) by email.
    assert add(world, course, form(world.emails["owner"])).status_code == 422


# --- who may ----------------------------------------------------------------------

@pytest.mark.parametrize("actor", [*CO_PERMISSIONS, "other_instructor", "student"])
def test_nobody_but_the_owner_reaches_the_team(world, actor):
    """Every co-instructor, another instructor and a student get 404 on the page and on every write; nothing changes."""
    course = world.course()
    before = members(world, course)
    target = member_id(world, course, "co_view")
    client = world.clients[actor]
    assert client.get(team(course)).status_code == 404
    assert client.get(team(course), headers=htmx()).status_code == 404
    assert client.get(f"{team(course)}/{target}/delete").status_code == 404
    newcomer = world.emails["co_none"] if actor == "co_none" else world.emails["other_instructor"]
    writes = [
        (team(course), form(newcomer, "co-instructor", *PERMISSIONS)),
        (f"{team(course)}/{target}", form(None, "co-instructor", *PERMISSIONS)),
        (f"{team(course)}/{member_id(world, course, actor) or target}", form(None, "co-instructor", *PERMISSIONS)),
        (f"{team(course)}/{target}/delete", {}),
    ]
    for path, data in writes:
        assert post(client, path, data, token_from=TOKEN_PAGE).status_code == 404, path
    assert members(world, course) == before


def test_the_database_refuses_a_co_instructors_team_writes(world):
    """Beneath the page: as co_edit, UPDATE and DELETE touch no row and add_course_instructor raises 42501."""
    course = world.course()
    before = members(world, course)
    co_edit = Actor.user(world.users["co_edit"])
    with world.database.attempt(co_edit) as cur:
        cur.execute("UPDATE course_instructors SET permissions = %s WHERE course_id = %s",
                    (json.dumps(grants(*PERMISSIONS)), course.id))
        assert cur.rowcount == 0
        cur.execute("DELETE FROM course_instructors WHERE course_id = %s", (course.id,))
        assert cur.rowcount == 0
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        with world.database.attempt(co_edit) as cur:
            cur.execute("SELECT add_course_instructor(%s, %s, 'co-instructor', '{}'::jsonb)",
                        (course.id, world.emails["other_instructor"]))
    assert members(world, course) == before


def test_anonymous_visitors_are_sent_to_sign_in(world):
    """The page and its writes send an anonymous visitor to sign in (htmx through HX-Redirect)."""
    course = world.course()
    client = world.clients["anon"]
    response = client.get(team(course))
    assert response.status_code == 303 and response.headers["Location"] == f"/sign-in?next={team(course)}"
    assert client.get(team(course), headers=htmx()).headers["HX-Redirect"] == f"/sign-in?next={team(course)}"
    response = post(client, team(course), form(world.emails["other_instructor"]), token_from="/sign-in")
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    assert len(members(world, course)) == len(CO_PERMISSIONS)


def test_writes_without_a_csrf_token_are_refused(world):
    """Add, change and remove without the CSRF token are 400 and change nothing."""
    course = world.course()
    before = members(world, course)
    row = member_id(world, course, "co_view")
    client = world.clients["owner"]
    for path, data in ((team(course), form(world.emails["other_instructor"], "co-instructor", "view_content")),
                       (f"{team(course)}/{row}", form(None, "assistant", *PERMISSIONS)),
                       (f"{team(course)}/{row}/delete", {})):
        assert post(client, path, data, csrf=False).status_code == 400, path
        assert post(client, path, data, csrf=False, headers=htmx()).status_code == 400, path
    assert members(world, course) == before


def test_a_new_instructor_account_can_be_added(world):
    """Any active instructor can be added, not only the cast: their public name shows on the team."""
    course = world.course(co=False)
    _, email = gen_account(world.database, "instructor", name="Ada Newcomer")
    assert add(world, course, form(email, "assistant", "respond_reviews")).status_code == 303
    assert "Ada Newcomer</h3>" in text(world.clients["owner"].get(team(course)))


# --- permissions bind at once -----------------------------------------------------

def details_form(world, course, title: str) -> dict:
    """A valid details form (helper A's POST /courses/<id>) that only changes the title."""
    row = world.database.rows("SELECT slug, description, price_amount, currency, level FROM courses WHERE id = %s",
                              (course.id,))[0]
    return {"title": title, "slug": row["slug"], "description": row["description"],
            "price_amount": str(row["price_amount"]), "currency": row["currency"].strip(), "level": row["level"],
            "organization": ""}


def title_of(world, course) -> str:
    return world.database.value("SELECT title FROM courses WHERE id = %s", (course.id,))


def test_taking_edit_content_away_on_the_team_page_stops_edits_and_giving_it_back_restores_them(world):
    """Once the owner unticks edit_content, co_edit's details edit is a 404 that changes nothing; ticked, it saves."""
    course = world.course()
    original = title_of(world, course)
    row = member_id(world, course, "co_edit")
    path = f"{team(course)}/{row}"
    client = world.clients["co_edit"]

    assert post(world.clients["owner"], path, form(None, "co-instructor", "view_content"),
                token_from=TOKEN_PAGE).status_code == 303
    for headers in ({}, htmx()):
        response = post(client, f"/courses/{course.id}", details_form(world, course, "Renamed without the right"),
                        token_from=TOKEN_PAGE, headers=headers)
        assert response.status_code == 404, text(response)[:300]
    assert title_of(world, course) == original

    assert post(world.clients["owner"], path, form(None, "co-instructor", "view_content", "edit_content"),
                token_from=TOKEN_PAGE).status_code == 303
    response = post(client, f"/courses/{course.id}", details_form(world, course, "Renamed by the co-instructor"),
                    token_from=TOKEN_PAGE)
    assert response.status_code == 303, text(response)[:500]
    assert title_of(world, course) == "Renamed by the co-instructor"


def test_a_deactivated_member_is_listed_and_can_only_be_removed(world):
    """A member whose account was deactivated shows as such; a change is a 422 (not a 500), removal works."""
    course = world.course(co=False)
    leaver, email = gen_account(world.database, "instructor", name="Lee Leaver")
    assert add(world, course, form(email, "co-instructor", "view_content")).status_code == 303
    world.database.value("UPDATE users SET is_active = false WHERE id = %s RETURNING id", (leaver,))
    [row] = members(world, course)
    page = text(world.clients["owner"].get(team(course)))
    assert "A deactivated instructor</h3>" in page and "Lee Leaver</h3>" not in page
    for headers in ({}, htmx()):
        response = post(world.clients["owner"], f"{team(course)}/{row['id']}", form(None, "assistant", "view_content"),
                        token_from=TOKEN_PAGE, headers=headers)
        assert response.status_code == 422 and "no longer an active instructor" in text(response)
    assert members(world, course) == [row]
    assert post(world.clients["owner"], f"{team(course)}/{row['id']}/delete", {},
                token_from=TOKEN_PAGE).status_code == 303
    assert members(world, course) == []

"""The notices and background jobs over HTTP (issue "Notifications and background jobs"): the
bell and the notices page (each person's own notices only; open, mark one or all read, plain
and htmx; the unread tab; paging by position), unsubscribing through an email's signed link,
the notification settings of every role, the admin's job queue, the health endpoints and the
development mailbox; every route as every actor (tests/routes_notifications.py names those
that test_web_routes.py leaves to this module), missing CSRF tokens and bad input.

Notices are written as the database writes them: by the triggers of the acts (an enrollment,
a decision on one) or, as the owner, by ``private.notify`` (schema/010), the one function
every sender goes through."""

from __future__ import annotations

import base64
import email.policy
import html
import json
import re
import uuid
from email import message_from_bytes

import psycopg2.extras
import pytest
from itsdangerous import URLSafeSerializer

from portal import mail
from portal.notifications import events
from tests.course_web import send, slug
from tests.support import Actor, enroll, gen_account, gen_course, gen_org
from tests.web import QueryCounter, csrf_token, htmx, notified, sign_in, text

SIGN_IN = "sign in"
ROLES = ("owner", "student", "admin", "org_admin")  # one actor of each role (owner: an instructor)
NOTICE = re.compile(r'<li id="notice-([0-9a-f-]{36})" class="notice( notice--unread)?"')
BELL = re.compile(r'<a id="bell" class="bell"[^>]*>(.*?)</a>', re.S)
COUNT = re.compile(r'<span class="bell__count">([^<]+)<span class="visually-hidden"> unread</span></span>')


@pytest.fixture(scope="module")
def world(world, tmp_path_factory):
    """The shared cast (tests/conftest.py) with a platform admin and an organization admin too,
    and the app's development mailbox in a directory of its own."""
    world.app.config["MAIL_CAPTURE_DIR"] = str(tmp_path_factory.mktemp("mail") / "box")
    org = gen_org(world.database)
    for actor, role, name in (("admin", "admin", "Ada Admin"), ("org_admin", "org_admin", "Oscar Orgadmin")):
        world.users[actor], world.emails[actor] = gen_account(
            world.database, role, org=org if role == "org_admin" else None, name=name)
        world.clients[actor] = world.app.test_client()
        sign_in(world.clients[actor], world.emails[actor])
    return world


# --- helpers -------------------------------------------------------------------------------------

def review_payload(title="Knitting for Beginners", name="Sam Student", rating=5, course_slug="knitting"):
    return {"student_name": name, "course_title": title, "rating": rating, "course_slug": course_slug}


def write(world, actor_or_user, event="new_review", payload=None, dedup=None):
    """One notice for an actor (or a user id), written as the database writes every notice."""
    user = world.users.get(actor_or_user, actor_or_user)
    notice = world.database.value("SELECT private.notify(%s, %s, %s, %s)",
                                  (user, event, json.dumps(payload or review_payload()), dedup))
    assert notice is not None
    return notice


# Read: read_at set, or no newer than the person's mark ("mark all as read", 010).
UNREAD = ("n.read_at IS NULL AND n.created_at > coalesce((SELECT m.read_through FROM notification_read_marks m "
          "WHERE m.user_id = n.user_id), '-infinity')")


def is_read(world, notice) -> bool:
    return not world.database.value(f"SELECT {UNREAD} FROM notifications n WHERE n.id = %s", (notice,))


def unread(world, user) -> int:
    return world.database.value(f"SELECT count(*) FROM notifications n WHERE n.user_id = %s AND n.in_portal "
                                f"AND {UNREAD}", (user,))


def read_everything(world, user) -> None:
    world.database.value("UPDATE notifications SET read_at = now() WHERE user_id = %s AND read_at IS NULL "
                         "RETURNING 1", (user,))


def listed(body: str) -> list[str]:
    return [notice for notice, _ in NOTICE.findall(body)]


def bell(body: str) -> str | None:
    """The bell's count as the header shows it ("3", "99+"), or None without one."""
    found = BELL.search(body)
    assert found, "the page has the bell"
    count = COUNT.search(found.group(1))
    return count.group(1) if count else None


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return session.pop("_flashes", [])


def link(body: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', body)
    return html.unescape(found.group(1)) if found else None


def fresh(world, role="instructor", name=None):
    """A new account with a signed-in client of its own, and its CSRF token: (id, client, token)."""
    org = gen_org(world.database) if role == "org_admin" else None
    user, address = gen_account(world.database, role, org=org, name=name)
    client = world.app.test_client()
    sign_in(client, address)
    return user, client, csrf_token(client, "/no-such-page")


def answered_sign_in(response) -> bool:
    return response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")


def expect(response, expected) -> None:
    if expected == SIGN_IN:
        assert answered_sign_in(response), (response.status_code, response.headers.get("Location"))
    else:
        assert response.status_code == expected, (response.status_code, text(response)[:300])


# --- the notices page ----------------------------------------------------------------------------

def test_the_list_shows_only_the_callers_notices(world):
    """Each person's list holds their own notices and nobody else's."""
    mine = write(world, "owner", payload=review_payload(title="Owner's Course"))
    theirs = write(world, "student", "certificate_issued",
                   {"course_id": str(uuid.uuid4()), "course_title": "Student's Course", "code": "ABC123"})
    owner_page = text(world.clients["owner"].get("/notifications/"))
    assert str(mine) in listed(owner_page) and str(theirs) not in listed(owner_page)
    assert "Sam Student rated Owner&#39;s Course 5 out of 5" in owner_page and "Student&#39;s Course" not in owner_page
    student_page = text(world.clients["student"].get("/notifications/"))
    assert str(theirs) in listed(student_page) and str(mine) not in listed(student_page)
    assert "You earned a certificate for Student&#39;s Course" in student_page
    for actor in ("other_instructor", "admin", "org_admin"):
        page = text(world.clients[actor].get("/notifications/"))
        assert str(mine) not in page and str(theirs) not in page, actor


def test_an_enrollment_and_a_decision_write_notices_their_people_see(world):
    """Enrolling writes the instructor a notice; declining a pending enrollment writes the student one:
    each appears under their bell, unread, and leads to its page."""
    teacher, client, teacher_token = fresh(world, name="Tessa Teacher")
    course = gen_course(world.database, teacher, title="Pottery at Home")
    student, student_client, _ = fresh(world, "student", name="Stan Student")
    enroll(world.database, student, course.id)
    page = text(client.get("/notifications/"))
    assert "Stan Student enrolled in Pottery at Home" in page and bell(page) == "1"
    (notice,) = listed(page)
    opened = client.get(f"/notifications/{notice}")
    assert opened.status_code == 303 and opened.headers["Location"] == f"/courses/{course.id}/insight"

    world.database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                         "RETURNING 1", (teacher,))
    waiting = gen_course(world.database, teacher, title="Glazing")
    enrollment = enroll(world.database, student, waiting.id)
    assert "Stan Student asks to join Glazing" in text(client.get("/notifications/"))
    declined = client.post(f"/students/approvals/{enrollment}/decline", data={"confirm": "yes",
                                                                            "csrf_token": teacher_token})
    assert declined.status_code == 303
    student_page = text(student_client.get("/notifications/"))
    assert "Your request to join Glazing was declined" in student_page and bell(student_page) == "1"
    (decision,) = listed(student_page)
    opened = student_client.get(f"/notifications/{decision}")
    assert opened.headers["Location"] == f"/catalog/{slug(world, waiting)}"


def test_another_users_notice_is_404_to_open_and_to_mark_read(world):
    """Another person's notice does not exist for the caller: 404 on open and on read, and it stays unread."""
    notice = write(world, "owner")
    for actor in ("other_instructor", "co_view", "student", "admin", "org_admin"):
        assert world.clients[actor].get(f"/notifications/{notice}").status_code == 404, actor
        assert send(world, actor, f"/notifications/{notice}/read").status_code == 404, actor
        assert send(world, actor, f"/notifications/{notice}/read", headers=htmx()).status_code == 404, actor
    assert not is_read(world, notice)


def _destinations(world) -> list[tuple[str, str, dict, str]]:
    """(actor, event, payload, where its notice leads) for every kind of notice."""
    course = gen_course(world.database, world.users["owner"])
    course_slug = slug(world, course)
    return [
        ("owner", "new_review", review_payload(course_slug=course_slug), f"/catalog/{course_slug}/reviews"),
        ("owner", "new_enrollment", {"kind": "enrolled", "course_id": str(course.id), "course_title": "C",
                                     "student_name": "S"}, f"/courses/{course.id}/insight"),
        ("owner", "new_enrollment", {"kind": "request", "course_id": str(course.id), "course_title": "C",
                                     "student_name": "S"}, "/students/approvals"),
        ("owner", "workshop_reminder", {"workshop_id": str(uuid.uuid4()), "title": "Live Q&A", "lead": "1h",
                                        "start_time": "2026-12-24T18:00:00+00:00", "teaching": True},
         "/workshops/"),
        ("student", "enrollment_update", {"kind": "confirmed", "course_title": "C", "course_slug": course_slug},
         f"/learn/{course_slug}/"),
        ("student", "enrollment_update", {"kind": "refunded", "course_title": "C", "course_slug": course_slug},
         f"/catalog/{course_slug}"),
        ("student", "review_response", {"instructor_name": "I", "course_title": "C", "course_slug": course_slug},
         f"/catalog/{course_slug}/reviews"),
        ("student", "certificate_issued", {"course_id": str(course.id), "course_title": "C", "code": "CERT42"},
         "/certificates/CERT42"),
        ("admin", "figures_mismatch", {"count": 2}, "/admin/jobs"),
    ]


def test_opening_a_notice_marks_it_read_and_goes_where_it_is_about(world):
    """Each kind of notice, opened, is marked read and leads (303) to the page it is about."""
    for actor, event, payload, destination in _destinations(world):
        notice = write(world, actor, event, payload)
        response = world.clients[actor].get(f"/notifications/{notice}")
        assert response.status_code == 303 and response.headers["Location"] == destination, (event, payload)
        assert is_read(world, notice), event
        again = world.clients[actor].get(f"/notifications/{notice}")  # a notice read already still leads there
        assert again.status_code == 303 and again.headers["Location"] == destination


def test_marking_one_read_without_htmx_goes_back_to_the_list(world):
    """A plain POST marks the notice read and redirects (303) to the list, or to the unread tab it came from."""
    first, second = write(world, "owner"), write(world, "owner")
    response = send(world, "owner", f"/notifications/{first}/read")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications/"
    assert ("success", "Marked as read.") in flashes(world.clients["owner"])
    assert is_read(world, first) and not is_read(world, second)
    from_tab = send(world, "owner", f"/notifications/{second}/read", {"show": "unread"})
    assert from_tab.headers["Location"] == "/notifications/?show=unread" and is_read(world, second)
    flashes(world.clients["owner"])


def test_marking_one_read_with_htmx_answers_the_notice_and_the_bell_out_of_band(world):
    """With htmx the answer is the notice, now read and without its button, and the bell, swapped out of
    band with the new count; the page is not reloaded."""
    user, client, token = fresh(world)
    notices = [write(world, user) for _ in range(3)]
    response = client.post(f"/notifications/{notices[1]}/read", data={"csrf_token": token}, headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and "HX-Request" in response.headers["Vary"]
    assert NOTICE.findall(body) == [(str(notices[1]), "")]
    assert "Mark as read" not in body and "Unread: " not in body
    assert 'id="bell"' in body and 'hx-swap-oob="true"' in body and bell(body) == "2"
    assert is_read(world, notices[1]) and unread(world, user) == 2
    assert bell(text(client.get("/notifications/"))) == "2"
    for notice in (notices[0], notices[2]):
        client.post(f"/notifications/{notice}/read", data={"csrf_token": token}, headers=htmx())
    last = client.post(f"/notifications/{notices[2]}/read", data={"csrf_token": token}, headers=htmx())
    assert last.status_code == 200 and bell(text(last)) is None, "no count once everything is read"


def test_marking_all_read_says_how_many(world):
    """Mark all marks every unread notice of the caller (nobody else's) and says how many; then nothing."""
    user, client, token = fresh(world)
    for _ in range(3):
        write(world, user)
    someone_else = write(world, "other_instructor")
    response = client.post("/notifications/read", data={"csrf_token": token, "show": "unread"})
    assert response.status_code == 303 and response.headers["Location"] == "/notifications/?show=unread"
    assert flashes(client) == [("success", "3 notices marked as read.")]
    assert unread(world, user) == 0 and not is_read(world, someone_else)
    again = client.post("/notifications/read", data={"csrf_token": token})
    assert again.headers["Location"] == "/notifications/" and flashes(client) == [("info", "Nothing was unread.")]
    write(world, user)
    client.post("/notifications/read", data={"csrf_token": token})
    assert flashes(client) == [("success", "1 notice marked as read.")]


def test_the_unread_tab_shows_only_unread_notices(world):
    """?show=unread lists the unread notices only, marks its tab current and counts them on it."""
    user, client, _ = fresh(world)
    old = write(world, user)
    read_everything(world, user)
    new = write(world, user)
    everything = text(client.get("/notifications/"))
    assert listed(everything) == [str(new), str(old)]
    assert 'href="/notifications/" aria-current="page">All<' in everything
    tab = text(client.get("/notifications/?show=unread"))
    assert listed(tab) == [str(new)] and NOTICE.findall(tab) == [(str(new), " notice--unread")]
    assert 'href="/notifications/?show=unread" aria-current="page">Unread (1)<' in tab
    assert text(client.get("/notifications/?show=bogus")).count("<li id=\"notice-") == 2, "an unknown tab: all"


def test_the_list_answers_htmx_with_its_fragment(world):
    """An htmx request gets the list alone (tabs, notices, pager), a plain one the whole page."""
    write(world, "owner")
    fragment = world.clients["owner"].get("/notifications/", headers=htmx())
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body and body.lstrip().startswith('<div id="notices"')
    assert "HX-Request" in fragment.headers["Vary"] and listed(body)


def test_the_bell_in_the_header_counts_unread_notices(world):
    """Every full page of a signed-in person carries the bell with their unread count; none at zero."""
    user, client, token = fresh(world, "student")
    assert bell(text(client.get("/catalog/"))) is None
    notices = [write(world, user, "review_response", {"instructor_name": "I", "course_title": "C",
                                                      "course_slug": "c"}) for _ in range(2)]
    for path in ("/catalog/", "/learning/", "/notifications/", "/settings/notifications"):
        page = text(client.get(path))
        assert bell(page) == "2", path
    assert 'href="/notifications/"' in BELL.search(page).group(0)
    client.post(f"/notifications/{notices[0]}/read", data={"csrf_token": token})
    assert bell(text(client.get("/catalog/"))) == "1"
    assert 'id="bell"' not in text(world.clients["anon"].get("/catalog/")), "no bell for visitors"


def test_the_bell_says_99_plus_beyond_99(world):
    """99 unread read "99"; a hundred or more read "99+" on the bell and on the unread tab."""
    user, client, _ = fresh(world)
    world.database.value("SELECT count(private.notify(%s, 'new_review', %s)) FROM generate_series(1, 99)",
                         (user, json.dumps(review_payload())))
    page = text(client.get("/notifications/"))
    assert bell(page) == "99" and "Unread (99)" in page
    world.database.value("SELECT count(private.notify(%s, 'new_review', %s)) FROM generate_series(1, 25)",
                         (user, json.dumps(review_payload())))
    page = text(client.get("/notifications/"))
    assert bell(page) == "99+" and "Unread (99+)" in page and unread(world, user) == 124


def test_notices_page_by_position(world):
    """45 notices: 20 a page, newest first, with next and previous links that neither lose nor repeat one;
    a page asked for with htmx is the fragment."""
    user, client, _ = fresh(world)
    world.database.value("SELECT count(private.notify(%s, 'new_review', %s)) FROM generate_series(1, 45)",
                         (user, json.dumps(review_payload())))
    expected = [str(row["id"]) for row in world.database.rows(
        "SELECT id FROM notifications WHERE user_id = %s ORDER BY created_at DESC, id DESC", (user,))]
    first = text(client.get("/notifications/"))
    assert listed(first) == expected[:20] and link(first, "prev") is None
    assert link(first, "next").startswith("/notifications/?after=")
    second = text(client.get(link(first, "next")))
    assert listed(second) == expected[20:40] and link(second, "prev") and link(second, "next")
    third = text(client.get(link(second, "next")))
    assert listed(third) == expected[40:] and link(third, "next") is None
    back = text(client.get(link(third, "prev")))
    assert listed(back) == expected[20:40]
    top = text(client.get(link(back, "prev")))
    assert listed(top) == expected[:20] and link(top, "prev") is None
    fragment = client.get(link(first, "next"), headers=htmx())
    assert "<html" not in text(fragment) and listed(text(fragment)) == expected[20:40]
    assert 'hx-target="#notices"' in text(fragment)
    read_everything(world, user)
    unread_tab = text(client.get("/notifications/?show=unread&" + link(first, "next").split("?", 1)[1]))
    assert listed(unread_tab) == []


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query", [
    "after=%25%25%25", "before=garbage", "after=" + _b64(["yesterday", "x"]),
    "after=" + _b64(["2026-01-01T00:00:00+00:00", "not-a-uuid"]), "before=" + _b64([1, 2]),
    "after=" + _b64(["2026-01-01T00:00:00+00:00"]), "after=" + _b64({"a": 1}), "after=" + "A" * 500,
    "after=%00", "show=%00&after=%00", "after=" + _b64(["99999-01-01", str(uuid.uuid4())]),
])
def test_a_position_that_is_not_one_starts_from_the_top(world, query):
    """A tampered or damaged position (or one of another list) shows the first page, never an error."""
    user, client, _ = fresh(world)
    notices = [write(world, user) for _ in range(3)]
    response = client.get(f"/notifications/?{query}")
    assert response.status_code == 200, text(response)[:300]
    assert sorted(listed(text(response))) == sorted(str(n) for n in notices)


def test_empty_states(world):
    """Without notices the page says so (and offers no mark all); with everything read, the unread tab says that."""
    user, client, _ = fresh(world)
    page = text(client.get("/notifications/"))
    assert "No notifications yet" in page and "Mark all as read" not in page and bell(page) is None
    assert 'class="pagination"' not in page
    write(world, user)
    assert "Mark all as read" in text(client.get("/notifications/"))
    read_everything(world, user)
    tab = text(client.get("/notifications/?show=unread"))
    assert "You have read everything" in tab and "Mark all as read" not in tab and listed(tab) == []
    assert len(listed(text(client.get("/notifications/")))) == 1


@pytest.mark.parametrize("actor", ("anon", *ROLES))
def test_the_notice_routes_as_every_actor(world, actor):
    """Visitors sign in first (nothing changes); every signed-in role opens and marks read its own notices."""
    target = "owner" if actor == "anon" else actor
    notices = [write(world, target, *_any_event(target)) for _ in range(3)]
    expected = SIGN_IN if actor == "anon" else 303
    expect(world.clients[actor].get("/notifications/"), SIGN_IN if actor == "anon" else 200)
    expect(world.clients[actor].get(f"/notifications/{notices[0]}"), expected)
    expect(send(world, actor, f"/notifications/{notices[1]}/read"), expected)
    expect(send(world, actor, "/notifications/read"), expected)
    if actor == "anon":
        assert all(not is_read(world, n) for n in notices)
    else:
        assert all(is_read(world, n) for n in notices)
        flashes(world.clients[actor])


def _any_event(actor) -> tuple[str, dict]:
    if actor == "owner":
        return "new_review", review_payload()
    if actor == "admin":
        return "figures_mismatch", {"count": 1}
    return "review_response", {"instructor_name": "I", "course_title": "C", "course_slug": "c"}


def test_an_htmx_post_from_a_visitor_is_sent_to_sign_in(world):
    """An htmx POST without a session is answered with HX-Redirect to sign in, not a page."""
    notice = write(world, "owner")
    response = send(world, "anon", f"/notifications/{notice}/read", headers=htmx())
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/sign-in?next=")
    assert not is_read(world, notice)


def test_posts_without_a_csrf_token_are_refused(world):
    """Marking one or all read needs the CSRF token (400); nothing changes."""
    notice = write(world, "owner")
    for path in (f"/notifications/{notice}/read", "/notifications/read"):
        for headers in ({}, htmx()):
            assert send(world, "owner", path, csrf=False, headers=headers).status_code == 400
    assert not is_read(world, notice)


@pytest.mark.parametrize("path", [
    "/notifications/not-a-uuid", "/notifications/00000000-0000-0000-0000-000000000000",
    "/notifications/" + str(uuid.uuid4()), "/notifications/%00", "/notifications/" + "9" * 5000,
    "/notifications/" + str(uuid.uuid4()) + "%00",
])
def test_a_notice_that_is_not_one_is_404(world, path):
    """An id that is no notice (malformed, unknown, absurd, with a NUL) is a 404, GET or POST."""
    assert world.clients["owner"].get(path).status_code == 404
    assert send(world, "owner", path + "/read").status_code == 404


# --- unsubscribing through an email's link ------------------------------------------------------------

def token_for(world, actor_or_user, event="new_review") -> str:
    with world.app.app_context():
        return events.unsubscribe_token(world.users.get(actor_or_user, actor_or_user), event)


def stored(world, user) -> dict:
    """A person's preferences as stored: instructors' in instructor_settings, others' in notification_settings."""
    for table in ("instructor_settings", "notification_settings"):
        rows = world.database.rows(f"SELECT email_notifications, push_notifications, timezone FROM {table} "
                                   "WHERE user_id = %s", (user,))
        if rows:
            return dict(rows[0])
    return {}


def test_unsubscribing_asks_first_and_changes_nothing(world):
    """The link (GET) shows what it would stop and a button; it changes nothing, signed in or not."""
    user, _, _ = fresh(world)
    before = stored(world, user)
    page = text(world.clients["anon"].get(f"/notifications/unsubscribe/{token_for(world, user)}"))
    assert "Stop the emails you get when “a student reviews your course”?" in page
    assert f'action="/notifications/unsubscribe/{token_for(world, user)}"' in page and "Stop these emails" in page
    assert 'name="csrf_token"' in page
    assert stored(world, user) == before


@pytest.mark.parametrize("who", ["anon", "other_student", "itself"])
def test_unsubscribing_turns_that_email_off_for_the_tokens_user_only(world, who):
    """Confirmed, the link turns that one event's email off for its own user (keeping their other
    choices), whoever follows it: signed out, signed in as someone else, or as themself."""
    user, own_client, own_token = fresh(world)
    world.database.value("UPDATE instructor_settings SET email_notifications = %s, push_notifications = %s "
                         "WHERE user_id = %s RETURNING 1",
                         (json.dumps({"new_enrollment": False, "legacy": "kept"}),
                          json.dumps({"new_enrollment": False}), user))
    bystander = stored(world, world.users["other_student"])
    write(world, "other_student", "review_response", {"instructor_name": "I", "course_title": "C", "course_slug": "c"})
    client = own_client if who == "itself" else world.clients[who]
    token = own_token if who == "itself" else world.tokens[who]
    path = f"/notifications/unsubscribe/{token_for(world, user)}"
    response = client.post(path, data={"csrf_token": token})
    page = text(response)
    assert response.status_code == 200 and "Done: you will get no more emails when “a student reviews your course”" \
        in page
    assert stored(world, user)["email_notifications"] == {"new_enrollment": False, "legacy": "kept", "new_review": False}
    assert stored(world, user)["push_notifications"] == {"new_enrollment": False}
    assert stored(world, world.users["other_student"]) == bystander
    if who == "other_student":  # the page around it is still the signed-in person's, with their bell
        assert "Other Student" in page and bell(page) == str(unread(world, world.users[who]))
    notice = write(world, user, payload=review_payload())
    assert world.database.value("SELECT email_state FROM notifications WHERE id = %s", (notice,)) == "off"
    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 200 and stored(world, user)["email_notifications"]["new_review"] is False


def test_a_student_unsubscribes_into_their_notification_settings(world):
    """A student's choice is kept in notification_settings (a row made on first use), that event only."""
    user, _, _ = fresh(world, "student")
    assert stored(world, user) == {}
    response = send(world, "anon", f"/notifications/unsubscribe/{token_for(world, user, 'certificate_issued')}")
    assert response.status_code == 200 and "you earn a certificate" in text(response)
    assert stored(world, user) == {"email_notifications": {"certificate_issued": False}, "push_notifications": {},
                                   "timezone": "UTC"}


def _forged(world, user):
    genuine = token_for(world, user)
    other_key = URLSafeSerializer("another-secret", salt="notifications-unsubscribe").dumps([str(user), "new_review"])
    with world.app.app_context():
        unknown_event = URLSafeSerializer(world.app.config["SECRET_KEY"], salt="notifications-unsubscribe").dumps(
            [str(user), "no_such_event"])
        not_a_pair = URLSafeSerializer(world.app.config["SECRET_KEY"], salt="notifications-unsubscribe").dumps(
            {"user": str(user)})
        other_salt = URLSafeSerializer(world.app.config["SECRET_KEY"], salt="something-else").dumps(
            [str(user), "new_review"])
        nobody = events.unsubscribe_token(uuid.uuid4(), "new_review")
        not_an_id = events.unsubscribe_token("not-a-uuid", "new_review")
    damaged = genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB")
    return [other_key, unknown_event, not_a_pair, other_salt, damaged, genuine + "x", genuine[:20], "x" * 301,
            genuine + "." + "a" * 300, nobody, not_an_id, "%00", genuine + "%00"]


def test_a_forged_damaged_or_too_long_token_is_404(world):
    """Tokens not signed by the portal (another key, another purpose), altered, cut, too long, naming an
    unknown event or nobody: 404 on GET and POST, and nothing changes."""
    user, _, _ = fresh(world)
    before = stored(world, user)
    for token in _forged(world, user):
        path = f"/notifications/unsubscribe/{token}"
        assert world.clients["anon"].get(path).status_code == 404, token
        assert send(world, "anon", path).status_code == 404, token
        assert send(world, "student", path).status_code == 404, token
    assert stored(world, user) == before


def test_a_deactivated_accounts_link_is_404(world):
    """The link of an account that was deactivated does nothing (404)."""
    user, _, _ = fresh(world)
    world.database.value("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (user,))
    before = stored(world, user)
    path = f"/notifications/unsubscribe/{token_for(world, user)}"
    assert send(world, "anon", path).status_code == 404
    write(world, "other_student", "review_response", {"instructor_name": "I", "course_title": "C", "course_slug": "c"})
    for method in (world.clients["other_student"].get, lambda p: send(world, "other_student", p)):
        page = method(path)
        assert page.status_code == 404 and "Other Student" in text(page), "the 404 page is the signed-in person's"
        assert bell(text(page)) == str(unread(world, world.users["other_student"]))
    assert stored(world, user) == before


def test_unsubscribing_needs_no_csrf_token_the_link_is_the_credential(world):
    """The confirmation POST is the one POST without a CSRF token, by design: the signed link, not the
    session, says whose email goes off (a forged cross-site POST needs the link, and with it could do
    the same directly), and a mail provider's one-click unsubscribe (RFC 8058) posts
    List-Unsubscribe=One-Click with no token. It turns off that person's email, whoever sends it."""
    for actor in ("anon", "student"):
        user, _, _ = fresh(world)
        path = f"/notifications/unsubscribe/{token_for(world, user)}"
        response = world.clients[actor].post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200, actor
        assert stored(world, user)["email_notifications"].get("new_review") is False, actor


# --- the notification settings -----------------------------------------------------------------------

LABELS = {
    "new_enrollment": "A student enrolls in your course or asks to",
    "new_review": "A student reviews your course",
    "workshop_reminder": "A workshop you teach or attend starts in 24 hours and in 1 hour",
    "enrollment_update": "Your enrollment is confirmed, declined or refunded",
    "review_response": "An instructor answers your review",
    "certificate_issued": "You earn a certificate",
    "figures_mismatch": "The nightly check finds a stored figure that differs from its recomputation",
    "course_announcement": "An instructor of your course writes to its students",
    "account_changed": "An administrator changes your account: role, organization, verification or reactivation",
    "review_moderated": "An administrator hides or restores your review",  # 016
    "refund_issued": "A payment of yours is refunded",  # 020
    "payout_paid": "A payout of your earnings is sent",  # 020
    "workshop_cancelled": "A workshop you registered for is cancelled",  # 021
    "workshop_seat": "A seat from a workshop waitlist is yours, or a held seat lapses",  # 021
    "new_question": "A student asks a question in your course",  # 022
    "new_submission": "A student hands in an assignment in your course",
    "question_answered": "Someone answers your question",
    "assignment_graded": "Your assignment is graded",
}
AUDIENCE = {  # 017: account_changed is everyone's ('any')
    "owner": ("new_enrollment", "new_review", "workshop_reminder", "account_changed", "payout_paid", "new_question",
              "new_submission"),
    "student": ("workshop_reminder", "enrollment_update", "review_response", "certificate_issued",
                "course_announcement", "review_moderated", "account_changed", "refund_issued", "workshop_cancelled",
                "workshop_seat", "question_answered", "assignment_graded"),
    "admin": ("workshop_reminder", "enrollment_update", "review_response", "certificate_issued", "figures_mismatch",
              "course_announcement", "review_moderated", "account_changed", "refund_issued", "workshop_cancelled",
              "workshop_seat", "question_answered", "assignment_graded"),
    "org_admin": ("workshop_reminder", "enrollment_update", "review_response", "certificate_issued",
                  "course_announcement", "review_moderated", "account_changed", "refund_issued", "workshop_cancelled",
                  "workshop_seat", "question_answered", "assignment_graded"),
}
CHECKBOX = re.compile(r'<input( checked)? id="(email|push)_(\w+)" name="\2_\3" type="checkbox" value="y">')
SELECTED = re.compile(r'<option selected value="([^"]+)">')


def boxes(page: str) -> dict:
    return {f"{channel}_{event}": bool(checked) for checked, channel, event in CHECKBOX.findall(page)}


def role_of(actor) -> str:
    return "instructor" if actor == "owner" else actor


def fresh_of(world, actor):
    return fresh(world, role_of(actor))


@pytest.mark.parametrize("actor", ROLES)
def test_the_settings_show_the_events_of_the_persons_audience(world, actor):
    """Each role sees the kinds of notice it may get (in order), both channels on by default, and UTC."""
    _, client, _ = fresh_of(world, actor)
    page = text(client.get("/settings/notifications"))
    legends = re.findall(r"<legend>([^<]+)</legend>", page)
    assert legends == [LABELS[e] for e in AUDIENCE[actor]]
    assert boxes(page) == {f"{c}_{e}": True for e in AUDIENCE[actor] for c in ("email", "push")}
    assert SELECTED.findall(page) == ["UTC"]


def test_an_instructor_sees_their_stored_choices(world):
    """An instructor's page shows instructor_settings: the choices made, the defaults elsewhere, their zone."""
    user, client, _ = fresh(world)
    world.database.value("UPDATE instructor_settings SET email_notifications = %s, push_notifications = %s, "
                         "timezone = 'Europe/Madrid' WHERE user_id = %s RETURNING 1",
                         (json.dumps({"new_review": False, "new_enrollment": "not a boolean"}),
                          json.dumps({"workshop_reminder": False}), user))
    page = text(client.get("/settings/notifications"))
    assert boxes(page) == {"email_new_enrollment": True, "push_new_enrollment": True, "email_new_review": False,
                           "push_new_review": True, "email_workshop_reminder": True, "push_workshop_reminder": False,
                           "email_account_changed": True, "push_account_changed": True,
                           "email_payout_paid": True, "push_payout_paid": True,  # 020
                           "email_new_question": True, "push_new_question": True,      # 022
                           "email_new_submission": True, "push_new_submission": True}
    assert SELECTED.findall(page) == ["Europe/Madrid"]


def test_a_student_sees_their_stored_choices(world):
    """A student's page shows notification_settings."""
    user, client, _ = fresh(world, "student")
    world.database.value("INSERT INTO notification_settings (user_id, email_notifications, push_notifications, "
                         "timezone) VALUES (%s, %s, %s, 'Asia/Tokyo') RETURNING 1",
                         (user, json.dumps({"certificate_issued": False}), json.dumps({"review_response": False})))
    page = text(client.get("/settings/notifications"))
    assert boxes(page)["email_certificate_issued"] is False and boxes(page)["push_review_response"] is False
    assert sum(boxes(page).values()) == 2 * len(AUDIENCE["student"]) - 2 and SELECTED.findall(page) == ["Asia/Tokyo"]


def _form(events_on: dict, timezone="Europe/Lisbon") -> dict:
    return {**{name: "y" for name, on in events_on.items() if on}, "timezone": timezone}


@pytest.mark.parametrize("actor", ROLES)
def test_saving_the_settings_merges_them_into_the_persons_store(world, actor):
    """POST saves every event of the person's audience and the zone where the database reads them, keeping
    the keys of other events; the page says so and shows the saved values."""
    user, client, token = fresh_of(world, actor)
    table = "instructor_settings" if actor == "owner" else "notification_settings"
    if actor == "owner":
        world.database.value("UPDATE instructor_settings SET email_notifications = '{\"old_key\": true}' "
                             "WHERE user_id = %s RETURNING 1", (user,))
    else:
        world.database.value("INSERT INTO notification_settings (user_id, email_notifications) "
                             "VALUES (%s, '{\"old_key\": true}') RETURNING 1", (user,))
    first, *rest = AUDIENCE[actor]
    choices = {f"email_{first}": False, f"push_{first}": True,
               **{f"{c}_{e}": c == "email" for e in rest for c in ("email", "push")}}
    response = client.post("/settings/notifications", data={**_form(choices), "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/settings/notifications"
    assert flashes(client) == [("success", "Your notification settings are saved.")]
    saved = world.database.rows(f"SELECT email_notifications, push_notifications, timezone FROM {table} "
                                "WHERE user_id = %s", (user,))[0]
    assert saved["email_notifications"] == {"old_key": True, first: False, **{e: True for e in rest}}
    assert saved["push_notifications"] == {first: True, **{e: False for e in rest}}
    assert saved["timezone"] == "Europe/Lisbon"
    page = text(client.get("/settings/notifications"))
    assert boxes(page) == choices and SELECTED.findall(page) == ["Europe/Lisbon"]
    channels = world.database.rows("SELECT * FROM private.notification_channels(%s, %s)", (user, first))[0]
    assert (channels["email"], channels["in_portal"]) == (False, True), "the database reads what was saved"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "UTC'; DROP TABLE users; --", "x" * 300, "Europe/Madrid\x00"])
def test_an_unknown_time_zone_is_a_422_that_keeps_the_input(world, zone):
    """A zone that is not one is refused with 422 and a message at the field; the boxes as the person left
    them; nothing saved."""
    user, client, token = fresh(world)
    before = stored(world, user)
    choices = {"email_new_enrollment": False, "push_new_enrollment": True, "email_new_review": True,
               "push_new_review": False, "email_workshop_reminder": False, "push_workshop_reminder": False,
               "email_account_changed": False, "push_account_changed": False,
               "email_payout_paid": False, "push_payout_paid": False,  # 020
               "email_new_question": False, "push_new_question": False,      # 022
               "email_new_submission": False, "push_new_submission": False}
    response = client.post("/settings/notifications", data={**_form(choices, zone), "csrf_token": token})
    page = text(response)
    if zone == "Europe/Madrid\x00":  # the boundary drops the NUL (portal/forms.py): a known zone, saved
        assert response.status_code == 303 and stored(world, user)["timezone"] == "Europe/Madrid"
        return
    assert response.status_code == 422 and "<html" in page
    assert 'id="timezone-error"' in page and 'aria-invalid="true"' in page
    assert boxes(page) == choices
    assert stored(world, user) == before


def test_a_stored_zone_the_list_leaves_out_is_shown_and_kept(world):
    """A zone stored elsewhere that the list does not offer (a valid but legacy name) is shown selected, and
    saving the page keeps it rather than changing it to the first of the list."""
    user, client, token = fresh(world)
    world.database.value("UPDATE instructor_settings SET timezone = 'EST5EDT' WHERE user_id = %s RETURNING 1", (user,))
    page = text(client.get("/settings/notifications"))
    assert SELECTED.findall(page) == ["EST5EDT"]
    response = client.post("/settings/notifications", data={**_form({}, "EST5EDT"), "csrf_token": token})
    assert response.status_code == 303 and stored(world, user)["timezone"] == "EST5EDT"


def test_saving_the_settings_without_a_csrf_token_is_refused(world):
    """The settings POST needs the CSRF token (400); nothing saved."""
    user, client, _ = fresh(world)
    before = stored(world, user)
    response = client.post("/settings/notifications", data=_form({"email_new_review": False}))
    assert response.status_code == 400 and stored(world, user) == before


def test_visitors_sign_in_before_the_settings(world):
    """Anonymous visitors are sent to sign in, GET or POST."""
    assert answered_sign_in(world.clients["anon"].get("/settings/notifications"))
    assert answered_sign_in(send(world, "anon", "/settings/notifications", _form({})))


# --- the admin's job queue ----------------------------------------------------------------------------

def dead_job(world, task="deliver_email", error="SMTPRecipientsRefused: no such mailbox"):
    """A job that failed every attempt, as the worker leaves one: for an email, its notice is 'failed' too.
    Returns (job id, notice id or None)."""
    notice = None
    if task == "deliver_email":
        notice = write(world, "owner")
        job = world.database.value("SELECT id FROM procrastinate.procrastinate_jobs "
                                   "WHERE task_name = 'deliver_email' AND args ->> 'notification_id' = %s",
                                   (str(notice),))
        world.database.value("SELECT private.record_email(%s, false, %s, true)", (notice, error))
    else:
        job = world.database.value("SELECT private.defer_job('maintenance', %s, '{}')", (task,))
    world.database.value("UPDATE procrastinate.procrastinate_jobs SET status = 'failed', attempts = 5 "
                         "WHERE id = %s RETURNING id", (job,))
    world.database.value("SELECT private.record_job_error(%s, 5, %s)", (job, error))
    return job, notice


def job(world, job_id) -> dict:
    return world.database.rows("SELECT status::text, attempts FROM procrastinate.procrastinate_jobs WHERE id = %s",
                               (job_id,))[0]


def email_state(world, notice) -> str:
    return world.database.value("SELECT email_state FROM notifications WHERE id = %s", (notice,))


def queue_counts(world) -> dict:
    with world.database.act(Actor.user(world.users["admin"])) as cur:
        cur.execute("SELECT state, jobs FROM job_queue_counts()")
        return {row["state"]: row["jobs"] for row in cur.fetchall()}


JOB_ROW = re.compile(r"<tr>\s*<td>(\d+)</td>")


def test_the_job_queue_counts_each_state_and_lists_the_dead(world):
    """The page counts the jobs of each state as job_queue_counts does, and lists dead jobs newest first with
    their task, arguments, attempts, last error and a button to run each again."""
    email_job, notice = dead_job(world)
    other_job, _ = dead_job(world, "verify_figures", "RuntimeError: boom <b>")
    page = text(world.clients["admin"].get("/admin/jobs"))
    counts = queue_counts(world)
    assert counts["dead"] >= 2 and counts["waiting"] >= 1
    for state, label in (("dead", "Dead"), ("retrying", "Retrying"), ("waiting", "Waiting"),
                         ("scheduled", "Scheduled"), ("running", "Running")):
        assert f'href="/admin/jobs?state={state}"' in page and f">{label} ({counts[state]:,})</a>" in page
    assert 'href="/admin/jobs?state=dead" aria-current="page"' in page
    rows = [int(j) for j in JOB_ROW.findall(page)]
    assert rows[:2] == [other_job, email_job] and rows == sorted(rows, reverse=True)
    assert "deliver_email" in page and "verify_figures" in page and str(notice) in page
    assert "SMTPRecipientsRefused: no such mailbox" in page and "RuntimeError: boom &lt;b&gt;" in page
    assert f'action="/admin/jobs/{email_job}/retry"' in page and f"Run again<span class=\"visually-hidden\"> job {email_job}" in page


def test_running_a_dead_email_again_moves_it_back_and_its_notice_to_pending(world):
    """Run again: the job is todo again (retrying, one more attempt) and its notice's email pending; the page says so."""
    job_id, notice = dead_job(world)
    assert email_state(world, notice) == "failed"
    response = send(world, "admin", f"/admin/jobs/{job_id}/retry")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/jobs"
    assert flashes(world.clients["admin"]) == [("success", f"Job {job_id} will run again now.")]
    assert job(world, job_id) == {"status": "todo", "attempts": 6}
    assert email_state(world, notice) == "pending"
    dead = [int(j) for j in JOB_ROW.findall(text(world.clients["admin"].get("/admin/jobs")))]
    retrying = text(world.clients["admin"].get("/admin/jobs?state=retrying"))
    assert job_id not in dead and job_id in [int(j) for j in JOB_ROW.findall(retrying)]
    assert f"/admin/jobs/{job_id}/retry" not in retrying, "only dead jobs have the button"


def test_running_a_job_that_is_not_dead_says_so(world):
    """A job retried already, one waiting, one that does not exist, or an absurd id: a message, no change, no 500."""
    job_id, notice = dead_job(world)
    send(world, "admin", f"/admin/jobs/{job_id}/retry")
    flashes(world.clients["admin"])
    waiting = world.database.value("SELECT private.defer_job('maintenance', 'archive_activity', '{}')")
    for target in (job_id, waiting, 987654321, 0, 2 ** 63 - 1, 2 ** 63, 10 ** 30):
        response = send(world, "admin", f"/admin/jobs/{target}/retry")
        assert response.status_code == 303 and response.headers["Location"] == "/admin/jobs", target
        assert flashes(world.clients["admin"]) == [("info", f"Job {target} is not dead (it may have been retried "
                                                            "already).")], target
    assert job(world, job_id) == {"status": "todo", "attempts": 6} and email_state(world, notice) == "pending"
    assert job(world, waiting) == {"status": "todo", "attempts": 0}
    for path in ("/admin/jobs/-1/retry", "/admin/jobs/abc/retry", "/admin/jobs/%00/retry"):
        assert send(world, "admin", path).status_code == 404, path


@pytest.mark.parametrize("actor, expected", [("anon", SIGN_IN), ("student", 404), ("owner", 404),
                                             ("other_instructor", 404), ("org_admin", 404), ("admin", 200)])
def test_only_platform_admins_see_and_retry_jobs(world, actor, expected):
    """The queue and its retry are for platform admins: visitors sign in, everyone else gets 404; nothing changes."""
    job_id, notice = dead_job(world)
    expect(world.clients[actor].get("/admin/jobs"), expected)
    expect(world.clients[actor].get("/admin/jobs?state=retrying"), expected)
    if actor != "admin":
        expect(send(world, actor, f"/admin/jobs/{job_id}/retry"), expected)
        assert job(world, job_id)["status"] == "failed" and email_state(world, notice) == "failed"
        with world.database.act(Actor.user(world.users.get(actor))) if actor != "anon" else \
                world.database.act(Actor.anon()) as cur:  # and not through the database either
            cur.execute("SAVEPOINT s")
            with pytest.raises(psycopg2.Error):
                cur.execute("SELECT retry_dead_job(%s)", (job_id,))
            cur.execute("ROLLBACK TO SAVEPOINT s")
    else:
        expect(send(world, actor, f"/admin/jobs/{job_id}/retry"), 303)
        assert job(world, job_id)["status"] == "todo"
        flashes(world.clients[actor])


def test_retrying_without_a_csrf_token_is_refused(world):
    """Run again needs the CSRF token (400); the job stays dead."""
    job_id, notice = dead_job(world)
    assert send(world, "admin", f"/admin/jobs/{job_id}/retry", csrf=False).status_code == 400
    assert job(world, job_id)["status"] == "failed" and email_state(world, notice) == "failed"


def test_the_dead_jobs_page_by_id(world):
    """26 more dead jobs: 25 on the first page with an Older link, the rest after it, and a way back."""
    made = [dead_job(world, "verify_figures")[0] for _ in range(26)]
    first = text(world.clients["admin"].get("/admin/jobs"))
    assert [int(j) for j in JOB_ROW.findall(first)] == made[::-1][:25]
    older = link(first, "next")
    assert older == f"/admin/jobs?state=dead&before={made[1]}" and "Newest" not in first
    second = text(world.clients["admin"].get(older))
    assert [int(j) for j in JOB_ROW.findall(second)][0] == made[0] and 'href="/admin/jobs?state=dead">Newest' in second


@pytest.mark.parametrize("query", ["state=garbage", "state=%00", "before=garbage", "before=-5", "before=0",
                                   "before=%00", "before=99999999999999999999", f"before={2 ** 63}",
                                   "state=dead&before=1", "state=" + "x" * 5000, "before=1e5"])
def test_the_job_queue_takes_bad_input_without_error(world, query):
    """Unknown states show the dead jobs; a position that is not a job id starts from the newest; never a 500."""
    response = world.clients["admin"].get(f"/admin/jobs?{query}")
    assert response.status_code == 200, text(response)[:300]
    assert "<h1>Job queue</h1>" in text(response)


def test_an_empty_state_says_so(world):
    """A state without jobs says there are none."""
    assert queue_counts(world)["running"] == 0
    page = text(world.clients["admin"].get("/admin/jobs?state=running"))
    assert "No running jobs" in page and not JOB_ROW.findall(page)


# --- health -------------------------------------------------------------------------------------------

def test_liveness_answers_without_the_database(world):
    """/healthz answers 200 without a statement (no transaction is opened); /readyz asks the database."""
    with QueryCounter() as counted:
        response = world.clients["anon"].get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "alive"}
    assert counted.count == 0
    with QueryCounter() as counted:
        ready = world.clients["anon"].get("/readyz")
    assert ready.status_code == 200 and ready.get_json() == {"status": "ready"} and counted.count >= 2
    assert "Set-Cookie" not in response.headers


def test_worker_health_needs_a_fresh_heartbeat(world):
    """/healthz/worker: 503 with no worker or a stale one; 200 with one that beat within the last minute,
    with the age of the oldest due job."""
    world.database.value("DELETE FROM procrastinate.procrastinate_workers RETURNING 1")
    none = world.clients["anon"].get("/healthz/worker")
    assert none.status_code == 503 and none.get_json()["status"] == "no worker" and none.get_json()["workers"] == 0
    stale = world.database.value("INSERT INTO procrastinate.procrastinate_workers (last_heartbeat) "
                                 "VALUES (now() - interval '5 minutes') RETURNING id")
    assert world.clients["anon"].get("/healthz/worker").status_code == 503
    fresh_worker = world.database.value("INSERT INTO procrastinate.procrastinate_workers DEFAULT VALUES RETURNING id")
    try:
        alive = world.clients["owner"].get("/healthz/worker")
        body = alive.get_json()
        assert alive.status_code == 200 and body["status"] == "alive" and body["workers"] == 1
        assert isinstance(body["oldest_waiting_seconds"], int) and body["oldest_waiting_seconds"] >= 0
    finally:
        world.database.value("DELETE FROM procrastinate.procrastinate_workers WHERE id IN (%s, %s) RETURNING 1",
                             (stale, fresh_worker))
    assert world.clients["anon"].get("/healthz/worker").status_code == 503


# --- the development mailbox --------------------------------------------------------------------------

def captured_email(world, actor="owner", payload=None) -> tuple[str, object]:
    """A notice composed as the worker composes it (private.email_to_send, portal.mail.compose) and sent to
    the capture mailbox; returns (its key, the notice)."""
    notice = write(world, actor, payload=payload or review_payload(title="Bread <Baking>"))
    with world.database.owner.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor) as cur:
        cur.execute("SELECT * FROM private.email_to_send(%s)", (notice,))
        row = cur.fetchone()
    before = set(mail.capture_box(world.app).keys())
    mail.send(world.app, mail.compose(world.app, row))
    (key,) = set(mail.capture_box(world.app).keys()) - before
    return key, notice


def test_the_mailbox_lists_and_shows_captured_emails(world):
    """/dev/mail lists what was sent, newest first; a message shows its text with the unsubscribe link,
    which works."""
    key, notice = captured_email(world)
    listing = text(world.clients["anon"].get("/dev/mail/"))
    assert f'href="/dev/mail/{key}"' in listing and "Sam Student rated Bread &lt;Baking&gt; 5 out of 5" in listing
    assert world.emails["owner"] in listing
    shown = world.clients["anon"].get(f"/dev/mail/{key}")
    page = text(shown)
    assert shown.status_code == 200 and "<h1>Sam Student rated Bread &lt;Baking&gt; 5 out of 5</h1>" in page
    assert "Hello Owner," in page and f'href="/dev/mail/{key}.html"' in page
    unsubscribe = re.search(r"Stop emails like this one: http://127\.0\.0\.1:5000(/notifications/unsubscribe/\S+)",
                            page).group(1)
    assert send(world, "anon", unsubscribe).status_code == 200
    assert stored(world, world.users["owner"])["email_notifications"]["new_review"] is False
    world.database.value("UPDATE instructor_settings SET email_notifications = email_notifications - 'new_review' "
                         "WHERE user_id = %s RETURNING 1", (world.users["owner"],))


def test_the_html_version_is_served_in_a_sandbox(world):
    """/dev/mail/<key>.html serves the message's HTML part as sent, under a sandboxing CSP."""
    key, _ = captured_email(world)
    response = world.clients["anon"].get(f"/dev/mail/{key}.html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "script" not in policy
    body = text(response)
    raw = message_from_bytes(mail.capture_box(world.app).get_bytes(key), policy=email.policy.default)
    assert body == raw.get_body(preferencelist=("html",)).get_content()
    assert "Bread &lt;Baking&gt;" in body and "<html" in body.lower()


@pytest.mark.parametrize("key", ["no-such-key", "..", "x" * 300, "%00", "a%00b", ".html", "new", "cur"])
def test_an_unknown_message_is_404(world, key):
    """A key that names no captured message (or names a Maildir folder) is a 404, page or HTML."""
    captured_email(world)
    assert world.clients["anon"].get(f"/dev/mail/{key}").status_code == 404
    assert world.clients["anon"].get(f"/dev/mail/{key}.html").status_code == 404


def test_an_empty_mailbox_says_so(world, monkeypatch, tmp_path):
    """A mailbox with nothing in it says so."""
    monkeypatch.setitem(world.app.config, "MAIL_CAPTURE_DIR", str(tmp_path / "empty"))
    page = text(world.clients["anon"].get("/dev/mail/"))
    assert "No email yet" in page and "<table" not in page


def test_the_mailbox_pages(world, monkeypatch, tmp_path):
    """21 messages: 20 on the first page, the last on the second."""
    monkeypatch.setitem(world.app.config, "MAIL_CAPTURE_DIR", str(tmp_path / "many"))
    for _ in range(21):
        captured_email(world)
    first = text(world.clients["anon"].get("/dev/mail/"))
    assert first.count('<tr><td><a href="/dev/mail/') == 20 and link(first, "next") == "/dev/mail/?page=2"
    second = text(world.clients["anon"].get("/dev/mail/?page=2"))
    assert second.count('<tr><td><a href="/dev/mail/') == 1
    assert text(world.clients["anon"].get("/dev/mail/?page=%00")).count('<tr><td><a href="/dev/mail/') == 20


@pytest.mark.parametrize("setting, value", [("PORTAL_ENV", "production"), ("MAIL_BACKEND", "smtp")])
def test_the_mailbox_is_404_outside_development(world, monkeypatch, setting, value):
    """In production, or when email goes out by SMTP, /dev/mail and its messages do not exist."""
    key, _ = captured_email(world)
    monkeypatch.setitem(world.app.config, setting, value)
    for path in ("/dev/mail/", f"/dev/mail/{key}", f"/dev/mail/{key}.html"):
        for actor in ("anon", "admin"):
            assert world.clients[actor].get(path).status_code == 404, (setting, path, actor)


# --- bad input everywhere -----------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/notifications/?show=unread%00&after=%00&before=%00"),
    ("GET", "/notifications/?show=" + "u" * 5000),
    ("GET", "/notifications/?page=99999999999999999999"),
    ("GET", "/settings/notifications?timezone=%00"),
    ("GET", "/admin/jobs?state=dead%00&before=1%00"),
    ("GET", "/notifications/unsubscribe/" + "%FF" * 10),
    ("POST", "/notifications/read?show=%00"),
    ("POST", "/settings/notifications"),
    ("GET", "/dev/mail/?page=-1"),
])
def test_bad_input_is_never_a_500(world, method, path):
    """NUL characters, absurd numbers and junk in every query and form give a page or a refusal, not a 500."""
    actor = "admin"
    if method == "GET":
        response = world.clients[actor].get(path)
    else:
        response = send(world, actor, path, {"show": "\x00", "timezone": "\x00", "email_workshop_reminder": "\x00"})
    assert response.status_code in (200, 303, 404, 422), (path, response.status_code, text(response)[:300])


@pytest.mark.parametrize("payload, summary", [
    ({"kind": "profile", "verified": True, "featured": False, "was_verified": True, "was_featured": True},
     "Your instructor profile is no longer featured"),
    ({"kind": "profile", "verified": True, "featured": True, "was_verified": False, "was_featured": True},
     "Your instructor profile is verified"),
    ({"kind": "profile", "verified": False, "featured": False, "was_verified": True, "was_featured": True},
     "Your instructor profile is no longer verified and no longer featured"),
    ({"kind": "organization", "organization_name": "Globex", "role": "student", "previous": "org_admin"},
     "You are now a member of Globex and are no longer an organization admin"),
    ({"kind": "left_organization", "role": "student", "previous": "org_admin"},
     "You are no longer a member of an organization and are no longer an organization admin"),
    ({"kind": "organization", "organization_name": "Globex", "role": "instructor", "previous": "instructor"},
     "You are now a member of Globex"),
])
def test_the_account_changed_notice_says_what_changed(payload, summary):
    """017's account_changed: un-featuring a verified instructor says what changed (not "is
    verified"), and a moved or removed org admin is told they lost the role."""
    from zoneinfo import ZoneInfo

    from portal.notifications.events import EVENTS
    assert EVENTS["account_changed"].summary(payload, ZoneInfo("UTC")) == summary

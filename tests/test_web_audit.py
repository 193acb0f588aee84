"""The audit log page over HTTP: who opens it (admins, organization admins, instructors; a student
404, anon signs in), what each reads (their scope only), the filters (act, subject, actor,
period), paging by position both ways, a tampered position, htmx, and that it has no write route."""

from __future__ import annotations

import dataclasses

import pytest

from portal.audit import queries as audit
from tests.support import Actor, gen_account, gen_course, gen_org
from tests.web import close_app, csrf_token, htmx, make_app, sign_in, text

ACTORS = ("anon", "student", "owner", "other_instructor", "co", "org_admin", "other_org_admin", "admin")
ROLES = {"student": "student", "owner": "instructor", "other_instructor": "instructor", "co": "instructor",
         "org_admin": "org_admin", "other_org_admin": "org_admin", "admin": "admin"}


@pytest.fixture(scope="module")
def w(module_database):
    db = module_database
    app = make_app(db)
    org, org2 = gen_org(db, "Audit Web Org"), gen_org(db, "Audit Web Other")
    homes = {"owner": org, "org_admin": org, "other_instructor": org2, "other_org_admin": org2}
    users, clients = {}, {"anon": app.test_client()}
    for actor in ACTORS[1:]:
        users[actor], email = gen_account(db, ROLES[actor], org=homes.get(actor), name=actor.replace("_", " ").title())
        clients[actor] = app.test_client()
        sign_in(clients[actor], email)
    course = gen_course(db, users["owner"], org=org, price="30", lessons=(), title="Audit Web Course")
    other = gen_course(db, users["other_instructor"], org=org2, price="20", lessons=(), title="Other Web Course")
    with db.act(Actor.user(users["owner"])) as cur:
        cur.execute("INSERT INTO course_instructors (course_id, instructor_id) VALUES (%s, %s)", (course.id, users["co"]))
        cur.execute("UPDATE courses SET price_amount = 35 WHERE id = %s", (course.id,))
    with db.act(Actor.user(users["other_instructor"])) as cur:
        cur.execute("UPDATE courses SET price_amount = 25 WHERE id = %s", (other.id,))
    leaver, _ = gen_account(db, "student", org=org, name="Leaver")
    with db.act(Actor.user(users["admin"])) as cur:
        cur.execute("UPDATE users SET is_active = false WHERE id = %s", (leaver,))
        cur.execute("UPDATE users SET is_active = true WHERE id = %s", (leaver,))
    yield {"db": db, "app": app, "users": users, "clients": clients, "course": course, "other": other,
           "org": org, "org2": org2}
    close_app()


def in_order(page: str) -> list[int]:
    return [int(part.split('"')[0]) for part in page.split('id="audit-row-')[1:]]


def row_ids(page: str, w) -> set[int]:
    return set(in_order(page))


def ids_where(w, condition, params=()) -> set[int]:
    return {r["id"] for r in w["db"].rows(f"SELECT id FROM audit_log WHERE {condition}", params)}


@pytest.mark.parametrize("actor", ACTORS)
def test_who_opens_the_log_and_what_they_read(w, actor):
    response = w["clients"][actor].get("/audit/")
    if actor == "anon":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
        return
    if actor == "student":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    shown = row_ids(text(response), w)
    expected = {
        "admin": ids_where(w, "true"),
        "org_admin": ids_where(w, "organization_id = %s", (w["org"],)),
        "other_org_admin": ids_where(w, "organization_id = %s", (w["org2"],)),
        "owner": ids_where(w, "instructor_id = %s", (w["users"]["owner"],)),
        "other_instructor": ids_where(w, "instructor_id = %s", (w["users"]["other_instructor"],)),
        "co": set(),
    }[actor]
    assert shown == expected
    assert actor == "co" or shown, "every reader but the co-instructor has rows here"


def test_an_org_admin_sees_nothing_of_another_organization_even_by_filter(w):
    foreign = ids_where(w, "organization_id = %s", (w["org2"],))
    page = text(w["clients"]["org_admin"].get(f"/audit/?actor={w['users']['other_instructor']}"))
    assert row_ids(page, w) == set() and foreign


def test_the_row_says_who_what_and_the_change(w):
    page = text(w["clients"]["owner"].get("/audit/?action=course.price_changed"))
    assert "Course price changed" in page and "Price: $30.00 → $35.00" in page and "price_amount" not in page
    assert ">Owner</a>" in page and "“Audit Web Course”" in page  # what the row is about


def _cells(page: str) -> str:
    """The table's body (the filters' own links carry no ids either)."""
    return page.split("<tbody>")[1].split("</tbody>")[0]


def test_rows_speak_words_not_ids(w):
    """Subjects the reader may read, labels, money with its currency, dates in the viewer's zone,
    permissions as a list, the moderation reason once, and no UUID anywhere in the rows."""
    import re
    db, users = w["db"], w["users"]
    perms = '{"view_content": true, "edit_content": false, "manage_students": false, "view_revenue": false, ' \
            '"respond_reviews": true}'
    with db.act(Actor.user(users["owner"])) as cur:
        cur.execute("UPDATE course_instructors SET permissions = %s WHERE course_id = %s", (perms, w["course"].id))
    page = _cells(text(w["clients"]["owner"].get("/audit/")))
    assert "Permissions: none → View content, Respond to reviews" in page or \
        "Permissions: View content → View content, Respond to reviews" in page, page
    shown = re.sub(r"<[^>]+>", " ", page)  # what the reader sees (a named actor's filter link holds their id)
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", shown), shown
    admin_page = _cells(text(w["clients"]["admin"].get("/audit/?action=user.deactivated")))
    assert "Leaver" in admin_page and "Active: yes → no" in admin_page


def test_someone_the_reader_may_not_name_has_no_filter_link(w):
    """The org admin cannot read the platform admin's name: "Someone", and no link carrying their id."""
    page = text(w["clients"]["org_admin"].get("/audit/?action=user.deactivated"))
    body = _cells(page)
    assert "Someone" in body and str(w["users"]["admin"]) not in body


def test_filters_by_act_subject_actor_and_period(w):
    client = w["clients"]["admin"]
    assert row_ids(text(client.get("/audit/?action=user.deactivated")), w) == \
        ids_where(w, "action = 'user.deactivated'")
    assert row_ids(text(client.get("/audit/?entity=course_instructor")), w) == \
        ids_where(w, "entity_type = 'course_instructor'")
    mine = text(client.get(f"/audit/?actor={w['users']['admin']}"))
    assert row_ids(mine, w) == ids_where(w, "actor_id = %s", (w["users"]["admin"],)) and "Acts by Admin only" in mine
    assert row_ids(text(client.get("/audit/?actor=not-an-id")), w) == set()
    w["db"].rows("INSERT INTO audit_log (occurred_at, action, entity_type, entity_id) "
                 "VALUES (now() - interval '40 days', 'user.role_changed', 'user', gen_random_uuid())")
    old = ids_where(w, "occurred_at < now() - interval '30 days'")
    assert old and not row_ids(text(client.get("/audit/?period=month")), w) & old
    assert old <= row_ids(text(client.get("/audit/?period=year")), w)
    # an htmx filter gets the list only
    partial = client.get("/audit/?action=user.reactivated", headers=htmx())
    assert partial.status_code == 200 and "<html" not in text(partial) and 'id="audit-row-' in text(partial)


def test_pages_by_position_both_ways(w, monkeypatch):
    monkeypatch.setattr(audit, "LIST", dataclasses.replace(audit.LIST, page_size=2))
    client, seen, url, pages = w["clients"]["admin"], [], "/audit/", []
    while url:
        page = text(client.get(url))
        pages.append(url)
        seen.extend(in_order(page))
        nxt = [part.split('"')[0] for part in page.split('rel="next" href="')[1:]]
        url = nxt[0].replace("&amp;", "&") if nxt else None
    everything = w["db"].rows("SELECT id FROM audit_log ORDER BY occurred_at DESC, id DESC")
    assert seen == [r["id"] for r in everything] and len(pages) > 2
    last = text(client.get(pages[-1]))
    prev = last.split('rel="prev" href="')[1].split('"')[0].replace("&amp;", "&")
    assert row_ids(text(client.get(prev)), w) == set(seen[-len(row_ids(last, w)) - 2:-len(row_ids(last, w))])


def test_a_tampered_position_starts_from_the_top(w):
    top = row_ids(text(w["clients"]["admin"].get("/audit/")), w)
    for position in ("bm90LWEtcG9zaXRpb24", "WyJ4IiwxXQ", "%%%"):
        response = w["clients"]["admin"].get(f"/audit/?after={position}")
        assert response.status_code == 200 and row_ids(text(response), w) == top


@pytest.mark.parametrize("actor", ["admin", "owner"])
def test_the_log_has_no_write_route(w, actor):
    token = csrf_token(w["clients"][actor], "/no-such-page")
    assert w["clients"][actor].post("/audit/", data={"csrf_token": token}).status_code == 405

"""Every course route as every kind of teacher: the owner, a co-instructor with
and without each permission, another instructor, a student enrolled in the
course, and an anonymous visitor. Pages are opened plain and with htmx; writes
are posted, and a refused write must leave the course exactly as it was.

``ROUTES`` lists every rule under /courses (a test fails if one is missing),
who may use it, and the course it needs. The area tests (test_web_courses,
test_web_course_builder, _drip, _team, _insight) cover what each route does;
this module covers who may do it. Also here: the list and the builder send
a bounded number of queries however large the teaching gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from tests.course_web import ACTORS
from tests.support import enroll, gen_account, gen_course
from tests.web import QueryCounter, htmx, sign_in, text

INSTRUCTORS = frozenset(a for a in ACTORS if a not in ("student", "anon"))
TEACHERS = INSTRUCTORS - {"other_instructor"}
VIEW = frozenset({"owner", "co_view", "co_edit"})
EDIT = frozenset({"owner", "co_edit"})
MANAGE = frozenset({"owner", "co_manage"})
OWNER = frozenset({"owner"})


@dataclass(frozen=True)
class Route:
    method: str
    rule: str                           # as in app.url_map
    allowed: frozenset                  # actors who may; every other signed-in actor gets 404
    status: str = "published"           # the course the case needs: published, ready (a draft), archived
    data: Callable = lambda ctx: {}     # noqa: E731 - the form a POST sends
    # What an allowed write changes, when it is not the course's fingerprint: (world, actor) -> value.
    effect: Callable | None = None

    def path(self, ctx) -> str:
        return (self.rule.replace("<uuid:course_id>", str(ctx["course"]))
                .replace("<uuid:module_id>", str(ctx["module"])).replace("<uuid:lesson_id>", str(ctx["lesson"]))
                .replace("<uuid:unlock_id>", str(ctx.get("unlock"))).replace("<uuid:teacher_id>", str(ctx["teacher"])))


C = "/courses/<uuid:course_id>"
DETAILS = {"title": "Renamed course", "slug": "", "description": "What it teaches.", "category": "Data",
           "tags": "data", "what_you_will_learn": ["Something"], "target_audience": ["Someone"],
           "price_amount": "0", "currency": "USD", "level": "beginner", "organization": ""}
ROUTES = [
    Route("GET", "/courses/new", INSTRUCTORS),
    Route("POST", "/courses/new", INSTRUCTORS, data=lambda ctx: {**DETAILS, "title": "A brand new course"},
          effect=lambda world, actor: world.database.value("SELECT count(*) FROM courses WHERE instructor_id = %s",
                                                           (world.users[actor],))),
    Route("GET", C, VIEW),
    Route("POST", C, EDIT, data=lambda ctx: {**DETAILS, "slug": ctx["slug"]}),
    Route("POST", C + "/publish", EDIT, status="ready"),
    Route("POST", C + "/archive", EDIT),
    Route("POST", C + "/restore", EDIT, status="archived"),
    Route("GET", C + "/delete", OWNER, status="ready"),
    Route("POST", C + "/delete", OWNER, status="ready"),
    Route("GET", C + "/curriculum", VIEW),
    Route("POST", C + "/modules", EDIT, data=lambda ctx: {"title": "Another module"}),
    Route("GET", C + "/modules/<uuid:module_id>", VIEW),
    Route("GET", C + "/modules/<uuid:module_id>/edit", EDIT),
    Route("GET", C + "/modules/<uuid:module_id>/move", EDIT),
    Route("POST", C + "/modules/<uuid:module_id>", EDIT, data=lambda ctx: {"title": "Renamed module"}),
    Route("POST", C + "/modules/<uuid:module_id>/delete", EDIT, data=lambda ctx: {"confirm": "yes"}),
    Route("POST", C + "/modules/<uuid:module_id>/move", EDIT, data=lambda ctx: {"by": "1"}),
    Route("POST", C + "/modules/<uuid:module_id>/lessons", EDIT,
          data=lambda ctx: {"title": "Another lesson", "content_type": "text"}),
    Route("GET", C + "/lessons/<uuid:lesson_id>", VIEW),
    Route("GET", C + "/lessons/<uuid:lesson_id>/edit", EDIT),
    Route("GET", C + "/lessons/<uuid:lesson_id>/move", EDIT),
    Route("POST", C + "/lessons/<uuid:lesson_id>", EDIT,
          data=lambda ctx: {"title": "Renamed lesson", "content_type": "text", "duration_minutes": "5",
                            "body": "Now with *notes*.", "module": str(ctx["module"])}),
    Route("POST", C + "/lessons/<uuid:lesson_id>/delete", EDIT, data=lambda ctx: {"confirm": "yes"}),
    Route("POST", C + "/lessons/<uuid:lesson_id>/move", EDIT, data=lambda ctx: {"by": "1"}),
    Route("GET", C + "/drip", VIEW | MANAGE),
    Route("POST", C + "/drip", EDIT,
          data=lambda ctx: {"drip_content": "y", f"r{ctx['module'].hex}-kind": "days",
                            f"r{ctx['module'].hex}-days": "7"}),
    Route("POST", C + "/drip/unlocks", MANAGE,
          data=lambda ctx: {"enrollment": str(ctx["enrollment"]), "target": "course"}),
    Route("POST", C + "/drip/unlocks/<uuid:unlock_id>/delete", MANAGE),
    Route("GET", C + "/team", OWNER),
    Route("POST", C + "/team", OWNER,
          data=lambda ctx: {"email": ctx["other_email"], "role": "assistant", "view_content": "y"}),
    Route("POST", C + "/team/<uuid:teacher_id>", OWNER,
          data=lambda ctx: {"role": "assistant", "view_content": "y"}),
    Route("GET", C + "/team/<uuid:teacher_id>/delete", OWNER),
    Route("POST", C + "/team/<uuid:teacher_id>/delete", OWNER),
    Route("GET", C + "/insight", VIEW),
]
# In tests/test_web_routes.py's table (every role, not every teacher).
ELSEWHERE = {("GET", "/courses/"), ("GET", "/courses/export.csv")}  # test_web_routes, test_web_exports

# A course's whole state, read as the owner: a refused write must leave it as it was.
FINGERPRINT = """
SELECT (SELECT to_jsonb(c) FROM courses c WHERE c.id = %(id)s) AS course,
       (SELECT jsonb_agg(to_jsonb(m) ORDER BY m.id) FROM course_modules m WHERE m.course_id = %(id)s) AS modules,
       (SELECT jsonb_agg(to_jsonb(l) ORDER BY l.id) FROM course_lessons l WHERE l.course_id = %(id)s) AS lessons,
       (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.id) FROM course_instructors t WHERE t.course_id = %(id)s) AS team,
       (SELECT jsonb_agg(to_jsonb(u) ORDER BY u.id) FROM drip_unlocks u WHERE u.course_id = %(id)s) AS unlocks,
       (SELECT count(*) FROM courses WHERE instructor_id = %(owner)s) AS owned
"""




def shared_setting(world, status: str) -> dict:
    """One course per status for the cases that must not change it (pages, refused writes): each
    case still checks that the course is unchanged afterwards, so a refusal that leaked a write
    fails where it happened."""
    if status not in world.shared:
        world.shared[status] = setting(world, status)
    return world.shared[status]


def setting(world, status: str) -> dict:
    """A fresh course for one case: two modules, three lessons, the whole team, an enrolled student
    with an early unlock (published courses)."""
    course = world.course(status="draft" if status == "ready" else status)
    db = world.database
    ctx = {"course": course.id, "module": course.modules[0], "lesson": course.lessons[0],
           "other_email": world.emails["other_instructor"], "owner": world.users["owner"],
           "slug": db.value("SELECT slug FROM courses WHERE id = %s", (course.id,)),
           "teacher": db.value("SELECT id FROM course_instructors WHERE course_id = %s AND instructor_id = %s",
                               (course.id, world.users["co_none"]))}
    if status == "published":
        ctx["enrollment"] = enroll(db, world.users["student"], course.id)
        ctx["unlock"] = db.value("INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, module_id) "
                                 "VALUES (%s, %s, %s, %s) RETURNING id",
                                 (ctx["enrollment"], world.users["student"], course.id, course.modules[1]))
    elif status == "archived":
        db.rows("UPDATE courses SET status = 'archived', published_at = now() WHERE id = %s", (course.id,))
    return ctx


def fingerprint(world, ctx):
    return world.database.rows(FINGERPRINT, {"id": ctx["course"], "owner": ctx["owner"]})[0]


def request(world, actor, route, ctx, *, hx=False):
    client, headers = world.clients[actor], (htmx() if hx else {})
    if route.method == "GET":
        return client.get(route.path(ctx), headers=headers)
    return client.post(route.path(ctx), data={**route.data(ctx), "csrf_token": world.tokens[actor]},
                       headers=headers)


CASES = [(route, actor, hx) for route in ROUTES for actor in ACTORS for hx in (False, True)]


@pytest.mark.parametrize("route, actor, hx", CASES,
                         ids=[f"{r.method} {r.rule} as {a}{' (htmx)' if hx else ''}" for r, a, hx in CASES])
def test_route_as_actor(world, route, actor, hx):
    """Allowed teachers get the page (or fragment) or their write; everyone else a 404 (or sign-in)
    and no change, whether the request is plain or htmx."""
    writes = route.method == "POST" and actor in route.allowed
    ctx = setting(world, route.status) if writes else shared_setting(world, route.status)
    before = fingerprint(world, ctx)
    effect_before = route.effect(world, actor) if writes and route.effect else None
    response = request(world, actor, route, ctx, hx=hx)
    body = text(response)
    if actor == "anon":
        if hx:
            assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/sign-in?next=")
        else:
            assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    elif actor in route.allowed:
        expected = {200} if route.method == "GET" else ({200, 204} if hx else {200, 303})
        assert response.status_code in expected, body[:400]
        if route.method == "GET":
            assert ("<html" in body) != hx
        elif route.effect:  # the write happened (what it wrote is each area's tests' business)
            assert route.effect(world, actor) != effect_before, "an allowed write changed nothing"
        else:
            assert fingerprint(world, ctx) != before, "an allowed write changed nothing"
        return
    else:
        assert response.status_code == 404, body[:400]
        assert ("<html" in body) != hx
    assert fingerprint(world, ctx) == before


PAGES = [route for route in ROUTES if route.method == "GET"]


@pytest.mark.parametrize("route", PAGES, ids=[r.rule for r in PAGES])
def test_pages_answer_htmx_with_a_fragment(world, route):
    """The same URL gives an allowed teacher a fragment for htmx, and a 404 fragment to others."""
    ctx = setting(world, route.status)
    actor = sorted(route.allowed)[0]
    response = request(world, actor, route, ctx, hx=True)
    assert response.status_code == 200 and "<html" not in text(response) and text(response).strip()
    assert "HX-Request" in response.headers.get("Vary", "")
    refused = request(world, "student" if "other_instructor" in route.allowed else "other_instructor",
                      route, ctx, hx=True)
    assert refused.status_code == 404 and "<html" not in text(refused)


WRITES = [route for route in ROUTES if route.method == "POST"]


@pytest.mark.parametrize("route", WRITES, ids=[r.rule for r in WRITES])
def test_writes_without_a_csrf_token_are_refused(world, route):
    """A write without the CSRF token is a 400 and changes nothing, even from the owner."""
    ctx = setting(world, route.status)
    before = fingerprint(world, ctx)
    response = world.clients["owner"].post(route.path(ctx), data=route.data(ctx))
    assert response.status_code == 400
    assert fingerprint(world, ctx) == before


def test_every_course_route_is_in_the_table(world):
    """No route under /courses exists that this module does not test."""
    listed = {(r.method, r.rule) for r in ROUTES} | ELSEWHERE
    rules = {(method, rule.rule) for rule in world.app.url_map.iter_rules() if rule.rule.startswith("/courses")
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert rules == listed


# --- bounded queries ------------------------------------------------------------------

def _count(client, path) -> int:
    with QueryCounter() as counted:
        response = client.get(path)
    assert response.status_code == 200
    return counted.count


def test_the_course_list_sends_the_same_queries_for_3_or_40_courses(world):
    """The list's query count does not grow with the number of courses (20 a page)."""
    teacher, email = gen_account(world.database, "instructor")
    client = world.app.test_client()
    sign_in(client, email)
    for _ in range(3):
        gen_course(world.database, teacher, lessons=("text",))
    few = _count(client, "/courses/")
    for _ in range(37):
        gen_course(world.database, teacher, lessons=("text",))
    many = _count(client, "/courses/")
    assert few == many and many <= 6
    assert _count(client, "/courses/?page=2") == many


def test_the_builder_sends_the_same_queries_for_small_and_large_courses(world):
    """The curriculum page's query count does not grow with modules and lessons."""
    small = world.course(modules=(("text",),))
    large = world.course(modules=tuple(("text", "video", "quiz", "assignment", "text") for _ in range(8)))
    owner = world.clients["owner"]
    counts = [_count(owner, f"/courses/{c.id}/curriculum") for c in (small, large)]
    assert counts[0] == counts[1] and counts[1] <= 6
    page = text(world.clients["owner"].get(f"/courses/{large.id}/curriculum"))
    assert page.count('class="module card"') == 8
    drips = [_count(owner, f"/courses/{c.id}/drip") for c in (small, large)]
    assert drips[0] == drips[1]

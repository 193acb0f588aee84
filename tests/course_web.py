"""The cast of the course workbench's and the student side's HTTP tests: one app, one
signed-in client per actor, their CSRF tokens, and a factory for courses they teach.
``world`` (tests/conftest.py) is the one module-scoped fixture that builds it on
the module's database; a module that needs another cast defines its own.

Actors: the course's owner; co-instructors holding one permission set each
(``co_edit`` holds view_content and edit_content, because the team form
grants edit_content only together with view_content; ``co_view`` is the
co-instructor *without* edit_content); another instructor; a student; and an
anonymous visitor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.support import Course, Database, gen_account, gen_course, gen_lesson, gen_module
from tests.web import close_app, csrf_token, make_app, sign_in

PERMISSIONS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")
CO_PERMISSIONS = {
    "co_view": ("view_content",),
    "co_edit": ("view_content", "edit_content"),
    "co_manage": ("manage_students",),
    "co_revenue": ("view_revenue",),
    "co_respond": ("respond_reviews",),
    "co_none": (),
}
ACTORS = ("owner", *CO_PERMISSIONS, "other_instructor", "student", "anon")


# A full page that carries the session's CSRF token: for a signed-in user any page has the
# sign-out form (the 404 page is one that no other area changes); for a visitor, sign-in.
TOKEN_PAGES = {"anon": "/sign-in"}
TOKEN_PAGE = "/no-such-page"


class Tokens(dict):
    """actor -> the session's CSRF token, fetched the first time it is asked for."""

    def __init__(self, clients: dict):
        super().__init__()
        self.clients = clients

    def __missing__(self, actor):
        self[actor] = csrf_token(self.clients[actor], TOKEN_PAGES.get(actor, TOKEN_PAGE))
        return self[actor]


@dataclass
class CourseWorld:
    database: Database
    app: object
    users: dict = field(default_factory=dict)      # actor -> user id
    emails: dict = field(default_factory=dict)     # actor -> email
    clients: dict = field(default_factory=dict)    # actor -> signed-in test client
    shared: dict = field(default_factory=dict)     # what a module keeps across its cases

    def __post_init__(self):
        self.tokens = Tokens(self.clients)

    def course(self, *, status: str = "published", modules=(("text", "quiz"), ("video",)),
               title: str | None = None, price: str = "0", co: bool = True) -> Course:
        """An owner's course with ``modules`` (lesson types per module), taught
        by every co-instructor actor (unless ``co`` is false)."""
        db = self.database
        first, *rest = modules or ((),)
        course = gen_course(db, self.users["owner"], status=status, lessons=first, title=title, price=price)
        for kinds in rest:
            module = gen_module(db, course, f"Module {len(course.modules) + 1}")
            for kind in kinds:
                gen_lesson(db, course, module, kind)
        if co:
            for actor, granted in CO_PERMISSIONS.items():
                db.value("INSERT INTO course_instructors (course_id, instructor_id, role, permissions) "
                         "VALUES (%s, %s, 'co-instructor', %s) RETURNING id",
                         (course.id, self.users[actor], json.dumps({p: p in granted for p in PERMISSIONS})))
        return course


def build_course_world(database: Database, **config) -> CourseWorld:
    world = CourseWorld(database=database, app=make_app(database, **config))
    for actor in ACTORS:
        if actor == "anon":
            world.clients[actor] = world.app.test_client()
            continue
        role = "student" if actor == "student" else "instructor"
        name = actor.replace("_", " ").title()
        world.users[actor], world.emails[actor] = gen_account(database, role, name=name)
        world.clients[actor] = world.app.test_client()
        sign_in(world.clients[actor], world.emails[actor])
    return world


def close_world() -> None:
    close_app()


def build_student_side_world(database: Database, **config) -> CourseWorld:
    """The course world and a second student (``other_student``), for the student side's tests."""
    world = build_course_world(database, **config)
    world.users["other_student"], world.emails["other_student"] = gen_account(
        database, "student", name="Other Student")
    world.clients["other_student"] = world.app.test_client()
    sign_in(world.clients["other_student"], world.emails["other_student"])
    return world


def send(world: CourseWorld, actor: str, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
    """POST as ``actor`` (with the session's CSRF token unless ``csrf`` is false)."""
    client = world.clients[actor]
    data = dict(data or {})
    if csrf:
        data["csrf_token"] = world.tokens[actor]
    return client.post(path, data=data, **kwargs)


def slug(world: CourseWorld, course: Course) -> str:
    return world.database.value("SELECT slug FROM courses WHERE id = %s", (course.id,))

"""The learning area's route rules, each tested as every actor by its own test modules
(test_web_routes.py fails on any route that no such table names), and the cast those
modules share.

Who is tested where:

* tests/test_web_learning.py: My learning (``/learning/``) and resume (``/learn/<slug>/``).
* tests/test_web_player.py: the player and its three POSTs (complete, watch, quiz), drip
  locks and early unlocks, another student's course, the instructor, anonymous users,
  missing CSRF tokens, bad input, the whole free journey.
* tests/test_web_certificates.py: the public verification page and the PDF.

The cast (``LearningWorld``): one app on a module's database and a signed-in client per
actor: two students (``student`` and ``other``), the course's instructor (``owner``),
another instructor, and an anonymous visitor. Each test builds its own course, so tests
do not depend on one another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.support import Course, Database, enroll, gen_account, gen_course
from tests.web import close_app, csrf_token, htmx, make_app, sign_in

RULES: set[str] = {
    "/learning/",
    "/learn/<slug>/",
    "/learn/<slug>/lessons/<uuid:lesson_id>",
    "/learn/<slug>/lessons/<uuid:lesson_id>/complete",
    "/learn/<slug>/lessons/<uuid:lesson_id>/watch",
    "/learn/<slug>/lessons/<uuid:lesson_id>/quiz",
    "/certificates/<code>",
    "/certificates/<code>.pdf",
}

ACTORS = ("student", "other", "owner", "other_instructor", "anon")
# Three questions, answers 1, 0, 2: two right of three is 66.67 (below a pass mark of 70).
QUIZ = {"questions": [
    {"prompt": "Which planet is known as the red planet?", "choices": ["Venus", "Mars", "Jupiter"], "answer": 1},
    {"prompt": "What is 2 + 2?", "choices": ["4", "5"], "answer": 0},
    {"prompt": "Which of these is a prime number?", "choices": ["4", "6", "7", "9"], "answer": 2},
]}
RIGHT = {"q0": "1", "q1": "0", "q2": "2"}
TWO_OF_THREE = {"q0": "1", "q1": "0", "q2": "0"}
ONE_OF_THREE = {"q0": "1", "q1": "1", "q2": "0"}
VIDEO_MINUTES = 10
TEXT_BODY = "# Welcome\n\nThis is **bold** text.\n\n<script>alert(1)</script>"


@dataclass
class LearningWorld:
    database: Database
    app: object
    users: dict = field(default_factory=dict)
    emails: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    def course(self, lessons=("text", "video", "quiz", "assignment"), *, certificate: bool = True,
               status: str = "published", price: str = "0", title: str | None = None) -> Course:
        """A course of the owner's with one module of ``lessons``: text bodies in Markdown,
        quizzes with QUIZ (pass mark 70), videos of VIDEO_MINUTES minutes."""
        db = self.database
        course = gen_course(db, self.users["owner"], lessons=lessons, certificate=certificate, status=status,
                            price=price, title=title, video_minutes=VIDEO_MINUTES)
        db.value("UPDATE course_lessons SET body = %s WHERE course_id = %s AND content_type IN ('text', 'assignment') "
                 "RETURNING 1", (TEXT_BODY, course.id))
        db.value("UPDATE course_lessons SET quiz = %s WHERE course_id = %s AND content_type = 'quiz' RETURNING 1",
                 (json.dumps(QUIZ), course.id))
        course.slug = db.value("SELECT slug FROM courses WHERE id = %s", (course.id,))
        return course

    def enroll(self, actor: str, course: Course):
        return enroll(self.database, self.users[actor], course.id)

    def add_student(self, actor: str, name: str | None = None) -> None:
        """Another signed-in student (a fresh account), reachable as ``actor``."""
        self.users[actor], self.emails[actor] = gen_account(self.database, "student", name=name)
        client = self.app.test_client()
        sign_in(client, self.emails[actor])
        self.clients[actor] = client
        self.tokens[actor] = csrf_token(client, "/learning/")

    def get(self, actor: str, path: str, *, hx: bool = False, **kwargs):
        return self.clients[actor].get(path, headers=htmx() if hx else {}, **kwargs)

    def post(self, actor: str, path: str, data: dict | None = None, *, csrf: bool = True, hx: bool = False):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.tokens[actor]
        return self.clients[actor].post(path, data=data, headers=htmx() if hx else {})

    def progress_rows(self, course: Course) -> list:
        return self.database.rows("SELECT user_id, lesson_id, status, watch_time_seconds, quiz_score "
                                  "FROM lesson_progress WHERE course_id = %s ORDER BY created_at", (course.id,))

    def activity_count(self, course: Course) -> int:
        return self.database.value("SELECT count(*) FROM student_activity WHERE course_id = %s", (course.id,))


def build_learning_world(database: Database) -> LearningWorld:
    world = LearningWorld(database=database, app=make_app(database))
    names = {"student": "Ada Student", "other": "Otto Other", "owner": "Olive Owner",
             "other_instructor": "Ivan Instructor"}
    for actor in ACTORS:
        client = world.app.test_client()
        world.clients[actor] = client
        if actor == "anon":
            world.tokens[actor] = csrf_token(client, "/sign-in")
            continue
        role = "instructor" if actor in ("owner", "other_instructor") else "student"
        world.users[actor], world.emails[actor] = gen_account(database, role, name=names[actor])
        sign_in(client, world.emails[actor])
        world.tokens[actor] = csrf_token(client, "/dashboard" if role == "instructor" else "/learning/")
    return world


def close_world() -> None:
    close_app()


def lesson_path(course: Course, lesson_id, action: str = "") -> str:
    path = f"/learn/{course.slug}/lessons/{lesson_id}"
    return f"{path}/{action}" if action else path

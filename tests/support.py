"""What the tests share: a database handle that acts as a given user, and factories.

Factories build the world as the owner (the way maintenance would), with rows built
from the models (``portal.seed``, as the demo loader builds its own), so that
setting up a case never depends on the policies under test; the actions a
test is about go through the API roles with ``db.act(actor)``, exactly as a
web request will: one transaction that first sets role and claims.
"""

from __future__ import annotations

import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg2
import psycopg2.extras

from portal import models, seed

psycopg2.extras.register_uuid()


@dataclass(frozen=True)
class Actor:
    """Who a statement runs as: a database role and the claims it carries."""
    role: str
    user_id: object = None
    label: str = ""

    @classmethod
    def anon(cls):
        return cls("anon", None, "anon")

    @classmethod
    def user(cls, user_id, label=""):
        return cls("authenticated", user_id, label or str(user_id))

    @classmethod
    def service(cls):
        return cls("service_role", None, "service_role")

    @classmethod
    def sign_in(cls):
        """The role the sign-in path becomes for its one statement (007)."""
        return cls("portal_signin", None, "portal_signin")

    def claims(self) -> str:
        claims = {"role": self.role}
        if self.user_id is not None:
            claims["sub"] = str(self.user_id)
        return json.dumps(claims)


class Database:
    """One test database: an owner connection and an app (authenticator) one."""

    def __init__(self, owner_dsn: str, app_dsn: str):
        self.owner_dsn, self.app_dsn = owner_dsn, app_dsn
        self._owner = self._app = None

    def connect_app(self):
        """A new connection as authenticator (for tests that need several)."""
        return psycopg2.connect(self.app_dsn)

    @property
    def owner(self):
        if self._owner is None:
            self._owner = psycopg2.connect(self.owner_dsn)
            self._owner.autocommit = True
        return self._owner

    def rows(self, query, params=None):
        """Run as the owner (RLS bypassed, as maintenance); return all rows."""
        with self.owner.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    def value(self, query, params=None):
        with self.owner.cursor() as cur:
            cur.execute(query, params)
            row = cur.fetchone()
            return row[0] if row else None

    @contextmanager
    def act(self, actor: Actor, conn=None):
        """One transaction as ``actor``: committed on success, rolled back on error."""
        if conn is None:
            if self._app is None:
                self._app = psycopg2.connect(self.app_dsn)
            conn = self._app
        with conn:  # commit, or roll back on an exception
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                set_context(cur, actor)
                yield cur

    @contextmanager
    def attempt(self, actor: Actor):
        """One transaction as ``actor`` that is always rolled back: for trying a
        write and looking at its effect without keeping it."""
        if self._app is None:
            self._app = psycopg2.connect(self.app_dsn)
        try:
            with self._app.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                set_context(cur, actor)
                yield cur
        finally:
            self._app.rollback()

    def close(self):
        for conn in (self._owner, self._app):
            if conn is not None:
                conn.close()


def set_context(cur, actor: Actor) -> None:
    """Role and claims, transaction-local, in one statement (as a request does)."""
    cur.execute("SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                (actor.role, actor.claims()))


# --- factories ---------------------------------------------------------------------

def _slug(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _insert(db: Database, model, **values):
    """One row of ``model`` as the owner (maintenance), built by the model (portal.seed)."""
    with db.owner.cursor() as cur:
        return seed.insert(cur, model, **values)


def gen_org(db: Database, name: str = "Acme Learning") -> object:
    return _insert(db, models.Organization, name=name, slug=_slug("org"))


def gen_user(db: Database, role: str = "student", org=None, name: str | None = None,
             email: str | None = None) -> object:
    name = name or f"{role.title()} {secrets.token_hex(3)}"
    email = email or f"{_slug(role)}@example.test"
    # A factory's user has a confirmed address (sign-up's path, which asks to confirm it, is tested
    # as such): the notices the tests cause reach their email as they would a real user's.
    return _insert(db, models.User, email=email, full_name=name, role=role, organization=org,
                   email_confirmed_at=datetime.now(timezone.utc))


@dataclass
class Course:
    id: object
    modules: list = field(default_factory=list)
    lessons: list = field(default_factory=list)


def gen_course(db: Database, instructor, *, status: str = "published", price="0", org=None,
               lessons=("text", "text", "text"), certificate: bool = False,
               title: str | None = None, passing_score: int = 70, video_minutes: int = 10) -> Course:
    """A course with one module holding ``lessons`` (content types, in order)."""
    course_id = _insert(db, models.Course, title=title or f"Course {secrets.token_hex(3)}", slug=_slug("course"),
                        instructor=instructor, organization=org, status=status, price_amount=Decimal(price),
                        certificate_enabled=certificate, description="What this course teaches.")
    course = Course(course_id)
    module = gen_module(db, course)
    for kind in lessons:
        gen_lesson(db, course, module, kind, passing_score=passing_score, video_minutes=video_minutes)
    return course


def gen_module(db: Database, course: Course, title: str = "Module") -> object:
    module_id = _insert(db, models.CourseModule, course=course.id, title=title, position=len(course.modules))
    course.modules.append(module_id)
    return module_id


# A quiz lesson's questions (a course is published only when every quiz has one).
QUIZ = {"questions": [{"prompt": "Which choice is the second?", "choices": ["First", "Second"], "answer": 1},
                      {"prompt": "Which choice is the first?", "choices": ["First", "Second", "Third"],
                       "answer": 0}]}


def gen_lesson(db: Database, course: Course, module, kind: str = "text", *, passing_score: int = 70,
               video_minutes: int = 10, preview: bool = False) -> object:
    lesson_id = _insert(db, models.CourseLesson, module=module, course=course.id,
                        title=f"Lesson {len(course.lessons) + 1}", position=len(course.lessons), content_type=kind,
                        video_url="https://video.example.test/v" if kind == "video" else None,
                        duration_minutes=video_minutes if kind == "video" else 5,
                        passing_score=passing_score if kind == "quiz" else None, is_preview=preview,
                        quiz=QUIZ if kind == "quiz" else None)
    course.lessons.append(lesson_id)
    return lesson_id


def gen_workshop(db: Database, instructor, *, status: str = "published", price="0", capacity: int = 10,
                 org=None, starts_in=timedelta(days=7), title: str | None = None) -> object:
    start = datetime.now(timezone.utc) + starts_in
    return _insert(db, models.Workshop, instructor=instructor, organization=org,
                   title=title or f"Workshop {secrets.token_hex(3)}", slug=_slug("workshop"), start_time=start,
                   end_time=start + timedelta(hours=2), capacity=capacity, price_amount=Decimal(price),
                   status=status, meeting_url="https://meet.example.test/w")


def enroll(db: Database, student, course_id) -> object:
    """Enroll as the student, through enroll_in_course() (the one way in)."""
    with db.act(Actor.user(student)) as cur:
        cur.execute("SELECT enroll_in_course(%s) AS id", (course_id,))
        return cur.fetchone()["id"]


def pay_seat(db: Database, registration_id) -> None:
    """A workshop seat paid the one way a payment goes (021): the registrant's checkout, then the
    provider's webhook event (service_role). A seat already settled is left as it is."""
    user = db.value("SELECT user_id FROM workshop_registrations WHERE id = %s AND payment_status = 'pending'",
                    (registration_id,))
    if user is None:
        return
    with db.act(Actor.user(user)) as cur:
        cur.execute("SELECT start_workshop_checkout(%s, 'test') AS id", (registration_id,))
        checkout = cur.fetchone()["id"]
    with db.act(Actor.service()) as cur:
        cur.execute("SELECT apply_payment_event(%s, %s, 'payment.succeeded') AS outcome",
                    (f"evt_seat_{checkout}", checkout))
        assert cur.fetchone()["outcome"] == "succeeded"


def pay(db: Database, enrollment_id) -> None:
    """The payment provider confirms (service_role)."""
    with db.act(Actor.service()) as cur:
        cur.execute("SELECT confirm_course_payment(%s)", (enrollment_id,))


def record_lesson(db: Database, student, enrollment_id, course: Course, lesson_id, *,
                  status: str = "completed", watch: int = 0, score=None) -> None:
    """A lesson's progress set to exactly this state, as the owner (the factories'
    way): the student's own path is the progress functions (start_lesson,
    complete_lesson, record_watch_time, submit_quiz), which set no arbitrary score."""
    with db.owner.cursor() as cur:
        cur.execute(
            """INSERT INTO lesson_progress (enrollment_id, lesson_id, user_id, course_id, status,
                                            watch_time_seconds, quiz_score)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (enrollment_id, lesson_id) DO UPDATE
               SET status = EXCLUDED.status, watch_time_seconds = EXCLUDED.watch_time_seconds,
                   quiz_score = EXCLUDED.quiz_score""",
            (enrollment_id, lesson_id, student, course.id, status, watch, score))


def complete_course(db: Database, student, course: Course, *, score=100) -> object:
    """Enroll (and pay if needed), then complete every lesson; return the enrollment."""
    enrollment = enroll(db, student, course.id)
    if db.value("SELECT payment_status FROM course_enrollments WHERE id = %s", (enrollment,)) != "completed":
        pay(db, enrollment)
    kinds = dict(db.value("SELECT array_agg(ARRAY[id::text, content_type::text]) FROM course_lessons "
                          "WHERE course_id = %s", (course.id,)))
    for lesson in course.lessons:
        record_lesson(db, student, enrollment, course, lesson,
                      score=score if kinds[str(lesson)] == "quiz" else None)
    return enrollment


def register(db: Database, student, workshop_id) -> object:
    with db.act(Actor.user(student)) as cur:
        cur.execute("SELECT register_for_workshop(%s) AS id", (workshop_id,))
        return cur.fetchone()["id"]


def mismatches(db: Database) -> list:
    """Rows whose stored figures differ from their recomputation (should be none)."""
    return db.rows("SELECT * FROM verify_denormalized_figures()")


# --- web --------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = None


def password_hash() -> str:
    """One argon2id hash of PASSWORD for every test account (hashing is slow on purpose)."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        from portal.passwords import hash_password
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


def gen_account(db: Database, role: str = "student", org=None, name: str | None = None,
                email: str | None = None):
    """A user who can sign in with PASSWORD; returns (id, email)."""
    email = email or f"{_slug(role)}@example.test"
    user_id = gen_user(db, role, org=org, name=name, email=email)
    db.value("INSERT INTO private.user_credentials (user_id, password_hash) VALUES (%s, %s) RETURNING user_id",
             (user_id, password_hash()))
    return user_id, email


def run_async(coroutine_function) -> None:
    """``asyncio.run(coroutine_function())`` in a thread of its own: the browser tests' Playwright
    (sync API) keeps an event loop running in the main thread, where asyncio.run() refuses to start."""
    import asyncio
    import threading

    failure = []

    def target():
        try:
            asyncio.run(coroutine_function())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]

"""Named queries of the student's learning: my courses, the player, progress and certificates.

Every query runs inside the request's transaction as the signed-in student,
so row-level security decides: a course the student is not enrolled in (or
may not see) is simply not there, a locked lesson's row is not readable
(course_lessons' policy applies the drip rules and early unlocks), and a
progress write on a lesson that is not released is refused by the progress
functions (42501, which portal.errors turns into a 404).

The outline comes from ``learning_outline()`` (005): every lesson of the
caller's course in order, with ``released`` / ``opens_at`` and the caller's
progress, titles only. It is what tells a locked lesson (in the outline, not
released) from one that does not exist (not in the outline).

Progress is written only by the database's own functions (007):
``complete_lesson``, ``record_watch_time`` and ``submit_quiz`` (which scores
the answers against a key no student can read). Each is an idempotent upsert
on (enrollment_id, lesson_id) that changes nothing when it would change
nothing, so a double click or a replayed report writes no row twice. The
triggers keep student_progress, the enrollment's status and the activity
feed.

Which writes happen on which request (the choice the issue asks us to make):
opening a lesson (GET) writes nothing; the first POST on a lesson (a watch
report, "Mark complete", a quiz submission) inserts its progress row, and the
insert trigger logs ``lesson_started`` then. GETs stay safe to prefetch,
reload and crawl, and a student who only glances at a lesson has not
started it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from peewee import JOIN, Case, fn

from portal.db import database
from portal.models import (Certificate, Course, CourseEnrollment, CourseLesson, CourseReview,
                           PublicInstructor, StudentProgress)
from portal.listing import Page, Spec, View, page_of

# Enrollment statuses that open the course's content (public.active_enrollment()).
PAGE_SIZE = 12
SECTIONS = ("learning", "pending", "completed")
SECTION_STATUSES = {"learning": ("enrolled", "in_progress"), "pending": ("pending",),
                    "completed": ("completed",)}


# --- the enrolled course -------------------------------------------------------------

@dataclass
class Enrolled:
    """The signed-in student's active enrollment in one course, with its progress."""
    course_id: object
    title: str
    slug: str
    course_status: str
    certificate_enabled: bool
    enrollment_id: object
    status: str
    user_id: object
    progress_percentage: Decimal = Decimal("0")
    completed_lessons: int = 0
    total_lessons: int = 0
    certificate_url: str | None = None

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def certificate_code(self) -> str | None:
        """The code of the stored certificate URL ('/certificates/<code>')."""
        if not self.certificate_url:
            return None
        return self.certificate_url.rstrip("/").rsplit("/", 1)[-1] or None


def enrolled_course(slug: str, user_id) -> Enrolled | None:
    """The course with this slug the user is actively enrolled in, or None (one query).

    The course row itself is under RLS (an archived course stays visible to
    its enrolled students); the enrollment is the user's own.
    """
    row = (Course.select(Course.id.alias("course_id"), Course.title, Course.slug,
                         Course.status.alias("course_status"), Course.certificate_enabled,
                         CourseEnrollment.id.alias("enrollment_id"), CourseEnrollment.status.alias("status"),
                         StudentProgress.progress_percentage, StudentProgress.completed_lessons,
                         StudentProgress.total_lessons, StudentProgress.certificate_url)
           .join(CourseEnrollment, on=((CourseEnrollment.course == Course.id)
                                       & (CourseEnrollment.user == user_id)))
           .join(StudentProgress, JOIN.LEFT_OUTER, on=(StudentProgress.enrollment == CourseEnrollment.id))
           .where((Course.slug == slug) & CourseEnrollment.active())
           .dicts().first())
    if row is None:
        return None
    for name, empty in (("progress_percentage", Decimal("0")), ("completed_lessons", 0), ("total_lessons", 0)):
        if row[name] is None:
            row[name] = empty
    return Enrolled(user_id=user_id, **row)


def leavable(enrollment_id, user_id) -> dict | None:
    """The user's own enrollment with this id while it may be left (enrolled or in progress)."""
    return (CourseEnrollment.select(CourseEnrollment.id, Course.title)
            .join(Course, on=Course.id == CourseEnrollment.course)
            .where((CourseEnrollment.id == enrollment_id) & (CourseEnrollment.user == user_id)
                   & CourseEnrollment.status.in_(("enrolled", "in_progress")))
            .dicts().first())


def leave(enrollment_id) -> None:
    """The student cancels their own active enrollment (the policy and 002's guard allow it)."""
    with database.atomic():
        (CourseEnrollment.update(status="cancelled")
         .where((CourseEnrollment.id == enrollment_id) & CourseEnrollment.status.in_(("enrolled", "in_progress")))
         .execute())


# --- the outline ---------------------------------------------------------------------

@dataclass
class OutlineLesson:
    module_id: object
    module_title: str
    id: object
    title: str
    content_type: str
    duration_minutes: int
    released: bool
    opens_at: datetime | None
    status: str | None
    quiz_score: Decimal | None
    watch_time_seconds: int | None
    number: int = 0  # 1-based position in the whole course

    @property
    def done(self) -> bool:
        return self.status == "completed"

    @property
    def locked(self) -> bool:
        return not self.released


@dataclass
class OutlineModule:
    id: object
    title: str
    lessons: list = field(default_factory=list)


@dataclass
class Outline:
    lessons: list

    @property
    def modules(self) -> list[OutlineModule]:
        grouped: list[OutlineModule] = []
        for lesson in self.lessons:
            if not grouped or grouped[-1].id != lesson.module_id:
                grouped.append(OutlineModule(lesson.module_id, lesson.module_title))
            grouped[-1].lessons.append(lesson)
        return grouped

    def find(self, lesson_id) -> OutlineLesson | None:
        return next((lesson for lesson in self.lessons if str(lesson.id) == str(lesson_id)), None)

    def neighbours(self, lesson_id) -> tuple[OutlineLesson | None, OutlineLesson | None]:
        ids = [str(lesson.id) for lesson in self.lessons]
        at = ids.index(str(lesson_id))
        before = self.lessons[at - 1] if at > 0 else None
        after = self.lessons[at + 1] if at + 1 < len(self.lessons) else None
        return before, after

    @property
    def up_next(self) -> OutlineLesson | None:
        """Where the student left off: the first released lesson not completed."""
        return next((lesson for lesson in self.lessons if lesson.released and not lesson.done), None)

    def resume_target(self) -> OutlineLesson | None:
        """The first released lesson not completed; else the first one still to do
        (locked: its page says when it opens); else, all done, the first lesson."""
        return (self.up_next
                or next((lesson for lesson in self.lessons if not lesson.done), None)
                or (self.lessons[0] if self.lessons else None))


def outline(course_id) -> Outline:
    cursor = database.execute_sql(
        "SELECT module_id, module_title, lesson_id, lesson_title, content_type, duration_minutes, released, "
        "opens_at, progress_status, quiz_score, watch_time_seconds FROM learning_outline(%s)", (course_id,))
    lessons = [OutlineLesson(*row, number=i + 1) for i, row in enumerate(cursor.fetchall())]
    return Outline(lessons)


# --- one lesson ----------------------------------------------------------------------

def released_lesson(course_id, lesson_id) -> CourseLesson | None:
    """The lesson's content, when row-level security lets the student read it
    (the quiz, without its answers, comes from ``quiz_questions``)."""
    return (CourseLesson.select(CourseLesson.id, CourseLesson.title, CourseLesson.content_type,
                                CourseLesson.body, CourseLesson.video_url, CourseLesson.duration_minutes,
                                CourseLesson.passing_score)
            .where((CourseLesson.id == lesson_id) & (CourseLesson.course == course_id))
            .first())


def quiz_questions(lesson_id) -> list[dict]:
    """The quiz's questions (prompt and choices) as ``lesson_quiz()`` gives
    them to a student: the answer key never leaves the database."""
    quiz = database.execute_sql("SELECT lesson_quiz(%s)", (lesson_id,)).fetchone()[0]
    return [q for q in ((quiz or {}).get("questions") or []) if isinstance(q, dict)]


# --- writes: the database decides progress (007) ----------------------------------------

def complete_lesson(lesson_id) -> None:
    """Mark the lesson completed (again: no change)."""
    database.execute_sql("SELECT complete_lesson(%s)", (lesson_id,))


def report_watch(lesson_id, position: int) -> None:
    """Keep the furthest position reported; the database caps it at the
    lesson's length, so a report past the end stores the length and a lower
    report changes nothing."""
    database.execute_sql("SELECT record_watch_time(%s, %s)", (lesson_id, position))


@dataclass
class QuizResult:
    score: Decimal
    passed: bool
    best: Decimal
    wrong: list[int]


def submit_quiz(lesson_id, answers: list[int]) -> QuizResult:
    """Score an attempt in the database against the answer key it keeps;
    the best score is kept and a later fail never undoes a pass."""
    score, passed, best, wrong, _ = database.execute_sql(
        "SELECT score, passed, best_score, wrong, questions FROM submit_quiz(%s, %s::integer[])",
        (lesson_id, answers)).fetchone()
    return QuizResult(score=score, passed=passed, best=best, wrong=list(wrong))


# --- my learning ---------------------------------------------------------------------

# One list per section, each with its own page argument (learning_page...).
SECTION_LISTS = {name: Spec(page_size=PAGE_SIZE, page_arg=f"{name}_page") for name in SECTIONS}


def _section_order(name: str):
    if name == "learning":
        return (fn.COALESCE(StudentProgress.last_activity_at, CourseEnrollment.enrolled_at).desc(),
                CourseEnrollment.id)
    if name == "completed":
        return (CourseEnrollment.completed_at.desc(nulls="LAST"), CourseEnrollment.id)
    return (CourseEnrollment.created_at.desc(), CourseEnrollment.id)


def _mine(user_id, *columns):
    """The user's enrollments with their course (what RLS lets them see of it)."""
    return (CourseEnrollment.select(*columns)
            .join(Course, on=(Course.id == CourseEnrollment.course))
            .where(CourseEnrollment.user == user_id))


def my_learning(user_id, views: dict[str, View]) -> dict[str, Page]:
    """The student's courses in three sections, a page of each: learning
    (enrolled, in progress), pending (payment or approval), completed (with
    the certificate and the student's own review, when they exist). Four
    queries whatever the number of courses: the counts, then one page per
    section."""
    section_of = Case(None, [(CourseEnrollment.status.in_(statuses), name)
                             for name, statuses in SECTION_STATUSES.items()], None)
    counts = {name: 0 for name in SECTIONS}
    for row in (_mine(user_id, section_of.alias("section"), fn.COUNT(CourseEnrollment.id).alias("n"))
                .group_by(section_of).dicts()):
        if row["section"] in counts:
            counts[row["section"]] = row["n"]
    result = {}
    for name in SECTIONS:
        view = views[name]
        query = (_mine(user_id, CourseEnrollment.id.alias("enrollment_id"), CourseEnrollment.status,
                       CourseEnrollment.payment_status, CourseEnrollment.enrolled_at,
                       CourseEnrollment.completed_at, CourseEnrollment.created_at,
                       Course.title, Course.slug, Course.subtitle, Course.status.alias("course_status"),
                       PublicInstructor.full_name.alias("instructor_name"),
                       StudentProgress.progress_percentage, StudentProgress.completed_lessons,
                       StudentProgress.total_lessons, StudentProgress.last_activity_at,
                       Certificate.code.alias("certificate_code"),
                       CourseReview.id.alias("review_id"),
                       # "Write a review" only where the instructor takes reviews (at most a page of calls)
                       Case(None, ((CourseEnrollment.status == "completed", fn.can_review_course(Course.id)),),
                            False).alias("may_review"))
                 # users' own rows are private: the name comes from the public profile view.
                 .join_from(Course, PublicInstructor, JOIN.LEFT_OUTER,
                            on=(PublicInstructor.id == Course.instructor))
                 .join_from(CourseEnrollment, StudentProgress, JOIN.LEFT_OUTER,
                            on=(StudentProgress.enrollment == CourseEnrollment.id))
                 .join_from(CourseEnrollment, Certificate, JOIN.LEFT_OUTER,
                            on=(Certificate.enrollment == CourseEnrollment.id))
                 # their own review (one per course and student; the author reads it, hidden or not)
                 .join_from(Course, CourseReview, JOIN.LEFT_OUTER,
                            on=((CourseReview.course == Course.id) & (CourseReview.user == user_id)))
                 .where(CourseEnrollment.status.in_(SECTION_STATUSES[name]))
                 .order_by(*_section_order(name))
                 .dicts())
        result[name] = view.spec.page(view, page_of(view, query, counts[name]), counts[name], name=name,
                                      count=counts[name])
    return result


# --- certificates --------------------------------------------------------------------

@dataclass
class VerifiedCertificate:
    code: str
    student_name: str
    course_title: str
    instructor_name: str
    issued_at: datetime
    course_slug: str | None
    revoked: bool


def verify_certificate(code: str) -> VerifiedCertificate | None:
    """The certificate's public facts (anyone may ask, anonymous too), or None."""
    if not code or len(code) > 64:
        return None
    row = database.execute_sql(
        "SELECT code, student_name, course_title, instructor_name, issued_at, course_slug, revoked "
        "FROM verify_certificate(%s)", (code,)).fetchone()
    return VerifiedCertificate(*row) if row else None


def own_certificate(code: str, user_id) -> bool:
    """Whether the signed-in user holds this certificate (certificates' RLS: the holder reads it)."""
    return (Certificate.select(Certificate.id)
            .where((Certificate.code == code) & (Certificate.user == user_id)).exists())

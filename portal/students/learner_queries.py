"""Named queries of a student's page, the instructor's notes and the activity timeline.

Everything runs under the request's role and claims. A student is the caller's when they hold an
enrollment (any status) in a course the caller owns or co-teaches with view_content or
manage_students: the set course_enrollments_read and student_progress_read give them (007),
computed once per statement (``caller_courses``). Notes (014) are their author's only, and
follow the teaching: read, written, edited and deleted while the author manages the student
(manage_students on a course of the student's); the database decides (instructor_student_notes_*
policies), so a note out of reach is simply not found (a 404). The activity comes from
``instructor_activity_page`` (014), which answers for the caller only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from peewee import JOIN, SQL, Select, fn

from portal.dashboard.queries import _with_scores_shown
from portal.db import database
from portal.formatting import percent
from portal.listing import Choice, Page, Spec, View, keyset_page, token, typed_position
from portal.models import (ACTIVITY_TYPES, Certificate, Course, CourseEnrollment, CourseLesson, CourseModule,
                           InstructorStudentNote, LessonProgress, StudentActivity, StudentProgress, User,
                           caller_courses)

READERS = ("view_content", "manage_students")  # who sees a course's students (007)
WRITERS = ("manage_students",)                 # who writes notes about them (014)
NOTE_MAX = 5000                                # 014's CHECK on instructor_student_notes.body
ACTIVITY_PAGE = 25
NOTES_PAGE = 20

TYPE_LABELS = {
    "enrolled": "Enrolled", "enrollment_cancelled": "Enrollment cancelled", "lesson_started": "Lesson started",
    "lesson_completed": "Lesson completed", "quiz_passed": "Quiz passed", "quiz_failed": "Quiz not passed",
    "course_completed": "Course completed", "review_posted": "Review posted",
    "workshop_registered": "Workshop registration", "workshop_cancelled": "Workshop cancellation",
    "workshop_attended": "Workshop attended", "feedback_submitted": "Workshop feedback", "refunded": "Refunded",
    "assignment_submitted": "Assignment handed in", "assignment_graded": "Assignment graded",
}
assert set(TYPE_LABELS) == set(ACTIVITY_TYPES)

# The timeline's position: a row's time and id (instructor_activity_page pages by them).
ACTIVITY_KEYS = ((StudentActivity.occurred_at, "occurred_at"), (StudentActivity.id, "activity_id"))
TIMELINE = Spec(filters=(Choice("course", "Course", open=True, any_label="All your courses", max_length=36),
                         Choice("type", "Activity", TYPE_LABELS, any_label="Any activity"),
                         Choice("student", "Student", open=True, bar=False, max_length=36)),
                page_size=ACTIVITY_PAGE, keyset=True)
STUDENT_TIMELINE = Spec(filters=(Choice("course", "Course", open=True, bar=False, max_length=36),),
                        page_size=ACTIVITY_PAGE, keyset=True)
NOTES = Spec(page_size=NOTES_PAGE, keyset=True)
NOTE_KEYS = ((InstructorStudentNote.created_at, "created_at"), (InstructorStudentNote.id, "id"))


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


# --- the student and their courses with the caller ------------------------------------------------

def student(student_id) -> dict | None:
    """The student's basic profile, when they are the caller's student (else None: a 404)."""
    since = (CourseEnrollment.select(fn.min(CourseEnrollment.enrolled_at))
             .where((CourseEnrollment.user == student_id) & caller_courses(CourseEnrollment.course, *READERS))
             .scalar())
    if since is None:
        return None
    row = (User.select(User.id, User.full_name, User.email, User.avatar_url)
           .where(User.id == student_id).dicts().first())
    return dict(row, enrolled_since=since) if row else None


def enrollments(student_id) -> list[dict]:
    """The student's enrollments in the caller's courses, newest first, with their kept progress
    figures and certificate."""
    rows = list(CourseEnrollment
                .select(CourseEnrollment.id, CourseEnrollment.status, CourseEnrollment.enrolled_at,
                        CourseEnrollment.completed_at, CourseEnrollment.cancelled_at,
                        Course.id.alias("course_id"), Course.title.alias("course_title"),
                        Course.slug.alias("course_slug"),
                        StudentProgress.total_lessons, StudentProgress.completed_lessons,
                        StudentProgress.progress_percentage, StudentProgress.total_watch_time_seconds,
                        StudentProgress.last_activity_at, StudentProgress.total_quizzes,
                        StudentProgress.passed_quizzes, StudentProgress.average_quiz_score,
                        StudentProgress.engagement_score, StudentProgress.comment_count,
                        StudentProgress.question_count, StudentProgress.answer_count,
                        StudentProgress.submission_count,
                        Certificate.code.alias("certificate_code"), Certificate.issued_at.alias("certificate_at"))
                .join(Course, on=(Course.id == CourseEnrollment.course))
                .switch(CourseEnrollment)
                .join(StudentProgress, JOIN.LEFT_OUTER, on=(StudentProgress.enrollment == CourseEnrollment.id))
                .switch(CourseEnrollment)
                .join(Certificate, JOIN.LEFT_OUTER, on=(Certificate.enrollment == CourseEnrollment.id))
                .where((CourseEnrollment.user == student_id) & caller_courses(CourseEnrollment.course, *READERS))
                .order_by(CourseEnrollment.enrolled_at.desc(), CourseEnrollment.id)
                .dicts())
    for row in rows:
        row["watch_time"] = duration(row["total_watch_time_seconds"] or 0)
    return rows


def writable_courses() -> set[str]:
    """Ids (text) of the caller's courses where they may write notes (manage_students)."""
    return {str(c) for (c,) in Course.select(Course.id).where(caller_courses(Course.id, *WRITERS)).tuples()}


def lessons(enrollment: dict) -> list[dict]:
    """Each lesson of the course in order with the student's status, time and score on it.

    The lessons are those the caller may read (owner, co with view_content); progress on a lesson
    they may not read (a co with manage_students only) is listed after them, untitled."""
    course_id, enrollment_id = enrollment["course_id"], enrollment["id"]
    progress = {row["lesson_id"]: row for row in
                LessonProgress.select(LessonProgress.lesson.alias("lesson_id"), LessonProgress.status,
                                      LessonProgress.watch_time_seconds, LessonProgress.quiz_score,
                                      LessonProgress.started_at, LessonProgress.completed_at)
                .where(LessonProgress.enrollment == enrollment_id).dicts()}
    rows = []
    for lesson in (CourseLesson
                   .select(CourseLesson.id, CourseLesson.title, CourseLesson.content_type,
                           CourseLesson.duration_minutes, CourseLesson.passing_score,
                           CourseModule.title.alias("module_title"))
                   .join(CourseModule, on=(CourseModule.id == CourseLesson.module))
                   .where(CourseLesson.course == course_id)
                   .order_by(CourseModule.position, CourseLesson.position, CourseLesson.id).dicts()):
        done = progress.pop(lesson["id"], None)
        rows.append(_lesson_row(lesson, done))
    for lesson_id, done in progress.items():  # lessons the caller may not read
        rows.append(_lesson_row({"id": lesson_id, "title": None, "content_type": None, "duration_minutes": None,
                                 "passing_score": None, "module_title": None}, done))
    return rows


def _lesson_row(lesson: dict, done: dict | None) -> dict:
    status = "not_started" if done is None else ("completed" if done["status"] == "completed" else "started")
    return dict(lesson, status=status,
                watch_time_seconds=done["watch_time_seconds"] if done else 0,
                watch_time=duration(done["watch_time_seconds"]) if done else "",
                quiz_score=done["quiz_score"] if done else None,
                started_at=done["started_at"] if done else None,
                completed_at=done["completed_at"] if done else None)


def quiz_history(student_id, course_id) -> dict:
    """lesson id -> the scores recorded for the student's quiz, oldest first.

    submit_quiz (007) keeps the best score only and a new score is recorded (as quiz_passed or
    quiz_failed activity) when it beats the best: these are the attempts that raised the score,
    not every attempt."""
    history = defaultdict(list)
    for row in (StudentActivity.select(StudentActivity.lesson.alias("lesson_id"), StudentActivity.activity_type,
                                       StudentActivity.metadata, StudentActivity.occurred_at)
                .where((StudentActivity.student == student_id) & (StudentActivity.course == course_id)
                       & StudentActivity.activity_type.in_(("quiz_passed", "quiz_failed")))
                .order_by(StudentActivity.occurred_at, StudentActivity.id).dicts()):
        score = (row["metadata"] or {}).get("quiz_score")
        history[row["lesson_id"]].append(dict(score=Decimal(str(score)) if score is not None else None,
                                              passed=row["activity_type"] == "quiz_passed", at=row["occurred_at"]))
    return history


def _points(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def engagement(enrollment: dict, lesson_rows: list[dict]) -> dict:
    """What the stored engagement score is made of (002's progress_figures, kept by triggers):
    50 x lessons completed / lessons, + 30 x min(watch time / the course's video time, 1),
    + 20 x mean quiz score / 100, where a course without video (or without quizzes) counts the
    completion ratio for that part. The video time needs the lessons; when the caller may not
    read them the watch part is not worked out (``known`` false) and the stored score stands."""
    total, completed = enrollment["total_lessons"] or 0, enrollment["completed_lessons"] or 0
    completion = Decimal(completed) / total if total else Decimal(0)
    readable = [row for row in lesson_rows if row["content_type"] is not None]
    known = len(readable) == total
    video_seconds = sum((row["duration_minutes"] or 0) * 60 for row in readable if row["content_type"] == "video")
    watched = enrollment["total_watch_time_seconds"] or 0
    quizzes, mean = enrollment["total_quizzes"] or 0, enrollment["average_quiz_score"]
    watch_ratio = (min(Decimal(watched) / video_seconds, Decimal(1)) if video_seconds else completion) \
        if known else None
    quiz_ratio = (Decimal(mean or 0) / 100) if quizzes else completion
    parts = [
        dict(name="Lessons completed", weight=50, points=_points(50 * completion),
             basis=f"{completed} of {total} lessons"),
        dict(name="Watch time", weight=30, points=_points(30 * watch_ratio) if watch_ratio is not None else None,
             basis=(None if not known else
                    (f"{duration(watched)} of {duration(video_seconds)} of video (counted up to all of it)"
                     if video_seconds else "no video in this course: counts as lessons completed"))),
        dict(name="Quiz scores", weight=20, points=_points(20 * quiz_ratio),
             basis=(f"mean best score {percent(mean)} over the quizzes taken ({quizzes} in the course)" if quizzes and mean
                    is not None else ("no quiz taken yet" if quizzes else
                                      "no quiz in this course: counts as lessons completed"))),
    ]
    # 022: taking part in the course's discussion, up to 20 points on top (the score stops at 100)
    counts = {k: enrollment.get(f"{k}_count") or 0 for k in ("comment", "question", "answer", "submission")}
    said = [f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items() if n]
    parts.append(dict(name="Taking part", weight="up to 20",
                      points=_points(min(20, 2 * counts["comment"] + 3 * counts["question"] + 3 * counts["answer"]
                                         + 5 * counts["submission"])),
                      basis=(", ".join(said) if said else "no comment, question, answer or hand-in yet")
                      + " (2 a comment, 3 a question or an answer, 5 a hand-in)"))
    return dict(score=enrollment["engagement_score"], parts=parts, known=known,
                worked_out=min(_points(sum(p["points"] for p in parts)), _points(100)) if known else None)


def duration(seconds: int) -> str:
    """A watch time as people read it: "1 h 05 min", "12 min 30 s", "40 s"."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else (f"{minutes} min {secs:02d} s" if minutes else f"{secs} s")


# --- the activity timeline --------------------------------------------------------------------------

COLUMNS = ("activity_id", "activity_type", "description", "student_id", "student_name", "student_avatar_url",
           "course_id", "course_title", "workshop_id", "workshop_title", "lesson_id", "lesson_title",
           "metadata", "occurred_at")


def _activity(*, course=None, kind=None, student=None, limit=ACTIVITY_PAGE, before=None, after=None,
              courses_only=False) -> list[dict]:
    before, after = before or (None, None), after or (None, None)
    function = fn.instructor_activity_page(course, kind or None, student, limit, before[0], before[1],
                                           after[0], after[1], courses_only)
    rows = Select(from_list=[function], columns=[SQL(c) for c in COLUMNS]).bind(database).dicts()
    return [_scores_shown(row) for row in rows]


def _scores_shown(row: dict) -> dict:
    return _with_scores_shown(row)  # a score in a sentence is worded as on the dashboard ("80%")


def activity_page(view: View, *, course=None, kind=None, student=None, courses_only=False) -> Page:
    """One page of the caller's activity by position (newest first), with filters."""
    size = view.spec.page_size
    after = typed_position(ACTIVITY_KEYS, view.after)
    before = typed_position(ACTIVITY_KEYS, view.before) if after is None else None
    common = dict(course=course, kind=kind, student=student, courses_only=courses_only, limit=size + 1)
    if before is not None:  # the page above a row: read upwards, oldest first, then turned round
        rows = _activity(after=before, **common)
        more, rows = len(rows) > size, rows[:size]
        rows.reverse()
    else:
        rows = _activity(before=after, **common)
        more, rows = len(rows) > size, rows[:size]
    key = lambda row: token([row["occurred_at"], row["activity_id"]])  # noqa: E731
    page = Page(view=view, rows=rows, matching=0)
    at = after or before
    page.next_token = key(rows[-1]) if rows and (more or before is not None) else None
    page.prev_token = key(rows[0]) if rows and at is not None and (more or before is None) else None
    return page


def newer_activity(since: datetime, since_id, *, course=None, kind=None, student=None,
                   courses_only=False) -> list[dict]:
    """What happened after (since, since_id), newest first: the next rows in time order (at most a
    page), so a burst larger than a page comes in over the next polls, none skipped."""
    rows = _activity(after=(since, since_id or NO_ROW), course=course, kind=kind, student=student,
                     courses_only=courses_only, limit=ACTIVITY_PAGE)
    return list(reversed(rows))


NO_ROW = uuid.UUID(int=0)  # a position's id before every row's at its time (the poller of an empty view)

# The live refresh's overlap: occurred_at is the inserting transaction's start, so a row may commit
# after rows stamped later were shown, behind the poller's position. Each poll also looks again at
# the last LATE_WINDOW before that position and shows what it had not shown; the poller carries the
# window's start and the ids shown inside it (at most SEEN_MAX: a busier minute narrows the window).
LATE_WINDOW = timedelta(seconds=60)
SEEN_MAX = 50


def _at(row: dict) -> tuple:
    return row["occurred_at"], row["activity_id"]


def live_window(rows: list[dict], since: tuple, complete_from: tuple | None) -> tuple[tuple, list]:
    """The poller's window: its start (a position) and the ids of ``rows`` (shown) inside it, up to
    ``since``. ``rows`` are every row after ``complete_from`` (None: every row) up to ``since``."""
    start = (since[0] - LATE_WINDOW, NO_ROW)
    if complete_from is not None and complete_from > start:
        start = complete_from
    inside = sorted((_at(r) for r in rows if start < _at(r) <= since), reverse=True)
    if len(inside) > SEEN_MAX:
        start, inside = inside[SEEN_MAX], inside[:SEEN_MAX]
    return start, [row_id for _, row_id in inside]


def live_activity(since: tuple, window: tuple | None, seen: set, **filters) -> tuple[list, tuple, tuple, list]:
    """One poll: the rows to prepend (newest first: what happened after ``since``, at most a page,
    and the rows of the window that were not shown, committed late), the new position, and the new
    window (start, ids shown). No window (an old poller's address): no second look."""
    new = newer_activity(since[0], since[1], **filters)
    late, looked = [], []
    if window is not None:
        looked = [r for r in _activity(after=window, limit=SEEN_MAX + ACTIVITY_PAGE, **filters) if _at(r) <= since]
        late = [r for r in looked if r["activity_id"] not in seen]
        if len(looked) == SEEN_MAX + ACTIVITY_PAGE:  # cut short: the window's end is not known; start after it
            window, looked = since, []
    position = _at(new[0]) if new else since
    start, ids = live_window(looked + new, position, window if window is not None else since)
    return sorted(late + new, key=_at, reverse=True), position, start, ids


def database_now() -> datetime:
    """The database's clock (the transaction's start), which stamps occurred_at."""
    return database.execute_sql("SELECT now()").fetchone()[0]


def timeline_courses() -> dict:
    """The caller's courses whose activity they read: {id as text: title}, by title."""
    return {str(c): title for c, title in Course.select(Course.id, Course.title)
            .where(caller_courses(Course.id, *READERS)).order_by(Course.title, Course.id).tuples()}


def student_filter(student_id) -> dict:
    """The student filter's label: the name of one of the caller's students (with their page), else of
    any user the caller may read, else "a student"; the filter is shown whatever the answer."""
    found = student(student_id)
    if found:
        return dict(label=found["full_name"] or found["email"], page=True)
    name = User.select(User.full_name).where(User.id == student_id).scalar()
    return dict(label=name or "a student", page=False)


# --- notes ------------------------------------------------------------------------------------------

def _notes_query(student_id):
    return (InstructorStudentNote
            .select(InstructorStudentNote.id, InstructorStudentNote.body, InstructorStudentNote.created_at,
                    InstructorStudentNote.updated_at, InstructorStudentNote.course.alias("course_id"),
                    Course.title.alias("course_title"))
            .join(Course, JOIN.LEFT_OUTER, on=(Course.id == InstructorStudentNote.course))
            .where((InstructorStudentNote.instructor == SQL("(SELECT rls.uid())"))
                   & (InstructorStudentNote.student == student_id))
            .dicts())


def notes(view: View, student_id) -> Page:
    """The caller's notes on the student, newest first, by position."""
    return keyset_page(view, _notes_query(student_id), NOTE_KEYS, descending=True, matching=0)


def note(student_id, note_id) -> dict | None:
    return _notes_query(student_id).where(InstructorStudentNote.id == note_id).first()


def add_note(author_id, student_id, course_id, body: str):
    """A new note's id (the database refuses a student who is not the caller's: 42501)."""
    return InstructorStudentNote.insert(instructor=author_id, student=student_id, course=course_id,
                                        body=body).execute()


def edit_note(note_id, body: str) -> int:
    return InstructorStudentNote.update(body=body).where(InstructorStudentNote.id == note_id).execute()


def delete_note(note_id) -> int:
    return InstructorStudentNote.delete().where(InstructorStudentNote.id == note_id).execute()

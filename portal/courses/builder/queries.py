"""The curriculum builder's and drip release's queries, all under the request's role.

Reads return what row-level security lets the teacher see. Writes are plain
statements or the 004 functions (``move_module``, ``shift_lesson``,
``delete_module``...), which take the course's outline lock so positions stay
0..n-1 under concurrent edits, and refuse (42501, a 404) anyone without
edit_content. An UPDATE or DELETE that touches no row returns False: the
caller answers 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from peewee import JOIN

from portal.db import database
from portal.models import (Course, CourseEnrollment, CourseLesson, CourseModule, DripUnlock,
                           InstructorSettings, PublicInstructor, User)

# A target index past any end: the move functions clamp it to the last place.
LAST = 2_000_000_000
UNLOCKS_PER_PAGE = 25
STUDENT_CHOICES = 50


# --- the outline --------------------------------------------------------------------

def outline(course_id) -> list[CourseModule]:
    """The course's modules in order, each with ``lesson_list`` in order: two
    queries whatever the size of the course."""
    modules = list(CourseModule.select().where(CourseModule.course == course_id)
                   .order_by(CourseModule.position, CourseModule.id))
    by_module = {m.id: m for m in modules}
    for module in modules:
        module.lesson_list = []
    lessons = (CourseLesson.select_readable().where(CourseLesson.course == course_id)
               .order_by(CourseLesson.position, CourseLesson.id))
    for lesson in lessons:
        module = by_module.get(lesson.module_id)
        if module is not None:
            module.lesson_list.append(lesson)
    return modules


def modules_of(course_id) -> list[CourseModule]:
    """Ids and titles of the course's modules, in order (for the lesson form's select)."""
    return list(CourseModule.select(CourseModule.id, CourseModule.title, CourseModule.position)
                .where(CourseModule.course == course_id).order_by(CourseModule.position))


def module_in(course_id, module_id) -> CourseModule | None:
    """The module when it belongs to the course and the teacher can read it."""
    return CourseModule.get_or_none((CourseModule.id == module_id) & (CourseModule.course == course_id))


def module_with_lessons(course_id, module_id) -> CourseModule | None:
    module = module_in(course_id, module_id)
    if module is not None:
        module.lesson_list = list(CourseLesson.select_readable().where(CourseLesson.module == module.id)
                                  .order_by(CourseLesson.position))
    return module


def lesson_in(course_id, lesson_id) -> CourseLesson | None:
    """The lesson when it belongs to the course and the teacher can read it."""
    return CourseLesson.select_readable().where((CourseLesson.id == lesson_id) & (CourseLesson.course == course_id)).first()


def lesson_count(module_id) -> int:
    return CourseLesson.select(CourseLesson.id).where(CourseLesson.module == module_id).count()


def module_count(course_id) -> int:
    return CourseModule.select().where(CourseModule.course == course_id).count()


# --- writes -------------------------------------------------------------------------

def add_module(course_id, title: str, description: str | None) -> CourseModule:
    """Append a module (the database sets its position: the end)."""
    module_id = CourseModule.insert(course=course_id, title=title, description=description, position=0).execute()
    module = CourseModule.get_by_id(module_id)
    module.lesson_list = []
    return module


def update_module(course_id, module_id, title: str, description: str | None) -> bool:
    return bool(CourseModule.update(title=title, description=description)
                .where((CourseModule.id == module_id) & (CourseModule.course == course_id)).execute())


def delete_module(module_id) -> bool:
    return bool(database.execute_sql("SELECT delete_module(%s)", (module_id,)).fetchone()[0])


def move_module(module_id, to: int) -> None:
    database.execute_sql("SELECT move_module(%s, %s)", (module_id, to))


def shift_module(module_id, by: int) -> None:
    database.execute_sql("SELECT shift_module(%s, %s)", (module_id, by))


def add_lesson(course_id, module_id, title: str, content_type: str, video_url: str | None) -> CourseLesson:
    """Append a lesson to the module; a quiz starts with no questions and a pass mark of 70%."""
    quiz = content_type == "quiz"
    lesson_id = (CourseLesson.insert(course=course_id, module=module_id, title=title, position=0,
                                     content_type=content_type,
                                     video_url=video_url if content_type == "video" else None,
                                     quiz={"questions": []} if quiz else None,
                                     passing_score=70 if quiz else None).execute())
    return CourseLesson.select_readable().where(CourseLesson.id == lesson_id).get()


def update_lesson(course_id, lesson_id, columns: dict) -> bool:
    return bool(CourseLesson.update(**columns)
                .where((CourseLesson.id == lesson_id) & (CourseLesson.course == course_id)).execute())


def delete_lesson(lesson_id) -> bool:
    return bool(database.execute_sql("SELECT delete_lesson(%s)", (lesson_id,)).fetchone()[0])


def move_lesson(lesson_id, module_id, to: int) -> None:
    database.execute_sql("SELECT move_lesson(%s, %s, %s)", (lesson_id, module_id, to))


def shift_lesson(lesson_id, by: int) -> None:
    database.execute_sql("SELECT shift_lesson(%s, %s)", (lesson_id, by))


# --- drip release -------------------------------------------------------------------

def save_drip(course_id, drip_content: bool, schedule: dict) -> bool:
    """Under RLS on courses: only the owner and co-instructors with edit_content."""
    return bool(Course.update(drip_content=drip_content, drip_schedule=schedule)
                .where(Course.id == course_id).execute())


def owner_timezone(course: Course) -> str | None:
    """The owner's time zone (date rules follow it); only the owner can read it."""
    row = (InstructorSettings.select(InstructorSettings.timezone)
           .where(InstructorSettings.user == course.instructor_id).first())
    return row.timezone if row else None


@dataclass
class StudentChoice:
    id: uuid.UUID
    user_id: uuid.UUID
    student_label: str


def _student_label(name, email, user_id) -> str:
    if name:
        return f"{name} ({email})" if email else name
    return f"Student {str(user_id)[:8]}"  # a teacher who may not read the student's name


def enrolled_students(course_id, search: str | None = None, limit: int = STUDENT_CHOICES) -> list[StudentChoice]:
    """Enrolled students to unlock content for, newest first, by name or email.

    Names come from ``users`` under RLS (002's users_read lets a teacher with
    view_content or manage_students read their students); where a row is not
    readable the student is shown by a short id.
    """
    query = (CourseEnrollment.select(CourseEnrollment.id, CourseEnrollment.user, User.full_name, User.email)
             .join(User, JOIN.LEFT_OUTER, on=(User.id == CourseEnrollment.user))
             .where((CourseEnrollment.course == course_id)
                    & CourseEnrollment.active()))
    if search:
        pattern = f"%{search.replace('%', '').replace('_', '')}%"
        query = query.where(User.full_name.ilike(pattern) | User.email.ilike(pattern))
    rows = query.order_by(CourseEnrollment.enrolled_at.desc(), CourseEnrollment.id).limit(limit).objects()
    return [StudentChoice(r.id, r.user_id, _student_label(r.full_name, r.email, r.user_id)) for r in rows]


def enrolled_student(course_id, enrollment_id) -> StudentChoice | None:
    row = (CourseEnrollment.select(CourseEnrollment.id, CourseEnrollment.user, User.full_name, User.email)
           .join(User, JOIN.LEFT_OUTER, on=(User.id == CourseEnrollment.user))
           .where((CourseEnrollment.id == enrollment_id) & (CourseEnrollment.course == course_id)
                  & CourseEnrollment.active())
           .objects().first())
    if row is None:
        return None
    return StudentChoice(row.id, row.user_id, _student_label(row.full_name, row.email, row.user_id))


def add_unlock(course_id, student: StudentChoice, module_id=None, lesson_id=None) -> uuid.UUID:
    """Under RLS on drip_unlocks: the owner and co-instructors with manage_students."""
    return DripUnlock.insert(enrollment=student.id, user=student.user_id, course=course_id,
                             module=module_id, lesson=lesson_id).execute()


def delete_unlock(course_id, unlock_id) -> bool:
    return bool(DripUnlock.delete()
                .where((DripUnlock.id == unlock_id) & (DripUnlock.course == course_id)).execute())


@dataclass
class UnlockRow:
    id: uuid.UUID
    student: str
    what: str          # "course", "module" or "lesson"
    item: str | None   # the module's or lesson's title, when the teacher can read it
    by: str | None
    created_at: object


def unlocks(course_id, page: int = 1, per_page: int = UNLOCKS_PER_PAGE) -> tuple[list[UnlockRow], bool]:
    """One page of the course's early unlocks, newest first, and whether more follow.
    One query: student, module, lesson and the unlocking teacher are joined."""
    Student = User.alias("student")
    query = (DripUnlock.select(DripUnlock.id, DripUnlock.user, DripUnlock.module, DripUnlock.lesson,
                               DripUnlock.created_at, Student.full_name.alias("student_name"),
                               CourseModule.title.alias("module_title"), CourseLesson.title.alias("lesson_title"),
                               PublicInstructor.full_name.alias("teacher_name"))
             .join(Student, JOIN.LEFT_OUTER, on=(Student.id == DripUnlock.user))
             .switch(DripUnlock).join(CourseModule, JOIN.LEFT_OUTER, on=(CourseModule.id == DripUnlock.module))
             .switch(DripUnlock).join(CourseLesson, JOIN.LEFT_OUTER, on=(CourseLesson.id == DripUnlock.lesson))
             .switch(DripUnlock).join(PublicInstructor, JOIN.LEFT_OUTER,
                                      on=(PublicInstructor.id == DripUnlock.unlocked_by))
             .where(DripUnlock.course == course_id)
             .order_by(DripUnlock.created_at.desc(), DripUnlock.id)
             .offset((page - 1) * per_page).limit(per_page + 1).objects())
    rows = []
    for r in query:
        what = "lesson" if r.lesson_id else "module" if r.module_id else "course"
        rows.append(UnlockRow(r.id, r.student_name or f"Student {str(r.user_id)[:8]}", what,
                              r.lesson_title if what == "lesson" else r.module_title if what == "module" else None,
                              r.teacher_name, r.created_at))
    return rows[:per_page], len(rows) > per_page

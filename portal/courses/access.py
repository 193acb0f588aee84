"""Who may do what on one course, for the views.

Row-level security is the gate: ``course_access`` loads the course under the
request's role, so a course the user may not see is a 404. On top of that the
views ask ``Access.can(permission)`` for *pages* (a published course is
readable by anyone, but its workbench is the teachers'). *Writes* are not
gated here: they run under RLS, and a write RLS refuses touches no row (the
view answers 404) or raises 42501 (the error handler answers 404). So a
co-instructor without ``edit_content`` who posts an edit changes nothing,
whatever the page showed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import abort
from flask_login import current_user
from peewee import JOIN

from portal.models import Course, CourseInstructor

PERMISSIONS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")
PERMISSION_LABELS = {
    "view_content": "View content",
    "edit_content": "Edit content",
    "manage_students": "Manage students",
    "view_revenue": "View revenue",
    "respond_reviews": "Respond to reviews",
}


@dataclass(frozen=True)
class Access:
    course: Course
    is_owner: bool
    role: str                      # "primary", "co-instructor" or "assistant"
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def granted(is_owner: bool, row_permissions: dict | None) -> frozenset[str]:
    """What a teacher may do: everything for the owner, else the permissions set true on
    their course_instructors row (the one rule; RLS keeps the same in SQL)."""
    if is_owner:
        return frozenset(PERMISSIONS)
    return frozenset(p for p in PERMISSIONS if (row_permissions or {}).get(p) is True)


def permissions_of(course: Course, row_permissions: dict | None) -> frozenset[str]:
    return granted(course.instructor_id == current_user.id, row_permissions)


def course_access(course_id: uuid.UUID, need: str | None = None) -> Access:
    """The course as the signed-in teacher sees it (one query), or 404.

    404 when RLS hides the course, when the user neither owns it nor
    co-teaches it, or when ``need`` is a permission they lack.
    """
    row = (Course.select(*Course.readable(), Course.revenue().alias("total_revenue"),
                         CourseInstructor.role.alias("teacher_role"),
                         CourseInstructor.permissions.alias("teacher_permissions"))
           .join(CourseInstructor, JOIN.LEFT_OUTER,
                 on=((CourseInstructor.course == Course.id)
                     & (CourseInstructor.instructor == current_user.id)))
           .where(Course.id == course_id)
           .objects().first())
    if row is None:
        abort(404)
    is_owner = row.instructor_id == current_user.id
    if not is_owner and row.teacher_role is None:
        abort(404)
    access = Access(course=row, is_owner=is_owner, role="primary" if is_owner else row.teacher_role,
                    permissions=permissions_of(row, row.teacher_permissions))
    if need is not None and not access.can(need):
        abort(404)
    return access


def require_owner(access: Access) -> Access:
    """Pages only the primary instructor sees (the team, deleting the course)."""
    if not access.is_owner:
        abort(404)
    return access

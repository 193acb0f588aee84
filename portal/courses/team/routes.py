"""The course's team: the owner adds co-instructors and assistants by email,
changes their role and permissions, and removes them.

The page is the owner's alone (``require_owner``): a co-teacher gets a 404.
Every write also runs under row-level security, which lets only the owner
(or a platform admin) write ``course_instructors``: an UPDATE or DELETE the
database refuses touches no row (404), and ``add_course_instructor`` raises
42501 for anyone else (the error handler answers 404).

The primary instructor is the course's owner (``courses.instructor_id``) and
has no row in ``course_instructors``, so there is nothing to remove: the page
shows them first, without controls, and every route below addresses rows of
``course_instructors`` only.
"""

from __future__ import annotations

import json

from flask import abort, url_for
from peewee import JOIN, IntegrityError

from portal import refusals
from portal.courses.access import PERMISSIONS, course_access, require_owner
from portal.courses import bp
from portal.courses.team.forms import ROLE_LABELS, AddTeacherForm, TeacherForm, suffix_ids
from portal.db import database
from portal.models import CourseInstructor, PublicInstructor
from portal.web import is_partial, notify, redirect_to, render, role_required

# --- queries (each runs under the request's role and claims) -------------------

def _members():
    """Team rows with the member's public name. The owner cannot read other
    users' rows, so names come from ``public_instructors`` (a left join: a
    deactivated account is still listed, to be removed)."""
    return (CourseInstructor
            .select(CourseInstructor.id, CourseInstructor.instructor, CourseInstructor.role,
                    CourseInstructor.permissions, PublicInstructor.full_name)
            .join(PublicInstructor, JOIN.LEFT_OUTER, on=(PublicInstructor.id == CourseInstructor.instructor))
            .dicts())


def team_members(course_id) -> list[dict]:
    """Everyone teaching the course besides its owner, in the order they joined (one query)."""
    return list(_members().where(CourseInstructor.course == course_id)
                .order_by(CourseInstructor.created_at, CourseInstructor.id))


def team_member(course_id, teacher_id) -> dict | None:
    return _members().where((CourseInstructor.course == course_id) & (CourseInstructor.id == teacher_id)).first()


def has_team(course_id) -> bool:
    return CourseInstructor.select().where(CourseInstructor.course == course_id).exists()


def add_teacher(course_id, email: str, role: str, permissions: dict) -> object:
    """``add_course_instructor`` (004): the owner cannot look the email up
    themselves. Returns the new row's id; raises the database's refusal."""
    cursor = database.execute_sql(
        "SELECT add_course_instructor(%s, %s, %s::course_instructor_role, %s::jsonb)",
        (course_id, email, role, json.dumps(permissions)))
    return cursor.fetchone()[0]


def update_teacher(course_id, teacher_id, role: str, permissions: dict) -> int:
    """Rows changed: 0 when there is no such member of this course, or RLS refuses."""
    return (CourseInstructor.update(role=role, permissions=permissions)
            .where((CourseInstructor.id == teacher_id) & (CourseInstructor.course == course_id))
            .execute())


def remove_teacher(course_id, teacher_id) -> int:
    return (CourseInstructor.delete()
            .where((CourseInstructor.id == teacher_id) & (CourseInstructor.course == course_id))
            .execute())


# --- views ----------------------------------------------------------------------

def display_name(member: dict) -> str:
    return member["full_name"] or "A deactivated instructor"


def member_form(member: dict, form: TeacherForm | None = None) -> TeacherForm:
    """The row's form: what is saved, or what was just posted (with its errors)."""
    if form is None:
        saved = member["permissions"] or {}
        form = TeacherForm(formdata=None, role=member["role"],
                           **{name: saved.get(name) is True for name in PERMISSIONS})
    return suffix_ids(form, str(member["id"]))


def _context(access, **extra) -> dict:
    return dict(access=access, active="team", role_labels=ROLE_LABELS, display_name=display_name, **extra)


def team_page(access, add_form: AddTeacherForm, status: int = 200, posted: dict | None = None):
    """The page (or its fragment): the owner, every member with their form, the add form.
    ``posted`` maps a member id to the form just posted for them (shown with its errors)."""
    posted = posted or {}
    members = [(member, member_form(member, posted.get(member["id"])))
               for member in team_members(access.course.id)]
    return render("courses/team.html", "courses/_team.html", status=status,
                  **_context(access, members=members, add_form=add_form))


@bp.route("/<uuid:course_id>/team")
@role_required("instructor")
def team(course_id):
    access = require_owner(course_access(course_id))
    return team_page(access, AddTeacherForm(formdata=None))


@bp.route("/<uuid:course_id>/team", methods=["POST"])
@role_required("instructor")
def team_add(course_id):
    access = require_owner(course_access(course_id))
    form = AddTeacherForm()
    if form.validate():
        try:
            with database.atomic():  # a savepoint: a refusal leaves the request's transaction usable
                teacher_id = add_teacher(course_id, form.email.data, form.role.data, form.permissions())
        except IntegrityError as exc:
            form.email.errors.append(refusals.message(exc))
        else:
            member = team_member(course_id, teacher_id)
            message = f"{display_name(member)} joined the team as {ROLE_LABELS[member['role']].lower()}."
            if is_partial():
                return notify(render("courses/_team_added.html", **_context(
                    access, add_form=AddTeacherForm(formdata=None), member=member, form=member_form(member),
                    focus_email=True)), message)
            return notify(redirect_to(url_for("courses.team", course_id=course_id)), message)
    if is_partial():
        return render("courses/_team_add_invalid.html", status=422, **_context(access, add_form=form))
    return team_page(access, form, status=422)


def _refused_change(access, course_id, teacher_id, form: TeacherForm):
    """A change that was not saved (422): the row as posted, with its messages."""
    member = team_member(course_id, teacher_id)
    if member is None:
        abort(404)
    if is_partial():
        return render("courses/_team_saved.html", status=422,
                      **_context(access, member=member, form=member_form(member, form)))
    return team_page(access, AddTeacherForm(formdata=None), status=422, posted={member["id"]: form})


@bp.route("/<uuid:course_id>/team/<uuid:teacher_id>", methods=["POST"])
@role_required("instructor")
def team_update(course_id, teacher_id):
    access = require_owner(course_access(course_id))
    form = TeacherForm()
    if not form.validate():
        return _refused_change(access, course_id, teacher_id, form)
    try:
        with database.atomic():
            touched = update_teacher(course_id, teacher_id, form.role.data, form.permissions())
    except IntegrityError as exc:  # 002's check_co_teacher: the account is no longer an active instructor
        form.role.errors.append(refusals.message(exc))
        return _refused_change(access, course_id, teacher_id, form)
    if not touched:
        abort(404)
    member = team_member(course_id, teacher_id)
    message = f"Saved {display_name(member)}'s role and permissions."
    if is_partial():
        return notify(render("courses/_team_saved.html",
                             **_context(access, member=member, form=member_form(member))), message)
    return notify(redirect_to(url_for("courses.team", course_id=course_id) + f"#teacher-{teacher_id}"), message)


@bp.route("/<uuid:course_id>/team/<uuid:teacher_id>/delete")
@role_required("instructor")
def team_confirm_remove(course_id, teacher_id):
    """The confirmation page of the plain-form path (htmx asks with hx-confirm)."""
    access = require_owner(course_access(course_id))
    member = team_member(course_id, teacher_id)
    if member is None:
        abort(404)
    return render("courses/team.html", "courses/_team_remove.html", **_context(access, member=member, removing=True))


@bp.route("/<uuid:course_id>/team/<uuid:teacher_id>/delete", methods=["POST"])
@role_required("instructor")
def team_remove(course_id, teacher_id):
    access = require_owner(course_access(course_id))
    member = team_member(course_id, teacher_id)
    if member is None or not remove_teacher(course_id, teacher_id):
        abort(404)
    message = f"{display_name(member)} no longer teaches this course."
    if is_partial():
        # The row's outerHTML swap with no main content removes it; the rest is out of band.
        return notify(render("courses/_team_removed.html",
                             **_context(access, has_others=has_team(course_id))), message)
    return notify(redirect_to(url_for("courses.team", course_id=course_id)), message)


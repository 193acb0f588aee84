"""A student's page, the instructor's private notes on them, and the activity timeline.

* ``/students/<id>``: the student's profile and, per course of the caller's they are enrolled in,
  progress, the lesson-by-lesson timeline, quiz scores, watch time, the engagement score and what
  it is made of, the certificate; the caller's notes; the student's activity with the caller's
  courses. A student who is not the caller's (no enrollment in a course they own or co-teach
  with view_content or manage_students) is a 404, whether the account exists or not.
* notes: added, edited and deleted in place with htmx, or by plain forms (post/redirect/get);
  a delete asks first; bad input is a 422 with the form as typed. The database decides (014):
  the author's notes, while they manage the student (a note out of reach is a 404).
* ``/students/activity``: the caller's student activity with filters (course, type, student),
  paged by position, refreshed every 15 seconds while the tab is visible (static/js/live.js),
  each poll also looking again at the minute before its position for rows committed late.
"""

from __future__ import annotations

import uuid

from flask import abort, request, url_for
from flask_login import current_user
from peewee import DatabaseError

from portal import refusals
from portal.db import database
from portal.listing import typed_position
from portal.discussions import queries as discussion_queries
from portal.students import bp
from portal.students import learner_forms as forms
from portal.students import learner_queries as queries
from portal.web import found, is_partial, notify, redirect_to, render, role_required

NOT_YOURS = ("You can read this student's page but not write notes: notes are for the courses where you "
             "manage students.")
SAVED, UPDATED, DELETED = "Your note is saved.", "Your note is updated.", "Your note is deleted."
NOT_SAVED = "Your note was not saved: see the message under it."


def _cursor(prefix: str):
    """The poller's position from the query string: (time, id), or (None, None); bad ones (not a
    time, not an id, an offset PostgreSQL refuses) are a 400, typed as the list kit types a page's."""
    moment, row_id = request.args.get(prefix), request.args.get(prefix + "_id")
    if not moment:
        return None, None
    position = typed_position(queries.ACTIVITY_KEYS, [moment, row_id or str(queries.NO_ROW)])
    if position is None:
        abort(400)
    return position[0], position[1]


# --- the student's page -----------------------------------------------------------------------------

def _learner(student_id):
    """The student (a 404 unless they are the caller's) and the course the page focuses on, if any
    (``?course=``: one of the student's courses with the caller, else a 404; a value that is no
    course id at all is no focus, as a list's filter)."""
    return found(queries.student(student_id)), queries.as_uuid(request.args.get("course"))


def _focused(student_id, focus) -> list[dict]:
    """The student's enrollments with the caller, only the focused course's when there is a focus
    (a course that is not one of them: a 404, on the page and on its activity alike)."""
    enrollments = queries.enrollments(student_id)
    if focus is not None:
        enrollments = [e for e in enrollments if e["course_id"] == focus]
        if not enrollments:
            abort(404)
    return enrollments


def _courses(student_id, focus):
    enrollments = _focused(student_id, focus)
    for e in enrollments:
        e["lessons"] = queries.lessons(e)
        e["quiz_history"] = queries.quiz_history(student_id, e["course_id"])
        e["engagement"] = queries.engagement(e, e["lessons"])
    grades = discussion_queries.grades_of(student_id) if enrollments else []   # 022: hand-ins and grades
    for e in enrollments:
        e["submissions"] = [g for g in grades if g["course_id"] == e["course_id"]]
    return enrollments


def _note_courses(enrollments) -> dict:
    writable = queries.writable_courses()
    return {str(e["course_id"]): e["course_title"] for e in enrollments if str(e["course_id"]) in writable}


def _notes_context(student_id, note_courses: dict, form=None, focus_note=None) -> dict:
    listing = queries.notes(queries.NOTES.read(request.args if request.endpoint == "students.student_notes"
                                               else {}), student_id).link("students.student_notes",
                                                                          student_id=student_id)
    return dict(notes=listing, note_courses=note_courses, focus_note=focus_note,
                form=form or forms.note_form(note_courses, formdata=None),
                edit_forms={row["id"]: forms.edit_form(row["id"], formdata=None, data={"body": row["body"]})
                            for row in listing.rows})


def _student_activity(student_id, focus, view=None):
    view = view or queries.STUDENT_TIMELINE.read({"course": str(focus) if focus else ""})
    return queries.activity_page(view, course=focus, student=student_id, courses_only=True).link(
        "students.student_activity", student_id=student_id)


@bp.route("/<uuid:student_id>")
@role_required("instructor")
def student(student_id):
    """The student's page (optionally focused on one course, ``?course=``)."""
    person, focus = _learner(student_id)
    enrollments = _courses(student_id, focus)
    note_courses = _note_courses(queries.enrollments(student_id) if focus else enrollments)
    return render("students/student.html", person=person, enrollments=enrollments, focus=focus,
                  activity=_student_activity(student_id, focus), type_labels=queries.TYPE_LABELS,
                  **_notes_context(student_id, note_courses))


@bp.route("/<uuid:student_id>/activity")
@role_required("instructor")
def student_activity(student_id):
    """The student's activity with the caller's courses, a page at a time (htmx: the rows only)."""
    person, focus = _learner(student_id)
    _focused(student_id, focus)
    activity = _student_activity(student_id, focus, queries.STUDENT_TIMELINE.read(request.args))
    return render("students/student_activity.html", "students/student_activity_rows.html", person=person,
                  focus=focus, activity=activity, rows=activity.rows, more=activity.url(after=activity.next_token)
                  if activity.next_token else None)


# --- notes ------------------------------------------------------------------------------------------

def _notes_panel(student_id, person, form=None, status: int = 200, focus_note=None):
    note_courses = _note_courses(queries.enrollments(student_id))
    return render("students/student_notes.html", "students/_notes.html", status=status, person=person,
                  **_notes_context(student_id, note_courses, form, focus_note))


@bp.route("/<uuid:student_id>/notes", methods=["GET", "POST"])
@role_required("instructor")
def student_notes(student_id):
    """Every note of the caller's on the student, a page at a time; a POST adds one."""
    person = found(queries.student(student_id))
    if request.method == "GET":
        return _notes_panel(student_id, person)
    note_courses = _note_courses(queries.enrollments(student_id))
    form = forms.note_form(note_courses)
    if not note_courses:
        form.form_errors.append(NOT_YOURS)
    elif form.validate_on_submit():
        try:
            with database.atomic():
                added = queries.add_note(current_user.id, student_id, queries.as_uuid(form.course.data),
                                         form.body.data)
        except DatabaseError as exc:  # a refusal the form could not foresee (a permission gone meanwhile)
            form.body.errors = [*form.body.errors, refusals.message(exc)]
        else:
            if not is_partial():
                return notify(redirect_to(url_for("students.student", student_id=student_id) + "#notes"), SAVED)
            return notify(_notes_panel(student_id, person, focus_note=added), SAVED)
    response = _notes_panel(student_id, person, form, status=422)
    if is_partial():
        notify(response, form.form_errors[0] if form.form_errors else NOT_SAVED, "error")
    return response


def _note_or_404(student_id, note_id) -> dict:
    found(queries.student(student_id))
    return found(queries.note(student_id, note_id))


def _note_answer(student_id, row, form=None, *, status=200, confirm=False, message=None, kind="success",
                 focused=False):
    """One note (htmx: its card; plain: a page with only that card)."""
    form = form or forms.edit_form(row["id"], formdata=None, data={"body": row["body"]})
    response = render("students/student_note.html", "students/_note.html", status=status, note=row,
                      edit_form=form, student_id=student_id, confirm=confirm, focused=focused)
    return notify(response, message, kind) if message and is_partial() else response


@bp.route("/<uuid:student_id>/notes/<uuid:note_id>", methods=["POST"])
@role_required("instructor")
def edit_student_note(student_id, note_id):
    """Rewrite one's note: its card again (htmx), or back to the student's page."""
    row = _note_or_404(student_id, note_id)
    form = forms.edit_form(note_id)
    if form.validate_on_submit():
        try:
            with database.atomic():
                touched = queries.edit_note(note_id, form.body.data)
        except DatabaseError as exc:
            form.body.errors = [*form.body.errors, refusals.message(exc)]
        else:
            if not touched:  # out of reach between the read and the write (a permission withdrawn meanwhile)
                form.form_errors.append(NOT_YOURS)
            else:
                if not is_partial():
                    return notify(redirect_to(url_for("students.student", student_id=student_id)
                                              + f"#note-{note_id}"), UPDATED)
                return _note_answer(student_id, found(queries.note(student_id, note_id)), message=UPDATED,
                                    focused=True)
    return _note_answer(student_id, row, form, status=422,
                        message=form.form_errors[0] if form.form_errors else NOT_SAVED, kind="error")


@bp.route("/<uuid:student_id>/notes/<uuid:note_id>/delete", methods=["POST"])
@role_required("instructor")
def delete_student_note(student_id, note_id):
    """Delete one's note once confirmed (the card's confirm button, or the confirmation page)."""
    row = _note_or_404(student_id, note_id)
    if request.form.get("confirm") != "yes":
        return _note_answer(student_id, row, confirm=True)
    with database.atomic():
        touched = queries.delete_note(note_id)
    if not touched:
        abort(404)
    if not is_partial():
        return notify(redirect_to(url_for("students.student", student_id=student_id) + "#notes"), DELETED)
    return notify(render("students/student_note.html", "students/_note_deleted.html", note=row,
                         student_id=student_id), DELETED)


# --- the activity timeline --------------------------------------------------------------------------

def _timeline_filters(view):
    view.choices["course"] = queries.timeline_courses()
    course = queries.as_uuid(view.course)
    student = queries.as_uuid(view.student)
    return dict(course=course, kind=view.type or None, student=student)


@bp.route("/activity")
@role_required("instructor")
def activity():
    """The caller's student activity: filters, pages by position; ``since`` (the poller) answers the
    rows newer than the newest shown, to prepend."""
    view = queries.TIMELINE.read(request.args)
    filters = _timeline_filters(view)
    since, since_id = _cursor("since")
    if since is not None and is_partial():  # the poller (a plain request gets the page)
        window = _cursor("from")
        rows, position, start, seen = queries.live_activity(
            (since, since_id), window if window[0] is not None else None, _seen(), **filters)
        return render("students/activity.html", "students/activity_newer.html", rows=rows, view=view,
                      poll_from=position, window_from=start, seen=seen,
                      was_empty=since_id == queries.NO_ROW)
    listing = queries.activity_page(view, **filters).link("students.activity")
    student_filter = queries.student_filter(filters["student"]) if filters["student"] else None
    live = view.after is None and view.before is None
    poll = {}
    if live:
        # an empty view polls from now (the database's clock), not from the start of time: a rare
        # type's filter would otherwise read the whole timeline every 15 s
        position = (listing.rows[0]["occurred_at"], listing.rows[0]["activity_id"]) if listing.rows \
            else (queries.database_now(), queries.NO_ROW)
        shown_from = (listing.rows[-1]["occurred_at"], listing.rows[-1]["activity_id"]) \
            if listing.next_token else None  # the rows below the page are not on it
        start, seen = queries.live_window(listing.rows, position, shown_from)
        poll = dict(poll_from=position, window_from=start, seen=seen)
    return render("students/activity.html", "students/activity_timeline.html", listing=listing, view=view,
                  live=live, student_filter=student_filter, type_labels=queries.TYPE_LABELS, **poll)


def _seen() -> set:
    """The ids the poller showed inside its window (comma-separated); a bad one is a 400."""
    raw = request.args.get("seen", "")
    ids = [part for part in raw.split(",") if part]
    if len(ids) > queries.SEEN_MAX:
        abort(400)
    try:
        return {uuid.UUID(part) for part in ids}
    except ValueError:
        abort(400)

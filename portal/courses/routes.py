"""Courses: list, create, edit, lifecycle. The curriculum builder, the team and
the insight page are view modules of the same blueprint, imported below.

Views are thin: ``queries`` reads and writes under the request's role, and
the database decides. A write row-level security refuses touches no row and
the view answers 404; a constraint the form could not foresee (a slug taken
by a draft the user cannot see, a course that is not publishable) comes back
from a savepoint and becomes a message on the field or the action.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, request, url_for
from flask_login import current_user
from peewee import IntegrityError

from portal import refusals
from portal.courses import forms, queries
from portal.courses.access import Access, course_access, require_owner
from portal.courses import bp
from portal.listing import csv_response
from portal.web import is_partial, notify, redirect_to, render, role_required

# --- the list -------------------------------------------------------------------------


@bp.route("/")
@role_required("instructor")
def index():
    """The courses the instructor owns or co-teaches: tabs, search, sort, pages.

    An htmx request aimed at ``#course-results`` (typing in the search box,
    changing the sort, paging) gets the results only; one aimed at the whole
    list (a tab) gets the list with its filters.
    """
    listing = queries.course_list(current_user.id, queries.LIST.read(request.args)).link("courses.index")
    results_only = is_partial() and request.headers.get("HX-Target") == "course-results"
    partial = "courses/_list_results.html" if results_only else "courses/_list.html"
    response = render("courses/index.html", partial, listing=listing, results_only=results_only)
    response.vary.add("HX-Target")
    return response


@bp.route("/export.csv")
@role_required("instructor")
def export():
    """The list as filtered (every page) as a CSV file."""
    view = queries.LIST.read(request.args)
    return csv_response(f"courses-{date.today().isoformat()}", queries.EXPORT_HEADER,
                        queries.export_rows(current_user.id, view))


# --- create ---------------------------------------------------------------------------

def _form_for(course=None, **kwargs) -> forms.CourseForm:
    """The details form with the organizations this user may choose (none, theirs, the course's).

    The organization is the owner's choice (006 refuses anyone else's change),
    so a co-instructor is offered only the course's current one."""
    owner = course is None or course.instructor_id == current_user.id
    own = current_user.organization_id if owner else None
    current = course.organization_id if course is not None else None
    names = queries.organizations([own, current])
    form = forms.CourseForm(**kwargs)
    return form.offer({own: names[own]} if own in names else {}, current=current,
                      currency=(course.currency or "").strip() if course is not None else None)


def _new_page(form, status=200):
    return render("courses/new.html", "courses/_form.html", status=status, form=form, creating=True,
                  action=url_for("courses.create"), readonly=False, slug_locked=False)


@bp.route("/new")
@role_required("instructor")
def new():
    return _new_page(_form_for(data=forms.NEW_COURSE))


@bp.route("/new", methods=["POST"])
@role_required("instructor")
def create():
    """Insert a draft owned by the user, then go on to its curriculum."""
    form = _form_for()
    if form.validate_on_submit():
        try:
            course_id = queries.create_course(current_user.id, form.values(), form.slug.data or None)
        except queries.SlugTaken:
            form.slug.errors.append(forms.SLUG_TAKEN)
        else:
            flash(f"“{form.title.data}” is created as a draft. Now add its modules and lessons.", "success")
            return redirect_to(url_for("courses.curriculum", course_id=course_id))
    return _new_page(form, status=422)


# --- details --------------------------------------------------------------------------

SAVED = "Your changes are saved."


def _details_page(access: Access, form, *, status=200, partial="courses/_form.html", saved=False,
                  lifecycle_message=None):
    """The details page (form and lifecycle panel), or one of its fragments."""
    course = access.course
    missing = queries.missing_for_publishing(course) if course.status != "published" else []
    if course.published_at is not None:
        form.lock_slug()
    return render("courses/edit.html", partial, status=status, access=access, form=form, creating=False,
                  action=url_for("courses.update", course_id=course.id),
                  readonly=not access.can("edit_content"), slug_locked=course.published_at is not None,
                  saved=saved, missing=missing, lifecycle_message=lifecycle_message)


@bp.route("/<uuid:course_id>")
@role_required("instructor")
def edit(course_id):
    access = course_access(course_id, "view_content")
    return _details_page(access, _form_for(access.course, data=forms.course_data(access.course)))


@bp.route("/<uuid:course_id>", methods=["POST"])
@role_required("instructor")
def update(course_id):
    """Save the details under RLS: a teacher without edit_content touches no row (404)."""
    access = course_access(course_id)
    course = access.course
    form = _form_for(course)
    if form.validate_on_submit():
        slug = form.slug.data or None
        if course.published_at is not None and slug != course.slug:
            form.slug.errors.append(forms.SLUG_LOCKED)
        else:
            try:
                touched = queries.update_course(course_id, form.values(), slug)
            except queries.SlugTaken:
                form.slug.errors.append(forms.SLUG_TAKEN)
            except queries.SlugLocked:
                form.slug.errors.append(forms.SLUG_LOCKED)
            else:
                if not touched:
                    abort(404)
                if not is_partial():
                    return notify(redirect_to(url_for("courses.edit", course_id=course_id)), SAVED)
                access = course_access(course_id)
                fresh = _form_for(access.course, formdata=None, data=forms.course_data(access.course))
                return notify(_details_page(access, fresh, saved=True), SAVED)
    if not access.can("view_content"):
        abort(404)
    return _details_page(access, form, status=422)


# --- lifecycle ------------------------------------------------------------------------

MOVES = {
    "publish": ("draft", "published", "“{}” is published: it is in the catalog now.",
                "“{}” is already published."),
    "archive": ("published", "archived", "“{}” is archived: it has left the catalog, and enrolled students "
                                         "keep their access.", "“{}” is already archived."),
    "restore": ("archived", "published", "“{}” is published again.", "“{}” is already published."),
}
WRONG_STATUS = {
    "publish": "Only a draft can be published. An archived course is restored instead.",
    "archive": "Only a published course can be archived.",
    "restore": "Only an archived course can be restored.",
}


def publish_refusal(missing: list[str]) -> str:
    return "This course cannot be published yet: it needs " + " and ".join(missing) + "."


def _lifecycle_refused(access: Access, message: str, status: int):
    if not access.can("view_content"):
        abort(404)
    form = _form_for(access.course, formdata=None, data=forms.course_data(access.course))
    return _details_page(access, form, status=status, partial="courses/_lifecycle.html",
                         lifecycle_message=message)


def _move(course_id, action: str):
    """One lifecycle step under RLS: a teacher who may not edit the course touches no row (404)."""
    old, new, done, already = MOVES[action]
    access = course_access(course_id)
    course = access.course
    back = url_for("courses.edit", course_id=course_id)
    if course.status == new:  # a second click, or another tab got there first
        flash(already.format(course.title), "info")
        return redirect_to(back)
    if course.status != old:
        return _lifecycle_refused(access, WRONG_STATUS[action], 409)
    # The message says what is missing; the database guard (004) is the backstop.
    if new == "published" and access.can("edit_content"):
        missing = queries.missing_for_publishing(course)
        if missing:
            return _lifecycle_refused(access, publish_refusal(missing), 422)
    try:
        touched = queries.set_status(course_id, old, new)
    except IntegrityError as exc:  # the lifecycle guard (004, 006), should the check above have missed
        missing = queries.missing_for_publishing(course)
        return _lifecycle_refused(access, publish_refusal(missing) if missing else refusals.message(exc), 422)
    if not touched:
        abort(404)
    flash(done.format(course.title), "success")
    return redirect_to(back)


@bp.route("/<uuid:course_id>/publish", methods=["POST"])
@role_required("instructor")
def publish(course_id):
    return _move(course_id, "publish")


@bp.route("/<uuid:course_id>/archive", methods=["POST"])
@role_required("instructor")
def archive(course_id):
    return _move(course_id, "archive")


@bp.route("/<uuid:course_id>/restore", methods=["POST"])
@role_required("instructor")
def restore(course_id):
    return _move(course_id, "restore")


# --- delete ---------------------------------------------------------------------------

def delete_blockers(course) -> list[str]:
    """Why the course cannot be deleted (empty when it can)."""
    reasons = []
    if course.status == "published":
        reasons.append("It is published: students can find it in the catalog.")
    elif course.status == "archived":
        reasons.append("It has been published before, so it stays (archived) for the students who took it.")
    enrolled = queries.enrollment_count(course.id)
    if enrolled:
        reasons.append(f"{enrolled} student{'s have' if enrolled != 1 else ' has'} enrolled in it.")
    return reasons


def _delete_page(access: Access, status=200, refused=False):
    return render("courses/delete.html", "courses/_lifecycle_delete.html", status=status, access=access,
                  reasons=delete_blockers(access.course), refused=refused)


@bp.route("/<uuid:course_id>/delete")
@role_required("instructor")
def delete(course_id):
    """Confirm deleting (the owner's page): says why not, and offers archive, when it cannot be."""
    return _delete_page(require_owner(course_access(course_id)))


@bp.route("/<uuid:course_id>/delete", methods=["POST"])
@role_required("instructor")
def destroy(course_id):
    """Delete under RLS: only the owner's draft without enrollments goes (courses_delete)."""
    access = course_access(course_id)
    if queries.delete_course(course_id):
        flash(f"“{access.course.title}” is deleted.", "success")
        return redirect_to(url_for("courses.index"))
    if not access.is_owner:
        abort(404)
    return _delete_page(access, status=409, refused=True)


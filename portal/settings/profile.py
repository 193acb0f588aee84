"""The instructor's profile editor and the preview of their public page.

* ``GET /settings/profile``: the form, filled in from the caller's own row.
* ``POST /settings/profile``: save (a 303 back, with a confirmation), or a 422 with the
  person's values and field messages; "Add a row" (``add=<section>``) shows the form
  again with one more blank row in that section and saves nothing. htmx gets the form
  fragment; a plain form the page.
* ``GET /settings/profile/preview``: the public instructor page (the catalog's own
  template) as visitors would see it, whatever the visibility, under a banner saying
  who can see it now.

Always the caller's own profile: no id is read from the request. Instructors only
(``role_required``: others 404, anonymous visitors sign in first).
"""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from portal.catalog import queries as catalog_queries
from portal.settings import bp
from portal.settings import profile_queries as queries
from portal.settings.profile_forms import ROWS_MAX, SECTIONS, profile_form
from portal.web import found, notify, redirect_to, render, role_required

# Who sees the profile, for each instructor_settings.profile_visibility.
AUDIENCE = {
    "public": "Everyone: your page is public, and course pages link to it.",
    # The public page shows a students-only profile to the instructor's own students
    # (instructor_for_their_students, 011); course pages link only to public ones.
    "students": "Your students: those enrolled in your courses see your page; visitors and other instructors "
                "get no page, and course pages show your name without a link.",
    "private": "Only you: your profile is private. Visitors, students and other instructors get no page, and "
               "course pages show your name without a link.",
}


def _page(form, status: int = 200, profile: dict | None = None):
    profile = profile or found(queries.my_profile(current_user.id))
    return render("settings/profile.html", "settings/_profile_form.html", status=status, form=form,
                  account=profile, suggestions=queries.tag_suggestions(), rows_max=ROWS_MAX,
                  visibility=queries.profile_visibility(current_user.id))


@bp.route("/profile")
@role_required("instructor")
def profile():
    profile = found(queries.my_profile(current_user.id))
    return _page(profile_form(profile), profile=profile)


@bp.route("/profile", methods=["POST"])
@role_required("instructor")
def save_profile():
    form = profile_form()
    section = request.form.get("add")
    if section in SECTIONS:
        form.add_row(section)
        return _page(form)
    if not form.validate():
        return _page(form, status=422)
    try:
        queries.save_profile(current_user.id, form.values())
    except queries.ProfileRefused as refused:
        target = form[refused.field] if refused.field in form else None
        if target is not None:
            target.errors = [*target.errors, refused.message]
        else:
            form.form_errors.append(refused.message)
        return _page(form, status=422)
    return notify(redirect_to(url_for("settings.profile")), "Your profile is saved.")


@bp.route("/profile/preview")
@role_required("instructor")
def profile_preview():
    person = found(queries.preview_instructor(current_user.id))
    view = catalog_queries.INSTRUCTOR_COURSES.read(request.args)
    listing = catalog_queries.instructor_courses(current_user.id, view).link("settings.profile_preview")
    visibility = queries.profile_visibility(current_user.id)
    return render("settings/profile_preview.html", "catalog/_instructor_courses.html", instructor=person,
                  listing=listing, visibility=visibility, audience=AUDIENCE[visibility])

"""Announcements (issue 15): a teacher with manage_students writes to a course's students (all,
or a status filter); the worker tells them (bell and email, as each one's settings say) in
batches. The list shows each announcement with the students it reached so far."""

from __future__ import annotations

from flask import request, url_for

from portal.enrollment.queries import Refused
from portal.students import bp
from portal.students import outreach_queries as queries
from portal.students.forms import AUDIENCES, AnnouncementForm
from portal.web import notify, redirect_to, render, role_required


@bp.route("/announcements")
@role_required("instructor")
def announcements():
    """The announcements of the courses whose students the caller manages, newest first."""
    listing = queries.announcements(queries.LIST.read(request.args)).link("students.announcements")
    return render("students/announcements.html", "students/_announcements.html", listing=listing,
                  audiences=AUDIENCES)


@bp.route("/announcements/new", methods=["GET", "POST"])
@role_required("instructor")
def announce():
    form = AnnouncementForm(queries.announceable_courses())
    if request.method == "GET" and request.args.get("course") in form.known_courses:
        form.course.data = request.args["course"]
    if form.validate_on_submit():
        try:
            queries.post(form.course.data, form.title.data, form.body.data, form.audience.data)
        except Refused as refused:
            form.form_errors.append(str(refused))
        else:
            return notify(redirect_to(url_for("students.announcements")),
                          f"Sent: the students of {form.known_courses[form.course.data]} are being told now.")
    return render("students/announce.html", "students/_announce_form.html", form=form,
                  status=422 if form.is_submitted() else 200)

"""The roster: the students of the instructor's courses (owned, and co-taught with view_content
or manage_students), filtered, searched, ordered and paged by position; who is at risk and why;
the roster and one course's progress as CSV files, streamed.

Views are thin: ``roster`` reads under the request's role (row-level security and the caller's
course set decide what there is), and a course that is not one of the caller's roster is a 404.
"""

from __future__ import annotations

from datetime import date

from flask import redirect, request, url_for

from portal.formatting import when
from portal.listing import csv_response
from portal.students import bp, roster
from portal.web import found, is_partial, render, role_required

EXPORT_TIME = "%Y-%m-%d %H:%M"


def _at(moment):
    return when(moment, EXPORT_TIME)


@bp.route("/")
@role_required("instructor")
def index():
    """The roster; an htmx request (a filter, a page) gets the list only."""
    view = roster.LIST.read(request.args)
    listing = roster.roster(view).link("students.index")
    return render("students/index.html", "students/_roster.html", listing=listing)


@bp.route("/export.csv")
@role_required("instructor")
def export_roster():
    """The roster as filtered and ordered, every page, as a CSV file."""
    view = roster.LIST.read(request.args)
    return csv_response(f"students-{date.today().isoformat()}", roster.ROSTER_HEADER,
                        roster.export_roster(view, _at))


@bp.route("/courses/<uuid:course_id>/progress.csv")
@role_required("instructor")
def export_course_progress(course_id):
    """One course's students with their figures and each lesson's state, as a CSV file."""
    course = found(roster.roster_course(course_id))
    lessons = roster.lessons(course_id)
    return csv_response(f"progress-{course_id}-{date.today().isoformat()}", roster.course_header(lessons),
                        roster.export_course(course_id, lessons, _at))


@bp.route("/at-risk")
@role_required("instructor")
def at_risk_banner():
    """How many of the instructor's students are at risk, with a link to them: the dashboard loads it
    after the page (htmx), since the count reads the students active within the inactivity window.
    Opened as a page (a link followed, no htmx), it is the roster's at-risk students themselves."""
    if not is_partial():
        response = redirect(url_for("students.index", risk="at_risk"), code=303)
    else:
        response = render("students/_at_risk_banner.html", at_risk=roster.at_risk_count())
    response.vary.add("HX-Request")
    return response

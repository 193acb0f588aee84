"""The organization admin's home (read-only): figures and months, the organization's courses,
workshops and instructors (paged, filtered, exported as CSV), and a course's or an instructor's
page. Only rows whose organization is theirs exist here: another organization's course, or an
instructor's standalone course, is a 404 like any row one may not read."""

from __future__ import annotations

from datetime import date

from flask import request

from portal.formatting import monthly_sales_chart
from portal.listing import csv_response
from portal.organization import bp, queries
from portal.web import found, render, role_required

MONTHS_NOTE = "From the nightly monthly statistics of your organization's courses and workshops."


def _chart(months: list[dict]) -> dict:
    total = sum(m["gross"] for m in months)
    return dict(summary=f"Gross sales over the last 12 months: {total:,.2f}",
                data=monthly_sales_chart(months))


@bp.route("/")
@role_required("org_admin")
def index():
    months = queries.revenue_by_month()
    return render("organization/index.html", name=queries.organization_name(), figures=queries.figures(),
                  months=months, revenue_chart=_chart(months), months_note=MONTHS_NOTE)


@bp.route("/courses")
@role_required("org_admin")
def courses():
    view = queries.COURSES.read(request.args)
    listing = queries.courses(view).link("organization.courses")
    return render("organization/courses.html", "organization/_courses.html", listing=listing,
                  statuses=queries.COURSE_STATUSES)


@bp.route("/courses.csv")
@role_required("org_admin")
def export_courses():
    view = queries.COURSES.read(request.args)
    return csv_response(f"organization-courses-{date.today().isoformat()}", queries.COURSES_HEADER,
                        queries.course_rows(view))


@bp.route("/courses/<uuid:course_id>")
@role_required("org_admin")
def course(course_id):
    row = found(queries.course(course_id))
    return render("organization/course.html", course=row, statuses=queries.COURSE_STATUSES,
                  enrollments=queries.enrollments_by_status(course_id))


@bp.route("/workshops")
@role_required("org_admin")
def workshops():
    view = queries.WORKSHOPS.read(request.args)
    listing = queries.workshops(view).link("organization.workshops")
    return render("organization/workshops.html", "organization/_workshops.html", listing=listing)


@bp.route("/instructors")
@role_required("org_admin")
def instructors():
    view = queries.INSTRUCTORS.read(request.args)
    listing = queries.instructors(view).link("organization.instructors")
    return render("organization/instructors.html", "organization/_instructors.html", listing=listing)


@bp.route("/instructors.csv")
@role_required("org_admin")
def export_instructors():
    view = queries.INSTRUCTORS.read(request.args)
    return csv_response(f"organization-instructors-{date.today().isoformat()}", queries.INSTRUCTORS_HEADER,
                        queries.instructor_rows(view))


@bp.route("/instructors/<uuid:user_id>")
@role_required("org_admin")
def instructor(user_id):
    person = found(queries.instructor(user_id))
    courses = queries.their_courses(queries.THEIR_COURSES.read(request.args), user_id)
    workshops = queries.their_workshops(queries.THEIR_WORKSHOPS.read(request.args), user_id)
    # each list's links keep the other list's page
    courses.link("organization.instructor", user_id=user_id,
                 workshops_page=workshops.page if workshops.page > 1 else None)
    workshops.link("organization.instructor", user_id=user_id,
                   courses_page=courses.page if courses.page > 1 else None)
    return render("organization/instructor.html", person=person, statuses=queries.COURSE_STATUSES,
                  courses=courses, workshops=workshops)

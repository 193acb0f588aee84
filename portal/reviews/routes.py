"""The reviews inbox: the reviews of the instructor's courses (owned, and co-taught where
row-level security lets them read reviews), unanswered first; answering in place.

Views are thin: ``queries`` reads and writes under the request's role. A review the caller may
not read is a 404; one they may read but not answer (a co-teacher without respond_reviews) is
a 422 that says so, and the database would refuse the write anyway (course_reviews_update
touches no row, the guard trigger raises).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request, url_for
from peewee import DatabaseError

from portal import refusals
from portal.db import database
from portal.formatting import viewer_zone
from portal.reviews import bp, forms, queries
from portal.web import found, is_partial, notify, redirect_to, render, role_required, safe_next

NOT_YOURS = ("You can read this course's reviews but not answer them: the course's owner can give you "
             "the “respond to reviews” permission on the team page.")
ANSWERED = "Your response is published. The student is told that you answered."
UPDATED = "Your response is updated."
NOT_SENT = "Your response was not sent: see the message under it."


@bp.route("/")
@role_required("instructor")
def index():
    """The inbox, its filters, its figures; an htmx request (a filter, a page) gets the inbox only."""
    view = queries.LIST.read(request.args)
    listing = queries.inbox(view).link("reviews.index")
    course = queries.course_id(view)
    distribution, trend = queries.distribution(course), queries.trend(course, viewer_zone().key)
    return render("reviews/index.html", "reviews/_inbox.html", listing=listing,
                  answerable=queries.answerable(), back=request.full_path.rstrip("?"),
                  forms={row["id"]: forms.response_form(row["id"], formdata=None,
                                                         data={"response": row["instructor_response"]})
                         for row in listing.rows},
                  distribution=distribution, trend=trend, charts=_charts(distribution, trend),
                  course_title=listing.view.choices["course"].get(str(course)) if course else None)


def _charts(distribution: list[dict], trend: list[dict]) -> dict:
    """The two charts' figures (drawn by static/js/insight.js) and their one-line summaries."""
    counts = ", ".join(f"{row['rating']} star{'' if row['rating'] == 1 else 's'}: {row['count']:,}"
                       for row in distribution)
    months = [m for m in trend if m["average"] is not None]
    return {
        "ratings": dict(summary=f"Reviews by rating: {counts}", data={
            "labels": [f"{row['rating']} star{'' if row['rating'] == 1 else 's'}" for row in reversed(distribution)],
            "values": [row["count"] for row in reversed(distribution)]}),
        "rating_trend": dict(
            summary=(f"Reviews in {len(months)} of the last 12 months; the latest average "
                     f"{months[-1]['average']} in {months[-1]['month'].strftime('%B %Y')}") if months
            else "No review in the last 12 months",
            data={"labels": [m["month"].strftime("%b %Y") for m in trend],
                  "values": [float(m["average"]) if m["average"] is not None else None for m in trend]}),
    }


def _back() -> str:
    """Where a plain form goes back to: the inbox as it was (filters and position), else its top."""
    home = url_for("reviews.index")
    target = safe_next(request.form.get("back"), home)
    return target if urlsplit(target).path == home else home


@bp.route("/<uuid:review_id>/response", methods=["POST"])
@role_required("instructor")
def respond(review_id):
    """Answer a review, or edit the answer: the review's card again (htmx), or back to the inbox."""
    row = found(queries.review(review_id))
    form = forms.response_form(review_id)
    back = _back()
    allowed = str(row["course_id"]) in queries.answerable()
    if not allowed:
        form.form_errors.append(NOT_YOURS)
    elif form.validate_on_submit():
        try:
            with database.atomic():
                touched = queries.respond(review_id, form.response.data)
        except DatabaseError as exc:  # a refusal the form could not foresee
            form.response.errors = [*form.response.errors, refusals.message(exc)]
        else:
            if not touched:  # course_reviews_update filtered the row out
                form.form_errors.append(NOT_YOURS)
            else:
                message = ANSWERED if row["instructor_response"] is None else UPDATED
                if not is_partial():
                    return notify(redirect_to(f"{back}#review-{review_id}"), message)
                fresh = found(queries.review(review_id))
                return notify(_card(fresh, forms.response_form(review_id, formdata=None, data={
                    "response": fresh["instructor_response"]}), back, saved=True), message)
    response = _card(row, form, back, status=422, allowed=allowed)
    if is_partial():  # a plain form's page shows the message on the card itself
        notify(response, form.form_errors[0] if form.form_errors else NOT_SENT, "error")
    return response


def _card(row: dict, form, back: str, *, status: int = 200, saved: bool = False, allowed: bool = True):
    """One review's card (htmx), or a page with only that card (a plain form's answer)."""
    return render("reviews/respond.html", "reviews/_review.html", status=status, review=row, form=form,
                  back=back, saved=saved, answerable={str(row["course_id"])} if allowed else set())

"""Workshops, the student's side: the catalog, a workshop's page, registering and cancelling, my
workshops, the feedback form, the ``.ics`` download and the instructor's subscription feed.

What a person may see is row-level security's (a draft, or another student's registration, is a
404); the meeting link comes from workshop_meeting_url(), which answers confirmed registrants and
staff only; registering is register_for_workshop() (capacity, waitlist, price, staff refused).
"""

from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user
from peewee import DatabaseError

from portal import payments, refusals
from portal.courses.markdown import render_markdown
from portal.web import found, redirect_to, render, role_required
from portal.workshops import bp, calendar, forms, queries

SIGNED_IN = ("student", "instructor", "org_admin", "admin")


def _signed_in() -> bool:
    return current_user.is_authenticated


def _page_context(w):
    me = queries.my_registration(w.id, current_user.id) if _signed_in() else None
    staff = _signed_in() and queries.staff_workshop(w.id) is not None
    return {"w": w, "me": me, "staff": staff, "teachers": queries.public_facilitators(w.id),
            "past": queries.past_runs(w.instructor_id, w.title), "description": render_markdown(w.description or ""),
            "seats_left": max(0, w.capacity - w.enrolled_count)}


def _visible(slug: str):
    w = found(queries.public_workshop(slug, _signed_in()))
    if w.status == "draft" and not (_signed_in() and queries.staff_workshop(w.id)):
        abort(404)
    return w


@bp.route("/catalog/")
def catalog():
    listing = queries.catalog(queries.CATALOG.read(request.args)).link("workshops.catalog")
    return render("workshops/catalog.html", listing=listing)


@bp.route("/w/<workshop_slug>")
def page(workshop_slug):
    w = _visible(workshop_slug)
    return render("workshops/page.html", **_page_context(w), feedback_form=None)


@bp.route("/w/<workshop_slug>/register", methods=["POST"])
@role_required(*SIGNED_IN)
def register(workshop_slug):
    w = _visible(workshop_slug)
    back = url_for("workshops.page", workshop_slug=workshop_slug)
    try:
        queries.register(w.id)
    except DatabaseError as exc:
        flash(refusals.message(exc), "error")
        return redirect_to(back)
    me = queries.my_registration(w.id, current_user.id)
    if me.status == "waitlisted":
        flash(f"The workshop is full: you are number {me.waitlist_place} on the waitlist. "
              "We will tell you when a seat is yours.", "info")
    elif me.payment_status == "pending":
        return _to_checkout(w, me)
    else:
        flash(f"You are registered for “{w.title}”.", "success")
    return redirect_to(back)


def _to_checkout(w, me):
    """Start (or resume) paying for the held seat, through the courses' checkout and webhook path."""
    provider = payments.provider_for(current_app.config)
    try:
        checkout_id = queries.start_checkout(me.id, provider.name)
    except DatabaseError as exc:
        flash(refusals.message(exc), "error")
        return redirect_to(url_for("workshops.page", workshop_slug=w.slug))
    return redirect_to(provider.checkout_url(checkout_id))


@bp.route("/w/<workshop_slug>/pay", methods=["POST"])
@role_required(*SIGNED_IN)
def pay(workshop_slug):
    """Pay for the held seat (a fresh registration's, or a promotion's from the waitlist)."""
    w = _visible(workshop_slug)
    return _to_checkout(w, found(queries.my_registration(w.id, current_user.id)))


@bp.route("/w/<workshop_slug>/cancel", methods=["POST"])
@role_required(*SIGNED_IN)
def cancel_registration(workshop_slug):
    w = _visible(workshop_slug)
    me = found(queries.my_registration(w.id, current_user.id))
    try:
        touched = queries.cancel_registration(me.id, current_user.id)
    except DatabaseError as exc:
        flash(refusals.message(exc), "error")
        return redirect_to(url_for("workshops.page", workshop_slug=workshop_slug))
    if not touched:
        flash("This registration is already cancelled or the workshop has been held.", "info")
    else:
        after = queries.my_registration(w.id, current_user.id)
        refund = " Your payment is refunded." if after.payment_status == "refunded" else ""
        flash(f"Your registration for “{w.title}” is cancelled.{refund}", "success")
    return redirect_to(url_for("workshops.page", workshop_slug=workshop_slug))


@bp.route("/mine")
@role_required(*SIGNED_IN)
def mine():
    listing = queries.my_workshops(current_user.id, queries.MINE.read(request.args)).link("workshops.mine")
    return render("workshops/mine.html", listing=listing)


def _feedback_gate(workshop_slug):
    w = _visible(workshop_slug)
    me = found(queries.my_registration(w.id, current_user.id))
    if me.status != "attended" or not w.ended:  # feedback opens when the workshop has ended
        abort(404)
    return w, me


@bp.route("/w/<workshop_slug>/feedback")
@role_required(*SIGNED_IN)
def feedback_form(workshop_slug):
    w, me = _feedback_gate(workshop_slug)
    return render("workshops/feedback_form.html", w=w, me=me, form=forms.FeedbackForm(formdata=None))


@bp.route("/w/<workshop_slug>/feedback", methods=["POST"])
@role_required(*SIGNED_IN)
def give_feedback(workshop_slug):
    w, me = _feedback_gate(workshop_slug)
    form = forms.FeedbackForm()
    if form.validate_on_submit():
        try:
            queries.give_feedback(w.id, current_user.id, form.values())
        except DatabaseError as exc:
            form.overall_satisfaction.errors = [refusals.message(exc)]
        else:
            flash("Thank you: your feedback is saved.", "success")
            return redirect_to(url_for("workshops.page", workshop_slug=workshop_slug))
    return render("workshops/feedback_form.html", status=422, w=w, me=me, form=form)


@bp.route("/w/<workshop_slug>.ics")
def ics(workshop_slug):
    """The workshop as an iCalendar file; the meeting link inside only for who may have it."""
    w = _visible(workshop_slug)
    event = calendar.event(w, meeting_url=w.meeting_url)
    cal = calendar.calendar([event], cancel=w.status == "cancelled")
    return calendar.ics_response(cal, w.slug)


@bp.route("/calendar/<feed_token>.ics")
def feed(feed_token):
    """An instructor's subscription feed at its secret address (404 when unknown or sync is off)."""
    rows = queries.feed(feed_token)
    if not rows:  # an unknown or replaced address, or calendar sync turned off
        abort(404)
    events = [calendar.event(r) for r in rows if r["id"] is not None]
    cal = calendar.calendar(events, name=f"Workshops of {rows[0]['feed_owner']}")
    return calendar.ics_response(cal, "workshops", attachment=False)


@bp.app_template_filter("nps_text")
def nps_text(value):
    return queries.nps_text(value)


@bp.app_template_filter("in_zone")
def in_zone(value, zone_name=None, pattern="%a %d %b %Y, %H:%M %Z"):
    """A time in a named zone (the viewer's, else the given one), with the zone's name."""
    if value is None:
        return ""
    from portal.formatting import viewer_zone
    zone = forms.zone_of(zone_name) if zone_name else viewer_zone()
    return value.astimezone(zone).strftime(pattern)


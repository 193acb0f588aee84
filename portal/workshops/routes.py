"""Workshops, the instructor's side: the list (tabs, search, sort, pages, CSV), the editor, the
lifecycle (publish, complete, cancel), facilitators, registrations with fast attendance, the
feedback summary with NPS and the comparison across workshops, the calendar feed's address.

Views are thin: ``queries`` reads and writes under the request's role; what row-level security
hides is a 404; what the database refuses comes back as its message (portal/refusals.py).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from flask import abort, flash, request, url_for
from flask_login import current_user
from peewee import DatabaseError

from portal import refusals
from portal.db import database
from portal.listing import csv_response
from portal.web import found, is_partial, notify, redirect_to, render, role_required
from portal.workshops import bp, forms, queries

SAVED = "Your changes are saved."


# --- the list -------------------------------------------------------------------------------------

@bp.route("/")
@role_required("instructor")
def index():
    listing = queries.workshop_list(queries.LIST.read(request.args)).link("workshops.index")
    results_only = is_partial() and request.headers.get("HX-Target") == "workshop-results"
    partial = "workshops/_list_results.html" if results_only else "workshops/_list.html"
    response = render("workshops/index.html", partial, listing=listing, results_only=results_only,
                      feed=_feed_state())
    response.vary.add("HX-Target")
    return response


@bp.route("/export.csv")
@role_required("instructor")
def export():
    view = queries.LIST.read(request.args)
    return csv_response(f"workshops-{view.tab}-{date.today().isoformat()}", queries.EXPORT_HEADER,
                        queries.export_rows(view))


# --- the editor -------------------------------------------------------------------------------------

def _form_for(workshop=None, **kwargs) -> forms.WorkshopForm:
    owner = workshop is None or workshop.is_owner
    own = current_user.organization_id if owner else None
    current = workshop.organization_id if workshop is not None else None
    names = queries.organizations([own, current])
    form = forms.WorkshopForm(**kwargs)
    return form.offer({own: names[own]} if own in names else {}, current=current)


def _editor(form, workshop=None, status=200):
    return render("workshops/edit.html", status=status, form=form, workshop=workshop,
                  facilitators=queries.facilitators(workshop.id) if workshop else [],
                  facilitator_form=forms.FacilitatorForm(formdata=None) if workshop else None,
                  action=url_for("workshops.update", workshop_id=workshop.id) if workshop
                  else url_for("workshops.create"))


def _refused_into(form, exc) -> None:
    """A refusal of the database on the field it is about (else the form's top)."""
    code = refusals.code(exc)
    target = {"in_person_workshops_have_a_location": form.location,
              "online_workshops_have_a_meeting_url": form.meeting_url,
              "workshop_ends_after_it_starts": form.end_time,
              "workshop_move_past": form.start_time,
              "workshop_times_in_range": form.start_time,
              "workshop_capacity_below_seats": form.capacity,
              "workshop_refund_cutoff_range": form.refund_cutoff_hours}.get(code, form.title)
    target.errors = [*target.errors, refusals.message(exc)]


@bp.route("/new")
@role_required("instructor")
def new():
    zone = getattr(current_user, "timezone", None) or "UTC"
    return _editor(_form_for(data={"timezone": zone, "type": "online", "capacity": 20, "refund_cutoff_hours": 24,
                                   "currency": "USD", "price_amount": 0}))


@bp.route("/new", methods=["POST"])
@role_required("instructor")
def create():
    form = _form_for()
    if form.validate_on_submit():
        try:
            workshop_id = queries.create_workshop(current_user.id, form.values(), form.slug.data)
        except queries.SlugTaken:
            form.slug.errors.append("Another workshop has this address. Choose another one.")
        except DatabaseError as exc:
            _refused_into(form, exc)
        else:
            flash(f"“{form.title.data}” is saved as a draft. Publish it when it is ready.", "success")
            return redirect_to(url_for("workshops.edit", workshop_id=workshop_id))
    return _editor(form, status=422)


@bp.route("/<uuid:workshop_id>")
@role_required("instructor")
def edit(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    return _editor(_form_for(workshop, data=forms.workshop_data(workshop)), workshop)


@bp.route("/<uuid:workshop_id>", methods=["POST"])
@role_required("instructor")
def update(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    form = _form_for(workshop)
    if form.validate_on_submit():
        try:
            touched = queries.update_workshop(workshop_id, form.values(), form.slug.data or workshop.slug)
        except queries.SlugTaken:
            form.slug.errors.append("Another workshop has this address. Choose another one.")
        except DatabaseError as exc:
            _refused_into(form, exc)
        else:
            if not touched:
                abort(404)
            return notify(redirect_to(url_for("workshops.edit", workshop_id=workshop_id)), SAVED)
    return _editor(form, workshop, status=422)


# --- lifecycle -------------------------------------------------------------------------------------------

def _lifecycle(workshop_id, new: str, done: str):
    workshop = found(queries.staff_workshop(workshop_id))
    back = url_for("workshops.edit", workshop_id=workshop_id)
    if workshop.status == new:
        flash(f"“{workshop.title}” is already {new}.", "info")
        return redirect_to(back)
    try:
        touched = queries.set_status(workshop_id, new)
    except DatabaseError as exc:
        flash(refusals.message(exc), "error")
        return redirect_to(back)
    if not touched:
        abort(404)
    flash(done.format(workshop.title), "success")
    return redirect_to(back)


@bp.route("/<uuid:workshop_id>/publish", methods=["POST"])
@role_required("instructor")
def publish(workshop_id):
    return _lifecycle(workshop_id, "published", "“{}” is published: students can register now.")


@bp.route("/<uuid:workshop_id>/complete", methods=["POST"])
@role_required("instructor")
def complete(workshop_id):
    return _lifecycle(workshop_id, "completed", "“{}” is marked completed.")


@bp.route("/<uuid:workshop_id>/cancel")
@role_required("instructor")
def confirm_cancel(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    if not workshop.is_owner:
        abort(404)
    return render("workshops/cancel.html", workshop=workshop, counts=queries.registration_counts(workshop_id))


@bp.route("/<uuid:workshop_id>/cancel", methods=["POST"])
@role_required("instructor")
def cancel(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    if not workshop.is_owner:
        abort(404)
    try:
        told = queries.cancel_workshop(workshop_id)
    except DatabaseError as exc:
        flash(refusals.message(exc), "error")
    else:
        people = f"{told} registrant{'s' if told != 1 else ''}"
        flash(f"“{workshop.title}” is cancelled; {people} told. Paid seats are refunded.", "success")
    return redirect_to(url_for("workshops.edit", workshop_id=workshop_id))


@bp.route("/<uuid:workshop_id>/delete", methods=["POST"])
@role_required("instructor")
def delete(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    if queries.delete_draft(workshop_id):
        flash(f"“{workshop.title}” is deleted.", "success")
        return redirect_to(url_for("workshops.index", tab="draft"))
    flash("Only a draft without registrations is deleted; cancel this workshop instead.", "error")
    return redirect_to(url_for("workshops.edit", workshop_id=workshop_id))


# --- facilitators -----------------------------------------------------------------------------------------

@bp.route("/<uuid:workshop_id>/facilitators", methods=["POST"])
@role_required("instructor")
def add_facilitator(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    if not workshop.is_owner:
        abort(404)
    form = forms.FacilitatorForm()
    if form.validate_on_submit():
        try:
            queries.add_facilitator(workshop_id, form.email.data, form.role.data)
        except DatabaseError as exc:
            form.email.errors = [*form.email.errors, refusals.message(exc)]
        else:
            flash(f"{form.email.data} now facilitates “{workshop.title}”.", "success")
            return redirect_to(url_for("workshops.edit", workshop_id=workshop_id) + "#facilitators")
    return _with_facilitator_form(workshop, form)


def _with_facilitator_form(workshop, form):
    return render("workshops/edit.html", status=422, form=_form_for(workshop, formdata=None,
                                                                    data=forms.workshop_data(workshop)),
                  workshop=workshop, facilitators=queries.facilitators(workshop.id), facilitator_form=form,
                  action=url_for("workshops.update", workshop_id=workshop.id))


@bp.route("/<uuid:workshop_id>/facilitators/<uuid:facilitator_id>/remove", methods=["POST"])
@role_required("instructor")
def remove_facilitator(workshop_id, facilitator_id):
    found(queries.staff_workshop(workshop_id))
    if not queries.remove_facilitator(workshop_id, facilitator_id):
        abort(404)
    flash("The facilitator is removed.", "success")
    return redirect_to(url_for("workshops.edit", workshop_id=workshop_id) + "#facilitators")


# --- registrations and attendance --------------------------------------------------------------------------

@bp.route("/<uuid:workshop_id>/registrations")
@role_required("instructor")
def registrations(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    rows, next_after = queries.registrations(workshop_id, request.args.get("after"))
    return render("workshops/registrations.html", workshop=workshop, rows=rows, first_page=not request.args.get("after"),
                  next_url=url_for("workshops.registrations", workshop_id=workshop_id, after=next_after)
                  if next_after else None, counts=queries.registration_counts(workshop_id))


@bp.route("/<uuid:workshop_id>/registrations/<uuid:registration_id>/attendance", methods=["POST"])
@role_required("instructor")
def mark(workshop_id, registration_id):
    """One click per row: attended or no-show (htmx swaps the row; a plain form comes back here)."""
    workshop = found(queries.staff_workshop(workshop_id))
    status = request.form.get("status")
    if status not in ("attended", "no_show"):
        abort(400)
    try:
        touched = queries.mark(workshop_id, registration_id, status)
    except DatabaseError as exc:
        return _attendance_refused(workshop, refusals.message(exc))
    if not touched:
        return _attendance_refused(workshop, "This seat cannot be marked attended: it is not a settled seat.")
    if is_partial():
        row = queries.registration(workshop_id, registration_id)
        return render("workshops/_registration_row.html", workshop=workshop, r=found(row),
                      oob_counts=queries.registration_counts(workshop_id))
    return redirect_to(url_for("workshops.registrations", workshop_id=workshop_id))


def _attendance_refused(workshop, message):
    if is_partial():
        return notify(render("workshops/_nothing.html", status=200), message, "error")
    flash(message, "error")
    return redirect_to(url_for("workshops.registrations", workshop_id=workshop.id))


@bp.route("/<uuid:workshop_id>/registrations/all-present", methods=["POST"])
@role_required("instructor")
def all_present(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    try:
        marked = queries.mark_all_present(workshop_id)
    except DatabaseError as exc:
        flash(refusals.message(exc), "error")
    else:
        flash(f"{marked} marked present.", "success")
    return redirect_to(url_for("workshops.registrations", workshop_id=workshop.id))


# --- feedback -------------------------------------------------------------------------------------------------

@bp.route("/<uuid:workshop_id>/feedback")
@role_required("instructor")
def feedback(workshop_id):
    workshop = found(queries.staff_workshop(workshop_id))
    summary = queries.feedback_summary(workshop_id)
    comments = queries.comments(workshop_id, queries.COMMENTS.read(request.args)).link(
        "workshops.feedback", workshop_id=workshop_id)
    if is_partial() and request.headers.get("HX-Target") == "comments":
        return render("workshops/_comments.html", comments=comments)
    return render("workshops/feedback.html", workshop=workshop, summary=summary, comments=comments)


@bp.route("/feedback")
@role_required("instructor")
def compare():
    listing = queries.comparison(queries.COMPARISON.read(request.args)).link("workshops.compare")
    return render("workshops/compare.html", listing=listing)


# --- the calendar feed's address ----------------------------------------------------------------------------

def _feed_state() -> dict:
    row = queries._one("SELECT calendar_sync_enabled AS enabled, calendar_feed_hash IS NOT NULL AS has_feed "
                       "FROM instructor_settings WHERE user_id = %s", (current_user.id,))
    return row or {"enabled": False, "has_feed": False}


@bp.route("/calendar-feed", methods=["POST"])
@role_required("instructor")
def regenerate_feed():
    """A new secret feed address (the old one stops working); shown once, here."""
    token = secrets.token_urlsafe(32)
    with database.atomic():
        database.execute_sql("UPDATE instructor_settings SET calendar_feed_hash = %s WHERE user_id = %s",
                             (hashlib.sha256(token.encode()).hexdigest(), current_user.id))
    url = url_for("workshops.feed", feed_token=token, _external=True)
    return render("workshops/feed.html", url=url, feed=_feed_state())

"""Settings. The notification settings: every signed-in person chooses, per kind of
notice, email and in-portal (instructors' choices are kept in instructor_settings,
everyone else's in notification_settings, which the database reads when it writes a
notice). The instructor's settings page (``/settings/``): teaching, payouts, calendar,
time zone, one form per section, each saved on its own (htmx posts a section as it
changes and gets the section back with a confirmation; without JavaScript each section
is a form with a Save button, post/redirect/get).

Payment details are sealed (``portal.secretbox``, AES-256-GCM under the first key of
PAYMENT_DETAILS_KEYS) in the view, before any query sees them, and never shown back
beyond their last four characters: the field is always rendered blank, even on a 422.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_login import current_user

from portal import secretbox
from portal.config import payment_details_keys
from portal.models import USER_ROLES
from portal.notifications import queries
from portal.settings import bp
from portal.settings import queries as settings_queries
from portal.settings.forms import CalendarForm, PayoutForm, TeachingForm, TimeForm, preferences_form
from portal.web import found, is_partial, notify, redirect_to, render, role_required

SECTIONS = ("teaching", "payouts", "calendar", "time")
SAVED = {"teaching": "Your teaching settings are saved.", "payouts": "Your payout settings are saved.",
         "calendar": "Your calendar settings are saved.", "time": "Your time zone and at-risk thresholds are saved."}
REFUSED = "This value was not accepted."


def _stored_forms(row: dict) -> dict:
    """Each section's form, filled in from the stored row (the payment details never: see above)."""
    return {
        "teaching": TeachingForm(formdata=None, data={name: row[name] for name in (
            "auto_approve_enrollments", "allow_student_questions", "allow_course_reviews", "profile_visibility")}),
        "payouts": PayoutForm(formdata=None, data={"payment_method": row["payment_method"] or "",
                                                   "payout_schedule": row["payout_schedule"]}),
        "calendar": CalendarForm(formdata=None, data={"calendar_sync_enabled": row["calendar_sync_enabled"],
                                                      "calendar_provider": row["calendar_provider"] or ""}),
        "time": TimeForm(formdata=None, zone=row["timezone"], data={name: row[name] for name in (
            "timezone", "at_risk_progress_percent", "at_risk_after_days", "inactive_after_days")}),
    }


def saved_details(row: dict) -> str | None:
    """What the page says of the stored payment details: "•••• 1234", "" when they cannot be
    opened (their key is no longer in the ring), None when there are none."""
    if not row["payment_details"]:
        return None
    try:
        plain = secretbox.open_envelope(row["payment_details"], current_user.id,
                                        payment_details_keys(current_app.config))
    except secretbox.SecretBoxError:
        return ""
    return secretbox.last_four(plain)


NOT_SAVED = "Not saved: check the highlighted fields."


def _settings_page(section: str | None = None, form=None, status: int = 200):
    """The page (or, for htmx, ``section``'s fragment), with ``form`` in place of that section's stored one;
    a refused htmx save also says so in the message region (a plain form's 422 page shows its errors)."""
    row = found(settings_queries.settings_of(current_user.id))
    forms = _stored_forms(row)
    if form is not None:
        forms[section] = form
    partial = f"settings/_{section}.html" if section else None
    response = render("settings/index.html", partial, status=status, forms=forms, saved_details=saved_details(row))
    if status == 422 and is_partial():
        notify(response, NOT_SAVED, "error")
    return response


def _saved(section: str):
    """After a section is saved: its fresh fragment and the confirmation (htmx), else a 303 to the page."""
    if is_partial():
        return notify(_settings_page(section), SAVED[section])
    return notify(redirect_to(url_for("settings.index", _anchor=f"settings-{section}")), SAVED[section])


def _save(section: str, form, write):
    """Run ``write()``; a value the database refuses is a 422 on the form (a field error where one
    is known), never a 500. Returns the response."""
    try:
        found(write() or None)  # no row touched: the caller has no settings row
    except settings_queries.Refused as exc:
        if exc.constraint == settings_queries.CALENDAR_NEEDS_A_PROVIDER:
            form.calendar_provider.errors = [*form.calendar_provider.errors,
                                             "Choose the calendar to sync with, or turn syncing off."]
        else:
            form.form_errors.append(REFUSED)
        return _settings_page(section, form, status=422)
    return _saved(section)


@bp.route("/")
@role_required("instructor")
def index():
    """The instructor's settings, one section per form."""
    return _settings_page()


@bp.route("/teaching", methods=["POST"])
@role_required("instructor")
def save_teaching():
    form = TeachingForm()
    if not form.validate():
        return _settings_page("teaching", form, status=422)
    return _save("teaching", form, lambda: settings_queries.save_teaching(
        current_user.id, auto_approve_enrollments=form.auto_approve_enrollments.data,
        allow_student_questions=form.allow_student_questions.data,
        allow_course_reviews=form.allow_course_reviews.data, profile_visibility=form.profile_visibility.data))


@bp.route("/payouts", methods=["POST"])
@role_required("instructor")
def save_payouts():
    row = found(settings_queries.settings_of(current_user.id))
    form = PayoutForm()
    details = form.check_details(row["payment_method"], bool(row["payment_details"])) if form.validate() else None
    if any(field.errors for field in form):
        return _settings_page("payouts", form, status=422)
    # Sealed here, bound to this instructor's row: the plain text goes no further.
    sealed = (secretbox.seal(details, current_user.id, payment_details_keys(current_app.config))
              if details else None)
    return _save("payouts", form, lambda: settings_queries.save_payouts(
        current_user.id, payment_method=form.payment_method.data or None, sealed_details=sealed,
        payout_schedule=form.payout_schedule.data))


@bp.route("/calendar", methods=["POST"])
@role_required("instructor")
def save_calendar():
    form = CalendarForm()
    if not form.validate():
        return _settings_page("calendar", form, status=422)
    return _save("calendar", form, lambda: settings_queries.save_calendar(
        current_user.id, calendar_sync_enabled=form.calendar_sync_enabled.data,
        calendar_provider=form.calendar_provider.data or None))


@bp.route("/time", methods=["POST"])
@role_required("instructor")
def save_time():
    form = TimeForm(zone=found(settings_queries.settings_of(current_user.id))["timezone"])
    if not form.validate():
        return _settings_page("time", form, status=422)
    return _save("time", form, lambda: settings_queries.save_time(
        current_user.id, timezone=form.timezone.data, at_risk_progress_percent=form.at_risk_progress_percent.data,
        at_risk_after_days=form.at_risk_after_days.data, inactive_after_days=form.inactive_after_days.data))


def _page(form, events, status: int = 200):
    return render("settings/notifications.html", form=form, events=events, status=status)


@bp.route("/notifications")
@role_required(*USER_ROLES)
def notifications():
    events = queries.events_for(current_user.role)
    prefs = queries.preferences(current_user.id, current_user.role)
    data = {"timezone": prefs["timezone"]}
    for event in events:
        for channel in ("email", "push"):
            data[f"{channel}_{event['event_type']}"] = queries.choose(prefs, event, channel)
    return _page(preferences_form(events, prefs["timezone"], **data), events)


@bp.route("/notifications", methods=["POST"])
@role_required(*USER_ROLES)
def save_notifications():
    events = queries.events_for(current_user.role)
    form = preferences_form(events, queries.preferences(current_user.id, current_user.role)["timezone"])
    if not form.validate():
        return _page(form, events, status=422)
    choices = {channel: {e["event_type"]: bool(form[f"{channel}_{e['event_type']}"].data) for e in events}
               for channel in ("email", "push")}
    queries.save_preferences(current_user.id, current_user.role, choices["email"], choices["push"],
                             form.timezone.data)
    return notify(redirect_to(url_for("settings.notifications")), "Your notification settings are saved.")

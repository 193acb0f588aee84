"""Settings. The profile, payouts and account pages arrive with their own issue; the
notification settings are here: every signed-in person chooses, per kind of notice,
email and in-portal (instructors' choices are kept in instructor_settings, everyone
else's in notification_settings, which the database reads when it writes a notice)."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user

from portal.notifications import queries
from portal.settings import bp
from portal.settings.forms import preferences_form
from portal.models import USER_ROLES
from portal.web import notify, placeholder, redirect_to, render, role_required



@bp.route("/")
@role_required("instructor")
def index():
    return placeholder("Settings", "Your public profile, notifications, payouts and time zone.")


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

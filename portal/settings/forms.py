"""The notification settings form: for each kind of notice the person may get, email
and in-portal on or off; and the time zone their emails give times in."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from wtforms import BooleanField, SelectField

from portal.forms import BaseForm


@lru_cache(maxsize=1)
def time_zones() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())
            if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))] + [("UTC", "UTC")]


def preferences_form(events: list[dict], formdata=None, **data):
    """A form with ``email_<event>`` and ``push_<event>`` for each event, and ``timezone``."""

    class PreferencesForm(BaseForm):
        timezone = SelectField("Time zone for the times in your emails", choices=time_zones(),
                               description="Workshop reminders give their start in this zone.")

    for event in events:
        name = event["event_type"]
        setattr(PreferencesForm, f"email_{name}", BooleanField("Email"))
        setattr(PreferencesForm, f"push_{name}", BooleanField("In the portal"))
    return PreferencesForm(**({} if formdata is None else {"formdata": formdata}), data=data)

"""The notification settings form: for each kind of notice the person may get, email
and in-portal on or off; and the time zone their emails give times in."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from portal.forms import BaseForm


@lru_cache(maxsize=1)
def time_zones() -> tuple[SelectChoice, ...]:
    """The zones offered: every region/city name of the zone database, and UTC."""
    return tuple([SelectChoice(name, name.replace("_", " ")) for name in sorted(known_zones())
                  if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))]
                 + [SelectChoice("UTC", "UTC")])


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_choices(current: str | None) -> list[SelectChoice]:
    """The zones offered, and first the person's own when the list leaves it out (a legacy name such
    as "EST5EDT", stored by another page), so that saving the page never changes it unasked."""
    offered = list(time_zones())
    if current and current in known_zones() and all(choice.value != current for choice in offered):
        offered.insert(0, SelectChoice(current, current.replace("_", " ")))
    return offered


def preferences_form(events: list[dict], zone: str | None = None, **data):
    """A form with ``email_<event>`` and ``push_<event>`` for each event, and ``timezone`` (offering
    ``zone``, the person's stored one, too)."""

    class PreferencesForm(BaseForm):
        timezone = SelectField("Time zone for the times in your emails", choices=zone_choices(zone),
                               description="Workshop reminders give their start in this zone.")

    for event in events:
        name = event["event_type"]
        setattr(PreferencesForm, f"email_{name}", BooleanField("Email"))
        setattr(PreferencesForm, f"push_{name}", BooleanField("In the portal"))
    return PreferencesForm(data=data)

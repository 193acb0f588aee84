"""iCalendar (RFC 5545) for workshops, built with the icalendar library: a workshop's ``.ics`` and an
instructor's subscription feed.

* UID: the workshop's id at the configured PORTAL_URL's host name (stable across edits, the same in
  the download and the feed, so a calendar updates the event rather than adding a second); the
  event's URL from PORTAL_URL too, never from the request's Host header (which a client chooses).
* SEQUENCE: ``workshops.ical_sequence``, moved by the database on every change a calendar shows (021).
* A cancelled workshop is sent with STATUS:CANCELLED (and METHOD:CANCEL for a single download), so
  a calendar that imported it marks it cancelled.
* Times: DTSTART/DTEND in the workshop's own zone (TZID) with its VTIMEZONE, so a calendar shows
  the right local time wherever its reader is.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response, current_app, url_for
from icalendar import Calendar, Event

PRODID = "-//Instructor Portal//Workshops//EN"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


FALLBACK_DOMAIN = "instructor-portal.invalid"


def _portal() -> str:
    return str(current_app.config.get("PORTAL_URL") or "").rstrip("/")


def uid(workshop_id) -> str:
    return f"workshop-{workshop_id}@{urlsplit(_portal()).hostname or FALLBACK_DOMAIN}"


def page_url(slug) -> str:
    """The workshop's page at the configured address of the portal."""
    return _portal() + url_for("workshops.page", workshop_slug=slug)


def event(w, *, meeting_url: str | None = None) -> Event:
    """One VEVENT of a workshop row (a dict or an object with its fields)."""
    get = w.get if isinstance(w, dict) else (lambda k, d=None: getattr(w, k, d))
    zone = _zone(get("timezone"))
    e = Event()
    e.add("uid", uid(get("id")))
    e.add("dtstamp", datetime.now(timezone.utc))
    e.add("last-modified", get("updated_at") or datetime.now(timezone.utc))
    e.add("sequence", int(get("ical_sequence") or 0))
    e.add("summary", get("title"))
    e.add("dtstart", get("start_time").astimezone(zone))
    e.add("dtend", get("end_time").astimezone(zone))
    page = page_url(get("slug"))
    e.add("url", page)
    description = (get("description") or "").strip()
    details = [description] if description else []
    if meeting_url:
        details.append(f"Join: {meeting_url}")
    details.append(f"Workshop page: {page}")
    e.add("description", "\n\n".join(details))
    if get("location"):
        e.add("location", get("location"))
    elif meeting_url:
        e.add("location", meeting_url)
    cancelled = str(get("status")) == "cancelled"
    e.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return e


def calendar(events: list[Event], *, name: str | None = None, cancel: bool = False) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancel else "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    for e in events:
        cal.add_component(e)
    cal.add_missing_timezones()
    return cal


def ics_response(cal: Calendar, filename: str, *, attachment: bool = True) -> Response:
    response = Response(cal.to_ical(), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    if attachment:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

"""Jinja filters and the navigation by role: how figures and times read on screen."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import request
from flask_login import current_user

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}

NAVIGATION = {
    "instructor": [("Dashboard", "dashboard.index"), ("Courses", "courses.index"),
                   ("Workshops", "workshops.index"), ("Students", "students.index"),
                   ("Revenue", "revenue.index"), ("Reviews", "reviews.index"),
                   ("Audit log", "audit.index"),
                   ("Settings", "settings.index"), ("Catalog", "catalog.index"), ("Payments", "revenue.receipts")],
    "student": [("Catalog", "catalog.index"), ("My learning", "learning.index"),
                ("Workshops", "workshops.mine"),  # 021: my workshops (the catalog is one click away)
                ("Announcements", "outreach.announcements"), ("Payments", "revenue.receipts"),
                ("Settings", "settings.notifications")],
    "org_admin": [("Organization", "organization.index"), ("Audit log", "audit.index"),
                  ("Payments", "revenue.receipts"), ("Settings", "settings.notifications")],
    "admin": [("Overview", "admin.index"), ("Users", "admin.users"), ("Organizations", "admin.organizations"),
              ("Moderation queue", "moderation.index"), ("Audit log", "audit.index"),
              ("Job queue", "admin.jobs"), ("Payouts", "revenue.admin_payouts"),
              ("Payments", "revenue.receipts"), ("Settings", "settings.notifications")],
    None: [("Catalog", "catalog.index"), ("Workshops", "workshops.catalog")],  # 021: the workshop catalog
}


def navigation():
    """The role's entries as (label, endpoint, current): "page" for the page itself, "true" for the
    one entry of the area the page is in (the first of its blueprint, unless another entry of it is
    the page), else None: the admin's Overview, Users and Organizations share one blueprint."""
    role = current_user.role if current_user.is_authenticated else None
    entries = NAVIGATION[role]
    endpoint, area = request.endpoint, request.blueprint
    exact = any(e == endpoint for _, e in entries)
    section = next((e for _, e in entries if e.split(".")[0] == area), None) if not exact else None
    return [(label, e, "page" if e == endpoint else "true" if e == section else None) for label, e in entries]


def money(value, currency: str = "USD") -> str:
    amount = Decimal(value or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "−" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def number(value) -> str:
    return f"{int(value or 0):,}"


def percent(value) -> str:
    """A percentage (a score, progress, a share): whole when it is whole ("80%"), else one
    decimal ("66.7%"); a dash when there is none. The one rule for every percentage shown."""
    if value is None:
        return "—"
    shown = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if shown == shown.to_integral_value():
        shown = shown.to_integral_value() + 0  # + 0: no "-0%"
    return f"{shown:f}%"


def rating(value) -> str:
    return "—" if value is None else f"{Decimal(value):.2f}"


def viewer_zone() -> ZoneInfo:
    name = getattr(current_user, "timezone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the zone database ("America")
        return ZoneInfo("UTC")


def when(value: datetime | None, pattern: str = "%d %b %Y, %H:%M") -> str:
    """A time in the viewer's zone (instructors set theirs; others see UTC)."""
    if value is None:
        return ""
    return value.astimezone(viewer_zone()).strftime(pattern)


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """"5 minutes ago" within a week; the date after that."""
    if value is None:
        return ""
    seconds = int(((now or datetime.now(timezone.utc)) - value).total_seconds())
    if seconds >= 7 * 86400:
        return when(value, "%d %b %Y")
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def monthly_sales_chart(months: list[dict]) -> dict:
    """Chart.js data of sales and platform fees by month (rows with month, gross, fees). Floats
    only for drawing: every figure on the page and in its table stays a Decimal."""
    return {"labels": [m["month"].strftime("%b %Y") for m in months],
            "gross": [float(m["gross"]) for m in months], "fees": [float(m["fees"]) for m in months]}


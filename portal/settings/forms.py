"""The notification settings form: for each kind of notice the person may get, email
and in-portal on or off; and the time zone their emails give times in."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import available_timezones

from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.auth.forms import EMAIL_PATTERN
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
        # The same setting as the settings page's "Time zone" (an instructor's instructor_settings.timezone),
        # under the same name: on this page because everyone's emails give times in it.
        timezone = SelectField("Time zone", choices=zone_choices(zone),
                               description="Every time the portal shows you, and its emails give you, is in "
                                           "this zone.")

    for event in events:
        name = event["event_type"]
        setattr(PreferencesForm, f"email_{name}", BooleanField("Email"))
        setattr(PreferencesForm, f"push_{name}", BooleanField("In the portal"))
    return PreferencesForm(data=data)


# --- the instructor's settings page (portal/settings/routes.py): one form per section ---------------
# The choices mirror 002's CHECKs on instructor_settings; the database has the last word.

VISIBILITY = [SelectChoice("public", "Public: anyone can see your profile page, signed in or not"),
              SelectChoice("students", "Your students: only students enrolled in your courses can see it"),
              SelectChoice("private", "Private: no one else sees your profile; there is no public page")]
PAYMENT_METHODS = [SelectChoice("bank_transfer", "Bank transfer"), SelectChoice("paypal", "PayPal"),
                   SelectChoice("stripe", "Stripe")]
PAYOUT_SCHEDULES = [SelectChoice("weekly", "Every week"), SelectChoice("biweekly", "Every two weeks"),
                    SelectChoice("monthly", "Every month")]
CALENDAR_PROVIDERS = [SelectChoice("google", "Google Calendar"), SelectChoice("outlook", "Outlook"),
                      SelectChoice("apple", "Apple Calendar")]

# What each method's details look like (checked on the plain text, before it is sealed).
BANK_ACCOUNT = re.compile(r"^[A-Za-z0-9 ]+$")
PAYPAL_EMAIL = re.compile(EMAIL_PATTERN)
STRIPE_ACCOUNT = re.compile(r"^acct_[A-Za-z0-9]{8,40}$")
DETAILS_MESSAGES = {
    "bank_transfer": "Enter your IBAN or account number: 8 to 34 letters and digits, spaces allowed.",
    "paypal": "Enter the email address of your PayPal account, like name@example.com.",
    "stripe": "Enter your Stripe account id: acct_ followed by 8 to 40 letters and digits.",
}
DETAILS_MAX = 200


def normal_details(method: str, text: str) -> str | None:
    """The details as stored (before sealing), or None when they do not fit ``method``:
    a bank account in capitals without spaces, a PayPal email as typed, a Stripe id as typed."""
    text = (text or "").strip()
    if method == "bank_transfer":
        compact = "".join(text.split()).upper()
        return compact if BANK_ACCOUNT.match(text) and 8 <= len(compact) <= 34 else None
    if method == "paypal":
        return text if len(text) <= 254 and PAYPAL_EMAIL.match(text) else None
    if method == "stripe":
        return text if STRIPE_ACCOUNT.match(text) else None
    return None


class TeachingForm(BaseForm):
    auto_approve_enrollments = BooleanField(
        "Approve enrollments automatically",
        description="Off: each new enrollment waits for you on the Students page before the student can start.")
    allow_student_questions = BooleanField(
        "Let students ask questions", description="Enrolled students may send you questions about a course.")
    allow_course_reviews = BooleanField(
        "Let students review your courses",
        description="Off: your course pages say reviews are closed, and no one can write a new review. "
                    "Reviews already written stay.")
    profile_visibility = RadioField("Who can see your profile page", choices=VISIBILITY, default="public",
                                    validators=[InputRequired("Choose who can see your profile page.")])


class PayoutForm(BaseForm):
    payment_method = SelectField("Payout method", choices=[SelectChoice("", "Choose a method"), *PAYMENT_METHODS])
    payment_details = StringField("Payout details", validators=[Optional(), Length(max=DETAILS_MAX)],
                                  description="Stored encrypted. Leave it blank to keep the details you saved.")
    payout_schedule = RadioField("How often you are paid", choices=PAYOUT_SCHEDULES, default="monthly",
                                 validators=[InputRequired("Choose how often you are paid.")])

    def check_details(self, stored_method: str | None, has_details: bool) -> str | None:
        """The new details in their stored form (None: keep the stored ones), or field errors:
        a method needs details, and a new method needs new details."""
        method, typed = self.payment_method.data or None, (self.payment_details.data or "").strip()
        if method is None:
            if typed or has_details:
                self.payment_method.errors = [*self.payment_method.errors, "Choose how you are paid."]
            return None
        if not typed:
            if not has_details or method != stored_method:
                self.payment_details.errors = [*self.payment_details.errors, DETAILS_MESSAGES[method]]
            return None
        details = normal_details(method, typed)
        if details is None:
            self.payment_details.errors = [*self.payment_details.errors, DETAILS_MESSAGES[method]]
        return details


class CalendarForm(BaseForm):
    calendar_sync_enabled = BooleanField("Sync my workshops to a calendar")
    calendar_provider = SelectField("Calendar", choices=[SelectChoice("", "Choose a calendar"), *CALENDAR_PROVIDERS])

    def validate_calendar_provider(self, field):
        if self.calendar_sync_enabled.data and not field.data:
            raise ValidationError("Choose the calendar to sync with, or turn syncing off.")


class TimeForm(BaseForm):
    """The time zone and the at-risk thresholds (011's CHECKs: 1–100 percent, 1–365 days)."""
    timezone = SelectField("Time zone", description="Every time the portal shows you is in this zone.")
    at_risk_progress_percent = IntegerField(
        "At risk below this progress (percent)", default=30,
        validators=[InputRequired("Enter a percentage from 1 to 100."),
                    NumberRange(1, 100, "Enter a percentage from 1 to 100.")])
    at_risk_after_days = IntegerField(
        "…once enrolled for this many days", default=7,
        description="A student below that progress after this many days counts as at risk.",
        validators=[InputRequired("Enter a number of days from 1 to 365."),
                    NumberRange(1, 365, "Enter a number of days from 1 to 365.")])
    inactive_after_days = IntegerField(
        "Inactive after this many days without activity", default=14,
        validators=[InputRequired("Enter a number of days from 1 to 365."),
                    NumberRange(1, 365, "Enter a number of days from 1 to 365.")])

    def __init__(self, *args, zone: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = zone_choices(zone)

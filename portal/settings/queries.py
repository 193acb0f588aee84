"""Named queries of the instructor's settings page, under the request's role and claims:
``instructor_settings`` is the instructor's alone (007's policies), and each function
reads or writes the caller's row only (``user_id`` is always the signed-in user's id;
row-level security would refuse another's anyway).

Payment details arrive here already sealed (``portal.secretbox``): no function of
this module ever receives the plain text, so none can store it.
"""

from __future__ import annotations

from peewee import IntegrityError

from portal.db import constraint_name, database
from portal.models import InstructorSettings

S = InstructorSettings
TEACHING = (S.auto_approve_enrollments, S.allow_student_questions, S.allow_course_reviews, S.profile_visibility)
PAYOUTS = (S.payment_method, S.payment_details, S.payout_schedule)
CALENDAR = (S.calendar_sync_enabled, S.calendar_provider)
TIME = (S.timezone, S.at_risk_progress_percent, S.at_risk_after_days, S.inactive_after_days)
# 002's CHECK: calendar sync needs a provider.
CALENDAR_NEEDS_A_PROVIDER = "calendar_sync_needs_a_provider"


class Refused(Exception):
    """The database refused a value: ``constraint`` names the rule (a form turns it into a field error)."""

    def __init__(self, constraint: str | None):
        super().__init__(constraint)
        self.constraint = constraint


def settings_of(user_id) -> dict | None:
    """The instructor's settings row (every column the page shows; payment_details is ciphertext)."""
    return (S.select(*TEACHING, *PAYOUTS, *CALENDAR, *TIME)
            .where(S.user == user_id).dicts().first())


def _update(user_id, values: dict) -> int:
    """Update the caller's row in a savepoint; a refused value raises ``Refused`` (the request goes on)."""
    try:
        with database.atomic():
            return S.update(values).where(S.user == user_id).execute()
    except IntegrityError as exc:
        raise Refused(constraint_name(exc)) from exc


def save_teaching(user_id, *, auto_approve_enrollments: bool, allow_student_questions: bool,
                  allow_course_reviews: bool, profile_visibility: str) -> int:
    return _update(user_id, {S.auto_approve_enrollments: auto_approve_enrollments,
                             S.allow_student_questions: allow_student_questions,
                             S.allow_course_reviews: allow_course_reviews,
                             S.profile_visibility: profile_visibility})


def save_payouts(user_id, *, payment_method: str | None, sealed_details: str | None, payout_schedule: str) -> int:
    """The method and schedule; the details only when ``sealed_details`` is given (None keeps the stored ones)."""
    values = {S.payment_method: payment_method, S.payout_schedule: payout_schedule}
    if sealed_details is not None:
        values[S.payment_details] = sealed_details
    return _update(user_id, values)


def save_calendar(user_id, *, calendar_sync_enabled: bool, calendar_provider: str | None) -> int:
    return _update(user_id, {S.calendar_sync_enabled: calendar_sync_enabled,
                             S.calendar_provider: calendar_provider})


def save_time(user_id, *, timezone: str, at_risk_progress_percent: int, at_risk_after_days: int,
              inactive_after_days: int) -> int:
    """The time zone and the at-risk thresholds (011) the students pages go by."""
    return _update(user_id, {S.timezone: timezone, S.at_risk_progress_percent: at_risk_progress_percent,
                             S.at_risk_after_days: at_risk_after_days, S.inactive_after_days: inactive_after_days})

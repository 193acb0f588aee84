"""What each notification event says and where it leads: one registry for the bell,
the notices page and the emails (whose templates are ``templates/email/<event>.txt|html``).

The database decides who is told what and by which channel (``schema/010``); a
notice's ``payload`` holds what it was about as it was then (titles, names, ids),
and the links are made here from the ids, so the SQL knows no URL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, url_for

from portal.formatting import money, percent
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the zone database ("America")
        return ZoneInfo("UTC")


def local_time(value, tz: ZoneInfo) -> str:
    """A time from a payload (ISO text) in the reader's zone, with the zone's name."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(tz).strftime("%a %d %b %Y, %H:%M %Z")


def _enrollment(p, tz):
    if p.get("kind") == "request":
        return f"{p['student_name']} asks to join {p['course_title']}"
    return f"{p['student_name']} enrolled in {p['course_title']}"


def _enrollment_update(p, tz):
    return {"confirmed": f"You are enrolled in {p['course_title']}",
            "granted": f"{p.get('by_name') or 'An instructor'} enrolled you in {p['course_title']} "
                       "(you can leave it from My learning)",
            "declined": f"Your request to join {p['course_title']} was declined",
            "refunded": f"Your enrollment in {p['course_title']} was refunded"}[p["kind"]]


ROLE_NAMES = {"student": "a student", "instructor": "an instructor", "org_admin": "an organization admin"}


def _account_changed(p, tz):
    """017: what an administrator changed on the account."""
    kind = p.get("kind")
    if kind == "role":
        return f"An administrator made you {ROLE_NAMES.get(p.get('role'), p.get('role'))}"
    if kind == "reactivated":
        return "Your account was reactivated"
    lost_admin = " and are no longer an organization admin" if p.get("previous") == "org_admin" \
        and p.get("role") != "org_admin" else ""
    if kind == "organization":
        return f"You are now a member of {p.get('organization_name')}{lost_admin}"
    if kind == "left_organization":
        return f"You are no longer a member of an organization{lost_admin}"
    return _profile_change(p)


def _profile_change(p) -> str:
    """What changed on the profile's flags (older notices without the previous flags: the new ones)."""
    changes = []
    for flag in ("verified", "featured"):
        now, before = bool(p.get(flag)), p.get(f"was_{flag}")
        if before is None or bool(before) != now:
            changes.append(flag if now else f"no longer {flag}")
    if not changes:
        return "Your instructor profile is unchanged"
    return f"Your instructor profile is {' and '.join(changes)}"


def _reminder(p, tz):
    when = "in 1 hour" if p.get("lead") == "1h" else "within 24 hours"
    return f"{p['title']} starts {when}: {local_time(p['start_time'], tz)}"


@dataclass(frozen=True)
class Event:
    summary: Callable[[dict, ZoneInfo], str]
    link: Callable[[dict], tuple[str, dict]]   # (endpoint, its arguments)


EVENTS: dict[str, Event] = {
    "new_enrollment": Event(
        _enrollment,
        lambda p: (("students.approvals", {}) if p.get("kind") == "request"
                   else ("courses.insight", {"course_id": p["course_id"]}))),
    "new_review": Event(
        lambda p, tz: f"{p['student_name']} rated {p['course_title']} {p['rating']} out of 5",
        lambda p: ("catalog.reviews", {"slug": p["course_slug"]})),
    # 021: a registrant's reminder leads to their workshops (a payload before 021 has no slug).
    "workshop_reminder": Event(_reminder, lambda p: ("workshops.index", {}) if p.get("teaching")
                               else ("workshops.mine", {})),
    "enrollment_update": Event(
        _enrollment_update,
        lambda p: (("learning.resume", {"slug": p["course_slug"]}) if p["kind"] in ("confirmed", "granted")
                   else ("catalog.course", {"slug": p["course_slug"]}))),
    "review_response": Event(
        lambda p, tz: f"{p['instructor_name']} answered your review of {p['course_title']}",
        lambda p: ("catalog.reviews", {"slug": p["course_slug"]})),
    # 016: the moderation queue's decisions, told to the review's author.
    "review_moderated": Event(
        lambda p, tz: (f"Your review of {p['course_title']} was hidden by a moderator" if p.get("hidden")
                       else f"Your review of {p['course_title']} is shown again"),
        lambda p: ("catalog.reviews", {"slug": p["course_slug"]})),
    "certificate_issued": Event(
        lambda p, tz: f"You earned a certificate for {p['course_title']}",
        lambda p: ("learning.certificate", {"code": p["code"]})),
    "email_confirmation": Event(
        lambda p, tz: "Confirm your email address",
        lambda p: ("auth.confirm_email", {"confirmation": p["token"]})),   # the token: mail.compose adds it
    # 011: the account's emails (never in the portal, always by email). The links' tokens are added
    # as the email is written (mail.compose): a reset token made by the worker (only its hash is
    # stored), an email change's signed (user, change) pair.
    "password_reset": Event(
        lambda p, tz: "Choose a new password",
        lambda p: ("auth.reset_password", {"reset": p["token"]})),
    "email_change": Event(
        lambda p, tz: "Confirm your new email address",
        lambda p: ("account.confirm_email_change", {"change": p["token"]})),
    "email_changed": Event(
        lambda p, tz: "Your email address was changed",
        lambda p: ("auth.sign_in", {})),
    # 015: an announcement to a course's students (the portal's page shows it whole).
    "course_announcement": Event(
        lambda p, tz: f"{p['course_title']}: {p['title']}",
        lambda p: ("outreach.announcement", {"announcement_id": p["announcement_id"]})),
    "account_changed": Event(_account_changed, lambda p: ("account.index", {})),
    # 021: workshops: a cancellation told to every registrant, a waitlist seat (or a lapsed hold).
    "workshop_cancelled": Event(
        lambda p, tz: f"{p['title']} on {local_time(p['start_time'], tz)} is cancelled"
                      + (": your payment is refunded" if p.get("refund") else ""),
        lambda p: ("workshops.page", {"workshop_slug": p["slug"]})),
    "workshop_seat": Event(
        lambda p, tz: (f"A seat at {p['title']} is yours" + (": pay for it to keep it" if p.get("paid") else "")
                       if p.get("kind") == "promoted"
                       else f"Your held seat at {p['title']} was not paid in time and passed on"),
        lambda p: ("workshops.page", {"workshop_slug": p["slug"]})),
    # 022: questions, answers, hand-ins and grades.
    # (the payloads name no one: a deleted account's name would stay in others' notices)
    "new_question": Event(
        lambda p, tz: f"A student asked “{p['title']}” in {p['course_title']}",
        lambda p: ("discussions.question", {"question_id": p["question_id"]})),
    "new_submission": Event(
        lambda p, tz: f"A student handed in “{p['lesson_title']}” in {p['course_title']}",
        lambda p: ("discussions.grade", {"submission_id": p["submission_id"]})),
    "question_answered": Event(
        lambda p, tz: f"{'An instructor' if p.get('by_teacher') else 'A classmate'} answered your question "
                      f"“{p['title']}”",
        lambda p: ("discussions.question", {"question_id": p["question_id"]})),
    "assignment_graded": Event(
        lambda p, tz: f"Your work on “{p['lesson_title']}” was graded: {percent(p['score'])}"
                      + (" (passed)" if p.get("passed") else " (not passed yet)"),
        lambda p: ("learning.lesson", {"slug": p["course_slug"], "lesson_id": p["lesson_id"]})),
    "figures_mismatch": Event(
        lambda p, tz: f"The nightly check found {p['count']} stored figure(s) that differ from their recomputation",
        lambda p: ("admin.jobs", {})),
    # 020: a refund, told to the student (its receipt); a payout sent, told to the instructor.
    "refund_issued": Event(
        lambda p, tz: (f"You were refunded {money(p['amount'], p.get('currency') or 'USD')} "
                       f"for {p.get('item_title') or 'a purchase'}"),
        lambda p: ("revenue.receipt", {"transaction_id": p["refund_id"]})),
    "payout_paid": Event(
        lambda p, tz: f"A payout of {money(p['amount'], p.get('currency') or 'USD')} was sent to you",
        lambda p: ("revenue.payout", {"payout_id": p["payout_id"]})),
}


def summary(event_type: str, payload: dict, tz: ZoneInfo) -> str:
    """One line, in words, for the bell, the notices page and the email's subject."""
    return " ".join(EVENTS[event_type].summary(payload, tz).split())


def link(event_type: str, payload: dict, external: bool = False) -> str:
    endpoint, arguments = EVENTS[event_type].link(payload)
    return url_for(endpoint, _external=external, **arguments)


# --- unsubscribe links ---------------------------------------------------------------
# A signed (user, event) pair: the link itself is the credential, so it works from the
# email without signing in, and turns off that one event's emails for that one user.

def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notifications-unsubscribe")


# Events about the account itself: always by email, no preference, no unsubscribe link.
ACCOUNT_EVENTS = {"email_confirmation", "password_reset", "email_change", "email_changed"}


def unsubscribe_token(user_id, event_type: str) -> str:
    return _signer().dumps([str(user_id), event_type])


def read_unsubscribe_token(token: str) -> tuple[str, str] | None:
    """The (user id, event type) a token names, or None for a forged or damaged one."""
    try:
        user_id, event_type = _signer().loads(token)
        user_id = str(uuid.UUID(user_id))
    except (BadSignature, ValueError, TypeError, AttributeError):
        return None
    if not isinstance(event_type, str) or event_type not in EVENTS or event_type in ACCOUNT_EVENTS:
        return None
    return user_id, event_type


# --- address confirmation links ------------------------------------------------------------------
# A signed (user, address) pair, good for a week: following it confirms that address for that user.

CONFIRMATION_DAYS = 7


def _confirmation_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="confirm-email")


def confirmation_token(user_id, email: str) -> str:
    return _confirmation_signer().dumps([str(user_id), email])


def read_confirmation_token(token: str) -> tuple[str, str] | None:
    """The (user id, address) a confirmation link names, or None for a forged, damaged or expired one."""
    try:
        user_id, email = _confirmation_signer().loads(token, max_age=CONFIRMATION_DAYS * 86400)
        user_id = str(uuid.UUID(user_id))
    except (BadSignature, ValueError, TypeError, AttributeError):
        return None
    return (user_id, email) if isinstance(email, str) else None


# --- email change links (011) --------------------------------------------------------------------
# A signed (user, change) pair, good for the day the change itself is (email_changes.expires_at):
# following it, as that user, confirms that change.

EMAIL_CHANGE_HOURS = 24


def _email_change_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="change-email")


def email_change_token(user_id, change_id) -> str:
    return _email_change_signer().dumps([str(user_id), str(change_id)])


def read_email_change_token(token: str) -> tuple[str, str] | None:
    """The (user id, change id) a link names, or None for a forged, damaged or expired one."""
    try:
        user_id, change_id = _email_change_signer().loads(token, max_age=EMAIL_CHANGE_HOURS * 3600)
        return str(uuid.UUID(user_id)), str(uuid.UUID(change_id))
    except (BadSignature, ValueError, TypeError, AttributeError):
        return None

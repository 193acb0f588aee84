"""Named queries of bulk enrollment and announcements (the instructor's side), under the
request's role and claims: the database decides (015's functions check the caller, the
policies hide what is not theirs); these only shape the calls and the rows."""

from __future__ import annotations

import uuid

from peewee import DatabaseError, fn

from portal.db import database
from portal.enrollment.queries import Refused
from portal.listing import Spec, View, keyset_page
from portal.models import Course, CourseAnnouncement, CourseInvitation, caller_courses

MANAGERS = ("manage_students",)
# What a line of a list becomes, in words (the preview and the result).
OUTCOMES = {
    "add": "Will be enrolled, or invited to create an account",
    "already_enrolled": "Already enrolled: nothing to do",
    "already_invited": "Already invited: nothing to do",
    "invalid_email": "Not an email address",
    "duplicate": "Listed already above",
    "teacher": "Teaches this course",
    "refunded": "Refunded earlier: ask support to restore it",
}
DONE = {"add": "Enrolled or invited"}


def manageable_courses() -> dict:
    """The published courses whose students the caller manages: {id as text: title}, by title."""
    rows = (Course.select(Course.id, Course.title)
            .where(caller_courses(Course.id, *MANAGERS) & (Course.status == "published"))
            .order_by(Course.title, Course.id).tuples())
    return {str(course): title for course, title in rows}


def announceable_courses() -> dict:
    """Every course (any status) whose students the caller manages."""
    rows = (Course.select(Course.id, Course.title).where(caller_courses(Course.id, *MANAGERS))
            .order_by(Course.title, Course.id).tuples())
    return {str(course): title for course, title in rows}


def course_price(course_id) -> object:
    return Course.select(Course.price_amount).where(Course.id == course_id).scalar()


def _lines(query: str, params: tuple) -> list[dict]:
    try:
        with database.atomic():
            rows = database.execute_sql(query, params).fetchall()
    except DatabaseError as exc:
        raise Refused.from_error(exc) from exc
    return [{"line": line, "email": email, "outcome": outcome} for line, email, outcome in rows]


def preview(course_id, addresses: list[str]) -> list[dict]:
    """What applying the list would do, line by line (bulk_enroll_preview: never who has an account)."""
    return _lines("SELECT line, email, outcome FROM bulk_enroll_preview(%s, %s)", (course_id, addresses))


def apply(course_id, addresses: list[str], grant_access: bool, daily_limit: int) -> list[dict]:
    """Apply the list (bulk_enroll); the same lines as the preview, 'add' for what was added."""
    return _lines("SELECT line, email, outcome FROM bulk_enroll(%s, %s, %s, %s)",
                  (course_id, addresses, grant_access, daily_limit))


def additions_left(daily_limit: int) -> int:
    return database.execute_sql("SELECT bulk_additions_left(%s)", (daily_limit,)).fetchone()[0]


def counts(lines: list[dict]) -> dict:
    found: dict[str, int] = {}
    for line in lines:
        found[line["outcome"]] = found.get(line["outcome"], 0) + 1
    return found


# --- announcements -------------------------------------------------------------------------

LIST = Spec(page_size=20, keyset=True)
KEYS = ((CourseAnnouncement.created_at, "created_at"), (CourseAnnouncement.id, "id"))


def post(course_id, title: str, body: str, audience: str) -> uuid.UUID:
    """A new announcement (post_announcement checks the caller and queues the fan-out)."""
    try:
        with database.atomic():
            return database.execute_sql("SELECT post_announcement(%s, %s, %s, %s)",
                                        (course_id, title, body, audience)).fetchone()[0]
    except DatabaseError as exc:
        raise Refused.from_error(exc) from exc


def announcements(view: View):
    """The announcements of the courses whose students the caller manages, newest first, with the
    count of students notified so far (kept by the fan-out, not counted here)."""
    query = (CourseAnnouncement
             .select(CourseAnnouncement.id, CourseAnnouncement.title, CourseAnnouncement.audience,
                     CourseAnnouncement.recipients, CourseAnnouncement.delivered_at,
                     CourseAnnouncement.created_at, Course.title.alias("course_title"))
             .join(Course, on=Course.id == CourseAnnouncement.course)
             .where(caller_courses(CourseAnnouncement.course, *MANAGERS))
             .dicts())
    return keyset_page(view, query, KEYS, descending=True, matching=0)


# --- invitations -------------------------------------------------------------------------

INVITATIONS = Spec(page_size=20, keyset=True)
INVITATION_KEYS = ((CourseInvitation.created_at, "created_at"), (CourseInvitation.id, "id"))


def open_invitations(view: View, course_id=None):
    """The open invitations (not accepted, not revoked) of the courses whose students the caller
    manages (the policy decides too), or of one of them, newest first, by keyset."""
    query = (CourseInvitation
             .select(CourseInvitation.id, CourseInvitation.email, CourseInvitation.created_at,
                     CourseInvitation.expires_at, CourseInvitation.grant_access,
                     Course.title.alias("course_title"))
             .join(Course, on=Course.id == CourseInvitation.course)
             .where(caller_courses(CourseInvitation.course, *MANAGERS)
                    & CourseInvitation.accepted_at.is_null() & CourseInvitation.revoked_at.is_null()))
    if course_id:
        query = query.where(CourseInvitation.course == course_id)
    return keyset_page(view, query.dicts(), INVITATION_KEYS, descending=True, matching=0)


def open_invitation(invitation_id) -> dict | None:
    return (CourseInvitation
            .select(CourseInvitation.id, CourseInvitation.email, CourseInvitation.course,
                    Course.title.alias("course_title"))
            .join(Course, on=Course.id == CourseInvitation.course)
            .where((CourseInvitation.id == invitation_id)
                   & caller_courses(CourseInvitation.course, *MANAGERS)
                   & CourseInvitation.accepted_at.is_null() & CourseInvitation.revoked_at.is_null())
            .dicts().first())


def revoke(invitation_id) -> bool:
    """revoke_invitation (checks the caller): False when it was no longer open."""
    try:
        with database.atomic():
            return database.execute_sql("SELECT revoke_invitation(%s)", (invitation_id,)).fetchone()[0]
    except DatabaseError as exc:
        raise Refused.from_error(exc) from exc

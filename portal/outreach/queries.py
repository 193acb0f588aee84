"""Named queries of the student's side of issue 15, under the request's role and claims: an
invitation's link is read and accepted through 015's functions (the token is the credential;
only its hash reaches the database), announcements through their policy (a student reads those
of their courses that the announcement's filter names)."""

from __future__ import annotations

from flask_login import current_user
from peewee import DatabaseError

from portal.db import database
from portal.enrollment.queries import Refused
from portal.listing import Spec, View, keyset_page
from portal.models import Course, CourseAnnouncement, CourseEnrollment
from portal.outreach.mail import token_hash

TOKEN_MAX = 200


def invitation(token: str) -> dict | None:
    """What a valid link shows (course, who invites, the invited address), or None."""
    if not token or len(token) > TOKEN_MAX:
        return None
    row = database.execute_sql(
        "SELECT course_title, course_slug, inviter_name, email, expires_at FROM invitation_target(%s)",
        (token_hash(token),)).fetchone()
    if row is None:
        return None
    return dict(zip(("course_title", "course_slug", "inviter_name", "email", "expires_at"), row))


def accept(token: str) -> str | None:
    """Accept as the caller: the course's slug, or None for a link that is no longer valid."""
    try:
        with database.atomic():
            return database.execute_sql("SELECT accept_invitation(%s)", (token_hash(token),)).fetchone()[0]
    except DatabaseError as exc:
        raise Refused.from_error(exc) from exc


LIST = Spec(page_size=20, keyset=True)
KEYS = ((CourseAnnouncement.created_at, "created_at"), (CourseAnnouncement.id, "id"))
COLUMNS = (CourseAnnouncement.id, CourseAnnouncement.course, CourseAnnouncement.title, CourseAnnouncement.body,
           CourseAnnouncement.created_at, Course.title.alias("course_title"), Course.slug.alias("course_slug"))


def _readable():
    """Announcements the caller reads (the policy decides) of courses they are enrolled in: an
    instructor's own courses' announcements are on their Students pages, not here."""
    return (CourseAnnouncement.select(*COLUMNS).join(Course, on=Course.id == CourseAnnouncement.course)
            .where(CourseAnnouncement.course.in_(_enrolled())))


def _enrolled():
    return (CourseEnrollment.select(CourseEnrollment.course)
            .where((CourseEnrollment.user == current_user.id)
                   & CourseEnrollment.status.in_(("enrolled", "in_progress", "completed"))))


def announcements(view: View):
    return keyset_page(view, _readable().dicts(), KEYS, descending=True, matching=0)


def announcement(announcement_id) -> dict | None:
    """One announcement the caller may read (the policy decides: a student its audience names, a
    teacher of the course who manages its students), with ``enrolled``: whether the caller studies
    the course (the page's link goes to the course's player, or to its catalog page)."""
    row = (CourseAnnouncement.select(*COLUMNS).join(Course, on=Course.id == CourseAnnouncement.course)
           .where(CourseAnnouncement.id == announcement_id).dicts().first())
    if row is not None:
        row["enrolled"] = _enrolled().where(CourseEnrollment.course == row["course"]).exists()
    return row


def enrollment_state(slug: str) -> tuple[str, str] | None:
    """The caller's own enrollment in the course with this slug: (status, payment_status)."""
    return (CourseEnrollment.select(CourseEnrollment.status, CourseEnrollment.payment_status)
            .join(Course, on=Course.id == CourseEnrollment.course)
            .where((Course.slug == slug) & (CourseEnrollment.user == current_user.id)).tuples().first())

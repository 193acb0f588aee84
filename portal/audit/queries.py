"""Named queries of the audit log page, under the request's role and claims.

What a caller reads is decided by ``audit_log_read`` (016): platform admins every row, an
organization admin their organization's rows, an instructor the rows about what they own
(stamped with their id as the course's or workshop's owner, the instructor of a sale, or the
instructor verified). The page narrows by the same scope explicitly, so that the planner reads
the scope's own index ((organization_id | instructor_id, occurred_at, id), 016) in the page's
order rather than the whole log; the policy would give the same rows anyway. Newest first, paged
by position (occurred_at, id).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from peewee import JOIN, fn

from portal.listing import Choice, Page, Spec, View, keyset_page
from portal.models import AuditLog, User

ACTIONS = {
    "review.hidden": "Review hidden", "review.restored": "Review restored",
    "review.reason_changed": "Moderation reason changed",
    "review.deleted": "Review deleted",
    "review_report.resolved": "Report resolved by hiding the review",
    "review_report.dismissed": "Report dismissed", "review_report.redated": "Report resolved again",
    "review_report.reopened": "Report reopened", "review_report.deleted": "Report deleted",
    "user.role_changed": "Role changed", "user.organization_changed": "Organization changed",
    "user.deactivated": "Account deactivated", "user.reactivated": "Account reactivated",
    "user.deleted": "Account deleted",
    "instructor.verified": "Instructor verified", "instructor.unverified": "Instructor no longer verified",
    "instructor.featured": "Instructor featured", "instructor.unfeatured": "Instructor no longer featured",
    "revenue.refund": "Refund", "revenue.payout": "Payout status changed",
    "course.price_changed": "Course price changed", "workshop.price_changed": "Workshop price changed",
    "course.deleted": "Course deleted", "workshop.deleted": "Workshop deleted",
    "co_instructor.added": "Co-instructor added", "co_instructor.changed": "Co-instructor changed",
    "co_instructor.removed": "Co-instructor removed",
    "facilitator.added": "Facilitator added", "facilitator.changed": "Facilitator changed",
    "facilitator.removed": "Facilitator removed",
    "organization.created": "Organization created", "organization.renamed": "Organization renamed",
    "organization.deleted": "Organization deleted",
}
ENTITIES = {
    "course_review": "Reviews", "review_report": "Review reports", "user": "Accounts",
    "instructor_profile": "Instructor profiles", "revenue_transaction": "Money", "course": "Courses",
    "workshop": "Workshops", "course_instructor": "Co-instructors", "workshop_facilitator": "Facilitators",
    "organization": "Organizations",
}
PERIODS = {"day": "Last 24 hours", "week": "Last 7 days", "month": "Last 30 days", "year": "Last 12 months"}
SPANS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30),
         "year": timedelta(days=365)}
LIST = Spec(filters=(Choice("action", "What", ACTIONS, any_label="Any act"),
                     Choice("entity", "About", ENTITIES, any_label="Anything"),
                     Choice("actor", "Who", open=True, any_label="Anyone", max_length=36, bar=False),
                     Choice("period", "When", PERIODS, any_label="Any time")),
            page_size=30, keyset=True)
KEYS = ((AuditLog.occurred_at, "occurred_at"), (AuditLog.id, "id"))


def actor_id(view: View) -> uuid.UUID | None:
    try:
        return uuid.UUID(view.actor) if view.actor else None
    except ValueError:
        return None


def _scope(user):
    """The caller's scope as a condition on the scope's own index (the policy says the same)."""
    if user.role == "org_admin":
        return AuditLog.organization_id == user.organization_id
    if user.role == "instructor":
        return AuditLog.instructor_id == user.id
    return None


def page(view: View, user) -> Page:
    """One page of the log as the caller may read it, with the view's filters, newest first."""
    query = (AuditLog.select(AuditLog, User.full_name.alias("actor_name"))
             .join(User, JOIN.LEFT_OUTER, on=(User.id == AuditLog.actor_id)))
    conditions = [c for c in (_scope(user),) if c is not None]
    if view.action:
        conditions.append(AuditLog.action == view.action)
    if view.entity:
        conditions.append(AuditLog.entity_type == view.entity)
    actor = actor_id(view)
    if view.actor:
        conditions.append(AuditLog.actor_id == actor if actor else AuditLog.id.is_null())  # not an id: nothing
    if view.period:
        conditions.append(AuditLog.occurred_at >= fn.now() - SPANS[view.period])
    for condition in conditions:
        query = query.where(condition)
    listing = keyset_page(view, query.dicts(), KEYS, descending=True, matching=0)
    for row in listing.rows:
        row["changes"] = changes(row["before"], row["after"])
    if actor:
        listing.extra["actor_label"] = next((r["actor_name"] for r in listing.rows if r["actor_name"]), None)
    return listing


def changes(before: dict, after: dict) -> list[tuple[str, object, object]]:
    """(field, before, after) for every field either side holds, in the order they were written; a
    yes/no field reads "yes" or "no"."""
    keys = list(dict.fromkeys([*(before or {}), *(after or {})]))
    return [(key, _shown((before or {}).get(key)), _shown((after or {}).get(key))) for key in keys]


def _shown(value):
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value

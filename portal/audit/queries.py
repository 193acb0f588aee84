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
from datetime import datetime, timedelta

from peewee import JOIN, fn

from portal import formatting
from portal.courses.access import PERMISSION_LABELS
from portal.db import database
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
    # 022: lesson discussions
    "comment.hidden": "Comment hidden", "comment.restored": "Comment shown again", "comment.deleted": "Comment deleted",
    "question.hidden": "Question hidden", "question.restored": "Question shown again",
    "question.deleted": "Question deleted",
    "answer.hidden": "Answer hidden", "answer.restored": "Answer shown again", "answer.deleted": "Answer deleted",
    "discussion_report.resolved": "Discussion report resolved by hiding the post",
    "discussion_report.dismissed": "Discussion report dismissed",
    "discussion_report.redated": "Discussion report resolved again",
    "discussion_report.reopened": "Discussion report reopened", "discussion_report.deleted": "Discussion report deleted",
}
ENTITIES = {
    "course_review": "Reviews", "review_report": "Review reports", "user": "Accounts",
    "instructor_profile": "Instructor profiles", "revenue_transaction": "Money", "course": "Courses",
    "workshop": "Workshops", "course_instructor": "Co-instructors", "workshop_facilitator": "Facilitators",
    "organization": "Organizations",
    "lesson_comment": "Lesson comments", "course_question": "Course questions", "question_answer": "Answers",
    "discussion_report": "Discussion reports",
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
    describe(listing.rows)
    if actor:
        listing.extra["actor_label"] = next((r["actor_name"] for r in listing.rows if r["actor_name"]), None)
    return listing


# What the page says of each recorded field (a field not named here is not shown: ids the subject
# already says, such as a report's review). The reason of a moderation is shown once, in its column.
FIELDS = {
    "is_visible": "Shown publicly", "resolved_at": "Resolved", "resolved_by": "Resolved by",
    "reason": "Reported as", "rating": "Rating", "open_report_count": "Open reports",
    "role": "Role", "organization_id": "Organization", "is_active": "Active",
    "is_verified": "Verified", "is_featured": "Featured",
    "amount": "Amount", "instructor_earnings": "Instructor's earnings", "currency": "Currency",
    "payout_status": "Payout", "payout_date": "Paid out",
    "price_amount": "Price", "title": "Title", "instructor_id": "Co-instructor", "facilitator_id": "Facilitator",
    "permissions": "Permissions", "name": "Name", "slug": "Web address",
}
DATES = {"resolved_at", "payout_date"}
MONEY = {"amount", "instructor_earnings", "price_amount"}
PEOPLE = {"resolved_by", "instructor_id", "facilitator_id"}
ROLES = {"student": "Student", "instructor": "Instructor", "org_admin": "Organization admin", "admin": "Platform admin",
         "co-instructor": "Co-instructor", "assistant": "Assistant", "facilitator": "Facilitator",
         "lead": "Lead", "co-facilitator": "Co-facilitator"}
REPORT_REASONS = {"spam": "Spam", "offensive": "Offensive", "off_topic": "Off topic",
                  "not_a_review": "Not a review", "other": "Other"}


def _names(sql: str, ids: set) -> dict:
    """id -> name of what the caller may read (the query runs under their role and claims)."""
    if not ids:
        return {}
    cursor = database.execute_sql(sql, (list(ids),))
    return {row[0]: row[1:] if len(row) > 2 else row[1] for row in cursor.fetchall()}


def _uuid(value):
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def describe(rows: list[dict]) -> None:
    """Each row's ``subject`` (what or whom it is about, as far as the reader may read it) and
    ``changes`` ((label, before, after) in words: no ids, money with its currency, dates in the
    viewer's zone, permissions as a list). A handful of lookups per page, under the reader's RLS."""
    course_ids, workshop_ids, user_ids, org_ids, review_ids = set(), set(), set(), set(), set()
    for row in rows:
        both = {**(row["before"] or {}), **(row["after"] or {})}
        course_ids.add(row["course_id"])
        workshop_ids.add(row["workshop_id"])
        if row["entity_type"] in ("user", "instructor_profile"):
            user_ids.add(row["entity_id"])
        if row["entity_type"] == "organization":
            org_ids.add(row["entity_id"])
        if row["entity_type"] == "course_review":
            review_ids.add(row["entity_id"])
        if row["entity_type"] == "review_report":
            review_ids.add(_uuid(both.get("review_id")))
        for key in PEOPLE:
            user_ids.add(_uuid(both.get(key)))
        for side in (row["before"] or {}, row["after"] or {}):
            org_ids.add(_uuid(side.get("organization_id")))
    reviews = _names("SELECT id, user_id, course_id FROM public.course_reviews WHERE id = ANY (%s::uuid[])",
                     review_ids - {None})
    for author, course in reviews.values():
        user_ids.add(author)
        course_ids.add(course)
    courses = _names("SELECT id, title FROM public.courses WHERE id = ANY (%s::uuid[])", course_ids - {None})
    workshops = _names("SELECT id, title FROM public.workshops WHERE id = ANY (%s::uuid[])", workshop_ids - {None})
    people = _names("SELECT id, full_name FROM public.users WHERE id = ANY (%s::uuid[])", user_ids - {None})
    orgs = _names("SELECT id, name FROM public.organizations WHERE id = ANY (%s::uuid[])", org_ids - {None})

    def review_subject(review_id, fallback_course):
        author, course = reviews.get(review_id, (None, fallback_course))
        on = f"“{courses[course]}”" if course in courses else "a course"
        return f"a review by {people[author]} on {on}" if author in people else f"a review on {on}"

    for row in rows:
        both = {**(row["before"] or {}), **(row["after"] or {})}
        kind, entity = row["entity_type"], row["entity_id"]
        course = courses.get(row["course_id"]) or (both.get("title") if kind == "course" else None)
        workshop = workshops.get(row["workshop_id"]) or (both.get("title") if kind == "workshop" else None)
        if kind == "course_review":
            subject = review_subject(entity, row["course_id"])
        elif kind == "review_report":
            subject = "a report on " + review_subject(_uuid(both.get("review_id")), None)
        elif kind in ("user", "instructor_profile"):
            subject = people.get(entity) or ("an instructor" if kind == "instructor_profile" else "an account")
        elif kind == "organization":
            subject = orgs.get(entity) or both.get("name") or "an organization"
        elif kind in ("course", "course_instructor"):
            subject = f"“{course}”" if course else "a course"
        elif kind in ("workshop", "workshop_facilitator"):
            subject = f"“{workshop}”" if workshop else "a workshop"
        elif kind == "revenue_transaction":
            subject = f"a sale of “{course or workshop}”" if (course or workshop) else "a sale"
        else:
            subject = ""
        row["subject"] = subject[:1].upper() + subject[1:]
        row["changes"] = changes(row["before"], row["after"], people=people, orgs=orgs,
                                 reason=row["reason"], currency=both.get("currency") or "USD")


def changes(before: dict, after: dict, *, people=None, orgs=None, reason=None,
            currency: str = "USD") -> list[tuple[str, str, str]]:
    """(label, before, after) in words for every shown field either side holds, in the order they
    were written; a side that does not hold the field reads "—"."""
    before, after = before or {}, after or {}
    keys = [k for k in dict.fromkeys([*before, *after])
            if k in FIELDS and not (k == "reason" and "review_id" not in {**before, **after})]
    shown = []
    for key in keys:
        pair = [_word(key, side[key], people or {}, orgs or {}, currency) if side.get(key) is not None
                else ("—" if key not in side else "none") for side in (before, after)]
        shown.append((FIELDS[key], *pair))
    return shown


def _word(key, value, people, orgs, currency) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in MONEY:
        return formatting.money(value, currency)
    if key in DATES:
        try:
            return formatting.when(datetime.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if key in PEOPLE:
        return people.get(_uuid(value), "someone")
    if key == "organization_id":
        return orgs.get(_uuid(value), "another organization")
    if key == "permissions" and isinstance(value, dict):
        granted = [PERMISSION_LABELS.get(k, k) for k, v in value.items() if v]
        return ", ".join(granted) if granted else "none"
    if key == "role":
        return ROLES.get(value, str(value))
    if key == "reason":
        return REPORT_REASONS.get(value, str(value))
    if key == "payout_status":
        return str(value).replace("_", " ")
    return str(value)

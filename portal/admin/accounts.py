"""Named queries of the platform admin's portal: the overview, users and organizations (017).

The column grants keep every user's role, organization and active flag from the API roles (007),
so what the admin pages read about accounts comes from functions that answer an active platform
admin only (``admin_users``, ``admin_user``, ``admin_overview``, ``admin_revenue_by_month``), and
every act on an account is one of the functions that check the caller and the rules
(``admin_set_role``, ``admin_set_active``, ``admin_set_organization``,
``admin_set_instructor_flags``): a refusal comes back as a code (``portal.refusals``). The
organizations themselves are plain rows an admin reads, creates and renames under
row-level security (organizations_read / _create / _update, 007).

The overview reads kept figures and small sets only (see ``admin_overview`` in 017): at a million
enrollments a page load reads no enrollment and no revenue row; the months come from the nightly
``instructor_monthly_stats`` (one row per instructor, organization and month).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from peewee import DatabaseError, fn

from portal import refusals
from portal.db import database
from portal.listing import Choice, Page, Spec, Text, View, keyset_page, token
from portal.models import Organization, User

ROLES = {"student": "Student", "instructor": "Instructor", "org_admin": "Organization admin", "admin": "Platform admin"}
# What the portal may make someone (the admin role is the operators': 017).
ASSIGNABLE = {"student": "Student", "instructor": "Instructor", "org_admin": "Organization admin"}
ACTIVE = {"active": "Active", "deactivated": "Deactivated"}
USERS = Spec(filters=(Text("q", "Name or email", max_length=100, placeholder="Name or email"),
                      Choice("role", "Role", ROLES, any_label="Any role"),
                      Choice("active", "Status", ACTIVE, any_label="Active or not"),
                      Choice("org", "Organization", open=True, any_label="Any organization", max_length=36)),
             page_size=25, keyset=True)
MEMBERS = Spec(filters=(Text("q", "Name or email", max_length=100, placeholder="Name or email"),),
               page_size=25, keyset=True)
ORGANIZATIONS = Spec(filters=(Text("q", "Name", max_length=100, placeholder="Organization name"),),
                     page_size=25, keyset=True)
ORG_CHOICES_LIMIT = 200
# A name or email search needs this many characters: fewer, and no trigram of the index serves it
# (admin_users answers no one rather than read every user; the page asks for more).
SEARCH_MIN = 3


def search_too_short(view: View) -> bool:
    return bool(view.values.get("q")) and len(view.values["q"].strip()) < SEARCH_MIN


class Refused(Exception):
    """The database refused an act: ``message`` is what the person reads."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message, self.code = message, code


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


# --- the overview ---------------------------------------------------------------------------------

def overview() -> dict:
    return database.execute_sql("SELECT admin_overview()").fetchone()[0]


def revenue_by_month() -> list[dict]:
    cursor = database.execute_sql("SELECT month, gross_revenue, platform_fees, net_revenue, transaction_count "
                                  "FROM admin_revenue_by_month(12)")
    return [dict(month=m, gross=g, fees=f, net=n, transactions=t) for m, g, f, n, t in cursor.fetchall()]


# --- users ------------------------------------------------------------------------------------------

_COLUMNS = "id, email, full_name, role, organization_id, organization_name, is_active, created_at"


def _position(values) -> tuple[datetime, uuid.UUID] | None:
    """A users-list position (created_at as ISO text, id as text), or None when it is not one."""
    if not isinstance(values, list) or len(values) != 2 or not all(isinstance(v, str) for v in values):
        return None
    try:
        moment = datetime.fromisoformat(values[0])
        return (moment, uuid.UUID(values[1])) if moment.tzinfo is not None else None
    except ValueError:
        return None


def users(view: View, organization: uuid.UUID | None = None) -> Page:
    """One page of users, newest first, by position (``admin_users``: the trigram index serves the
    search); ``organization`` fixes the organization (its members' page)."""
    size = view.spec.page_size
    at = _position(view.after or view.before)
    backwards = view.before is not None and at is not None
    values = view.values
    role = values.get("role") or None
    active = {"active": True, "deactivated": False}.get(values.get("active") or "")
    org = organization or as_uuid(values.get("org"))
    if values.get("org") and org is None:  # an organization filter that names none matches no one
        rows = []
    else:
        cursor = database.execute_sql(
            f"SELECT {_COLUMNS} FROM admin_users(%s, %s, %s, %s, %s, %s, %s, %s)",
            (values.get("q") or None, role, active, org, at[0] if at else None, at[1] if at else None,
             backwards, size + 1))
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    page = Page(view=view, rows=rows, matching=0)
    key = lambda row: token([row["created_at"], row["id"]])  # noqa: E731
    page.next_token = key(rows[-1]) if rows and (more or backwards) else None
    page.prev_token = key(rows[0]) if rows and at is not None and (more or not backwards) else None
    return page


def user(user_id) -> dict | None:
    cursor = database.execute_sql("SELECT * FROM admin_user(%s)", (user_id,))
    row = cursor.fetchone()
    return dict(zip([c[0] for c in cursor.description], row)) if row else None


def user_id_by_email(email: str) -> uuid.UUID | None:
    """The account with this address (citext: case-blind), which an admin may read."""
    return (User.select(User.id).where(User.email == email.strip()).scalar())


def _act(sql: str, params: tuple) -> bool:
    """Run one admin function in a savepoint; its answer (whether anything changed), or Refused."""
    try:
        with database.atomic():
            return bool(database.execute_sql(sql, params).fetchone()[0])
    except DatabaseError as exc:
        raise Refused(refusals.message(exc), refusals.code(exc)) from exc


def set_role(user_id, role: str, reason: str | None) -> bool:
    return _act("SELECT admin_set_role(%s, %s, %s)", (user_id, role, reason))


def set_active(user_id, active: bool, reason: str | None) -> bool:
    return _act("SELECT admin_set_active(%s, %s, %s)", (user_id, active, reason))


def set_organization(user_id, organization, reason: str | None) -> bool:
    return _act("SELECT admin_set_organization(%s, %s, %s)", (user_id, organization, reason))


def set_instructor_flags(user_id, verified: bool, featured: bool, reason: str | None) -> bool:
    return _act("SELECT admin_set_instructor_flags(%s, %s, %s, %s)", (user_id, verified, featured, reason))


# --- organizations ---------------------------------------------------------------------------------------

def organization_choices() -> dict:
    """{id as text: name} of the first organizations by name (the users filter and the user's form)."""
    rows = (Organization.select(Organization.id, Organization.name)
            .order_by(Organization.name, Organization.id).limit(ORG_CHOICES_LIMIT).tuples())
    return {str(org): name for org, name in rows}


def organizations(view: View) -> Page:
    """One page of organizations by name (a name search: their count is small, a scan is fine)."""
    query = Organization.select(Organization.id, Organization.name, Organization.slug, Organization.created_at)
    if view.q:
        query = query.where(fn.lower(Organization.name).contains(view.q.lower()))
    return keyset_page(view, query.dicts(), ((Organization.name, "name"), (Organization.id, "id")),
                       descending=False, matching=0)


def organization(org_id) -> dict | None:
    return (Organization.select(Organization.id, Organization.name, Organization.slug, Organization.created_at)
            .where(Organization.id == org_id).dicts().first())


def slug_for(name: str) -> str:
    """A web address from a name: lower-case letters and digits joined by single hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))[:60].strip("-") or "organization"


def create_organization(name: str, slug: str) -> uuid.UUID:
    try:
        with database.atomic():
            return Organization.insert(name=name, slug=slug).execute()
    except DatabaseError as exc:
        raise Refused(refusals.message(exc), refusals.code(exc)) from exc


def rename_organization(org_id, name: str) -> int:
    try:
        with database.atomic():
            return Organization.update(name=name).where(Organization.id == org_id).execute()
    except DatabaseError as exc:
        raise Refused(refusals.message(exc), refusals.code(exc)) from exc


def is_member(user_id, org_id) -> dict | None:
    """The member (``admin_user``'s row) when ``user_id`` belongs to ``org_id``, else None."""
    row = user(user_id)
    return row if row and row["organization_id"] == org_id else None


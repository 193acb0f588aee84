"""Named queries of the notifications area, under the request's role and claims: a
notice is its recipient's alone (``notifications_own``), and ``read_at`` is the one
column anyone may write."""

from __future__ import annotations

import uuid
from datetime import datetime

from peewee import SQL, fn

from portal.db import database
from portal.listing import Choice, Page, Spec, View, keyset_page
from portal.models import Notification, NotificationEvent, NotificationSettings, InstructorSettings

# The bell says "99+" beyond this: the count reads at most this many rows, however many
# notices an instructor with 100,000 students has piled up.
BELL_LIMIT = 99

LIST = Spec(filters=(Choice("show", "Show", {"unread": "Unread only"}, any_label="All notices", bar=False),),
            page_size=20, keyset=True)
KEYS = ((Notification.created_at, "created_at"), (Notification.id, "id"))


def _mine(user_id):
    return (Notification.user == user_id) & Notification.in_portal


def unread_count(user_id) -> int:
    """Unread notices under the bell, counted up to BELL_LIMIT + 1."""
    bounded = (Notification.select(SQL("1")).where(_mine(user_id) & Notification.read_at.is_null())
               .limit(BELL_LIMIT + 1))
    return Notification.select(fn.count(SQL("*"))).from_(bounded.alias("unread")).scalar()


def _position(values: list | None) -> list | None:
    """A position of this list (a notice's time and id), or None: one that is not (tampered, cut,
    or of another list) starts from the top, as in every list, rather than fail in the database."""
    if values is None or len(values) != len(KEYS):
        return None
    try:
        return [datetime.fromisoformat(values[0]), uuid.UUID(values[1])]
    except (TypeError, ValueError, AttributeError):
        return None


def notices(user_id, view: View) -> Page:
    """One page of the caller's notices, newest first, by position."""
    view.after, view.before = _position(view.after), _position(view.before)
    query = (Notification.select(Notification.id, Notification.event_type, Notification.payload,
                                 Notification.read_at, Notification.created_at)
             .where(_mine(user_id)).dicts())
    if view.show == "unread":
        query = query.where(Notification.read_at.is_null())
    return keyset_page(view, query, KEYS, descending=True, matching=0)


def notice(user_id, notice_id) -> dict | None:
    return (Notification.select(Notification.id, Notification.event_type, Notification.payload,
                                Notification.read_at)
            .where(_mine(user_id) & (Notification.id == notice_id)).dicts().first())


def mark_read(user_id, notice_id=None) -> int:
    """Mark one notice (or every unread one) read; how many changed."""
    query = Notification.update(read_at=fn.now()).where(_mine(user_id) & Notification.read_at.is_null())
    if notice_id is not None:
        query = query.where(Notification.id == notice_id)
    return query.execute()


# --- preferences ------------------------------------------------------------------------------

AUDIENCES = {"instructor": ("instructor", "any"), "student": ("student", "any"),
             "admin": ("admin", "student", "any"), "org_admin": ("student", "any")}


def events_for(role: str) -> list[dict]:
    """The kinds of notice a person of ``role`` may get, in order."""
    return list(NotificationEvent.select().where(NotificationEvent.audience.in_(AUDIENCES[role]))
                .order_by(NotificationEvent.position).dicts())


def event_label(event_type: str) -> str | None:
    return (NotificationEvent.select(NotificationEvent.label)
            .where(NotificationEvent.event_type == event_type).scalar())


def _store(role: str):
    """Where a person's preferences live: instructors' in instructor_settings (010)."""
    return InstructorSettings if role == "instructor" else NotificationSettings


def preferences(user_id, role: str) -> dict:
    """{'email': {...}, 'push': {...}, 'timezone': ...} as stored (absent keys: the defaults)."""
    model = _store(role)
    row = (model.select(model.email_notifications, model.push_notifications, model.timezone)
           .where(model.user == user_id).dicts().first())
    if row is None:
        return {"email": {}, "push": {}, "timezone": "UTC"}
    return {"email": row["email_notifications"], "push": row["push_notifications"], "timezone": row["timezone"]}


def choose(prefs: dict, event: dict, channel: str) -> bool:
    """Whether ``channel`` ('email' or 'push') is on for ``event``: the stored choice, else the default."""
    value = prefs[channel].get(event["event_type"])
    if isinstance(value, bool):
        return value
    return event["email_default"] if channel == "email" else event["in_portal_default"]


def save_preferences(user_id, role: str, email: dict, push: dict, timezone: str | None) -> None:
    """Merge these choices into the stored ones (keys of other events are kept)."""
    model = _store(role)
    changes = {model.email_notifications: model.email_notifications.concat(email),
               model.push_notifications: model.push_notifications.concat(push)}
    if timezone:
        changes[model.timezone] = timezone
    if model is NotificationSettings:
        (NotificationSettings.insert(user=user_id, email_notifications=email, push_notifications=push,
                                     timezone=timezone or "UTC")
         .on_conflict(conflict_target=[NotificationSettings.user], update=changes).execute())
    else:
        InstructorSettings.update(changes).where(InstructorSettings.user == user_id).execute()


def unsubscribe(user_id, role: str, event_type: str) -> None:
    save_preferences(user_id, role, {event_type: False}, {}, None)


def role_of_self() -> str | None:
    """The caller's role (their own account; nobody else's role is readable)."""
    row = database.execute_sql("SELECT role FROM my_account()").fetchone()
    return row[0] if row else None

"""Named queries of the notifications area, under the request's role and claims: a
notice is its recipient's alone (``notifications_own``), and ``read_at`` is the one
column anyone may write. A notice is unread while ``read_at`` is empty and it is newer
than the person's read mark ("mark all as read" moves the mark: one row, 010)."""

from __future__ import annotations

from peewee import SQL, fn

from portal.db import database
from portal.listing import Choice, Page, Spec, View, keyset_page
from portal.models import (InstructorSettings, Notification, NotificationEvent, NotificationReadMark,
                           NotificationSettings)

# The bell says "99+" beyond this: the count reads at most this many rows, however many
# notices an instructor with 100,000 students has piled up.
BELL_LIMIT = 99

LIST = Spec(filters=(Choice("show", "Show", {"unread": "Unread only"}, any_label="All notices", bar=False),),
            page_size=20, keyset=True)
KEYS = ((Notification.created_at, "created_at"), (Notification.id, "id"))


def _mine(user_id):
    return (Notification.user == user_id) & Notification.in_portal


def _read_through(user_id):
    """How far the person has read ("mark all as read"), as one scalar subquery: PostgreSQL
    computes it once per statement."""
    mark = (NotificationReadMark.select(NotificationReadMark.read_through)
            .where(NotificationReadMark.user == user_id))
    return fn.coalesce(mark, SQL("'-infinity'::timestamptz"))


def _unread(user_id):
    return Notification.read_at.is_null() & (Notification.created_at > _read_through(user_id))


def unread_count(user_id) -> int:
    """Unread notices under the bell, counted up to BELL_LIMIT + 1."""
    bounded = (Notification.select(SQL("1")).where(_mine(user_id) & _unread(user_id))
               .limit(BELL_LIMIT + 1))
    return Notification.select(fn.count(SQL("*"))).from_(bounded.alias("unread")).scalar()


def _columns(user_id):
    return (Notification.id, Notification.event_type, Notification.payload, Notification.created_at,
            _unread(user_id).alias("unread"))


def notices(user_id, view: View) -> Page:
    """One page of the caller's notices, newest first, by position."""
    query = Notification.select(*_columns(user_id)).where(_mine(user_id)).dicts()
    if view.show == "unread":
        query = query.where(_unread(user_id))
    return keyset_page(view, query, KEYS, descending=True, matching=0)


def notice(user_id, notice_id) -> dict | None:
    return (Notification.select(*_columns(user_id))
            .where(_mine(user_id) & (Notification.id == notice_id)).dicts().first())


def mark_read(user_id, notice_id) -> None:
    Notification.update(read_at=fn.now()).where(
        _mine(user_id) & (Notification.id == notice_id) & Notification.read_at.is_null()).execute()


def mark_all_read() -> None:
    """Every notice up to now is read: one row (the person's mark), however many there are."""
    database.execute_sql("SELECT mark_all_notifications_read()")


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

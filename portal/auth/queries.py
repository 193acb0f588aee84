"""Named queries of the auth area. They run inside the request's transaction,
so row-level security applies: a user loads only their own row."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import UserMixin
from peewee import JOIN
from portal.db import database
from portal.models import InstructorSettings, User


@dataclass
class CurrentUser(UserMixin):
    """The signed-in user as the session knows them."""
    id: object
    email: str
    full_name: str
    role: str
    organization_id: object
    timezone: str = "UTC"

    def get_id(self) -> str:
        return str(self.id)

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0]


def load_user(user_id) -> CurrentUser | None:
    row = (User.select(User.id, User.email, User.full_name, User.role, User.organization,
                       InstructorSettings.timezone)
           .join(InstructorSettings, on=(InstructorSettings.user == User.id), join_type=JOIN.LEFT_OUTER)
           .where((User.id == user_id) & User.is_active)
           .dicts().first())
    if row is None:
        return None
    return CurrentUser(id=row["id"], email=row["email"], full_name=row["full_name"], role=row["role"],
                       organization_id=row["organization"], timezone=row["timezone"] or "UTC")


def credentials_for(email: str):
    """(user id, argon2 hash) of an active account, or None: through the one
    SECURITY DEFINER function anon may call."""
    cursor = database.execute_sql("SELECT user_id, password_hash FROM credentials_for_sign_in(%s)", (email,))
    return cursor.fetchone()


def sign_in_throttled(email: str, address: str, config) -> bool:
    return database.execute_sql(
        "SELECT sign_in_throttled(%s, %s, %s, %s, make_interval(mins => %s))",
        (email, address, config["SIGN_IN_ACCOUNT_LIMIT"], config["SIGN_IN_ADDRESS_LIMIT"],
         config["SIGN_IN_WINDOW_MINUTES"])).fetchone()[0]


def record_sign_in_failure(email: str, address: str) -> None:
    database.execute_sql("SELECT record_sign_in_failure(%s, %s)", (email, address))


def sign_up(email: str, password_hash: str, full_name: str, role: str):
    """The new user's id; the database adds an instructor's profile and settings."""
    return database.execute_sql("SELECT sign_up(%s, %s, %s, %s::user_role)",
                                (email, password_hash, full_name, role)).fetchone()[0]


def set_own_password_hash(password_hash: str) -> None:
    database.execute_sql("SELECT set_own_password_hash(%s)", (password_hash,))


"""Named queries of the auth area. They run inside the request's transaction,
so row-level security applies: a user loads only their own row."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from flask import session
from flask_login import UserMixin
from portal.db import database


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
    """The signed-in user, from ``my_account()``: the caller's own row, with
    the role and organization that no one reads from ``users`` (007), while the
    session the cookie names is still open on the server (011: a session ended
    there, by signing out anywhere or a new password, stops working even in a
    copied cookie). The request's claims are already this user's."""
    session_id = _session_id()
    if session_id is None:
        return None
    row = database.execute_sql(
        "SELECT id, email, full_name, role, organization_id, timezone FROM my_account() "
        "WHERE session_is_active(%s)", (session_id,)).fetchone()
    if row is None or str(row[0]) != str(user_id):
        return None
    return CurrentUser(id=row[0], email=row[1], full_name=row[2], role=row[3], organization_id=row[4],
                       timezone=row[5] or "UTC")


def _session_id():
    """The server-side session the cookie names (``sid``), if it is a well-formed one."""
    sid = session.get("sid")
    try:
        return str(uuid.UUID(sid)) if isinstance(sid, str) else None
    except ValueError:
        return None


def start_session(user_agent: str, address: str) -> str:
    """A new server-side session for the caller, who has just proved who they are."""
    return str(database.execute_sql("SELECT start_session(%s, %s)", (user_agent, address)).fetchone()[0])


def end_sessions(only=None, keep=None) -> int:
    """End the caller's sessions: one (``only``), or all but ``keep`` (all when None)."""
    return database.execute_sql("SELECT end_sessions(%s, %s)", (only, keep)).fetchone()[0]


def as_sign_in_role(query: str, params: tuple):
    """Run one statement as portal_signin, the only role that reads password
    hashes and sign-in failures and the one only authenticator may become
    (007), then return to the request's own role in the same transaction. What
    hands an account on (a new password or address, confirming one, closing the
    account: 011) runs this way too, once the app checked the password or the
    signed link. Run it in a savepoint when the statement may be refused: the
    rollback of a savepoint restores the role too."""
    previous = database.execute_sql("SELECT current_setting('role')").fetchone()[0]
    database.execute_sql("SELECT set_config('role', 'portal_signin', true)")
    rows = database.execute_sql(query, params).fetchall()
    database.execute_sql("SELECT set_config('role', %s, true)", (previous,))
    return rows


def credentials_for(email: str):
    """(user id, argon2 hash) of an active account, or None."""
    rows = as_sign_in_role("SELECT user_id, password_hash FROM credentials_for_sign_in(%s)", (email,))
    return rows[0] if rows else None


def sign_in_throttled(email: str, address: str, config) -> bool:
    return as_sign_in_role(
        "SELECT sign_in_throttled(%s, %s, %s, %s, make_interval(mins => %s))",
        (email, address, config["SIGN_IN_ACCOUNT_LIMIT"], config["SIGN_IN_ADDRESS_LIMIT"],
         config["SIGN_IN_WINDOW_MINUTES"]))[0][0]


def record_sign_in_failure(email: str, address: str) -> None:
    as_sign_in_role("SELECT record_sign_in_failure(%s, %s)", (email, address))


def sign_up(email: str, password_hash: str, full_name: str, role: str):
    """The new user's id; the database adds an instructor's profile and settings."""
    return database.execute_sql("SELECT sign_up(%s, %s, %s, %s::user_role)",
                                (email, password_hash, full_name, role)).fetchone()[0]


def set_password_hash(user_id, password_hash: str) -> None:
    """A rehash after signing in (the password was just checked)."""
    as_sign_in_role("SELECT set_password_hash(%s, %s)", (str(user_id), password_hash))



def my_role() -> str | None:
    """The caller's role (their own account; nobody else's role is readable), None when the
    caller's account is gone or deactivated."""
    row = database.execute_sql("SELECT role FROM my_account()").fetchone()
    return row[0] if row else None


def confirm_email(user_id, email: str) -> bool:
    """Confirm the person's address, from a link whose signature the app checked (true when it was
    theirs and not yet confirmed; 010, through portal_signin since 011)."""
    return as_sign_in_role("SELECT confirm_email_of(%s, %s)", (str(user_id), email))[0][0]


# --- a forgotten password (011): through portal_signin, the one role that may -----------------

def token_hash(token: str) -> bytes:
    """What the database keeps of a reset token: its SHA-256."""
    return hashlib.sha256(token.encode()).digest()


def request_password_reset(email: str, address: str, config) -> bool:
    """False when this address or this network address asked too often; else true, whether or not
    an account uses the address (the database queues the email when one does)."""
    return as_sign_in_role(
        "SELECT request_password_reset(%s, %s, %s, %s, make_interval(mins => %s))",
        (email, address, config["PASSWORD_RESET_ACCOUNT_LIMIT"], config["PASSWORD_RESET_ADDRESS_LIMIT"],
         config["PASSWORD_RESET_WINDOW_MINUTES"]))[0][0]


def password_reset_target(token: str) -> str | None:
    """The address a reset link may still set a password for, or None."""
    rows = as_sign_in_role("SELECT email FROM password_reset_target(%s)", (token_hash(token),))
    return rows[0][0] if rows else None


def complete_password_reset(token: str, password_hash: str):
    """The account whose password the token set (once), or None for a used, expired or unknown one."""
    return as_sign_in_role("SELECT complete_password_reset(%s, %s)", (token_hash(token), password_hash))[0][0]

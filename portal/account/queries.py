"""Named queries of the account area. Each runs in the request's transaction as the signed-in
person, and each function of 011 acts on the caller's own account only."""

from __future__ import annotations

import json

from ua_parser import parse as ua_parse

# ua-parser compiles its rules on the first parse (~0.1 s): once per process at start, not in
# somebody's request.
ua_parse("Mozilla/5.0")

from portal.auth.queries import as_sign_in_role
from portal.db import database


def details() -> dict:
    row = database.execute_sql("SELECT email, full_name, avatar_url, role FROM my_account()").fetchone()
    return {"email": row[0], "full_name": row[1], "avatar_url": row[2], "role": row[3]}


def pending_email_change() -> dict | None:
    row = database.execute_sql(
        "SELECT new_email, expires_at FROM email_changes "
        "WHERE confirmed_at IS NULL AND cancelled_at IS NULL AND expires_at > now() "
        "ORDER BY created_at DESC LIMIT 1").fetchone()
    return {"new_email": row[0], "expires_at": row[1]} if row else None


# A person has a handful of sessions (each browser they sign in with); the page shows the
# most recently used ones.
SESSIONS_SHOWN = 50


def sessions() -> list[dict]:
    """The caller's open sessions, most recently used first, each with its browser in words."""
    cursor = database.execute_sql(
        "SELECT id, created_at, last_seen_at, user_agent, address FROM user_sessions "
        "WHERE revoked_at IS NULL AND last_seen_at > now() - interval '30 days' "
        "ORDER BY last_seen_at DESC, id LIMIT %s", (SESSIONS_SHOWN,))
    rows = [dict(zip(("id", "created_at", "last_seen_at", "user_agent", "address"), row))
            for row in cursor.fetchall()]
    for row in rows:
        row["browser"] = browser_name(row["user_agent"])
    return rows


def browser_name(user_agent: str | None) -> str:
    """"Firefox on Windows", from a user agent string (ua-parser); "Unknown browser" without one."""
    if not user_agent:
        return "Unknown browser"
    parsed = ua_parse(user_agent)
    family = parsed.user_agent.family if parsed.user_agent else "Unknown browser"
    return f"{family} on {parsed.os.family}" if parsed.os and parsed.os.family != "Other" else family


def save_name(full_name: str, avatar_url: str | None) -> None:
    database.execute_sql(
        "UPDATE users SET full_name = %s, avatar_url = %s WHERE id = (SELECT id FROM my_account())",
        (full_name, avatar_url))


# What hands the account on runs as portal_signin, for the person the app has just checked
# (their password, or the link's signature): the API roles cannot call it (011).

def request_email_change(user_id, new_email: str) -> None:
    as_sign_in_role("SELECT request_email_change(%s, %s)", (str(user_id), new_email))


def cancel_email_change() -> int:
    return database.execute_sql("SELECT cancel_email_change()").fetchone()[0]


def confirm_email_change(user_id, change_id: str) -> str:
    return as_sign_in_role("SELECT confirm_email_change(%s, %s)", (str(user_id), change_id))[0][0]


def change_password(user_id, password_hash: str, keep_session: str | None) -> int:
    """The new password; returns how many other sessions were ended."""
    return as_sign_in_role("SELECT change_password(%s, %s, %s)", (str(user_id), password_hash, keep_session))[0][0]


def export() -> str:
    """Everything the portal holds about the caller, as JSON text."""
    data = database.execute_sql("SELECT export_my_data()").fetchone()[0]
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def deletion_outcome() -> str:
    """'deleted', 'deactivated' or 'refused': what closing the caller's account would do."""
    return database.execute_sql("SELECT account_deletion_outcome()").fetchone()[0]


def delete(user_id) -> str:
    return as_sign_in_role("SELECT delete_account(%s)", (str(user_id),))[0][0]

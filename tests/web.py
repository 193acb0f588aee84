"""The HTTP layer's test harness: an app on the test database and a client
that signs in and carries its CSRF token like a browser."""

from __future__ import annotations

import json
import re

from portal import create_app, db
from tests.support import PASSWORD

SECRET_KEY = "test-secret"  # every test app's (make_app): what signs a test's links and sessions
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def make_app(database, **config):
    settings = {"DATABASE_URL": database.app_dsn, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                "DATABASE_POOL_SIZE": 2}
    settings.update(config)
    return create_app(settings)


def close_app() -> None:
    """Close every pooled connection (so the test database can be dropped)."""
    if db.database.obj is not None:
        db.database.close_all()


def csrf_token(client, path: str = "/sign-in") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, f"no CSRF field on {path}"
    return match.group(1) or match.group(2)


def post(client, path: str, data: dict | None = None, *, csrf: bool = True, token_from: str = "/sign-in",
         **kwargs):
    data = dict(data or {})
    if csrf:
        data["csrf_token"] = csrf_token(client, token_from)
    return client.post(path, data=data, **kwargs)


def sign_in(client, email: str, password: str = PASSWORD, **kwargs):
    response = post(client, "/sign-in", {"email": email, "password": password}, **kwargs)
    assert response.status_code in (303, 204), (response.status_code, response.get_data(as_text=True)[:500])
    return response


def htmx(**extra) -> dict:
    return {"HX-Request": "true", **extra}


def text(response) -> str:
    return response.get_data(as_text=True)


def notified(response) -> dict | None:
    """The message an htmx answer asks the page to show (portal.web.notify): ``{"message", "kind"}``."""
    raw = response.headers.get("HX-Trigger")
    return json.loads(raw).get("notify") if raw and raw.startswith("{") else None


class QueryCounter:
    """Counts the statements the app sends while active (``with QueryCounter() as counted``)."""

    def __enter__(self):
        self.count = 0
        self.target = db.database.obj
        original = self.target.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            self.count += 1
            return original(sql, params, *args, **kwargs)

        self.target.execute_sql = counting
        return self

    def __exit__(self, *exc):
        del self.target.execute_sql


def sign_in_cast(app, database, actors, names: dict) -> tuple[dict, dict]:
    """(clients, users): a client per actor, signed in as a new account of its own ("anon"
    stays signed out; an actor whose name says "student" is a student, the rest instructors)."""
    from tests.support import gen_account
    clients, users = {}, {}
    for actor in actors:
        clients[actor] = app.test_client()
        if actor == "anon":
            continue
        role = "student" if "student" in actor else "instructor"
        users[actor], email = gen_account(database, role, name=names[actor])
        sign_in(clients[actor], email)
    return clients, users


CSRF_VALUES = re.compile(r'("X-CSRFToken": ")[^"]+(")|(name="csrf_token"(?: type="hidden")? value=")[^"]+(")')


def same_but_tokens(page: str) -> str:
    """``page`` with its CSRF tokens blanked: they are signed with the time, so two answers that
    are otherwise the same differ there when a second passes between them."""
    return CSRF_VALUES.sub(lambda m: (m.group(1) or m.group(3)) + "TOKEN" + (m.group(2) or m.group(4)), page)


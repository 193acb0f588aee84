"""Refusal codes (schema/009, portal/refusals.py): every RAISE in the database names its refusal,
every name has the one message users see, and pages never need the database's wording. The cases
only read, or run in a transaction rolled back afterwards, so they share the module's database."""

from __future__ import annotations

import re

import psycopg2
import pytest
from peewee import IntegrityError

from portal import refusals
from tests.support import Actor

SCHEMAS = ["public", "rls", "private"]
RAISE = re.compile(r"\bRAISE\s+EXCEPTION\b", re.IGNORECASE)
CODE = re.compile(r"\bCONSTRAINT\s*=\s*'([a-z0-9_]+)'", re.IGNORECASE)


def _statement(source: str, start: int) -> str:
    """The PL/pgSQL statement starting at ``start``: up to the first ``;`` outside a quoted string."""
    quoted = False
    for i in range(start, len(source)):
        if source[i] == "'":
            quoted = not quoted  # '' (an escaped quote) toggles twice
        elif source[i] == ";" and not quoted:
            return source[start:i]
    return source[start:]


def raises(conn) -> list[tuple[str, str]]:
    """(function, RAISE EXCEPTION statement) for every plpgsql function of the portal's schemas."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT p.oid::regprocedure::text, p.prosrc
            FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE n.nspname = ANY (%s) AND l.lanname = 'plpgsql'""", (SCHEMAS,))
        rows = cur.fetchall()
    return [(name, _statement(source, m.start())) for name, source in rows for m in RAISE.finditer(source)]


def constraint_names(conn) -> set[str]:
    with conn.cursor() as cur:
        cur.execute("""
            SELECT conname FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
            WHERE n.nspname = ANY (%s)
            UNION SELECT indexrelid::regclass::text FROM pg_catalog.pg_index i
            JOIN pg_catalog.pg_class c ON c.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY (%s) AND i.indisunique""", (SCHEMAS, SCHEMAS))
        return {name for (name,) in cur.fetchall()}


def test_every_raise_in_the_database_names_its_refusal(module_database):
    found = raises(module_database.owner)
    assert len(found) >= 45  # the functions and guards of 001-009
    missing = [f"{name}: {statement.strip()[:80]}" for name, statement in found if not CODE.search(statement)]
    assert missing == [], "RAISE EXCEPTION ... USING CONSTRAINT = '<code>' (and a message in portal/refusals.py)"


def test_every_refusal_code_has_a_message(module_database):
    codes = {m.group(1) for _, statement in raises(module_database.owner) for m in CODE.finditer(statement)}
    assert codes - set(refusals.MESSAGES) == set()


def test_every_message_belongs_to_a_refusal_or_a_constraint(module_database):
    codes = {m.group(1) for _, statement in raises(module_database.owner) for m in CODE.finditer(statement)}
    assert set(refusals.MESSAGES) - codes - constraint_names(module_database.owner) == set()


def test_a_refusal_reaches_python_as_its_code_and_message(module_database):
    with pytest.raises(psycopg2.errors.CheckViolation) as raised:
        with module_database.attempt(Actor.anon()) as cur:
            cur.execute("SELECT sign_up('new@example.com', 'not a hash', 'New Person', 'admin')")
    assert refusals.code(raised.value) == "sign_up_role"
    assert refusals.message(raised.value) == "One signs up as a student or as an instructor."
    # Peewee wraps psycopg2's error; the code is found through the wrapper too.
    wrapped = IntegrityError(raised.value)
    assert refusals.code(wrapped) == "sign_up_role"


def test_an_unknown_refusal_gets_its_classs_message_never_the_database_text(module_database):
    with pytest.raises(psycopg2.errors.RaiseException) as raised:
        with module_database.attempt(Actor.anon()) as cur:
            cur.execute("DO $$ BEGIN RAISE EXCEPTION 'internal detail 42'; END $$")
    assert refusals.code(raised.value) is None
    assert "internal detail" not in refusals.message(raised.value)
    assert refusals.message(raised.value) == refusals.BY_CLASS["P0"]
    assert refusals.message(raised.value, "Not saved.") == "Not saved."

"""Rows written straight into tables, built from the models: the demo loader and the tests'
factories use these, so a table's columns are spelled once (in ``portal.models``), not again
in hand-written INSERTs.

The statement is rendered by Peewee and run on the cursor the caller holds: the owner's (the
tests' maintenance path) or a request-like one acting as a user under row-level security (the
demo loader, which builds as each instructor would). Nothing here opens a connection or binds
the models globally, so it is safe beside a running app.
"""

from __future__ import annotations

from peewee import CompositeKey
from playhouse.postgres_ext import PostgresqlExtDatabase

# Renders SQL only (PostgreSQL's quoting and parameters); it never connects.
_SQL = PostgresqlExtDatabase(None)


def _first(row):
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def insert(cur, model, **values):
    """INSERT one ``model`` row (field names as keywords, e.g. ``course=`` for ``course_id``) on
    ``cur``; its primary key (None for a table keyed by several columns)."""
    query = model.insert(**values).bind(_SQL)
    key = model._meta.primary_key
    if isinstance(key, CompositeKey):
        cur.execute(*query.sql())
        return None
    cur.execute(*query.returning(key).sql())
    return _first(cur.fetchone())


def insert_many(cur, model, rows: list[dict], *returning) -> list[tuple]:
    """INSERT ``rows`` of ``model`` in one statement; the ``returning`` fields of each row."""
    cur.execute(*model.insert_many(rows).returning(*returning).bind(_SQL).sql())
    return [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in cur.fetchall()]

"""The SQL side: each helper function and each page's statements, as the app runs
them (``authenticated`` with claims, row-level security applied) against the
same SQL as the owner (who has BYPASSRLS).

The owner's side sets the same claims (``request.jwt.claims``) without
switching role, so ``auth.uid()`` answers as it does for the app and the
helpers' own checks (``can_view_instructor``) pass: the difference between
the two sides is what the policies cost. Every statement runs in its own
transaction, which is rolled back.

The pages' statements are captured, not rewritten: the Flask view runs in
process (test client, signed in as the largest instructor) and Peewee's
query log records every statement it sends. Those exact statements are then
timed on both sides. Where a statement leaves the filtering to row-level
security, the owner sees more rows than the app; the row counts are
reported next to the times so that such a pair is not mistaken for a like
comparison.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import psycopg2
import psycopg2.extras

from portal.bench.timing import interleaved, summary

log = logging.getLogger(__name__)
psycopg2.extras.register_uuid()

SET_CLAIMS = "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)"
SET_CLAIMS_ONLY = "SELECT set_config('request.jwt.claims', %s, true)"


@dataclass
class Sides:
    """One connection as authenticator and one as the owner, acting for ``user_id``."""
    app: object
    owner: object
    user_id: str

    @classmethod
    def open(cls, urls, user_id) -> "Sides":
        return cls(psycopg2.connect(urls.app), psycopg2.connect(urls.owner), str(user_id))

    def claims(self) -> str:
        return json.dumps({"sub": self.user_id, "role": "authenticated"})

    def run(self, side: str, statement: str, params=None) -> tuple[float, int]:
        """(seconds, rows) of ``statement`` on one side, in a transaction that is rolled back."""
        conn = self.app if side == "app" else self.owner
        try:
            with conn.cursor() as cur:
                if side == "app":
                    cur.execute(SET_CLAIMS, ("authenticated", self.claims()))
                else:
                    cur.execute(SET_CLAIMS_ONLY, (self.claims(),))
                started = time.perf_counter()
                cur.execute(statement, params)
                rows = len(cur.fetchall()) if cur.description else cur.rowcount
                return time.perf_counter() - started, rows
        finally:
            conn.rollback()

    def compare(self, statement: str, params=None, rounds: int = 7, budget: float = 120) -> dict:
        """Interleaved medians of the statement on both sides, with their row counts."""
        rows = {}

        def side(name):
            def call():
                seconds, rows[name] = self.run(name, statement, params)
                return seconds
            return call

        result = summary(*interleaved(side("app"), side("owner"), rounds, budget))
        result.update(app_rows=rows.get("app"), owner_rows=rows.get("owner"))
        return result

    def close(self) -> None:
        self.app.close()
        self.owner.close()


def helper_calls(instructor_id, course_id) -> list[tuple[str, str, tuple]]:
    """(label, statement, parameters) of every helper, called as the app calls it."""
    i = str(instructor_id)
    return [
        ("get_instructor_dashboard_stats", "SELECT * FROM get_instructor_dashboard_stats(%s)", (i,)),
        ("get_instructor_student_progress (all courses)",
         "SELECT * FROM get_instructor_student_progress(%s)", (i,)),
        ("get_instructor_student_progress (biggest course)",
         "SELECT * FROM get_instructor_student_progress(%s, %s)", (i, str(course_id))),
        ("get_instructor_revenue_breakdown (last 365 days)",
         "SELECT * FROM get_instructor_revenue_breakdown(%s, now() - interval '365 days', now())", (i,)),
        ("get_instructor_recent_activity (50)", "SELECT * FROM get_instructor_recent_activity(%s, 50)", (i,)),
        ("get_instructor_monthly_stats", "SELECT * FROM get_instructor_monthly_stats(%s)", (i,)),
        ("student_engagement_summary (the instructor's courses)",
         "SELECT * FROM student_engagement_summary WHERE instructor_id = %s", (i,)),
    ]


def measure_helpers(sides: Sides, instructor_id, course_id, rounds: int) -> list[dict]:
    results = []
    for label, statement, params in helper_calls(instructor_id, course_id):
        log.info("helper: %s", label)
        results.append({"name": label, **sides.compare(statement, params, rounds)})
    return results


# --- the pages' statements -------------------------------------------------------------------

class QueryLog(logging.Handler):
    """Collects the (sql, params) pairs Peewee logs at DEBUG."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, object]] = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.statements.append(record.msg)


SKIPPED = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def is_page_statement(sql: str) -> bool:
    """The page's own reads: not the role switch, not transaction control."""
    text = sql.lstrip().upper()
    return not text.startswith(SKIPPED) and "SET_CONFIG('ROLE'" not in text


def capture(client, url: str, headers: dict | None = None) -> tuple[int, list[tuple[str, object]]]:
    """The status and the statements of one GET of ``url`` (with ``headers``) through the Flask test
    client."""
    handler = QueryLog()
    peewee_log = logging.getLogger("peewee")
    previous = peewee_log.level, peewee_log.propagate
    peewee_log.addHandler(handler)
    peewee_log.setLevel(logging.DEBUG)
    peewee_log.propagate = False  # collected here, not printed
    try:
        response = client.get(url, headers=headers or {})
    finally:
        peewee_log.removeHandler(handler)
        peewee_log.setLevel(previous[0])
        peewee_log.propagate = previous[1]
    return response.status_code, [(sql, params) for sql, params in handler.statements if is_page_statement(sql)]


def measure_page(sides: Sides, label: str, statements, rounds: int, budget: float) -> dict:
    """Each statement on both sides; the page's totals are the sums of the statements' medians."""
    rows = []
    for sql, params in statements:
        rows.append({"sql": " ".join(sql.split())[:160], **sides.compare(sql, params, rounds, budget)})
    total_app = sum(r["app_ms"] or 0 for r in rows)
    total_owner = sum(r["owner_ms"] or 0 for r in rows)
    slowest = max(rows, key=lambda r: r["app_ms"] or 0, default=None)
    return {"name": label, "statements": len(rows), "app_ms": round(total_app, 2),
            "owner_ms": round(total_owner, 2),
            "ratio": round(total_app / total_owner, 2) if total_owner else None,
            "rows_differ": sum(1 for r in rows if r["app_rows"] != r["owner_rows"]),
            "slowest": slowest, "detail": rows}

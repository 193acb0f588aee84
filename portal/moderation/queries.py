"""Named queries of the moderation queue, under the request's role and claims (a platform admin).

Everything here is plain SQL that row-level security and the guards allow a platform admin only:
``course_reviews_update`` and ``review_reports_update`` (007) let rls.is_admin() touch any row, and
002's ``guard_course_reviews`` refuses anyone else who changes is_visible or moderation_reason
(it stamps moderated_at/by); 005's ``stamp_review_report`` stamps resolved_by. The rating figures
follow visibility through 008's ``update_course_rating``; 016 tells the author and writes the
audit log. So this module holds no rule of its own: an admin's request runs the statements, and
anyone else's touches nothing.

The queue: reviews with open reports, one row per review (its open reports counted, their
reasons), the oldest open report first, paged by position (first report, review id). Each review
keeps its open reports' count and the oldest one's date (016's open_report_count and
first_open_report_at, kept by review_reports' trigger), so a page is a range of 016's partial index
idx_course_reviews_reported, never a grouping of every open report, and the heading's count a
count of that index; each shown review's reports are read by 016's idx_review_reports_review, at
most ``REPORTS_SHOWN`` per review. The hidden reviews are
paged by the latest decision (016's partial index idx_course_reviews_hidden).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from portal.db import database
from portal.listing import Choice, Page, Spec, View, token, typed_position

STATUSES = {"open": "Reported, open", "hidden": "Hidden",
            "discussion": "Reported comments and questions",      # 022
            "discussion_hidden": "Hidden comments and questions"}
LIST = Spec(filters=(Choice("status", "Show", STATUSES, default="open", any_label=""),),
            page_size=20, keyset=True)
REPORTS_SHOWN = 20
REASONS = {"spam": "Spam", "offensive": "Offensive", "off_topic": "Off topic",
           "not_a_review": "Not a review", "other": "Other"}

_REVIEW = """
    r.id, r.course_id, c.title AS course_title, c.slug AS course_slug, r.rating, r.title, r.review_text,
    r.instructor_response, r.instructor_responded_at, r.is_visible, r.moderation_reason, r.moderated_at,
    r.created_at, u.full_name AS author, u.email::text AS author_email, t.full_name AS instructor
"""
_JOINS = """
    JOIN public.courses c ON c.id = r.course_id
    LEFT JOIN public.users u ON u.id = r.user_id
    LEFT JOIN public.users t ON t.id = c.instructor_id
"""

OPEN = f"""
    SELECT {_REVIEW}, r.first_open_report_at AS at, r.open_report_count AS reports,
           (SELECT coalesce(array_agg(DISTINCT x.reason::text ORDER BY x.reason::text), '{{{{}}}}')
            FROM public.review_reports x WHERE x.review_id = r.id AND x.resolved_at IS NULL) AS reasons
    FROM public.course_reviews r
    {_JOINS}
    WHERE r.open_report_count > 0
      AND (%(at)s::timestamptz IS NULL
           OR (r.first_open_report_at, r.id) {{op}} (%(at)s::timestamptz, %(id)s::uuid))
    ORDER BY r.first_open_report_at {{dir}}, r.id {{dir}}
    LIMIT %(limit)s
"""

HIDDEN = f"""
    SELECT {_REVIEW}, r.moderated_at AS at, r.open_report_count AS reports,
           '{{{{}}}}'::text[] AS reasons
    FROM public.course_reviews r
    {_JOINS}
    WHERE NOT r.is_visible AND r.moderated_at IS NOT NULL
      AND (%(at)s::timestamptz IS NULL OR (r.moderated_at, r.id) {{op}} (%(at)s::timestamptz, %(id)s::uuid))
    ORDER BY r.moderated_at {{dir}}, r.id {{dir}}
    LIMIT %(limit)s
"""

ONE = f"""
    SELECT {_REVIEW}, NULL::timestamptz AS at, r.open_report_count AS reports,
           (SELECT coalesce(array_agg(DISTINCT x.reason::text ORDER BY x.reason::text), '{{}}')
            FROM public.review_reports x WHERE x.review_id = r.id AND x.resolved_at IS NULL) AS reasons
    FROM public.course_reviews r
    {_JOINS}
    WHERE r.id = %(id)s
"""

REPORTS = """
    SELECT x.review_id, x.id, x.reason::text AS reason, x.details, x.created_at, x.resolved_at,
           u.full_name AS reporter
    FROM unnest(%(ids)s::uuid[]) AS shown(id)
    CROSS JOIN LATERAL (SELECT * FROM public.review_reports rr WHERE rr.review_id = shown.id
                        ORDER BY rr.resolved_at IS NOT NULL, rr.created_at DESC LIMIT %(limit)s) x
    LEFT JOIN public.users u ON u.id = x.reporter_id
"""

# The reviews with open reports, for the heading (a count of 016's partial index).
OPEN_COUNT = "SELECT count(*)::integer FROM public.course_reviews WHERE open_report_count > 0"


def _dicts(sql: str, params: dict) -> list[dict]:
    cursor = database.execute_sql(sql, params)
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _position(values) -> tuple[datetime, uuid.UUID] | None:
    """A page position (time, review id) from the query string; None for anything else."""
    if not isinstance(values, list) or len(values) != 2 or not all(isinstance(v, str) for v in values):
        return None
    try:
        at = datetime.fromisoformat(values[0])
        if at.utcoffset() is None:
            return None
        return at, uuid.UUID(values[1])
    except ValueError:
        return None


def queue(view: View) -> Page:
    """One page of the queue (open reports, oldest first; or hidden reviews, latest decision first),
    by position both ways, each review with its reports."""
    if view.status in ("discussion", "discussion_hidden"):
        return discussion_queue(view)
    size = view.spec.page_size
    at = _position(view.after or view.before)
    backwards = view.before is not None and at is not None
    ascending = view.status == "open"
    down = (not ascending) != backwards
    sql = (OPEN if ascending else HIDDEN).format(op="<" if down else ">", dir="DESC" if down else "ASC")
    rows = _dicts(sql, {"at": at[0] if at else None, "id": at[1] if at else None, "limit": size + 1})
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    attach_reports(rows)
    page = Page(view=view, rows=rows, matching=0)
    key = lambda row: token([row["at"], row["id"]])  # noqa: E731
    page.next_token = key(rows[-1]) if rows and (more or backwards) else None
    page.prev_token = key(rows[0]) if rows and at is not None and (more or not backwards) else None
    return page


def attach_reports(rows: list[dict]) -> None:
    """Each row's reports (open ones first, newest first; at most REPORTS_SHOWN), as ``row["report_list"]``."""
    by_review = {row["id"]: row for row in rows}
    for row in rows:
        row["report_list"] = []
    if not rows:
        return
    for report in _dicts(REPORTS, {"ids": list(by_review), "limit": REPORTS_SHOWN}):
        by_review[report["review_id"]]["report_list"].append(report)


def review(review_id) -> dict | None:
    """One review in context, with its reports (None when the caller may not read it)."""
    rows = _dicts(ONE, {"id": review_id})
    attach_reports(rows)
    return rows[0] if rows else None


def open_count() -> int:
    return database.execute_sql(OPEN_COUNT).fetchone()[0]


def hide(review_id, reason: str) -> int:
    """Hide a visible review with ``reason`` and resolve its open reports: the rows touched (0 when
    it is hidden already, or the caller is no platform admin: the policy filters the row out)."""
    touched = database.execute_sql(
        "UPDATE public.course_reviews SET is_visible = false, moderation_reason = %s "
        "WHERE id = %s AND is_visible", (reason, review_id)).rowcount
    if touched:
        resolve_reports(review_id)
    return touched


def restore(review_id, reason: str) -> int:
    """Show a hidden review again, with ``reason``: the rows touched."""
    return database.execute_sql(
        "UPDATE public.course_reviews SET is_visible = true, moderation_reason = %s "
        "WHERE id = %s AND NOT is_visible", (reason, review_id)).rowcount


def reopen_reports(review_id) -> int:
    """Undo a dismissal: reopen the reports resolved last (one decision resolves them in one
    statement, so they share its time) of a review still visible: how many."""
    return database.execute_sql(
        "UPDATE public.review_reports SET resolved_at = NULL "
        "WHERE review_id = %(id)s AND resolved_at = (SELECT max(resolved_at) FROM public.review_reports "
        "                                            WHERE review_id = %(id)s) "
        "AND (SELECT is_visible FROM public.course_reviews WHERE id = %(id)s)", {"id": review_id}).rowcount


def resolve_reports(review_id) -> int:
    """Resolve the review's open reports (stamp_review_report stamps who): how many."""
    return database.execute_sql(
        "UPDATE public.review_reports SET resolved_at = now() WHERE review_id = %s AND resolved_at IS NULL",
        (review_id,)).rowcount


# --- 022: reported lesson comments and course questions ------------------------------------------
# Each keeps its open reports' count and the oldest one's date (022's track_discussion_reports), so a
# page is a range of the two partial indexes idx_lesson_comments_reported and
# idx_course_questions_reported, merged by (first open report, id), oldest first. Hiding needs no
# reason (the author is not told: no notice exists for it yet); it resolves the open reports, as
# dismissing does without hiding.

POST_KINDS = {"comment": "lesson_comments", "question": "course_questions", "answer": "question_answers"}
_REPORT_COLUMN = {"comment": "comment_id", "question": "question_id", "answer": "answer_id"}

# One branch per kind of post: (kind, table, its title, its lesson's title, the joins they need).
_POST_BRANCHES = (
    ("comment", "lesson_comments", "NULL::text", "l.title",
     "LEFT JOIN public.course_lessons l ON l.id = x.lesson_id"),
    ("question", "course_questions", "x.title", "l.title",
     "LEFT JOIN public.course_lessons l ON l.id = x.lesson_id"),
    ("answer", "question_answers", "q.title", "NULL::text",
     "JOIN public.course_questions q ON q.id = x.question_id"),
)


def _posts_sql(condition: str, key: str, down: bool) -> str:
    """A page of posts of every kind that meet ``condition``, by (``key``, id) from a position (each
    kind's first rows from its own partial index, then merged)."""
    op, way = ("<", "DESC") if down else (">", "ASC")
    branches = "\n        UNION ALL\n".join(f"""
        (SELECT '{kind}' AS kind, x.id, x.{key} AS at, x.open_report_count AS reports, {title} AS title, x.body,
                x.is_visible, x.created_at, x.course_id, c.title AS course_title, {lesson} AS lesson_title,
                u.full_name AS author
         FROM public.{table} x
         {join}
         JOIN public.courses c ON c.id = x.course_id
         LEFT JOIN public.users u ON u.id = x.author_id
         WHERE {condition}
           AND (%(at)s::timestamptz IS NULL OR (x.{key}, x.id) {op} (%(at)s::timestamptz, %(id)s::uuid))
         ORDER BY x.{key} {way}, x.id {way} LIMIT %(limit)s)""" for kind, table, title, lesson, join in _POST_BRANCHES)
    return f"SELECT * FROM ({branches}\n    ) posts\n    ORDER BY at {way}, id {way} LIMIT %(limit)s"


DISCUSSION_REPORTS = """
    SELECT coalesce(x.comment_id, x.question_id, x.answer_id) AS post_id, x.reason::text AS reason, x.details, x.created_at,
           x.resolved_at, u.full_name AS reporter
    FROM public.discussion_reports x LEFT JOIN public.users u ON u.id = x.reporter_id
    WHERE (x.comment_id = ANY (%(ids)s::uuid[]) OR x.question_id = ANY (%(ids)s::uuid[])
           OR x.answer_id = ANY (%(ids)s::uuid[])) AND x.resolved_at IS NULL
    ORDER BY x.created_at DESC LIMIT 500
"""


def discussion_queue(view: View) -> Page:
    """One page of reported comments and questions, the oldest open report first (or of hidden ones,
    newest first), by position."""
    size = view.spec.page_size
    at = _position(view.after or view.before)
    backwards = view.before is not None and at is not None
    if view.status == "discussion_hidden":
        sql = _posts_sql("NOT x.is_visible", "created_at", down=not backwards)
    else:
        sql = _posts_sql("x.open_report_count > 0", "first_open_report_at", down=backwards)
    rows = _dicts(sql, {"at": at[0] if at else None, "id": at[1] if at else None, "limit": size + 1})
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        row["report_list"] = []
    if rows:
        for report in _dicts(DISCUSSION_REPORTS, {"ids": list(by_id)}):
            by_id[report["post_id"]]["report_list"].append(report)
    page = Page(view=view, rows=rows, matching=0)
    key = lambda row: token([row["at"], row["id"]])  # noqa: E731
    page.next_token = key(rows[-1]) if rows and (more or backwards) else None
    page.prev_token = key(rows[0]) if rows and at is not None and (more or not backwards) else None
    return page


def discussion_open_count() -> int:
    return database.execute_sql(
        "SELECT (SELECT count(*) FROM public.lesson_comments WHERE open_report_count > 0)"
        " + (SELECT count(*) FROM public.course_questions WHERE open_report_count > 0)"
        " + (SELECT count(*) FROM public.question_answers WHERE open_report_count > 0)").fetchone()[0]


def post_exists(kind: str, post_id) -> bool:
    return database.execute_sql(f"SELECT 1 FROM public.{POST_KINDS[kind]} WHERE id = %s",
                                (post_id,)).fetchone() is not None


def resolve_post_reports(kind: str, post_id) -> int:
    return database.execute_sql(
        f"UPDATE public.discussion_reports SET resolved_at = now() "
        f"WHERE {_REPORT_COLUMN[kind]} = %s AND resolved_at IS NULL", (post_id,)).rowcount


def restore_post(kind: str, post_id) -> int:
    """Show a hidden comment or question again: the rows touched."""
    return database.execute_sql(f"UPDATE public.{POST_KINDS[kind]} SET is_visible = true "
                                "WHERE id = %s AND NOT is_visible", (post_id,)).rowcount


def hide_post(kind: str, post_id) -> int:
    """Hide a comment or a question and resolve its open reports: the rows touched."""
    touched = database.execute_sql(f"UPDATE public.{POST_KINDS[kind]} SET is_visible = false "
                                   "WHERE id = %s AND is_visible", (post_id,)).rowcount
    resolve_post_reports(kind, post_id)
    return touched

"""Named queries of the revenue pages, under the request's role and claims.

Every figure comes from ``revenue_transactions``: the period's figures, by source and by item
through 020's ``revenue_period_sums`` (the kept ``revenue_totals`` for the period's whole UTC months and
days, the rows themselves for its edges), the payouts page's waiting sums from ``revenue_totals``, the
chart from the nightly ``instructor_monthly_stats``; and row-level
security decides the rows; the pages also narrow to the caller's revenue scope explicitly
(``SCOPE``: their own sales, and the courses they co-teach with view_revenue), so a platform
admin's or an organization admin's wider read never leaks into "my revenue", and so the planner
reads the instructor's own index ((instructor_id, transaction_date, id), 020) in the page's order.
Money stays Decimal end to end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from peewee import JOIN, SQL, Select, Value, fn

from portal.db import database
from portal.formatting import viewer_zone
from portal.listing import Choice, Page, Spec, View, keyset_page, stream, token, typed_position
from portal.models import Course, Payout, RevenueTransaction as R, User, Workshop

# --- periods --------------------------------------------------------------------------------------

PERIODS = {"month": "This month", "30d": "Last 30 days", "quarter": "This quarter", "year": "This year",
           "custom": "Custom dates"}
CUSTOM_MAX_DAYS = 3700
FIRST_YEAR, LAST_YEAR = 2000, 2100   # custom dates: the period before one stays a real date


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime   # inclusive, in the viewer's zone
    end: datetime     # exclusive
    label: str

    @property
    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        length = self.end - self.start
        return Period(self.key, self.start - length, self.start, _days(length))

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(seconds=1)).date()


def _days(length: timedelta) -> str:
    days = round(length.total_seconds() / 86400)
    return f"{days} day{'s' if days != 1 else ''}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=viewer_zone())


def _parse_day(raw) -> date | None:
    """A day written YYYY-MM-DD (all of it: nothing after the date)."""
    text = str(raw or "").strip()
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def period_from(args, today: date | None = None) -> tuple[Period, dict]:
    """The period a query string asks for, and errors by field (custom dates only); a period
    that is not one is this month."""
    today = today or datetime.now(viewer_zone()).date()
    key = args.get("period") if args.get("period") in PERIODS else "month"
    errors = {}
    if key == "custom":
        first, last = _parse_day(args.get("from")), _parse_day(args.get("to"))
        if first is None:
            errors["from"] = "Enter the first day as a date."
        elif not FIRST_YEAR <= first.year <= LAST_YEAR:
            errors["from"] = f"Choose a day from {FIRST_YEAR} to {LAST_YEAR}."
            first = None
        if last is None:
            errors["to"] = "Enter the last day as a date."
        elif not FIRST_YEAR <= last.year <= LAST_YEAR:
            errors["to"] = f"Choose a day from {FIRST_YEAR} to {LAST_YEAR}."
            last = None
        if first and last and last < first:
            errors["to"] = "The last day is on or after the first."
        if first and last and (last - first).days > CUSTOM_MAX_DAYS:
            errors["to"] = "Choose at most ten years."
        if not errors:
            return Period("custom", _midnight(first), _midnight(last + timedelta(days=1)),
                          f"{first:%d %b %Y} to {last:%d %b %Y}"), errors
        key = "month"
    if key == "30d":
        end = _midnight(today + timedelta(days=1))
        return Period(key, end - timedelta(days=30), end, PERIODS[key]), errors
    if key == "quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        nxt = date(first.year + (first.month + 3 > 12), (first.month + 2) % 12 + 1, 1)
        return Period(key, _midnight(first), _midnight(nxt), PERIODS[key]), errors
    if key == "year":
        return Period(key, _midnight(date(today.year, 1, 1)), _midnight(date(today.year + 1, 1, 1)),
                      PERIODS[key]), errors
    first = today.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return Period("month", _midnight(first), _midnight(nxt), PERIODS["month"]), errors


# --- scope ------------------------------------------------------------------------------------------

def _scope():
    """The caller's revenue: their own sales, and their view_revenue courses' rows."""
    return (R.instructor == SQL("(SELECT rls.uid())")) | \
        (R.course == fn.ANY(SQL("(SELECT rls.course_ids('{view_revenue}'))::uuid[]")))


def items() -> dict:
    """The courses and workshops whose revenue the caller sees (the item filter's choices):
    "course:<id>" / "workshop:<id>" -> title."""
    cursor = database.execute_sql(
        """SELECT 'course:' || c.id, c.title FROM courses c
           WHERE c.id = ANY ((SELECT rls.course_ids('{view_revenue}'))::uuid[])
           UNION ALL
           SELECT 'workshop:' || w.id, w.title FROM workshops w WHERE w.instructor_id = (SELECT rls.uid())
           ORDER BY 2, 1""")
    return {key: title for key, title in cursor.fetchall()}


def item_ids(item: str) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    kind, _, raw = (item or "").partition(":")
    try:
        value = uuid.UUID(raw)
    except ValueError:
        return None, None
    return (value, None) if kind == "course" else (None, value) if kind == "workshop" else (None, None)


# --- the overview -------------------------------------------------------------------------------------

FIGURES = (("gross", "Gross sales"), ("refunds", "Refunds"), ("platform_fees", "Platform fees"),
           ("earnings", "Your earnings"), ("pending_payout", "Pending payout"), ("paid_out", "Paid out"))


def figures(period: Period, course_id=None, workshop_id=None) -> dict:
    cursor = database.execute_sql(
        "SELECT sales, gross, refunds, platform_fees, earnings, pending_payout, paid_out "
        "FROM revenue_period_figures(%s, %s, %s, %s)", (period.start, period.end, course_id, workshop_id))
    names = ("sales", "gross", "refunds", "platform_fees", "earnings", "pending_payout", "paid_out")
    return dict(zip(names, cursor.fetchone()))


SOURCES = {"course_enrollment": "Course enrollments", "workshop_registration": "Workshop registrations",
           "refund": "Refunds"}


def breakdown(period: Period) -> list[dict]:
    """By source, in the cards' scope (the caller's own sales and their view_revenue courses'
    rows, completed, in the period): the rows of each source sum to the cards' figures. Read
    from the kept days and the period's edges (020's revenue_period_sums)."""
    cursor = database.execute_sql(
        """SELECT s.transaction_type, sum(s.line_count)::bigint, sum(s.amount), sum(s.fees), sum(s.earnings)
           FROM revenue_period_sums(%s, %s) s
           GROUP BY s.transaction_type ORDER BY s.transaction_type""", (period.start, period.end))
    return [dict(source=SOURCES[t], kind=t, count=n, amount=a, fees=f, earnings=e)
            for t, n, a, f, e in cursor.fetchall()]


ITEM_SORTS = {"earnings": "Earnings, highest first", "gross": "Gross sales, highest first",
              "refunds": "Refunds, highest first", "title": "Title, A to Z"}
_ITEM_ORDER = {"earnings": "earnings DESC, title", "gross": "gross DESC, title",
               "refunds": "refunds DESC, title", "title": "title, earnings DESC"}


def by_item(period: Period, sort: str) -> list[dict]:
    """The period's figures by course or workshop (the caller's scope), sorted."""
    order = _ITEM_ORDER.get(sort, _ITEM_ORDER["earnings"])
    cursor = database.execute_sql(
        f"""SELECT q.course_id, q.workshop_id, coalesce(c.title, w.title, 'Removed') AS title, q.sales, q.gross,
                   q.refunds, q.fees, q.earnings
            FROM (SELECT s.course_id, s.workshop_id,
                         coalesce(sum(s.line_count) FILTER (WHERE s.transaction_type <> 'refund'), 0)::bigint AS sales,
                         coalesce(sum(s.amount) FILTER (WHERE s.transaction_type <> 'refund'), 0) AS gross,
                         coalesce(-sum(s.amount) FILTER (WHERE s.transaction_type = 'refund'), 0) AS refunds,
                         sum(s.fees) AS fees, sum(s.earnings) AS earnings
                  FROM revenue_period_sums(%s, %s) s
                  GROUP BY s.course_id, s.workshop_id) q
            LEFT JOIN courses c ON c.id = q.course_id
            LEFT JOIN workshops w ON w.id = q.workshop_id
            ORDER BY {order}""", (period.start, period.end))
    names = ("course_id", "workshop_id", "title", "sales", "gross", "refunds", "fees", "earnings")
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def months(user_id) -> list[dict]:
    """The last 12 months of the nightly statistics (oldest first), for the chart and its table."""
    cursor = database.execute_sql(
        "SELECT month, gross_revenue, platform_fees, net_revenue, transaction_count "
        "FROM get_instructor_monthly_stats(%s) WHERE month >= date_trunc('month', now()) - interval '11 months' "
        "ORDER BY month", (user_id,))
    return [dict(month=m, gross=g or 0, fees=f or 0, net=n or 0, transactions=t or 0)
            for m, g, f, n, t in cursor.fetchall()]


# --- transactions ----------------------------------------------------------------------------------

KINDS = {"sale": "Sales", "refunded": "Refunded sales", "kept": "Sales not refunded", "refund": "Refunds"}
PAYOUTS = {"unpaid": "Not yet in a payout", "scheduled": "In a scheduled payout", "paid": "Paid out"}
TRANSACTIONS = Spec(filters=(Choice("period", "Period", {**PERIODS, "all": "All time"}, default="month",
                                    any_label=""),
                             Choice("item", "Course or workshop", open=True, any_label="All", max_length=50),
                             Choice("kind", "Type or status", KINDS, any_label="Sales and refunds"),
                             Choice("payout", "Payout", PAYOUTS, any_label="Any")),
                    page_size=25, keyset=True)
KEYS = ((R.transaction_date, "transaction_date"), (R.id, "id"))
STUDENT = User.alias("student")


def _transactions(view: View, period: Period | None):
    course_id, workshop_id = item_ids(view.item)
    query = (R.select(R.id, R.transaction_date, R.transaction_type, R.amount, R.currency, R.platform_fee_amount,
                      R.instructor_earnings, R.payout_status, R.payout_date, R.payout.alias("payout_id"),
                      R.refund_of.alias("refund_of_id"), R.course.alias("course_id"),
                      R.workshop.alias("workshop_id"), R.instructor.alias("instructor_id"),
                      fn.coalesce(Course.title, Workshop.title).alias("item_title"),
                      STUDENT.full_name.alias("student_name"), R.metadata)
             .join(Course, JOIN.LEFT_OUTER, on=(Course.id == R.course))
             .switch(R).join(Workshop, JOIN.LEFT_OUTER, on=(Workshop.id == R.workshop))
             .switch(R).join(STUDENT, JOIN.LEFT_OUTER, on=(STUDENT.id == R.student))
             .where(R.payment_status == "completed"))
    if course_id:
        # The scope, for one course: all its rows when it is one of the caller's view_revenue
        # courses (decided once per statement), else their own rows of it; so the planner reads
        # the course's own index ((course_id, transaction_date, id), 020) in the page's order.
        query = query.where((Value(course_id) == fn.ANY(SQL("(SELECT rls.course_ids('{view_revenue}'))::uuid[]")))
                            | (R.instructor == SQL("(SELECT rls.uid())")))
    else:
        query = query.where(_scope())
    if period is not None:
        query = query.where(R.transaction_date >= period.start, R.transaction_date < period.end)
    if view.item:
        query = query.where(R.course == course_id if course_id else
                            R.workshop == workshop_id if workshop_id else SQL("false"))
    if view.kind == "sale":
        query = query.where(R.transaction_type != "refund")
    elif view.kind == "refund":
        query = query.where(R.transaction_type == "refund")
    elif view.kind in ("refunded", "kept"):
        REFUNDS = R.alias("refunds")
        refunded = fn.EXISTS(REFUNDS.select(SQL("1")).where(REFUNDS.refund_of == R.id))
        query = query.where(R.transaction_type != "refund", refunded if view.kind == "refunded" else ~refunded)
    if view.payout == "unpaid":
        query = query.where(R.payout.is_null(), R.payout_status == "pending")
    elif view.payout == "scheduled":
        query = query.where(R.payout.is_null(False), R.payout_status == "pending")
    elif view.payout == "paid":
        query = query.where(R.payout_status == "paid")
    return query


def transactions(view: View, period: Period | None) -> Page:
    return keyset_page(view, _transactions(view, period).dicts(), KEYS, descending=True, matching=0)


CSV_HEADER = ("Date (UTC)", "Transaction", "Type", "Course or workshop", "Student", "Amount", "Currency",
              "Platform fee", "Your earnings", "Payout status", "Payout", "Refund of", "Reason")
TYPE_LABELS = {"course_enrollment": "Course sale", "workshop_registration": "Workshop sale", "refund": "Refund"}


def payout_label(row) -> str:
    if row["payout_status"] == "paid":
        return "Paid"
    if row["payout_status"] == "on_hold":
        return "On hold"
    return "Scheduled" if row["payout_id"] else "Pending"


def transaction_rows(view: View, period: Period | None):
    """Every row of the filtered list, oldest first, through one server-side cursor."""
    query = _transactions(view, period).order_by(R.transaction_date, R.id).dicts()
    for row in stream(query):
        yield (row["transaction_date"].isoformat(), row["id"], TYPE_LABELS[row["transaction_type"]],
               row["item_title"], row["student_name"], row["amount"], row["currency"], row["platform_fee_amount"],
               row["instructor_earnings"], payout_label(row), row["payout_id"], row["refund_of_id"],
               (row["metadata"] or {}).get("reason"))


def transaction(transaction_id) -> dict | None:
    """One row of the caller's revenue (None when it is not theirs to see), with its refund."""
    row = (_transactions(TRANSACTIONS.read({"period": "all"}), None)
           .where(R.id == transaction_id).dicts().first())
    if row is None:
        return None
    return _with_refunds(row)


def _with_refunds(row: dict) -> dict:
    """The sale's refunds (a sale may have several, never past what was paid), what they sum to,
    and what is left to refund."""
    row["refunds"] = list(R.select(R.id, R.amount, R.transaction_date, R.metadata)
                          .where(R.refund_of == row["id"]).order_by(R.transaction_date, R.id).dicts())
    row["refunded"] = -sum((r["amount"] for r in row["refunds"]), Decimal(0))
    row["left"] = row["amount"] - row["refunded"] if row["transaction_type"] != "refund" else Decimal(0)
    return row


def refund_window() -> timedelta:
    return database.execute_sql("SELECT refund_window()").fetchone()[0]


def refund_my_sale(transaction_id, reason: str):
    return database.execute_sql("SELECT refund_my_sale(%s, %s)", (transaction_id, reason)).fetchone()[0]


# --- payouts (the instructor's) --------------------------------------------------------------------------

PAYOUT_LIST = Spec(page_size=20, keyset=True)
PAYOUT_KEYS = ((Payout.created_at, "created_at"), (Payout.id, "id"))
PAYOUT_ROWS = Spec(page_size=50, keyset=True)
PAYOUT_ROW_KEYS = ((R.transaction_date, "transaction_date"), (R.id, "id"))


def payout_summary(user_id) -> dict:
    """What waits (not in a payout, eligible or still in the refund window), what is scheduled
    (and when), what was paid, and the next payout day by the instructor's schedule."""
    # From the kept sums (020's revenue_totals), the months and days with rows not yet in a batch:
    # waiting, every month's; eligible, the whole UTC months before the cutoff's, that month's
    # whole days before the cutoff's day, and that day's rows before the cutoff.
    cursor = database.execute_sql(
        """WITH cut AS (SELECT c.at, (c.at AT TIME ZONE 'UTC')::date AS day,
                               date_trunc('month', (c.at AT TIME ZONE 'UTC')::date)::date AS month
                        FROM (SELECT now() - refund_window() AS at) c)
           SELECT coalesce(sum(t.unbatched_earnings) FILTER (WHERE t.grain = 'month'), 0),
                  coalesce(sum(t.unbatched_earnings)
                           FILTER (WHERE t.grain = 'month' AND t.day < (SELECT month FROM cut)
                                   OR t.grain = 'day' AND t.day >= (SELECT month FROM cut)
                                      AND t.day < (SELECT day FROM cut)), 0)
                  + (SELECT coalesce(sum(r.instructor_earnings), 0) FROM revenue_transactions r
                     WHERE r.instructor_id = %s AND r.payout_id IS NULL AND r.payout_status = 'pending'
                       AND r.payment_status = 'completed'
                       AND r.transaction_date >= (SELECT day FROM cut)::timestamp AT TIME ZONE 'UTC'
                       AND r.transaction_date < (SELECT at FROM cut))
           FROM revenue_totals t
           WHERE t.instructor_id = %s AND t.unbatched_lines <> 0
             AND (t.grain = 'month' OR t.day >= (SELECT month FROM cut))""", (user_id, user_id))
    waiting, eligible = cursor.fetchone()
    cursor = database.execute_sql(
        """SELECT coalesce(sum(total_amount) FILTER (WHERE status = 'scheduled'), 0),
                  min(scheduled_for) FILTER (WHERE status = 'scheduled'),
                  coalesce(sum(total_amount) FILTER (WHERE status = 'paid'), 0)
           FROM payouts WHERE instructor_id = %s""", (user_id,))
    scheduled, scheduled_for, paid = cursor.fetchone()
    cursor = database.execute_sql(
        """SELECT s.payout_schedule, next_payout_date(coalesce(s.payout_schedule, 'monthly'), current_date)
           FROM (SELECT 1) one LEFT JOIN instructor_settings s ON s.user_id = %s""", (user_id,))
    schedule, next_date = cursor.fetchone()
    return dict(waiting=waiting, eligible=eligible, scheduled=scheduled, paid=paid,
                next_date=scheduled_for or next_date, schedule=schedule or "monthly")


def payouts(view: View, instructor_id=None) -> Page:
    query = (Payout.select(Payout, User.full_name.alias("instructor_name"))
             .join(User, JOIN.LEFT_OUTER, on=(User.id == Payout.instructor)))
    if instructor_id is not None:
        query = query.where(Payout.instructor == instructor_id)
    return keyset_page(view, query.dicts(), PAYOUT_KEYS, descending=True, matching=0)


def payout(payout_id) -> dict | None:
    return (Payout.select(Payout, User.full_name.alias("instructor_name"))
            .join(User, JOIN.LEFT_OUTER, on=(User.id == Payout.instructor))
            .where(Payout.id == payout_id).dicts().first())


def _payout_rows(payout_id):
    return (R.select(R.id, R.transaction_date, R.transaction_type, R.amount, R.currency, R.platform_fee_amount,
                     R.instructor_earnings, R.refund_of.alias("refund_of_id"),
                     fn.coalesce(Course.title, Workshop.title).alias("item_title"))
            .join(Course, JOIN.LEFT_OUTER, on=(Course.id == R.course))
            .switch(R).join(Workshop, JOIN.LEFT_OUTER, on=(Workshop.id == R.workshop))
            .where(R.payout == payout_id))


def payout_rows(view: View, payout_id) -> Page:
    return keyset_page(view, _payout_rows(payout_id).dicts(), PAYOUT_ROW_KEYS, descending=False, matching=0)


STATEMENT_HEADER = ("Date (UTC)", "Transaction", "Type", "Course or workshop", "Amount", "Currency",
                    "Platform fee", "Earnings", "Refund of")


def statement_rows(payout_id):
    for row in stream(_payout_rows(payout_id).order_by(R.transaction_date, R.id).dicts()):
        yield (row["transaction_date"].isoformat(), row["id"], TYPE_LABELS[row["transaction_type"]],
               row["item_title"], row["amount"], row["currency"], row["platform_fee_amount"],
               row["instructor_earnings"], row["refund_of_id"])


# --- the admin's payouts and refunds --------------------------------------------------------------------

def payouts_due() -> list[dict]:
    """Instructors with earnings not yet in a payout, by currency: what a payout would take now
    (past the refund window), whether their schedule makes one due, and whether one is scheduled."""
    cursor = database.execute_sql(
        """SELECT q.instructor_id, u.full_name, q.currency, coalesce(s.payout_schedule, 'monthly'),
                  q.eligible, q.waiting, q.lines, last.paid_at,
                  last.paid_at IS NULL OR last.paid_at::date < current_date - CASE coalesce(s.payout_schedule, 'monthly')
                      WHEN 'weekly' THEN 7 WHEN 'biweekly' THEN 14 ELSE 28 END AS due,
                  EXISTS (SELECT 1 FROM payouts p WHERE p.instructor_id = q.instructor_id
                          AND p.currency = q.currency AND p.status = 'scheduled') AS scheduled
           FROM (SELECT instructor_id, currency,
                        coalesce(sum(instructor_earnings) FILTER (WHERE transaction_type = 'refund'
                                 OR transaction_date < now() - refund_window()), 0) AS eligible,
                        sum(instructor_earnings) AS waiting, count(*) AS lines
                 FROM revenue_transactions
                 WHERE payout_id IS NULL AND payout_status = 'pending' AND payment_status = 'completed'
                 GROUP BY instructor_id, currency) q
           JOIN users u ON u.id = q.instructor_id
           LEFT JOIN instructor_settings s ON s.user_id = q.instructor_id
           LEFT JOIN LATERAL (SELECT max(p.paid_at) AS paid_at FROM payouts p
                              WHERE p.instructor_id = q.instructor_id AND p.status = 'paid') last ON true
           ORDER BY due DESC, q.eligible DESC, u.full_name
           LIMIT 200""")
    names = ("instructor_id", "name", "currency", "schedule", "eligible", "waiting", "lines", "last_paid_at",
             "due", "scheduled")
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def create_payout(instructor_id, currency: str):
    return database.execute_sql("SELECT create_payout(%s, %s)", (instructor_id, currency)).fetchone()[0]


def mark_payout_paid(payout_id, reference: str):
    return database.execute_sql("SELECT mark_payout_paid(%s, %s)", (payout_id, reference)).fetchone()[0]


def cancel_payout(payout_id) -> None:
    database.execute_sql("SELECT cancel_payout(%s)", (payout_id,))


def request_monthly_stats_refresh():
    return database.execute_sql("SELECT request_monthly_stats_refresh()").fetchone()[0]


SALES = Spec(page_size=25, keyset=True)


def _admin_rows(*more):
    """Revenue rows as an admin reads them: with what was sold, to whom, and whose sale it was."""
    return (R.select(R.id, R.transaction_date, R.transaction_type, R.amount, R.currency, R.instructor_earnings,
                     R.payout_status, R.payout.alias("payout_id"), *more,
                     fn.coalesce(Course.title, Workshop.title).alias("item_title"),
                     STUDENT.full_name.alias("student_name"), User.full_name.alias("instructor_name"))
            .join(Course, JOIN.LEFT_OUTER, on=(Course.id == R.course))
            .switch(R).join(Workshop, JOIN.LEFT_OUTER, on=(Workshop.id == R.workshop))
            .switch(R).join(STUDENT, JOIN.LEFT_OUTER, on=(STUDENT.id == R.student))
            .switch(R).join(User, JOIN.LEFT_OUTER, on=(User.id == R.instructor)))


def sales(view: View, instructor_id=None) -> Page:
    """Every sale and refund on the platform (an admin reads them all), newest first."""
    query = _admin_rows().where(R.payment_status == "completed")
    if instructor_id is not None:
        query = query.where(R.instructor == instructor_id)
    return keyset_page(view, query.dicts(), KEYS, descending=True, matching=0)


def sale(transaction_id) -> dict | None:
    """One row as an admin reads it, with its refund."""
    row = (_admin_rows(R.platform_fee_amount, R.refund_of.alias("refund_of_id"), R.metadata)
           .where(R.id == transaction_id).dicts().first())
    return _with_refunds(row) if row is not None else None


UNAPPLIED_COLUMNS = ("event_id", "checkout_id", "received_at", "amount", "because", "sale_id", "item_title",
                     "student_name")


def unapplied_refunds(limit: int = 20) -> list[dict]:
    """The provider's refunds the portal could not apply (020's unapplied_refund_events), newest first."""
    cursor = database.execute_sql("SELECT * FROM unapplied_refund_events(%s)", (limit,))
    return [dict(zip(UNAPPLIED_COLUMNS, row)) for row in cursor.fetchall()]


def admin_refund_sale(transaction_id, amount, reason: str):
    return database.execute_sql("SELECT admin_refund_sale(%s, %s, %s)",
                                (transaction_id, amount, reason)).fetchone()[0]


# --- a student's receipts ---------------------------------------------------------------------------------

RECEIPTS = Spec(page_size=20, keyset=True)
RECEIPT_COLUMNS = ("id", "transaction_type", "amount", "currency", "transaction_date", "refund_of", "course_id",
                   "course_title", "workshop_id", "workshop_title", "instructor_name", "reason")


def receipts(view: View) -> Page:
    """The caller's payments and refunds (my_payments: their own rows, no fee or earnings), newest first."""
    size = RECEIPTS.page_size
    # A tampered or foreign position starts from the top (typed as the list's keys, as every list).
    before_time, before_id = typed_position(KEYS, view.after) or (None, None)
    cursor = database.execute_sql(
        "SELECT * FROM my_payments(%s, %s::timestamptz, %s::uuid)", (size + 1, before_time, before_id))
    rows = [dict(zip(RECEIPT_COLUMNS, row)) for row in cursor.fetchall()]
    page = Page(view=view, rows=rows[:size], matching=0)
    if len(rows) > size:
        page.next_token = token([rows[size - 1]["transaction_date"], rows[size - 1]["id"]])
    return page


def receipt(transaction_id) -> dict | None:
    cursor = database.execute_sql(
        "SELECT * FROM my_payments(1, NULL, NULL, %s)", (transaction_id,))
    row = cursor.fetchone()
    return dict(zip(RECEIPT_COLUMNS, row)) if row else None

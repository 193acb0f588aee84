"""Named queries of the workshops: the instructor's list, the editor, the lifecycle, the
registrations and attendance, the feedback summary; the student's catalog, page, registration
and feedback. Every query runs in the request's transaction under its role and claims: row-level
security decides what exists (schema/007, 021); writes the database may refuse run in a savepoint
so the request stays usable and the view can say why (portal/refusals.py).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from peewee import SQL, IntegrityError, NodeList, Value, fn
from slugify import slugify

from portal.courses.queries import SlugTaken, slug_write  # noqa: F401 (SlugTaken: the routes catch it here)
from portal.db import database
from portal.listing import Choice, Spec, Text, View, keyset_page, stream
from portal.models import Organization, Workshop

SLUG_MAX = 100
SLUG_CONSTRAINT = "workshops_slug_key"


def _rows(sql: str, params=None) -> list[dict]:
    cursor = database.execute_sql(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _one(sql: str, params=None) -> dict | None:
    rows = _rows(sql, params)
    return rows[0] if rows else None


def _mine(field=Workshop.id):
    """``field = ANY (the workshops the caller owns or facilitates)``: the caller's set, once a statement."""
    return NodeList((field, SQL("= ANY ((SELECT rls.workshop_ids())::uuid[])")))


# --- the instructor's list ------------------------------------------------------------------------------

TAB_LABELS = {"upcoming": "Upcoming", "past": "Past", "draft": "Drafts", "cancelled": "Cancelled"}
TABS = tuple(TAB_LABELS)
SORTS = {"soonest": "Soonest first", "latest": "Latest first", "registrations": "Most registrations"}
LIST = Spec(filters=(Choice("tab", "Tab", TAB_LABELS, default="upcoming", bar=False),
                     Text("q", "Search by title or tag", placeholder="For example: prompt")),
            sorts=SORTS, default_sort="soonest", page_size=20, keyset=True)


def _tab_condition(tab: str):
    now = SQL("now()")
    if tab == "upcoming":
        return (Workshop.status == "published") & (Workshop.end_time >= now)
    if tab == "past":
        return (Workshop.status == "completed") | ((Workshop.status == "published") & (Workshop.end_time < now))
    return Workshop.status == tab


def search_condition(q: str):
    term = " ".join((q or "").split()).lower()
    if not term:
        return None
    tags = Value("\n").concat(fn.array_to_string(Workshop.tags, "\n"))
    return Workshop.title.contains(term) | tags.contains("\n" + term)


def _keys(sort: str):
    if sort == "registrations":
        return ((Workshop.enrolled_count, "enrolled_count"), (Workshop.start_time, "start_time"),
                (Workshop.id, "id")), True
    return ((Workshop.start_time, "start_time"), (Workshop.id, "id")), sort == "latest"


def _list_query(view: View):
    query = (Workshop.select(Workshop.id, Workshop.title, Workshop.slug, Workshop.status, Workshop.type,
                             Workshop.start_time, Workshop.end_time, Workshop.timezone, Workshop.capacity,
                             Workshop.enrolled_count, Workshop.attended_count, Workshop.average_satisfaction,
                             Workshop.feedback_count, Workshop.price_amount, Workshop.currency, Workshop.tags,
                             Workshop.instructor)
             .where(_mine(), _tab_condition(view.tab)))
    match = search_condition(view.q)
    return query.where(match) if match is not None else query


def workshop_list(view: View):
    """Tab counts (one grouped query over the caller's workshops), then one keyset page."""
    match = search_condition(view.q)
    counts = {tab: 0 for tab in TABS}
    total = 0
    for tab in TABS:
        query = Workshop.select(fn.COUNT(Workshop.id)).where(_mine(), _tab_condition(tab))
        counts[tab] = (query.where(match) if match is not None else query).scalar() or 0
    total = Workshop.select(fn.COUNT(Workshop.id)).where(_mine()).scalar() or 0
    keys, descending = _keys(view.sort)
    return keyset_page(view, _list_query(view).dicts(), keys, descending=descending, matching=counts[view.tab],
                       counts=counts, total=total, tabs=TABS, tab_labels=TAB_LABELS)


EXPORT_HEADER = ("Title", "Status", "Format", "Starts (UTC)", "Ends (UTC)", "Time zone", "Seats", "Registered",
                 "Attended", "Average satisfaction", "Feedback", "Price", "Currency", "Tags")


def export_rows(view: View):
    keys, descending = _keys(view.sort)
    order = [k[0].desc() if descending else k[0].asc() for k in keys]
    for row in stream(_list_query(view).order_by(*order).dicts()):
        yield (row["title"], row["status"], row["type"], row["start_time"].astimezone(timezone.utc).isoformat(),
               row["end_time"].astimezone(timezone.utc).isoformat(), row["timezone"], row["capacity"],
               row["enrolled_count"], row["attended_count"], row["average_satisfaction"] or "",
               row["feedback_count"], row["price_amount"], row["currency"], ", ".join(row["tags"] or ()))


# --- one workshop (staff) -----------------------------------------------------------------------------------

def staff_workshop(workshop_id):
    """The workshop the caller owns or facilitates (with its meeting link), or None."""
    row = _one("""SELECT w.id, w.instructor_id, w.title, w.slug, w.description, w.type, w.location,
                         workshop_meeting_url(w.id) AS meeting_url, w.timezone, w.start_time, w.end_time,
                         w.capacity, w.price_amount, w.currency, w.status, w.tags, w.prerequisites,
                         w.what_you_will_learn, w.certificate_enabled, w.certificate_template_url,
                         w.organization_id, w.enrolled_count, w.attended_count, w.average_satisfaction,
                         w.feedback_count, w.refund_cutoff_hours, w.ical_sequence, w.updated_at,
                         w.instructor_id = (SELECT auth.uid()) AS is_owner,
                         w.start_time <= now() AS started, w.end_time <= now() AS ended
                  FROM workshops w
                  WHERE w.id = %s AND w.id = ANY ((SELECT rls.workshop_ids())::uuid[])""", (workshop_id,))
    return _Row(row) if row else None


class _Row(dict):
    """A dict read as attributes too (templates and forms read ``w.title``)."""
    __getattr__ = dict.get


def organizations(ids) -> dict:
    wanted = [i for i in dict.fromkeys(ids) if i]
    if not wanted:
        return {}
    return {row.id: row.name for row in
            Organization.select(Organization.id, Organization.name).where(Organization.id.in_(wanted))}


def slug_candidates(title: str):
    base = slugify(title or "", max_length=SLUG_MAX - 8, word_boundary=True) or "workshop"
    yield base
    for _ in range(6):
        yield f"{base}-{secrets.token_hex(3)}"


def _slug_write(write, slug: str | None, title: str):
    return slug_write(write, slug, slug_candidates(title), SLUG_CONSTRAINT)


def create_workshop(instructor_id, values: dict, slug: str | None) -> uuid.UUID:
    def write(candidate):
        return Workshop.insert(instructor=instructor_id, slug=candidate, status="draft", **values).execute()
    return _slug_write(write, slug, values["title"])


def update_workshop(workshop_id, values: dict, slug: str | None) -> int:
    def write(candidate):
        return Workshop.update(slug=candidate, **values).where(Workshop.id == workshop_id).execute()
    return _slug_write(write, slug, values["title"])


def set_status(workshop_id, new: str) -> int:
    with database.atomic():
        return Workshop.update(status=new).where(Workshop.id == workshop_id).execute()


def cancel_workshop(workshop_id) -> int:
    """cancel_workshop(): every registration cancelled (paid ones refunded), everyone told."""
    with database.atomic():
        return database.execute_sql("SELECT cancel_workshop(%s)", (workshop_id,)).fetchone()[0]


def delete_draft(workshop_id) -> int:
    try:
        with database.atomic():
            return Workshop.delete().where(Workshop.id == workshop_id).execute()
    except IntegrityError:
        return 0


# --- facilitators -----------------------------------------------------------------------------------------

def facilitators(workshop_id) -> list[dict]:
    return _rows("""SELECT f.id, f.role::text AS role, u.full_name, u.email
                    FROM workshop_facilitators f LEFT JOIN users u ON u.id = f.facilitator_id
                    WHERE f.workshop_id = %s ORDER BY f.created_at, f.id""", (workshop_id,))


def add_facilitator(workshop_id, email: str, role: str):
    with database.atomic():
        return database.execute_sql("SELECT add_workshop_facilitator(%s, %s, %s)",
                                    (workshop_id, email, role)).fetchone()[0]


def remove_facilitator(workshop_id, facilitator_row) -> int:
    with database.atomic():
        return database.execute_sql("DELETE FROM workshop_facilitators WHERE id = %s AND workshop_id = %s",
                                    (facilitator_row, workshop_id)).rowcount


# --- registrations and attendance ---------------------------------------------------------------------------

REGISTRATION_STATUSES = ("registered", "attended", "no_show", "waitlisted", "cancelled")
REGISTRATIONS_PAGE = 100
# The list's order: seats first, then the waitlist, then cancelled (021's idx_workshop_registrations_page
# is on this very expression, then registered_at, id: keep the text identical).
RANK = ("(CASE r.status WHEN 'registered' THEN 0 WHEN 'attended' THEN 1 WHEN 'no_show' THEN 2 "
        "WHEN 'waitlisted' THEN 3 ELSE 4 END)")
REGISTRATION_COLUMNS = """r.id, r.status::text AS status, r.payment_status::text AS payment_status,
                          r.registered_at, r.attended_at, r.payment_due_at, r.refund_requested_at,
                          u.full_name, u.email"""


def registrations(workshop_id, after: str | None = None, limit: int | None = None) -> tuple[list[dict], str | None]:
    """One page of the workshop's registrations, seats first, by keyset on (rank, registered_at, id);
    returns the rows and the cursor of the next page (None on the last)."""
    limit = limit or REGISTRATIONS_PAGE
    cursor = _cursor(after)
    rows = _rows(f"""SELECT {REGISTRATION_COLUMNS}, {RANK} AS rank
                     FROM workshop_registrations r LEFT JOIN users u ON u.id = r.user_id
                     WHERE r.workshop_id = %s
                       AND (%s::integer IS NULL OR ({RANK}, r.registered_at, r.id) > (%s, %s, %s))
                     ORDER BY {RANK}, r.registered_at, r.id
                     LIMIT %s""", (workshop_id, cursor[0], cursor[0], cursor[1], cursor[2], limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return rows, (f"{last['rank']}~{last['registered_at'].isoformat()}~{last['id']}" if last else None)


def _cursor(after: str | None):
    """The ``after`` argument back as (rank, registered_at, id), or Nones (the first page)."""
    try:
        rank, at, row_id = (after or "").split("~")
        return int(rank), datetime.fromisoformat(at), str(uuid.UUID(row_id))
    except ValueError:
        return None, None, None


def registration(workshop_id, registration_id) -> dict | None:
    """One registration row (the attendance click swaps just this row)."""
    return _one(f"""SELECT {REGISTRATION_COLUMNS}
                    FROM workshop_registrations r LEFT JOIN users u ON u.id = r.user_id
                    WHERE r.workshop_id = %s AND r.id = %s""", (workshop_id, registration_id))


def registration_counts(workshop_id) -> dict:
    rows = _rows("SELECT status::text AS status, count(*) AS n FROM workshop_registrations "
                 "WHERE workshop_id = %s GROUP BY 1", (workshop_id,))
    counts = {s: 0 for s in REGISTRATION_STATUSES}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def mark(workshop_id, registration_id, status: str) -> int:
    """One row's attendance (attended or no_show); the guard refuses before the start."""
    with database.atomic():
        return database.execute_sql(
            "UPDATE workshop_registrations SET status = %s WHERE id = %s AND workshop_id = %s "
            "AND status IN ('registered', 'attended', 'no_show') "
            "AND (%s = 'no_show' OR payment_status = 'completed')",
            (status, registration_id, workshop_id, status)).rowcount


def mark_all_present(workshop_id) -> int:
    """Every settled seat not yet marked (an explicit absent mark stays absent). The rows are locked first, by id, before any is
    changed: each change locks the workshop (its figures), and the core's order is registration, then
    workshop, so a student cancelling meanwhile never waits for us while we wait for them."""
    with database.atomic():
        database.execute_sql("SELECT 1 FROM workshop_registrations WHERE workshop_id = %s "
                             "AND status = 'registered' AND payment_status = 'completed' "
                             "ORDER BY id FOR NO KEY UPDATE", (workshop_id,))
        return database.execute_sql(
            "UPDATE workshop_registrations SET status = 'attended' WHERE workshop_id = %s "
            "AND status = 'registered' AND payment_status = 'completed'", (workshop_id,)).rowcount


# --- feedback -------------------------------------------------------------------------------------------------

def feedback_summary(workshop_id) -> dict:
    """Averages, NPS (% promoters 9-10 minus % detractors 0-6) and its distribution (0..10)."""
    row = _one("""SELECT count(*) AS responses, avg(overall_satisfaction) AS overall, avg(content_rating) AS content,
                         avg(delivery_rating) AS delivery, avg(interaction_rating) AS interaction,
                         count(nps_score) AS nps_answers,
                         count(*) FILTER (WHERE nps_score >= 9) AS promoters,
                         count(*) FILTER (WHERE nps_score <= 6) AS detractors,
                         array(SELECT count(f2.nps_score) FILTER (WHERE f2.nps_score = s)
                               FROM generate_series(0, 10) s LEFT JOIN workshop_feedback f2
                                    ON f2.workshop_id = %s GROUP BY s ORDER BY s) AS distribution
                  FROM workshop_feedback WHERE workshop_id = %s""", (workshop_id, workshop_id))
    row["nps"] = nps(row["promoters"], row["detractors"], row["nps_answers"])
    return row


def nps(promoters: int, detractors: int, answers: int) -> int | None:
    """The Net Promoter Score, -100..100, halves rounded away from zero (12.5 -> 13, -12.5 -> -13);
    None without answers."""
    if not answers:
        return None
    return int((Decimal(100) * (promoters - detractors) / answers).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def nps_text(value: int | None) -> str:
    """A score as shown: signed (+25, -10), but 0 plainly; a dash without answers."""
    if value is None:
        return "—"
    return "0" if value == 0 else f"{value:+d}"


COMMENTS = Spec(page_size=10, keyset=True, page_arg="comments")


def comments(workshop_id, view: View):
    from portal.models import WorkshopFeedback as F
    query = (F.select(F.id, F.created_at, F.what_went_well, F.what_could_improve, F.overall_satisfaction,
                      F.nps_score)
             .where((F.workshop == workshop_id) & (F.what_went_well.is_null(False) | F.what_could_improve.is_null(False)))
             .dicts())
    return keyset_page(view, query, ((F.created_at, "created_at"), (F.id, "id")), descending=True, matching=0)


COMPARISON = Spec(page_size=10, keyset=True, page_arg="workshops")


def comparison(view: View):
    """The caller's held workshops with feedback, newest first, NPS computed for the page's rows only."""
    query = (Workshop.select(Workshop.id, Workshop.title, Workshop.start_time, Workshop.feedback_count,
                             Workshop.average_satisfaction, Workshop.attended_count)
             .where(_mine(), Workshop.feedback_count > 0).dicts())
    page = keyset_page(view, query, ((Workshop.start_time, "start_time"), (Workshop.id, "id")),
                       descending=True, matching=0)
    ids = [r["id"] for r in page.rows]
    if ids:
        scores = {r["workshop_id"]: r for r in _rows(
            """SELECT workshop_id, count(nps_score) AS answers, count(*) FILTER (WHERE nps_score >= 9) AS promoters,
                      count(*) FILTER (WHERE nps_score <= 6) AS detractors
               FROM workshop_feedback WHERE workshop_id = ANY (%s::uuid[]) GROUP BY workshop_id""", (ids,))}
        for r in page.rows:
            s = scores.get(r["id"])
            r["nps"] = nps(s["promoters"], s["detractors"], s["answers"]) if s else None
    return page


# --- the student's side ------------------------------------------------------------------------------------

CATALOG = Spec(filters=(Text("q", "Search workshops", placeholder="For example: leadership"),),
               sorts={"soonest": "Soonest first"}, default_sort="soonest", page_size=12, keyset=True)


def catalog(view: View):
    """Published workshops that have not started, soonest first (idx_workshops_published_start)."""
    query = (Workshop.select(Workshop.id, Workshop.title, Workshop.slug, Workshop.type, Workshop.start_time,
                             Workshop.end_time, Workshop.timezone, Workshop.capacity, Workshop.enrolled_count,
                             Workshop.price_amount, Workshop.currency, Workshop.location, Workshop.tags)
             .where((Workshop.status == "published") & (Workshop.start_time > SQL("now()"))))
    match = search_condition(view.q)
    if match is not None:
        query = query.where(match)
    return keyset_page(view, query.dicts(), ((Workshop.start_time, "start_time"), (Workshop.id, "id")),
                       descending=False, matching=0)


def public_workshop(slug: str, signed_in: bool):
    """A workshop by its address as the caller may read it (published, or registered for, or staff),
    with the caller's registration, their feedback, the meeting link when they may have it."""
    row = _one("""SELECT w.id, w.instructor_id, w.title, w.slug, w.description, w.type, w.location, w.timezone,
                         w.start_time, w.end_time, w.capacity, w.enrolled_count, w.price_amount, w.currency,
                         w.status, w.tags, w.prerequisites, w.what_you_will_learn, w.certificate_enabled,
                         w.refund_cutoff_hours, w.ical_sequence, w.updated_at, w.average_satisfaction,
                         w.feedback_count, w.start_time <= now() AS started, w.end_time <= now() AS ended,
                         w.start_time - make_interval(hours => w.refund_cutoff_hours) AS refund_until,
                         (SELECT t.full_name FROM workshop_teachers t WHERE t.workshop_id = w.id
                          AND t.role = 'primary') AS instructor_name, {link} AS meeting_url
                  FROM workshops w
                  WHERE w.slug = %s""".format(link="workshop_meeting_url(w.id)" if signed_in else "NULL::text"),
               (slug,))
    return _Row(row) if row else None


def my_registration(workshop_id, user_id):
    row = _one("""SELECT r.id, r.status::text AS status, r.payment_status::text AS payment_status,
                         r.payment_due_at, r.refund_requested_at, r.registered_at,
                         my_waitlist_place(r.workshop_id) AS waitlist_place,
                         EXISTS (SELECT 1 FROM workshop_feedback f WHERE f.workshop_id = r.workshop_id
                                 AND f.user_id = r.user_id) AS gave_feedback,
                         (SELECT c.code FROM workshop_certificates c WHERE c.registration_id = r.id) AS certificate
                  FROM workshop_registrations r WHERE r.workshop_id = %s AND r.user_id = %s""",
               (workshop_id, user_id))
    return _Row(row) if row else None


def public_facilitators(workshop_id) -> list[dict]:
    """The owner and facilitators by name and role (the workshop_teachers view: published or held)."""
    return _rows("""SELECT teacher_id, role::text AS role, full_name, has_public_profile FROM workshop_teachers
                    WHERE workshop_id = %s ORDER BY role, full_name""", (workshop_id,))


def past_runs(instructor_id, title: str) -> dict | None:
    """Feedback averages of the instructor's earlier runs of a workshop of the same title (kept figures)."""
    return _one("""SELECT sum(feedback_count) AS responses,
                          round(sum(average_satisfaction * feedback_count) / nullif(sum(feedback_count), 0), 2)
                              AS average
                   FROM workshops WHERE instructor_id = %s AND lower(title) = lower(%s) AND end_time < now()
                     AND status IN ('published', 'completed') AND feedback_count > 0""", (instructor_id, title))


def feed(token: str) -> list[dict]:
    """A feed token's workshops (calendar_feed_workshops: no row for an unknown token or sync off;
    one row with id None for a valid token without workshops)."""
    return _rows("SELECT * FROM calendar_feed_workshops(%s)", (token,))


def register(workshop_id):
    with database.atomic():
        return database.execute_sql("SELECT register_for_workshop(%s)", (workshop_id,)).fetchone()[0]


def start_checkout(registration_id, provider: str):
    with database.atomic():
        return database.execute_sql("SELECT start_workshop_checkout(%s, %s)",
                                    (registration_id, provider)).fetchone()[0]


def cancel_registration(registration_id, user_id) -> int:
    with database.atomic():
        return database.execute_sql(
            "UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s AND user_id = %s "
            "AND status IN ('registered', 'waitlisted')", (registration_id, user_id)).rowcount


def give_feedback(workshop_id, user_id, values: dict):
    from portal.models import WorkshopFeedback
    with database.atomic():
        return WorkshopFeedback.insert(workshop=workshop_id, user=user_id, **values).execute()


MINE = Spec(filters=(Choice("when", "When", {"upcoming": "Upcoming", "past": "Past"}, default="upcoming",
                            bar=False),), page_size=20, keyset=True)


def my_workshops(user_id, view: View):
    """The caller's registrations with their workshops (not the ones they cancelled, but those of a
    cancelled workshop, labelled so); upcoming soonest first, past latest."""
    from portal.models import WorkshopRegistration as R
    upcoming = view.when == "upcoming"
    query = (R.select(R.id.alias("registration_id"), R.status, R.payment_status, Workshop.id, Workshop.title,
                      Workshop.slug, Workshop.type, Workshop.start_time, Workshop.end_time, Workshop.timezone,
                      Workshop.status.alias("workshop_status"), Workshop.location)
             .join(Workshop, on=(Workshop.id == R.workshop))
             .where((R.user == user_id) & ((R.status != "cancelled") | (Workshop.status == "cancelled"))
                    & ((Workshop.end_time >= SQL("now()")) if upcoming else (Workshop.end_time < SQL("now()"))))
             .dicts())
    return keyset_page(view, query, ((Workshop.start_time, "start_time"), (Workshop.id, "id")),
                       descending=not upcoming, matching=0)

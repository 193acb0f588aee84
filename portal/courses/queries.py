"""Named queries of the course list, the details form and the lifecycle.

Every query runs inside the request's transaction, under its role and claims:
row-level security decides which courses exist for the user, and a write it
refuses touches no row (the caller answers 404). Writes that may break a
constraint run in a savepoint (``database.atomic()``) so that the request
stays usable and the view can name the field at fault.

The list costs two queries whatever the number of courses: one for the tab
counts (all and matching, per status) and one for the page of rows. Its
figures are the columns the triggers maintain on ``courses``.
"""

from __future__ import annotations

import secrets
import uuid

from peewee import JOIN, IntegrityError, Value, fn
from slugify import slugify

from portal.courses.access import PERMISSIONS, granted
from portal.db import constraint_name, database
from portal.listing import Choice, Page, Spec, Text, View, page_of, stream
from portal.models import (COURSE_STATUSES, Course, CourseEnrollment, CourseInstructor, CourseLesson, Organization,
                           caller_courses)

PAGE_SIZE = 20
SORTS = {"newest": "Newest", "enrollments": "Most enrolled", "rating": "Best rated", "revenue": "Highest revenue"}
DEFAULT_SORT = "newest"
TABS = ("all", *COURSE_STATUSES)
DEFAULT_TAB = "all"

SLUG_MAX = 100
SLUG_CONSTRAINT = "courses_slug_key"
SLUG_LOCKED = "course_slug_locked"  # guard_course_lifecycle's refusal code (schema/009)


class SlugTaken(Exception):
    """The slug belongs to another course (perhaps one the user cannot see)."""


class SlugLocked(Exception):
    """The course has been published: its slug no longer changes."""


# --- the list -------------------------------------------------------------------


TAB_LABELS = {"all": "All", "draft": "Drafts", "published": "Published", "archived": "Archived"}
LIST = Spec(filters=(Choice("status", "Status", TAB_LABELS, default=DEFAULT_TAB, bar=False),
                     Text("q", "Search by title or tag", placeholder="For example: python")),
            sorts=SORTS, default_sort=DEFAULT_SORT, page_size=PAGE_SIZE)


def _teacher_join(instructor_id):
    """Courses the instructor (the caller) owns or co-teaches: the caller's set,
    computed once, so the list reads the instructor's courses by index (an OR
    across the co-instructor join would scan every course of the platform)."""
    return caller_courses(Course.id, *PERMISSIONS)


def _base(instructor_id, *columns):
    return (Course.select(*columns)
            .join(CourseInstructor, JOIN.LEFT_OUTER,
                  on=((CourseInstructor.course == Course.id) & (CourseInstructor.instructor == instructor_id)))
            .where(_teacher_join(instructor_id)))


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(q: str):
    """Title contains the words, or one of the tags starts with them (tags are lowercase)."""
    term = " ".join(q.split()).lower()
    if not term:
        return None
    # Tags never hold a newline (forms.parse_tags collapses whitespace), so
    # "\n" + tags joined by "\n" matches a tag's start with one ILIKE.
    tags = Value("\n").concat(fn.array_to_string(Course.tags, "\n"))
    return Course.title.contains(term) | tags.contains("\n" + term)


def _order(sort: str, instructor_id):
    newest = (Course.created_at.desc(), Course.id.desc())
    if sort == "enrollments":
        return (Course.enrolled_count.desc(), *newest)
    if sort == "rating":
        return (Course.average_rating.desc(nulls="LAST"), Course.review_count.desc(), *newest)
    if sort == "revenue":
        # Revenue the viewer may not see is NULL (course_revenue) and sorts
        # last, so the order does not leak it.
        return (Course.revenue().desc(nulls="LAST"), *newest)
    return newest


def _list_rows(instructor_id, view: View):
    """The view's courses (every page), in its order, with the caller's role on each."""
    query = _base(instructor_id, Course.id, Course.title, Course.slug, Course.status, Course.category,
                  Course.tags, Course.currency, Course.instructor, Course.created_at, Course.published_at,
                  Course.enrolled_count, Course.completed_count, Course.average_rating, Course.review_count,
                  Course.revenue().alias("total_revenue"), CourseInstructor.role.alias("teacher_role"),
                  CourseInstructor.permissions.alias("teacher_permissions"))
    if view.status != "all":
        query = query.where(Course.status == view.status)
    match = search_condition(view.q)
    if match is not None:
        query = query.where(match)
    return query.order_by(*_order(view.sort, instructor_id)).dicts()


def _with_role(row: dict, instructor_id) -> dict:
    owner = row["instructor"] == instructor_id
    may = granted(owner, row["teacher_permissions"])
    row["role"] = "owner" if owner else row["teacher_role"]
    row["can_view_content"] = "view_content" in may
    row["can_view_revenue"] = "view_revenue" in may
    return row


def course_list(instructor_id, view: View) -> Page:
    """The page of courses for the list (two queries: counts, then rows)."""
    match = search_condition(view.q)
    matching = fn.COUNT(Course.id)
    if match is not None:
        matching = matching.filter(match)
    count_rows = (_base(instructor_id, Course.status, fn.COUNT(Course.id).alias("total"),
                        matching.alias("matching"))
                  .group_by(Course.status).dicts())
    counts = {status: 0 for status in TABS}
    total = 0
    for row in count_rows:
        counts[row["status"]] = row["matching"]
        counts["all"] += row["matching"]
        total += row["total"]
    in_tab = counts[view.status]
    rows = [_with_role(row, instructor_id) for row in page_of(view, _list_rows(instructor_id, view), in_tab)]
    return LIST.page(view, rows, in_tab, counts=counts, total=total, tabs=TABS,
                     tab_labels=TAB_LABELS)


EXPORT_HEADER = ("Title", "Status", "Your role", "Category", "Tags", "Created", "Published", "Enrolled",
                 "Completed", "Average rating", "Reviews", "Revenue", "Currency")


def export_rows(instructor_id, view: View):
    """Every course of the view (all pages) as CSV rows; revenue only where the caller may see it."""
    for row in stream(_list_rows(instructor_id, view)):
        row = _with_role(row, instructor_id)
        yield (row["title"], row["status"], row["role"], row["category"], ", ".join(row["tags"] or ()),
               row["created_at"].date().isoformat(),
               row["published_at"].date().isoformat() if row["published_at"] else "",
               row["enrolled_count"], row["completed_count"], row["average_rating"], row["review_count"],
               row["total_revenue"] if row["can_view_revenue"] else "", row["currency"])


# --- one course's details --------------------------------------------------------

def organizations(ids) -> dict:
    """Names of the organizations among ``ids`` the user may read (id -> name)."""
    wanted = [i for i in dict.fromkeys(ids) if i]
    if not wanted:
        return {}
    return {row.id: row.name for row in
            Organization.select(Organization.id, Organization.name).where(Organization.id.in_(wanted))}


def has_lesson(course_id) -> bool:
    return CourseLesson.select(CourseLesson.id).where(CourseLesson.course == course_id).exists()


def missing_for_publishing(course: Course) -> list[str]:
    """What publishing still needs, in plain words (empty when nothing)."""
    missing = []
    if not (course.description or "").strip():
        missing.append("a description")
    if not has_lesson(course.id):
        missing.append("at least one module with a lesson")
    elif database.execute_sql("SELECT has_empty_quiz(%s)", (course.id,)).fetchone()[0]:
        missing.append("a question in every quiz")
    return missing


def enrollment_count(course_id) -> int:
    """Every enrollment of the course, whatever its status (what blocks deleting)."""
    return CourseEnrollment.select(CourseEnrollment.id).where(CourseEnrollment.course == course_id).count()


def slug_candidates(title: str):
    """The slug made from ``title``, then with -2, -3 ... and at last a random suffix."""
    base = slugify(title or "", max_length=SLUG_MAX, word_boundary=True) or "course"
    yield base
    for n in range(2, 51):
        suffix = f"-{n}"
        yield base[:SLUG_MAX - len(suffix)].rstrip("-") + suffix
    for _ in range(5):
        suffix = "-" + secrets.token_hex(3)
        yield base[:SLUG_MAX - len(suffix)].rstrip("-") + suffix


def slug_write(write, slug: str | None, candidates, unique: str, locked: str | None = None):
    """Run ``write(slug)`` in a savepoint: the typed slug once, or ``candidates`` until one is free
    (``unique``: the slug's unique constraint; ``locked``: the refusal of a slug that no longer
    changes). Courses and workshops alike."""
    for candidate in ([slug] if slug else candidates):
        try:
            with database.atomic():
                return write(candidate)
        except IntegrityError as exc:
            if constraint_name(exc) == unique:
                if slug:
                    raise SlugTaken() from exc
                continue
            if locked and constraint_name(exc) == locked:
                raise SlugLocked() from exc
            raise
    raise SlugTaken()


def _slug_write(write, slug: str | None, title: str):
    return slug_write(write, slug, slug_candidates(title), SLUG_CONSTRAINT, SLUG_LOCKED)


def create_course(instructor_id, values: dict, slug: str | None) -> uuid.UUID:
    """Insert a draft owned by the instructor; return its id. ``slug`` None: made from the title."""
    def write(candidate):
        return Course.insert(instructor=instructor_id, slug=candidate, **values).execute()
    return _slug_write(write, slug, values["title"])


def update_course(course_id, values: dict, slug: str | None) -> int:
    """Update the details under RLS; return the rows touched (0: the user may not)."""
    def write(candidate):
        return Course.update(slug=candidate, **values).where(Course.id == course_id).execute()
    return _slug_write(write, slug, values["title"])


# --- lifecycle -------------------------------------------------------------------

def set_status(course_id, old: str, new: str) -> int:
    """Move the course from ``old`` to ``new`` under RLS, in a savepoint; return rows touched."""
    with database.atomic():
        return (Course.update(status=new)
                .where((Course.id == course_id) & (Course.status == old)).execute())


def delete_course(course_id) -> int:
    """Delete under RLS (courses_delete: the owner's draft without enrollments); rows touched."""
    try:
        with database.atomic():
            return Course.delete().where(Course.id == course_id).execute()
    except IntegrityError:
        return 0  # something still points at it (ON DELETE RESTRICT): not deletable

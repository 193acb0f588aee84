"""Named queries of the catalog, the course page, the public instructor page and
the student's reviews.

Every query runs in the request's transaction under its role and claims, so
row-level security decides what exists: anonymous visitors see published
courses, visible reviews and public instructor profiles only. Where RLS shows
a signed-in user more than the public catalog should (an instructor sees their
own drafts, a teacher every review of their course, hidden ones included), the
queries narrow it explicitly (``status = 'published'``, ``is_visible``); they
never widen it.

Columns are named one by one: the public side never reads ``total_revenue``
(the instructor's business) nor the moderation fields of a review.

Costs, whatever the number of courses or reviews: the catalog is three
statements (filter choices, count, one page of cards with the instructor's name
joined in); the course page a fixed dozen (course, the viewer's enrollment,
teachers, outline, rating distribution, a page of reviews, the viewer's votes,
reports and own review).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_login import current_user
from peewee import JOIN, IntegrityError, Value, fn

from portal.courses.forms import LEVELS
from portal.db import UNIQUE_VIOLATION, database, sqlstate
from portal.listing import Choice, Page, Spec, Text, View, keyset_page, page_of
from portal.models import (Course, CourseEnrollment, CourseLesson, CourseOutline, CourseReview, CourseTeacher,
                           InstructorProfile, PublicInstructor, ReviewAuthor, ReviewHelpfulVote, ReviewReport)

PAGE_SIZE = 12
REVIEWS_PAGE_SIZE = 10
SORTS = {"popular": "Most popular", "rating": "Best rated", "newest": "Newest"}
DEFAULT_SORT = "popular"
PRICES = {"free": "Free", "paid": "Paid"}
REVIEW_SORTS = {"newest": "Newest first", "helpful": "Most helpful first"}
DEFAULT_REVIEW_SORT = "newest"
SEARCH_MAX = 200
SEARCH_WORDS_MAX = 8
TAG_CHOICES_MAX = 60

# What a card shows, and nothing more (never total_revenue).
CARD_COLUMNS = (Course.id, Course.title, Course.slug, Course.subtitle, Course.level, Course.price_amount,
                Course.currency, Course.category, Course.tags, Course.thumbnail_url, Course.enrolled_count,
                Course.average_rating, Course.review_count, Course.published_at, Course.instructor)
# What the course page shows.
PAGE_COLUMNS = CARD_COLUMNS + (Course.description, Course.what_you_will_learn, Course.target_audience,
                               Course.language, Course.status, Course.certificate_enabled,
                               Course.completed_count)

# --- the catalog ---------------------------------------------------------------------

CATALOG = Spec(filters=(Text("q", "Search", max_length=SEARCH_MAX, placeholder="Title, description or tag"),
                        Choice("category", "Category", any_label="All categories", open=True),
                        Choice("tag", "Tag", any_label="All tags", open=True, max_length=40, lower=True),
                        Choice("level", "Level", dict(LEVELS), any_label="All levels"),
                        Choice("price", "Price", PRICES, any_label="Free and paid")),
               sorts=SORTS, default_sort=DEFAULT_SORT, page_size=PAGE_SIZE)
# The courses of one instructor's public page: no filters, the most popular first.
INSTRUCTOR_COURSES = Spec(sorts={DEFAULT_SORT: SORTS[DEFAULT_SORT]}, default_sort=DEFAULT_SORT, page_size=PAGE_SIZE)


def search_condition(q: str):
    """Every word of ``q`` is in the title, subtitle or description, or starts one of the tags."""
    words = q.split()[:SEARCH_WORDS_MAX]
    if not words:
        return None
    # Tags never hold a newline (the course form collapses whitespace), so
    # "\n" + the tags joined by "\n" matches a tag's start with one ILIKE.
    tags = Value("\n").concat(fn.array_to_string(Course.tags, "\n"))
    condition = None
    for word in words:
        one = (Course.title.contains(word) | Course.subtitle.contains(word) | Course.description.contains(word)
               | tags.contains("\n" + word.lower()))
        condition = one if condition is None else condition & one
    return condition


def _conditions(view: View, teacher_id=None) -> list:
    filters = view.values
    # Explicit even though RLS already hides drafts from anon: a signed-in
    # instructor sees their own drafts and archived courses through RLS.
    conditions = [Course.status == "published"]
    match = search_condition(filters.get("q", ""))
    if match is not None:
        conditions.append(match)
    if filters.get("category"):
        conditions.append(fn.lower(Course.category) == filters["category"].lower())
    if filters.get("tag"):
        conditions.append(Course.tags.contains(filters["tag"]))
    if filters.get("level"):
        conditions.append(Course.level == filters["level"])
    if filters.get("price") == "free":
        conditions.append(Course.price_amount == 0)
    elif filters.get("price") == "paid":
        conditions.append(Course.price_amount > 0)
    if teacher_id is not None:
        conditions.append(Course.id.in_(CourseTeacher.select(CourseTeacher.course)
                                        .where(CourseTeacher.instructor == teacher_id)))
    return conditions


def _order(sort: str) -> tuple:
    newest = (Course.published_at.desc(nulls="LAST"), Course.created_at.desc(), Course.id)
    if sort == "rating":
        return (Course.average_rating.desc(nulls="LAST"), Course.review_count.desc(), *newest)
    if sort == "newest":
        return newest
    return (Course.enrolled_count.desc(), Course.average_rating.desc(nulls="LAST"), *newest)


def filter_choices() -> tuple[list[str], list[str]]:
    """The categories and the most used tags of published courses (one statement)."""
    cursor = database.execute_sql(
        "SELECT ARRAY(SELECT min(category) FROM courses WHERE status = 'published' AND btrim(category) <> '' "
        "             GROUP BY lower(category) ORDER BY lower(min(category))), "
        "       ARRAY(SELECT t FROM courses, unnest(tags) AS t WHERE status = 'published' "
        "             GROUP BY t ORDER BY count(*) DESC, t LIMIT %s)",
        (TAG_CHOICES_MAX,))
    categories, tags = cursor.fetchone()
    return list(categories or []), sorted(tags or [])


def course_cards(view: View, *, teacher_id=None, with_choices: bool = True) -> Page:
    """A page of published course cards (optionally only those ``teacher_id`` teaches)."""
    if with_choices:
        categories, tags = filter_choices()
        if view.tag and view.tag not in tags:
            tags = sorted([*tags, view.tag])
        if view.category and view.category.lower() not in {c.lower() for c in categories}:
            categories = [*categories, view.category]
        view.choices.update(category={c: c for c in categories}, tag={t: t for t in tags})
    conditions = _conditions(view, teacher_id)
    matching = Course.select(fn.COUNT(Course.id)).where(*conditions).scalar() or 0
    query = (Course.select(*CARD_COLUMNS, PublicInstructor.full_name.alias("instructor_name"))
             .join(PublicInstructor, JOIN.LEFT_OUTER, on=(PublicInstructor.id == Course.instructor))
             .where(*conditions)
             .order_by(*_order(view.sort))
             .dicts())
    return view.spec.page(view, page_of(view, query, matching), matching, levels=dict(LEVELS), prices=PRICES)


def catalog(view: View) -> Page:
    return course_cards(view)


# --- one course ----------------------------------------------------------------------

def course_by_slug(slug: str, *, published_only: bool = False) -> dict | None:
    """The course under RLS, if it is published (or archived, unless ``published_only``).

    Drafts never show here, even to their teachers. An archived course exists
    only for those RLS lets read it; the view then keeps it for its enrolled
    students alone."""
    statuses = ["published"] if published_only else ["published", "archived"]
    return (Course.select(*PAGE_COLUMNS, PublicInstructor.full_name.alias("instructor_name"))
            .join(PublicInstructor, JOIN.LEFT_OUTER, on=(PublicInstructor.id == Course.instructor))
            .where((Course.slug == slug) & Course.status.in_(statuses))
            .dicts().first())


def my_enrollment(course_id, user_id) -> dict | None:
    """The viewer's own enrollment in the course (RLS would show a teacher everyone's)."""
    if user_id is None:
        return None
    return (CourseEnrollment.select(CourseEnrollment.id, CourseEnrollment.status, CourseEnrollment.payment_status,
                                    CourseEnrollment.paid(), CourseEnrollment.completed_at)
            .where((CourseEnrollment.course == course_id) & (CourseEnrollment.user == user_id))
            .dicts().first())


ROLE_ORDER = {"primary": 0, "co-instructor": 1, "assistant": 2}


def teachers(course: dict) -> list[dict]:
    """The owner and co-instructors (course_teachers: published courses), with their headline;
    a teacher whose profile is private (or deactivated) is named but not linked (007).

    An archived course is not in course_teachers: its owner's public profile
    stands in (co-teachers are private to the course's team then)."""
    rows = list(CourseTeacher.select(CourseTeacher.instructor.alias("id"), CourseTeacher.role,
                                     CourseTeacher.full_name, CourseTeacher.avatar_url,
                                     CourseTeacher.has_public_profile, PublicInstructor.headline)
                .join(PublicInstructor, JOIN.LEFT_OUTER, on=(PublicInstructor.id == CourseTeacher.instructor))
                .where(CourseTeacher.course == course["id"])
                .dicts())
    if not rows:
        rows = [dict(row, role="primary", has_public_profile=True) for row in
                PublicInstructor.select(PublicInstructor.id, PublicInstructor.full_name, PublicInstructor.avatar_url,
                                        PublicInstructor.headline)
                .where(PublicInstructor.id == course["instructor"]).dicts()]
    return sorted(rows, key=lambda row: (ROLE_ORDER.get(row["role"], 9), row["full_name"]))


@dataclass
class OutlineModule:
    id: object
    title: str
    lessons: list[dict] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return sum(lesson["duration_minutes"] or 0 for lesson in self.lessons)


def _group_outline(rows) -> list[OutlineModule]:
    modules: dict = {}
    for row in rows:
        module = modules.get(row["module_id"])
        if module is None:
            module = modules[row["module_id"]] = OutlineModule(row["module_id"], row["module_title"])
        if row["lesson_id"] is not None:
            module.lessons.append({"id": row["lesson_id"], "title": row["lesson_title"],
                                   "content_type": row["content_type"], "duration_minutes": row["duration_minutes"],
                                   "is_preview": bool(row["is_preview"])})
    return list(modules.values())


def outline(course: dict) -> list[OutlineModule]:
    """Modules and lessons, titles and durations only.

    A published course: the course_outline view (anyone). An archived one:
    learning_outline(), the caller's own view of a course they are enrolled in."""
    if course["status"] == "published":
        rows = (CourseOutline.select(CourseOutline.module.alias("module_id"), CourseOutline.module_title,
                                     CourseOutline.lesson.alias("lesson_id"), CourseOutline.lesson_title,
                                     CourseOutline.content_type, CourseOutline.duration_minutes,
                                     CourseOutline.is_preview)
                .where(CourseOutline.course == course["id"])
                .order_by(CourseOutline.module_position, CourseOutline.lesson_position.asc(nulls="FIRST"))
                .dicts())
        return _group_outline(rows)
    cursor = database.execute_sql(
        "SELECT module_id, module_title, lesson_id, lesson_title, content_type, duration_minutes, is_preview "
        "FROM learning_outline(%s)", (course["id"],))
    names = [column[0] for column in cursor.description]
    return _group_outline(dict(zip(names, row)) for row in cursor.fetchall())


def preview_lesson(course_id, lesson_id) -> dict | None:
    """A preview lesson of the (published) course; any other lesson is not a preview, whoever asks."""
    return (CourseLesson.select(CourseLesson.id, CourseLesson.title, CourseLesson.content_type, CourseLesson.body,
                                CourseLesson.video_url, CourseLesson.duration_minutes,
                                CourseLesson.quiz_for_caller(), CourseLesson.passing_score)
            .where((CourseLesson.id == lesson_id) & (CourseLesson.course == course_id) & CourseLesson.is_preview)
            .dicts().first())


# --- reviews -------------------------------------------------------------------------

@dataclass
class RatingSummary:
    counts: dict            # stars (5..1) -> visible reviews
    total: int

    @property
    def rows(self) -> list[tuple[int, int, int]]:
        """(stars, reviews, percent of all) from 5 down to 1."""
        return [(stars, self.counts.get(stars, 0),
                 round(100 * self.counts.get(stars, 0) / self.total) if self.total else 0)
                for stars in (5, 4, 3, 2, 1)]


def rating_summary(course_id) -> RatingSummary:
    """How many visible reviews gave each rating (one statement)."""
    counts = {row["rating"]: row["reviews"] for row in
              CourseReview.select(CourseReview.rating, fn.COUNT(CourseReview.id).alias("reviews"))
              .where((CourseReview.course == course_id) & CourseReview.is_visible)
              .group_by(CourseReview.rating).dicts()}
    return RatingSummary(counts=counts, total=sum(counts.values()))


REVIEW_COLUMNS = (CourseReview.id, CourseReview.course, CourseReview.user, CourseReview.rating, CourseReview.title,
                  CourseReview.review_text, CourseReview.content_quality_rating, CourseReview.instructor_rating,
                  CourseReview.value_rating, CourseReview.instructor_response,
                  CourseReview.instructor_responded_at, CourseReview.helpful_count, CourseReview.is_visible,
                  CourseReview.created_at, CourseReview.updated_at)


def _review_query():
    Responder = PublicInstructor.alias()
    return (CourseReview.select(*REVIEW_COLUMNS, Responder.full_name.alias("responder_name"),
                                ReviewAuthor.display_name.alias("author_name"))
            .join(Responder, JOIN.LEFT_OUTER, on=(Responder.id == CourseReview.responded_by))
            .switch(CourseReview)
            .join(ReviewAuthor, JOIN.LEFT_OUTER, on=(ReviewAuthor.review == CourseReview.id)))


# By position: a popular course's reviews grow without bound.
REVIEWS = Spec(sorts=REVIEW_SORTS, default_sort=DEFAULT_REVIEW_SORT, page_size=REVIEWS_PAGE_SIZE, keyset=True)
REVIEW_KEYS = {"newest": ((CourseReview.created_at, "created_at"), (CourseReview.id, "id")),
               "helpful": ((CourseReview.helpful_count, "helpful_count"), (CourseReview.created_at, "created_at"),
                           (CourseReview.id, "id"))}


def review_page(course: dict, total: int, view: View, viewer_id=None) -> Page:
    """A page of the course's visible reviews (newest or most helpful first, by position), each
    marked with the viewer's vote and report."""
    query = _review_query().where((CourseReview.course == course["id"]) & CourseReview.is_visible).dicts()
    page = keyset_page(view, query, REVIEW_KEYS[view.sort], descending=True, matching=total, total=total)
    mark_for_viewer(page.rows, viewer_id)
    return page


def mark_for_viewer(rows: list[dict], viewer_id) -> None:
    """Whether the viewer wrote, found helpful or reported each review (two statements at most)."""
    ids = [row["id"] for row in rows]
    voted, reported = set(), set()
    if viewer_id is not None and ids:
        voted = {row.review_id for row in ReviewHelpfulVote.select(ReviewHelpfulVote.review)
                 .where((ReviewHelpfulVote.user == viewer_id) & ReviewHelpfulVote.review.in_(ids))}
        reported = {row.review_id for row in ReviewReport.select(ReviewReport.review)
                    .where((ReviewReport.reporter == viewer_id) & ReviewReport.review.in_(ids))}
    for row in rows:
        row["mine"] = viewer_id is not None and row["user"] == viewer_id
        row["voted"] = row["id"] in voted
        row["reported"] = row["id"] in reported


def my_review(course_id, user_id) -> dict | None:
    """The viewer's own review of the course, visible or not (the author always reads it)."""
    if user_id is None:
        return None
    row = _review_query().where((CourseReview.course == course_id) & (CourseReview.user == user_id)).dicts().first()
    if row is not None:
        row.update(mine=True, voted=False, reported=False)  # one neither votes on nor reports one's own
    return row


def can_review(course_id) -> bool:
    """can_review_course(): a completed enrollment, and the instructor allows reviews."""
    return bool(database.execute_sql("SELECT can_review_course(%s)", (course_id,)).fetchone()[0])


def save_review(course_id, user_id, values: dict, existing_id=None) -> None:
    """Write the viewer's review: update their own row, or insert one.

    RLS decides an insert (course_reviews_create: can_review_course): a refusal
    raises 42501, which the error handler answers with a 404 after rolling the
    request back."""
    if existing_id is not None:
        CourseReview.update(**values).where((CourseReview.id == existing_id) & (CourseReview.user == user_id)).execute()
        return
    with database.atomic():
        CourseReview.insert(course=course_id, user=user_id, **values).execute()


def review_by_id(review_id) -> dict | None:
    """A review the viewer may see (RLS), with its course's slug and title."""
    return (CourseReview.select(*REVIEW_COLUMNS, Course.slug.alias("course_slug"), Course.title.alias("course_title"),
                                Course.status.alias("course_status"))
            .join(Course, on=(Course.id == CourseReview.course))
            .where(CourseReview.id == review_id)
            .dicts().first())


def set_helpful(review_id, user_id, wanted: bool | None) -> bool:
    """Add or withdraw the viewer's helpful vote (``None``: toggle); return whether it stands now.

    Withdrawing deletes the viewer's own row (zero rows when there is none);
    adding inserts once (a second add changes nothing). RLS refuses an insert
    on one's own review or a review one cannot see (42501)."""
    mine = (ReviewHelpfulVote.review == review_id) & (ReviewHelpfulVote.user == user_id)
    if wanted is None:
        wanted = not ReviewHelpfulVote.select().where(mine).exists()
    if wanted:
        ReviewHelpfulVote.insert(review=review_id).on_conflict_ignore().execute()
    else:
        ReviewHelpfulVote.delete().where(mine).execute()
    return wanted


def helpful_count(review_id) -> int:
    return CourseReview.select(CourseReview.helpful_count).where(CourseReview.id == review_id).scalar() or 0


def has_reported(review_id, user_id) -> bool:
    return ReviewReport.select().where((ReviewReport.review == review_id)
                                       & (ReviewReport.reporter == user_id)).exists()


class AlreadyReported(Exception):
    """The viewer reported this review before (one report per user per review)."""


def report_review(review_id, values: dict) -> None:
    """Store a report (reporter: the caller, by the column's default). In a
    savepoint, so a second report becomes AlreadyReported rather than a
    broken request."""
    try:
        with database.atomic():
            ReviewReport.insert(review=review_id, **values).execute()
    except IntegrityError as exc:
        if sqlstate(exc) == UNIQUE_VIOLATION:
            raise AlreadyReported() from exc
        raise


# --- the public instructor page --------------------------------------------------------

def public_instructor(instructor_id) -> dict | None:
    """A public profile (public_instructors: visibility 'public' only), or for their own students
    one visible to "students", with the education, certifications and work experience the view
    leaves out, read from instructor_profiles under RLS (which shows such rows to them)."""
    return (PublicInstructor.select(PublicInstructor.id, PublicInstructor.full_name, PublicInstructor.avatar_url,
                                    PublicInstructor.headline, PublicInstructor.bio, PublicInstructor.expertise_tags,
                                    PublicInstructor.pillars, PublicInstructor.website_url,
                                    PublicInstructor.social_links, PublicInstructor.is_verified,
                                    PublicInstructor.total_students, PublicInstructor.total_courses,
                                    PublicInstructor.total_workshops, PublicInstructor.average_rating,
                                    PublicInstructor.total_reviews, InstructorProfile.education,
                                    InstructorProfile.certifications, InstructorProfile.work_experience)
            .join(InstructorProfile, JOIN.LEFT_OUTER, on=(InstructorProfile.user == PublicInstructor.id))
            .where(PublicInstructor.id == instructor_id).dicts().first()) or (
        _for_their_students(instructor_id) if current_user.is_authenticated else None)


_PROFILE_COLUMNS = ("id", "full_name", "avatar_url", "headline", "bio", "expertise_tags", "pillars",
                    "website_url", "social_links", "is_verified", "total_students", "total_courses",
                    "total_workshops", "average_rating", "total_reviews")


def _for_their_students(instructor_id) -> dict | None:
    """A "students only" profile, which its instructor's own students see (011)."""
    row = database.execute_sql(
        f"SELECT {', '.join('i.' + c for c in _PROFILE_COLUMNS)}, p.education, p.certifications, "
        "p.work_experience FROM instructor_for_their_students(%s) i "
        "LEFT JOIN instructor_profiles p ON p.user_id = i.id", (str(instructor_id),)).fetchone()
    return dict(zip(_PROFILE_COLUMNS + ("education", "certifications", "work_experience"), row)) if row else None


def instructor_courses(instructor_id, view: View) -> Page:
    """The published courses the instructor owns or co-teaches, as catalog cards."""
    return course_cards(view, teacher_id=instructor_id, with_choices=False)

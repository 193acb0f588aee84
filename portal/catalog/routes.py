"""The public side: the catalog, a course's page (with its preview lessons and
reviews), the public instructor page, and the student's reviews.

Views are thin. ``queries`` reads under the request's role: row-level security
decides what exists (a course, a lesson, a review the viewer may not see is a
404), and the views only narrow it to what the public catalog shows (published
courses; an archived course for the students enrolled in it). Writes go to the
database, which decides: a review by a student who has not completed the
course, or a helpful vote on one's own review, is refused by its policy (42501,
answered 404 by portal.errors after rolling the request back).
"""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

from portal.catalog import forms, queries
from portal.courses.markdown import render_markdown
from portal.models import CourseEnrollment
from portal.web import is_partial, notify, redirect_to, render, role_required, safe_next
from portal.catalog import bp


# The student side's actions that other areas own (the endpoint
# contract): the enroll panel's links, built with url_for at request time.
STUDENT_LINKS = {
    "enroll": "catalog.enroll",    # POST /catalog/<slug>/enroll
    "retry": "catalog.retry",      # POST /catalog/<slug>/checkout
    "resume": "learning.resume",      # GET  /learn/<slug>/
}


def student_links(slug: str) -> dict:
    return {name: url_for(endpoint, slug=slug) for name, endpoint in STUDENT_LINKS.items()}


def _viewer_id():
    return current_user.id if current_user.is_authenticated else None


def _is_student() -> bool:
    return current_user.is_authenticated and current_user.role == "student"


def _sign_in_first(back: str):
    return redirect_to(url_for("auth.sign_in", next=back))


# --- the catalog ---------------------------------------------------------------------

@bp.route("/catalog/")
def index():
    """Published courses: search, filters, sort, pages.

    An htmx request aimed at ``#catalog-results`` (typing, a filter, a page)
    gets the results only; one aimed at the whole catalog (clear the filters)
    gets the filters too."""
    listing = queries.catalog(queries.CATALOG.read(request.args)).link("catalog.index")
    results_only = is_partial() and request.headers.get("HX-Target") == "catalog-results"
    partial = "catalog/_results.html" if results_only else "catalog/_catalog.html"
    response = render("catalog/index.html", partial, listing=listing, results_only=results_only)
    response.vary.add("HX-Target")
    if is_partial():
        # The address bar shows the filters in use, not every empty field the form sent.
        response.headers["HX-Push-Url"] = listing.url(page=listing.page)
    return response


# --- a course ------------------------------------------------------------------------

def _course_or_404(slug: str, *, published_only: bool = False):
    """The course and the viewer's own enrollment in it.

    A draft is never here; an archived course only for a student whose
    enrollment still opens it (RLS lets its teachers read it too, but it has
    left the catalog)."""
    course = queries.course_by_slug(slug, published_only=published_only)
    if course is None:
        abort(404)
    enrollment = queries.my_enrollment(course["id"], _viewer_id())
    if course["status"] != "published" and not (enrollment and enrollment["status"] in CourseEnrollment.ACTIVE):
        abort(404)
    return course, enrollment


def enroll_state(course: dict, enrollment: dict | None, teachers: list[dict]) -> str:
    """What the enroll panel offers the viewer (see the issue's "course's state")."""
    if not current_user.is_authenticated:
        return "sign_in"
    if course["instructor"] == current_user.id or any(t["id"] == current_user.id for t in teachers):
        return "teacher"
    if current_user.role != "student":
        return "not_student"
    if enrollment is None or enrollment["status"] == "cancelled":
        return "enroll"
    if enrollment["status"] == "pending":
        return "approval" if enrollment["payment_status"] == "completed" else "pay"
    if enrollment["status"] == "completed":
        return "completed"
    if enrollment["status"] in CourseEnrollment.ACTIVE:
        return "continue"
    return "refunded"


def review_state(course: dict, enrollment: dict | None, mine: dict | None) -> str | None:
    """What the reviews section offers the viewer: edit, write, off, finish, or nothing."""
    if mine is not None:
        return "edit"
    if not _is_student() or enrollment is None:
        return None
    if enrollment["status"] == "completed":
        # Completed, so only the instructor's setting can refuse (can_review_course).
        return "write" if queries.can_review(course["id"]) else "off"
    if enrollment["status"] in ("enrolled", "in_progress"):
        return "finish"
    return None


def _reviews_context(course: dict, args=None) -> dict:
    summary = queries.rating_summary(course["id"])
    view = queries.REVIEWS.read(args or {})
    return {"summary": summary,
            "reviews": queries.review_page(course, summary.total, view, viewer_id=_viewer_id())
            .link("catalog.reviews", slug=course["slug"])}


@bp.route("/catalog/<slug>")
def course(slug):
    """The course page: what it teaches, its outline, teachers, rating and reviews, and the enroll panel."""
    course, enrollment = _course_or_404(slug)
    teachers = queries.teachers(course)
    mine = queries.my_review(course["id"], current_user.id) if _is_student() else None
    return render("catalog/course.html", course=course, enrollment=enrollment, teachers=teachers,
                  modules=queries.outline(course), state=enroll_state(course, enrollment, teachers),
                  review_state=review_state(course, enrollment, mine), mine=mine,
                  links=student_links(course["slug"]), description=render_markdown(course["description"]),
                  **_reviews_context(course))


@bp.route("/catalog/<slug>/reviews")
def reviews(slug):
    """The course's visible reviews, newest or most helpful first, ten a page (the fragment for htmx)."""
    course, _ = _course_or_404(slug)
    context = _reviews_context(course, request.args)
    return render("catalog/reviews.html", "catalog/_reviews.html", course=course, **context)


@bp.route("/catalog/<slug>/preview/<uuid:lesson_id>")
def preview(slug, lesson_id):
    """A preview lesson of a published course, open to anyone. A quiz shows its
    questions and choices, never its answers."""
    course, _ = _course_or_404(slug, published_only=True)
    lesson = queries.preview_lesson(course["id"], lesson_id)
    if lesson is None:
        abort(404)
    questions = [{"prompt": str(q.get("prompt", "")), "choices": [str(c) for c in q.get("choices", [])]}
                 for q in (lesson.pop("quiz") or {}).get("questions", []) if isinstance(q, dict)]
    previews = [item for module in queries.outline(course) for item in module.lessons if item["is_preview"]]
    return render("catalog/preview.html", course=course, lesson=lesson, questions=questions, previews=previews,
                  body=render_markdown(lesson["body"]))


# --- the public instructor page ------------------------------------------------------------

@bp.route("/instructors/<uuid:instructor_id>")
def instructor(instructor_id):
    """An instructor's public profile and the published courses they teach."""
    person = queries.public_instructor(instructor_id)
    if person is None:
        abort(404)
    listing = (queries.instructor_courses(instructor_id, queries.INSTRUCTOR_COURSES.read(request.args))
               .link("catalog.instructor", instructor_id=instructor_id))
    return render("catalog/instructor.html", "catalog/_instructor_courses.html", instructor=person,
                  listing=listing)


# --- the student's review ------------------------------------------------------------------

def _review_target(slug: str):
    """The course and the student's own review; 404 unless they have one or may write one."""
    course, _ = _course_or_404(slug)
    mine = queries.my_review(course["id"], current_user.id)
    if mine is None and not queries.can_review(course["id"]):
        abort(404)
    return course, mine


def _review_page(course, mine, form, status=200):
    return render("catalog/review_form.html", "catalog/_review_form.html", status=status, course=course,
                  mine=mine, form=form)


@bp.route("/catalog/<slug>/review")
@role_required("student")
def review_form(slug):
    """Write a review (a completed course), or edit one's own (the same form, filled in)."""
    course, mine = _review_target(slug)
    return _review_page(course, mine, forms.ReviewForm(data=forms.review_data(mine)))


@bp.route("/catalog/<slug>/review", methods=["POST"])
@role_required("student")
def save_review(slug):
    course, mine = _review_target(slug)
    form = forms.ReviewForm()
    if not form.validate_on_submit():
        return _review_page(course, mine, form, status=422)
    queries.save_review(course["id"], current_user.id, form.values(), mine["id"] if mine else None)
    back = redirect_to(url_for("catalog.course", slug=course["slug"], _anchor="reviews"))
    if mine is None:
        return notify(back, "Thank you: your review is published.")
    if mine["is_visible"]:
        return notify(back, "Your review is updated.")
    return notify(back, "Your review is updated. It stays hidden from others: a moderator hid it, and an edit does not show it again.", "info")


# --- helpful votes and reports ---------------------------------------------------------------

def _course_page_of(review: dict | None) -> str:
    if review is None:
        return url_for("catalog.index")
    return url_for("catalog.course", slug=review["course_slug"], _anchor=f"review-{review['id']}")


def _others_review(review_id) -> dict:
    """A review the viewer may see and did not write (their own: 404, as RLS refuses it)."""
    review = queries.review_by_id(review_id)
    if review is None or review["user"] == current_user.id:
        abort(404)
    return review


@bp.route("/catalog/reviews/<uuid:review_id>/helpful", methods=["POST"])
def helpful(review_id):
    """Add or withdraw my helpful vote (the form says which; without it, toggle).
    htmx gets the review's helpful button back; a plain form goes back to the course."""
    if not current_user.is_authenticated:
        return _sign_in_first(_course_page_of(queries.review_by_id(review_id)))
    review = _others_review(review_id)
    wanted = {"add": True, "remove": False}.get(request.form.get("vote"))
    review["voted"] = queries.set_helpful(review_id, current_user.id, wanted)
    review["helpful_count"] = queries.helpful_count(review_id)
    review["mine"] = False
    message = "Thank you: you found this review helpful." if review["voted"] else "Your helpful vote is withdrawn."
    if is_partial():
        return notify(render("catalog/_helpful.html", review=review, course={"slug": review["course_slug"]}),
                      message)
    return notify(redirect_to(safe_next(request.form.get("next"), _course_page_of(review))), message)


def _report_page(review, form, *, status=200, already=False):
    return render("catalog/report.html", "catalog/_report_form.html", status=status, review=review, form=form,
                  already=already)


@bp.route("/catalog/reviews/<uuid:review_id>/report")
def report_form(review_id):
    """Report a review to the moderators: why, and details when the reason is "other"."""
    if not current_user.is_authenticated:
        return _sign_in_first(request.path)
    review = _others_review(review_id)
    return _report_page(review, forms.ReportForm(), already=queries.has_reported(review_id, current_user.id))


@bp.route("/catalog/reviews/<uuid:review_id>/report", methods=["POST"])
def report(review_id):
    if not current_user.is_authenticated:
        return _sign_in_first(url_for("catalog.report_form", review_id=review_id))
    review = _others_review(review_id)
    form = forms.ReportForm()
    if not form.validate_on_submit():
        return _report_page(review, form, status=422)
    try:
        queries.report_review(review_id, form.values())
    except queries.AlreadyReported:
        return _report_page(review, form, status=409, already=True)
    return notify(redirect_to(_course_page_of(review)),
                  "Thank you: the review is reported, and a moderator will look at it.")

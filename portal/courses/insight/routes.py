"""The course insight page: figures, the enrollment trend, completion by
module, lesson drop-off and the rating distribution, for anyone who may view
the course's content. Revenue is shown only with ``view_revenue`` (the owner
has every permission).

The figures are the course row's trigger-maintained columns, already loaded
by ``course_access``; the charts come from ``insight/queries.py`` in a fixed
number of statements whatever the size of the course.
"""

from __future__ import annotations

from portal.courses.insight import queries
from portal.courses.access import course_access
from portal.courses import bp
from portal.formatting import percent, viewer_zone
from portal.web import render, role_required


def figures(access) -> list[dict]:
    """The cards, in order (name, label, value, kind, and a hint for some). Revenue only with view_revenue."""
    course = access.course
    cards = [
        dict(name="enrolled_count", label="Enrolled", value=course.enrolled_count, kind="number"),
        dict(name="completed_count", label="Completed", value=course.completed_count, kind="number"),
        dict(name="completion_rate", label="Completion rate",
             value=queries.share(course.completed_count, course.enrolled_count), kind="percent"),
        dict(name="average_rating", label="Average rating", value=course.average_rating, kind="rating"),
        dict(name="review_count", label="Reviews", value=course.review_count, kind="number"),
    ]
    if access.can("view_revenue"):
        cards.append(dict(name="total_revenue", label="Revenue", value=course.total_revenue, kind="money",
                          hint="Gross sales, refunds netted out"))
    return cards


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def lesson_label(lesson: dict) -> str:
    """"2.3 Title": module 2, lesson 3 (positions are dense from 0)."""
    return f"{lesson['module_position'] + 1}.{lesson['position'] + 1} {lesson['title']}"


def charts(insight: queries.Insight, days: int) -> dict:
    """What each chart draws (``data``, JSON for insight.js) and says (``summary``,
    its aria-label). The tables behind the charts show the same figures."""
    trend_total = insight.trend_total
    busiest = max(insight.trend, key=lambda day: day["enrollments"], default=None)
    trend_summary = f"New enrollments per day over the last {days} days: {_plural(trend_total, 'enrollment')}"
    if busiest and busiest["enrollments"]:
        trend_summary += f", most on {busiest['day'].strftime('%d %B')} ({busiest['enrollments']:,})"

    counted = [m for m in insight.modules if m["lessons"]]
    if counted:
        funnel_summary = (f"Of {_plural(insight.students, 'active student')}, "
                          f"{percent(counted[0]['share'])} completed every lesson of the first module"
                          + (f" and {percent(counted[-1]['share'])} of the last" if len(counted) > 1 else ""))
    else:
        funnel_summary = "No module has lessons yet"

    lessons = insight.lessons
    if lessons:
        lowest = min(lessons, key=lambda lesson: lesson["completed"])
        dropoff_summary = (f"Share of the {_plural(insight.students, 'active student')} who completed each of "
                           f"{_plural(len(lessons), 'lesson')}: {percent(lessons[0]['share'])} for the first, "
                           f"{percent(lessons[-1]['share'])} for the last; fewest for "
                           f"{lesson_label(lowest)} ({percent(lowest['share'])})")
    else:
        dropoff_summary = "No lessons yet"

    ratings_summary = (f"{_plural(insight.visible_reviews, 'visible review')} by rating: "
                       + ", ".join(f"{r['rating']} star{'' if r['rating'] == 1 else 's'}: {r['visible']:,}"
                                   for r in reversed(insight.ratings)))
    as_float = lambda value: None if value is None else float(value)  # noqa: E731
    return {
        "trend": dict(summary=trend_summary, data={
            "labels": [day["day"].isoformat() for day in insight.trend],
            "values": [day["enrollments"] for day in insight.trend]}),
        "funnel": dict(summary=funnel_summary, data={
            "labels": [f"{m['position'] + 1}. {m['title']}" for m in insight.modules],
            "values": [m["completed"] for m in insight.modules],
            "shares": [as_float(m["share"]) for m in insight.modules],
            "students": insight.students}),
        "dropoff": dict(summary=dropoff_summary, data={
            "labels": [lesson_label(lesson) for lesson in lessons],
            "values": [as_float(lesson["share"]) for lesson in lessons],
            "counts": [lesson["completed"] for lesson in lessons]}),
        "ratings": dict(summary=ratings_summary, data={
            "labels": [f"{r['rating']} star{'' if r['rating'] == 1 else 's'}" for r in insight.ratings],
            "values": [r["visible"] for r in insight.ratings]}),
    }


@bp.route("/<uuid:course_id>/insight")
@role_required("instructor")
def insight(course_id):
    access = course_access(course_id, "view_content")
    data = queries.course_insight(course_id, viewer_zone().key)
    return render("courses/insight.html", "courses/_insight.html", access=access, active="insight",
                  figures=figures(access), insight=data, trend_days=queries.TREND_DAYS,
                  charts=charts(data, queries.TREND_DAYS), lesson_label=lesson_label)

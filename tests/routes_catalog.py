"""The catalog area's route rules, each tested as every actor by its own test modules
(test_web_routes.py fails on any route that no such table names): tests/test_web_catalog.py
(catalog, course page, previews, reviews list, instructor page) and
tests/test_web_catalog_reviews.py (writing, voting on and reporting reviews)."""

RULES: set[str] = {
    "/catalog/<slug>",
    "/catalog/<slug>/reviews",
    "/catalog/<slug>/preview/<uuid:lesson_id>",
    "/instructors/<uuid:instructor_id>",
    "/catalog/<slug>/review",
    "/catalog/reviews/<uuid:review_id>/helpful",
    "/catalog/reviews/<uuid:review_id>/report",
}

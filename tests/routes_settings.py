"""The route rules of the instructor's settings page (issue 18) that answer a POST only: each
section's save, tested as every actor in tests/test_web_instructor_settings.py (test_web_routes.py
fails on any route that no such table names; the page itself, /settings/, is in its ROUTES)."""

RULES: set[str] = {
    "/settings/teaching",
    "/settings/payouts",
    "/settings/calendar",
    "/settings/time",
}

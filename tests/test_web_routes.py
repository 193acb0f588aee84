"""Every route as every kind of user: what each may open, and that nothing
else is there. A route missing from ROUTES fails the coverage test."""

from __future__ import annotations

import pytest

from tests.support import gen_account, gen_org
from tests import routes_catalog, routes_enrollment, routes_learning, routes_notifications, routes_settings
from tests.test_web_courses_access import ROUTES as COURSE_ROUTES
from tests.test_web_moderation import RULES as MODERATION_RULES
from tests.test_web_reviews_inbox import RULES as REVIEW_RULES
from tests.test_web_admin import RULES as ADMIN_RULES
from tests.test_web_organization import RULES as ORGANIZATION_RULES
from tests.test_web_students_roster import RULES as ROSTER_RULES
from tests.test_web_student_page import RULES as STUDENT_PAGE_RULES
from tests.test_web_announcements import RULES as ANNOUNCEMENT_RULES
from tests.test_web_bulk_enroll import RULES as BULK_ENROLL_RULES
from tests.test_web_revenue import RULES as REVENUE_RULES
from tests.test_web_discussions import RULES as DISCUSSION_RULES
from tests.test_web_workshops import RULES as WORKSHOP_RULES
from tests.web import close_app, htmx, make_app, sign_in

ACTORS = ("anon", "student", "instructor", "org_admin", "admin")
SIGN_IN = "sign in"  # anonymous users are redirected to the sign-in page

# path -> expected status (or SIGN_IN) per actor, in ACTORS order.
ROUTES = {
    "/": (303, 303, 303, 303, 303),
    "/sign-in": (200, 303, 303, 303, 303),
    "/sign-up": (200, 303, 303, 303, 303),
    "/dashboard": (SIGN_IN, 404, 200, 404, 404),
    "/dashboard/activity": (SIGN_IN, 404, 200, 404, 404),
    "/courses/": (SIGN_IN, 404, 200, 404, 404),
    "/workshops/": (SIGN_IN, 404, 200, 404, 404),
    "/workshops/new": (SIGN_IN, 404, 200, 404, 404),  # 021; the rest: test_web_workshops (RULES)
    "/workshops/feedback": (SIGN_IN, 404, 200, 404, 404),
    "/workshops/catalog/": (200, 200, 200, 200, 200),
    "/workshops/mine": (SIGN_IN, 200, 200, 200, 200),
    "/students/": (SIGN_IN, 404, 200, 404, 404),
    "/students/?sort=progress&risk=at_risk&status=active&q=ada": (SIGN_IN, 404, 200, 404, 404),
    "/students/at-risk": (SIGN_IN, 404, 303, 404, 404),  # htmx: the dashboard's banner
    "/students/activity": (SIGN_IN, 404, 200, 404, 404),
    "/students/activity?type=quiz_passed&course=nosuch": (SIGN_IN, 404, 200, 404, 404),
    "/students/enroll": (SIGN_IN, 404, 200, 404, 404),  # its POST and the invitation's link: test_web_bulk_enroll
    "/students/announcements": (SIGN_IN, 404, 200, 404, 404),  # the rest: test_web_announcements
    "/students/invitations": (SIGN_IN, 404, 200, 404, 404),  # revoking: test_web_bulk_enroll
    "/students/announcements/new": (SIGN_IN, 404, 200, 404, 404),
    "/announcements/": (SIGN_IN, 200, 200, 200, 200),
    "/revenue/": (SIGN_IN, 404, 200, 404, 404),
    "/revenue/?period=quarter&sort=title": (SIGN_IN, 404, 200, 404, 404),  # 020: the rest in test_web_revenue
    "/revenue/transactions": (SIGN_IN, 404, 200, 404, 404),
    "/revenue/transactions?period=all&kind=refund&payout=paid": (SIGN_IN, 404, 200, 404, 404),
    "/revenue/payouts": (SIGN_IN, 404, 200, 404, 404),
    "/revenue/admin/payouts": (SIGN_IN, 404, 404, 404, 200),
    "/revenue/admin/sales": (SIGN_IN, 404, 404, 404, 200),
    "/revenue/receipts": (SIGN_IN, 200, 200, 200, 200),  # anyone signed in may have bought something
    "/reviews/": (SIGN_IN, 404, 200, 404, 404),
    "/reviews/?answered=unanswered&rating=5&reported=reported": (SIGN_IN, 404, 200, 404, 404),
    "/settings/": (SIGN_IN, 404, 200, 404, 404),
    "/catalog/": (200, 200, 200, 200, 200),
    "/learning/": (SIGN_IN, 200, 404, 404, 404),
    "/admin/": (SIGN_IN, 404, 404, 303, 200),  # an org admin's old home: on to /organization/
    "/admin/jobs": (SIGN_IN, 404, 404, 404, 200),
    "/admin/users": (SIGN_IN, 404, 404, 404, 200),
    "/admin/users?q=ada&role=instructor&active=deactivated&org=nosuch": (SIGN_IN, 404, 404, 404, 200),
    "/admin/organizations": (SIGN_IN, 404, 404, 404, 200),
    "/organization/": (SIGN_IN, 404, 404, 200, 404),
    "/organization/courses": (SIGN_IN, 404, 404, 200, 404),
    "/organization/courses?status=draft&sort=enrolled&q=x": (SIGN_IN, 404, 404, 200, 404),
    "/organization/workshops": (SIGN_IN, 404, 404, 200, 404),
    "/organization/instructors": (SIGN_IN, 404, 404, 200, 404),
    "/admin/moderation/": (SIGN_IN, 404, 404, 404, 200),
    "/admin/moderation/?status=hidden": (SIGN_IN, 404, 404, 404, 200),
    "/audit/": (SIGN_IN, 404, 200, 200, 200),
    "/audit/?action=review.hidden&entity=course_review&period=week&actor=nosuch": (SIGN_IN, 404, 200, 200, 200),
    "/notifications/": (SIGN_IN, 200, 200, 200, 200),
    "/notifications/?show=unread": (SIGN_IN, 200, 200, 200, 200),
    "/settings/notifications": (SIGN_IN, 200, 200, 200, 200),
    "/account/": (SIGN_IN, 200, 200, 200, 200),
    "/account/delete": (SIGN_IN, 200, 200, 200, 200),  # an admin is told another admin closes theirs
    "/forgot-password": (200,) * 5,
    "/settings/profile": (SIGN_IN, 404, 200, 404, 404),  # its POST: test_web_profile
    "/settings/profile/preview": (SIGN_IN, 404, 200, 404, 404),
    "/dev/mail/": (200,) * 5,  # development only (404 in production: test_web_notifications)
    "/healthz": (200,) * 5,
    "/readyz": (200,) * 5,
    "/healthz/worker": (503,) * 5,  # no worker runs in the tests (one beating: test_web_notifications)
    "/static/vendor/htmx.min.js": (200,) * 5,
    "/static/vendor/chart.umd.min.js": (200,) * 5,
    "/static/vendor/Sortable.min.js": (200,) * 5,
    "/static/vendor/unknown.js": (404,) * 5,
    "/no-such-page": (404,) * 5,
}
POST_ONLY = {"/sign-out"}  # tested in test_web_auth (CSRF, method)
# A signed link's page: test_web_auth and test_web_account (every kind of link).
SIGNED_LINKS = {"/sign-up/confirm/<confirmation>", "/reset-password/<reset>", "/account/email/confirm/<change>"}
# The account's actions and its JSON download: test_web_account (every actor, CSRF, bad input).
ACCOUNT_RULES = {"/account/name", "/account/email", "/account/email/cancel", "/account/password",
                 "/account/sessions/<uuid:session_id>/end", "/account/sessions/end-others",
                 "/account/sessions/end-all", "/account/export"}
EXPORTS = {"/courses/export.csv", "/students/export.csv"}  # CSV files, not pages: test_web_exports (who may, and what)
# Course routes other than the list: every teacher x every route in test_web_courses_access.
COURSE_RULES = {route.rule for route in COURSE_ROUTES}
# The student side's routes: each area's tests (and its RULES) say how every actor is answered.
STUDENT_SIDE_RULES = routes_catalog.RULES | routes_enrollment.RULES | routes_learning.RULES
# The notices' routes with an id, a token or a key, and their POSTs: test_web_notifications.
NOTIFICATION_RULES = routes_notifications.RULES
# The sections of the instructor's settings page (POST only): test_web_instructor_settings.
SETTINGS_RULES = routes_settings.RULES
# For machines, not people: JSON, no page around it.
HEALTH = {"/healthz", "/readyz", "/healthz/worker"}

HOME = {"anon": "/catalog/", "student": "/learning/", "instructor": "/dashboard", "org_admin": "/organization/",
        "admin": "/admin/"}


@pytest.fixture(scope="module")
def clients(module_database, tmp_path_factory):
    """One signed-in client per actor, on one app for the module (its development mailbox in a
    directory of its own)."""
    app = make_app(module_database, MAIL_CAPTURE_DIR=str(tmp_path_factory.mktemp("mail") / "box"))
    org = gen_org(module_database)
    result = {"anon": app.test_client()}
    for role in ACTORS[1:]:
        _, email = gen_account(module_database, role, org=org if role == "org_admin" else None)
        result[role] = app.test_client()
        sign_in(result[role], email)
    yield app, result
    close_app()


CASES = [(path, actor, expected[i]) for path, expected in ROUTES.items() for i, actor in enumerate(ACTORS)]


@pytest.mark.parametrize("path, actor, expected", CASES, ids=[f"{p} as {a}" for p, a, _ in CASES])
def test_route_as_actor(clients, path, actor, expected):
    """Each route answers each actor as the table says; anonymous users are sent to sign in,
    except from the home page, which shows them the public catalog."""
    _, by_actor = clients
    response = by_actor[actor].get(path)
    if expected == SIGN_IN:
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/sign-in?next=")
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if response.status_code == 303 and path in ("/", "/sign-in", "/sign-up"):
        assert response.headers["Location"] == HOME[actor]


@pytest.mark.parametrize("path", [p for p, e in ROUTES.items()
                                  if 200 in e and not p.startswith("/static") and p not in HEALTH])
def test_pages_answer_htmx_and_plain_requests(clients, path):
    """A page answers a plain GET with a full page and sends Vary: HX-Request."""
    _, by_actor = clients
    actor = next(a for a, status in zip(ACTORS, ROUTES[path]) if status == 200)
    page = by_actor[actor].get(path)
    assert "<html" in page.get_data(as_text=True) and "HX-Request" in page.headers.get("Vary", "")
    assert "Content-Security-Policy" in page.headers


def test_every_route_is_in_the_table(clients):
    """No route exists that this module does not test."""
    app, _ = clients
    known = (set(ROUTES) | POST_ONLY | SIGNED_LINKS | ACCOUNT_RULES | EXPORTS | COURSE_RULES | STUDENT_SIDE_RULES
             | NOTIFICATION_RULES | SETTINGS_RULES | REVIEW_RULES | ROSTER_RULES | STUDENT_PAGE_RULES
             | BULK_ENROLL_RULES | ANNOUNCEMENT_RULES | ADMIN_RULES | ORGANIZATION_RULES | MODERATION_RULES
             | DISCUSSION_RULES | REVENUE_RULES
             | WORKSHOP_RULES
             | {"/static/<path:filename>", "/static/vendor/<name>"})
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert rules - known == set()


def test_page_has_landmarks_labels_and_role_navigation(clients):
    """The layout has a skip link, landmarks, the CSRF header for htmx and the role's navigation."""
    _, by_actor = clients
    page = by_actor["instructor"].get("/dashboard").get_data(as_text=True)
    for marker in ('class="skip-link" href="#main"', '<main id="main"', '<nav class="site-nav" aria-label="Main">',
                   'hx-headers=\'{"X-CSRFToken": ', 'aria-current="page"', "/static/vendor/htmx.min.js?v=2."):
        assert marker in page, marker
    for label in ("Dashboard", "Courses", "Workshops", "Students", "Revenue", "Reviews", "Settings", "Catalog"):
        assert f">{label}</a>" in page
    assert "row-level security" not in page, "no note for developers in the layout"
    student = by_actor["student"].get("/learning/").get_data(as_text=True)
    assert ">My learning</a>" in student and ">Revenue</a>" not in student
    admin = by_actor["admin"].get("/admin/").get_data(as_text=True)
    assert ">Moderation queue</a>" in admin and ">Audit log</a>" in admin and ">Dashboard</a>" not in admin


def test_htmx_request_for_a_hidden_page_is_a_404_fragment(clients):
    """An htmx request for a page of another role gets the 404 fragment, not a page."""
    _, by_actor = clients
    response = by_actor["student"].get("/revenue/", headers=htmx())
    assert response.status_code == 404 and "<html" not in response.get_data(as_text=True)


NUL_PATHS = ["/catalog/a%00b", "/catalog/a%00b/reviews", "/catalog/a%00b/review", "/certificates/a%00b",
             "/certificates/a%00b.pdf", "/learn/a%00b/", "/instructors/a%00b", "/courses/%00"]


@pytest.mark.parametrize("path", NUL_PATHS)
@pytest.mark.parametrize("actor", ["anon", "student"])
def test_an_address_with_a_nul_character_is_404(clients, path, actor):
    """A NUL in the address (which PostgreSQL refuses in text) is a 404 page, GET or POST, never a 500."""
    _, by_actor = clients
    assert by_actor[actor].get(path).status_code == 404
    assert by_actor[actor].post(path.rstrip("/") + "/enroll").status_code == 404


# Which area (blueprint) owns each URL prefix: README, "Layout: one rule for every area".
PREFIX_OWNERS = {
    "": "dashboard", "dashboard": "dashboard", "sign-in": "auth", "sign-up": "auth", "sign-out": "auth",
    "courses": "courses", "catalog": "catalog", "instructors": "catalog", "checkout": "enrollment",
    "payments": "enrollment", "learning": "learning", "learn": "learning", "certificates": "learning",
    "students": "students", "workshops": "workshops", "revenue": "revenue", "reviews": "reviews",
    "settings": "settings", "admin": "admin", "organization": "organization", "static": "static",
    "notifications": "notifications", "dev": "notifications", "healthz": "health", "readyz": "health",
    "account": "account", "forgot-password": "auth", "reset-password": "auth",
    "invitations": "outreach", "announcements": "outreach",
    "admin/moderation": "moderation", "audit": "audit",
    "discussions": "discussions",
}


def test_every_route_belongs_to_the_area_that_owns_its_prefix(clients):
    app, _ = clients
    wrong = {}
    for rule in app.url_map.iter_rules():
        parts = rule.rule.strip("/").split("/")
        prefix = "/".join(parts[:2]) if "/".join(parts[:2]) in PREFIX_OWNERS else parts[0]  # a sub-prefix's own area
        area = rule.endpoint.split(".")[0] if "." in rule.endpoint else rule.endpoint
        if area == "assets":  # the vendored scripts, served under /static
            area = "static"
        if PREFIX_OWNERS.get(prefix) != area:
            wrong[rule.rule] = (area, PREFIX_OWNERS.get(prefix))
    assert wrong == {}

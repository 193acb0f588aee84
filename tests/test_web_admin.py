"""The platform admin's pages over HTTP: every route as every actor (others get 404, the anonymous
sign in, a POST without its CSRF token is 400), the overview's figures, finding a user, each act on
an account (role, status, organization, verification) with its confirmation, reason and notice,
the database's refusals shown as 422 with the admin's values, and organizations (create, rename,
members, their admins)."""

from __future__ import annotations

import re

import pytest

from tests.support import gen_account, gen_course, gen_org, gen_user
from tests.web import close_app, csrf_token, htmx, make_app, sign_in, text

# The admin routes with an argument, or POST only (test_web_routes.py: every route is tested).
RULES = {
    "/admin/users/<uuid:user_id>", "/admin/users/<uuid:user_id>/role", "/admin/users/<uuid:user_id>/active",
    "/admin/users/<uuid:user_id>/organization", "/admin/users/<uuid:user_id>/instructor",
    "/admin/organizations/<uuid:org_id>", "/admin/organizations/<uuid:org_id>/name",
    "/admin/organizations/<uuid:org_id>/members",
    "/admin/organizations/<uuid:org_id>/members/<uuid:user_id>/remove",
    "/admin/organizations/<uuid:org_id>/members/<uuid:user_id>/admin",
}
ACTORS = ("anon", "student", "instructor", "org_admin", "admin")


class Cast:
    def __init__(self, database, app):
        self.database, self.app = database, app
        self.users, self.emails, self.clients, self._tokens = {}, {}, {}, {}
        self.org = gen_org(database, "Acme Learning")

    def add(self, actor, role, org=None, name=None):
        self.users[actor], self.emails[actor] = gen_account(self.database, role, org=org, name=name)
        self.clients[actor] = self.app.test_client()
        sign_in(self.clients[actor], self.emails[actor])

    def token(self, actor):
        if actor not in self._tokens:
            self._tokens[actor] = csrf_token(self.clients[actor], "/sign-in" if actor == "anon" else "/no-such-page")
        return self._tokens[actor]

    def post(self, actor, path, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token(actor)
        return self.clients[actor].post(path, data=data, **kwargs)

    def value(self, sql, *params):
        return self.database.value(sql, params)


@pytest.fixture(scope="module")
def cast(module_database):
    app = make_app(module_database)
    built = Cast(module_database, app)
    built.clients["anon"] = app.test_client()
    built.add("student", "student", name="Sam Student")
    built.add("instructor", "instructor", name="Ines Instructor")
    built.add("org_admin", "org_admin", org=built.org, name="Olga Orgadmin")
    built.add("admin", "admin", name="Ada Admin")
    yield built
    close_app()


def person(cast, role="student", name=None, org=None):
    return gen_user(cast.database, role, org=org, name=name)


def paths(cast):
    target = person(cast)
    return {
        ("GET", f"/admin/users/{target}"): {},
        ("POST", f"/admin/users/{target}/role"): {"role": "instructor", "confirm": "y"},
        ("POST", f"/admin/users/{target}/active"): {"confirm": "y"},
        ("POST", f"/admin/users/{target}/organization"): {"organization": str(cast.org)},
        ("POST", f"/admin/users/{target}/instructor"): {"verified": "y"},
        ("GET", f"/admin/organizations/{cast.org}"): {},
        ("POST", "/admin/organizations"): {"name": "Created By Anyone"},
        ("POST", f"/admin/organizations/{cast.org}/name"): {"name": "Renamed By Anyone"},
        ("POST", f"/admin/organizations/{cast.org}/members"): {"email": "nobody@example.test"},
        ("POST", f"/admin/organizations/{cast.org}/members/{target}/remove"): {},
        ("POST", f"/admin/organizations/{cast.org}/members/{target}/admin"): {"make": "yes"},
    }, target


@pytest.mark.parametrize("actor", ACTORS[:-1])
def test_only_a_platform_admin_reaches_the_admin_pages(cast, actor):
    """Every admin route, GET and POST: 404 for every other role, sign-in for the anonymous; nothing
    changes."""
    routes, target = paths(cast)
    for (method, path), data in routes.items():
        if method == "GET":
            response = cast.clients[actor].get(path)
        else:
            response = cast.post(actor, path, data)
        if actor == "anon":
            assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in"), path
        else:
            assert response.status_code == 404, (path, response.status_code)
    assert cast.value("SELECT role::text || is_active::text || (organization_id IS NULL)::text FROM users "
                      "WHERE id = %s", target) == "studenttruetrue"
    assert cast.value("SELECT name FROM organizations WHERE id = %s", cast.org) == "Acme Learning"


def test_every_admin_post_needs_its_csrf_token(cast):
    routes, target = paths(cast)
    for (method, path), data in routes.items():
        if method == "POST":
            assert cast.post("admin", path, data, csrf=False).status_code == 400, path
    assert cast.value("SELECT role::text || is_active::text FROM users WHERE id = %s", target) == "studenttrue"


def test_an_unknown_user_or_organization_is_404(cast):
    missing = "00000000-0000-0000-0000-000000000001"
    assert cast.clients["admin"].get(f"/admin/users/{missing}").status_code == 404
    assert cast.clients["admin"].get(f"/admin/organizations/{missing}").status_code == 404
    assert cast.post("admin", f"/admin/users/{missing}/role", {"role": "instructor", "confirm": "y"}).status_code == 404
    outsider = person(cast)
    assert cast.post("admin", f"/admin/organizations/{cast.org}/members/{outsider}/remove").status_code == 404


def test_the_org_admins_old_home_sends_them_to_theirs(cast):
    response = cast.clients["org_admin"].get("/admin/")
    assert response.status_code == 303 and response.headers["Location"] == "/organization/"


def test_the_main_navigation_marks_only_the_page_it_is_on(cast):
    """Overview, Users and Organizations share the admin blueprint: on the users page only Users is
    current (each was marked as the area before); a page of no entry marks its area's first entry."""
    main = re.compile(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', re.S)
    users = main.search(text(cast.clients["admin"].get("/admin/users"))).group(1)
    assert re.findall(r'aria-current="(\w+)">([^<]+)<', users) == [("page", "Users")]
    one = main.search(text(cast.clients["admin"].get(f"/admin/users/{cast.users['student']}"))).group(1)
    assert re.findall(r'aria-current="(\w+)">([^<]+)<', one) == [("true", "Overview")]


# --- the overview ---------------------------------------------------------------------------------------

def test_the_overview_shows_the_platforms_figures_and_months(cast):
    gen_course(cast.database, cast.users["instructor"], status="draft")
    page = text(cast.clients["admin"].get("/admin/"))
    users = cast.value("SELECT count(*) FROM users")
    assert f'data-figure="users">{users:,}<' in page
    assert 'data-figure="open_reports">0<' in page and 'href="/admin/moderation/"' in page
    assert 'data-chart="revenue_months"' in page and "Sales and platform fees by month" in page
    assert page.count('<th scope="row">') >= 12   # the table behind the chart: twelve months


# --- users -------------------------------------------------------------------------------------------------

def test_the_user_list_searches_and_filters(cast):
    needle = person(cast, "instructor", name="Zebulon Findme")
    found = text(cast.clients["admin"].get("/admin/users?q=zebulon"))
    assert f"/admin/users/{needle}" in found and "Sam Student" not in found
    by_role = text(cast.clients["admin"].get("/admin/users?role=org_admin", headers=htmx()))
    assert "Olga Orgadmin" in by_role and "Sam Student" not in by_role and "<html" not in by_role
    by_org = text(cast.clients["admin"].get(f"/admin/users?org={cast.org}"))
    assert "Olga Orgadmin" in by_org and "Sam Student" not in by_org


@pytest.mark.parametrize("q", ["z", "ze", " ze "])
def test_a_search_under_three_characters_asks_for_more(cast, q):
    """One or two characters would read every user (no trigram serves them): the page asks for
    three, 200, and lists no one; the organization's members page likewise."""
    person(cast, name="Zeta Short")
    page = cast.clients["admin"].get("/admin/users", query_string={"q": q})
    assert page.status_code == 200 and "Type at least 3 characters" in text(page)
    assert "Zeta Short" not in text(page)
    members = cast.clients["admin"].get(f"/admin/organizations/{cast.org}", query_string={"q": q})
    assert members.status_code == 200 and "Type at least 3 characters" in text(members)
    assert "Olga Orgadmin" not in text(members)


def test_the_user_list_pages_by_position(cast):
    for n in range(27):
        person(cast, name=f"Pager Person {n:02d}")
    first = text(cast.clients["admin"].get("/admin/users?q=pager+person"))
    assert first.count("Pager Person") == 25 and 'rel="next"' in first
    following = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = text(cast.clients["admin"].get(following))
    assert second.count("Pager Person") == 2 and "Pager Person 00" in second and 'rel="prev"' in second


def test_a_user_page_shows_the_account_and_its_forms(cast):
    target = person(cast, name="Page Person", org=cast.org)
    page = text(cast.clients["admin"].get(f"/admin/users/{target}"))
    assert "Page Person" in page and "Acme Learning" in page and 'data-field="status">Active<' in page
    assert f'action="/admin/users/{target}/role"' in page and f'action="/admin/users/{target}/active"' in page
    # the admin's own page offers no change of their own role or status
    own = text(cast.clients["admin"].get(f"/admin/users/{cast.users['admin']}"))
    assert "/role\"" not in own and "The operators change a platform administrator's role and status" in own


def test_making_a_student_an_instructor(cast):
    target = person(cast)
    response = cast.post("admin", f"/admin/users/{target}/role",
                         {"role": "instructor", "reason": "Teaches at Acme", "confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{target}"
    assert cast.value("SELECT role::text FROM users WHERE id = %s", target) == "instructor"
    assert cast.value("SELECT count(*) FROM instructor_settings WHERE user_id = %s", target) == 1
    assert cast.value("SELECT payload ->> 'reason' FROM notifications WHERE user_id = %s "
                      "AND event_type = 'account_changed'", target) == "Teaches at Acme"
    assert "is now: Instructor" in text(cast.clients["admin"].get(f"/admin/users/{target}"))


@pytest.mark.parametrize("case", ["no_confirm", "long_reason", "unknown_role", "admin_role"])
def test_a_bad_role_change_is_422_with_the_admins_values(cast, case):
    target = person(cast)
    data = {"role": "instructor", "reason": "Kept reason", "confirm": "y"}
    if case == "no_confirm":
        del data["confirm"]
    elif case == "long_reason":
        data["reason"] = "x" * 501
    elif case == "unknown_role":
        data["role"] = "wizard"
    else:
        data["role"] = "admin"
    response = cast.post("admin", f"/admin/users/{target}/role", data)
    assert response.status_code == 422
    page = text(response)
    if case == "no_confirm":
        assert "Tick the box to confirm." in page and "Kept reason" in page
    elif case == "long_reason":
        assert "At most 500 characters." in page
    else:
        assert "Not a valid choice" in page
    assert cast.value("SELECT role::text FROM users WHERE id = %s", target) == "student"


def test_demoting_an_instructor_who_teaches_is_refused_with_the_reason(cast):
    teacher = person(cast, "instructor")
    gen_course(cast.database, teacher, status="draft")
    response = cast.post("admin", f"/admin/users/{teacher}/role", {"role": "student", "confirm": "y"})
    assert response.status_code == 422 and "still owns or teaches courses" in text(response)
    assert cast.value("SELECT role::text FROM users WHERE id = %s", teacher) == "instructor"


def test_an_admin_cannot_deactivate_or_demote_themself(cast):
    me = cast.users["admin"]
    response = cast.post("admin", f"/admin/users/{me}/active", {"confirm": "y"})
    assert response.status_code == 422 and "cannot change your own role" in text(response)
    response = cast.post("admin", f"/admin/users/{me}/role", {"role": "student", "confirm": "y"})
    assert response.status_code == 422
    assert cast.value("SELECT role::text || is_active::text FROM users WHERE id = %s", me) == "admintrue"


def test_another_admins_status_is_the_operators(cast):
    """The page offers no Status form for a platform admin and says why; a forged POST is refused."""
    other = person(cast, "admin", name="Other Admin")
    page = text(cast.clients["admin"].get(f"/admin/users/{other}"))
    assert f'action="/admin/users/{other}/active"' not in page
    assert "deactivated and reactivated by the operators" in page
    refused = cast.post("admin", f"/admin/users/{other}/active", {"confirm": "y"})
    assert refused.status_code == 422 and "deactivated and reactivated by the operators" in text(refused)
    assert cast.value("SELECT is_active FROM users WHERE id = %s", other) is True


def test_deactivating_needs_confirmation_then_signs_the_person_out(cast, module_database):
    victim, email = gen_account(module_database, "student", name="Dee Activated")
    client = cast.app.test_client()
    sign_in(client, email)
    assert client.get("/learning/").status_code == 200
    unconfirmed = cast.post("admin", f"/admin/users/{victim}/active", {"reason": "Spam"})
    assert unconfirmed.status_code == 422 and "Tick the box to confirm." in text(unconfirmed)
    assert cast.value("SELECT is_active FROM users WHERE id = %s", victim) is True
    done = cast.post("admin", f"/admin/users/{victim}/active", {"reason": "Spam", "confirm": "y"})
    assert done.status_code == 303
    assert cast.value("SELECT is_active FROM users WHERE id = %s", victim) is False
    # their session ended: the next request is anonymous
    after = client.get("/learning/")
    assert after.status_code == 303 and after.headers["Location"].startswith("/sign-in")
    # reactivating needs no confirmation and tells them
    again = cast.post("admin", f"/admin/users/{victim}/active", {})
    assert again.status_code == 303 and cast.value("SELECT is_active FROM users WHERE id = %s", victim) is True
    assert cast.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'account_changed'",
                      victim) == 1


def test_setting_and_clearing_an_organization(cast):
    target = person(cast)
    assert cast.post("admin", f"/admin/users/{target}/organization",
                     {"organization": str(cast.org)}).status_code == 303
    assert cast.value("SELECT organization_id FROM users WHERE id = %s", target) == cast.org
    assert cast.post("admin", f"/admin/users/{target}/organization", {"organization": ""}).status_code == 303
    assert cast.value("SELECT organization_id FROM users WHERE id = %s", target) is None
    bad = cast.post("admin", f"/admin/users/{target}/organization",
                    {"organization": "00000000-0000-0000-0000-000000000009"})
    assert bad.status_code == 422 and "Not a valid choice" in text(bad)


def test_an_organization_past_the_listed_ones_is_accepted(cast, monkeypatch):
    """The select lists the first organizations by name only; one past them that exists is still a
    valid choice (checked against the database), an id of none is still 422."""
    from portal.admin import accounts
    monkeypatch.setattr(accounts, "ORG_CHOICES_LIMIT", 1)
    late = gen_org(cast.database, "Zzz Late Organization")
    target = person(cast)
    assert "Zzz Late Organization" not in text(cast.clients["admin"].get(f"/admin/users/{target}"))
    done = cast.post("admin", f"/admin/users/{target}/organization", {"organization": str(late)})
    assert done.status_code == 303
    assert cast.value("SELECT organization_id FROM users WHERE id = %s", target) == late
    assert "Zzz Late Organization" in text(cast.clients["admin"].get(f"/admin/users/{target}"))
    bad = cast.post("admin", f"/admin/users/{target}/organization",
                    {"organization": "00000000-0000-0000-0000-00000000000a"})
    assert bad.status_code == 422 and "Not a valid choice" in text(bad)


def test_verifying_and_featuring_an_instructor(cast):
    teacher = person(cast, "instructor")
    assert cast.post("admin", f"/admin/users/{teacher}/instructor",
                     {"verified": "y", "featured": "y", "reason": "Checked"}).status_code == 303
    assert cast.database.rows("SELECT is_verified, is_featured FROM instructor_profiles WHERE user_id = %s",
                              (teacher,)) == [{"is_verified": True, "is_featured": True}]
    assert cast.post("admin", f"/admin/users/{teacher}/instructor", {}).status_code == 303
    assert cast.value("SELECT is_verified OR is_featured FROM instructor_profiles WHERE user_id = %s",
                      teacher) is False
    student = person(cast)
    refused = cast.post("admin", f"/admin/users/{student}/instructor", {"verified": "y"})
    assert refused.status_code == 422 and "no instructor profile" in text(refused)
    # a member demoted to student keeps a hidden profile: no form for it, and a POST is refused
    cast.post("admin", f"/admin/users/{teacher}/role", {"role": "student", "confirm": "y"})
    page = text(cast.clients["admin"].get(f"/admin/users/{teacher}"))
    assert f'action="/admin/users/{teacher}/instructor"' not in page
    refused = cast.post("admin", f"/admin/users/{teacher}/instructor", {"verified": "y"})
    assert refused.status_code == 422 and "not an instructor" in text(refused)
    assert cast.value("SELECT is_verified FROM instructor_profiles WHERE user_id = %s", teacher) is False


def test_removing_an_org_admin_says_they_lose_the_role_and_the_courses_stay(cast):
    org = gen_org(cast.database, "Removal Org")
    boss = person(cast, "org_admin", name="Rita Removed", org=org)
    page = text(cast.clients["admin"].get(f"/admin/organizations/{org}"))
    assert "an organization admin who is removed stops administering it" in page
    done = cast.post("admin", f"/admin/organizations/{org}/members/{boss}/remove", follow_redirects=True)
    assert "Rita Removed is no longer a member of Removal Org and no longer administers it" in text(done)
    assert "courses and workshops in the organization stay with it" in text(done)


# --- organizations ------------------------------------------------------------------------------------

def test_creating_renaming_and_the_bad_inputs(cast):
    created = cast.post("admin", "/admin/organizations", {"name": "Globex University"})
    assert created.status_code == 303
    org = cast.value("SELECT id FROM organizations WHERE slug = 'globex-university'")
    assert created.headers["Location"] == f"/admin/organizations/{org}"
    again = cast.post("admin", "/admin/organizations", {"name": "Globex Again", "slug": "globex-university"})
    assert again.status_code == 422 and "Another organization already uses" in text(again)
    assert "Globex Again" in text(again)
    bad_slug = cast.post("admin", "/admin/organizations", {"name": "Bad Slug", "slug": "Not A Slug"})
    assert bad_slug.status_code == 422 and "Lower-case letters" in text(bad_slug)
    short = cast.post("admin", f"/admin/organizations/{org}/name", {"name": "G"})
    assert short.status_code == 422 and "From 2 to 200 characters." in text(short)
    assert cast.post("admin", f"/admin/organizations/{org}/name", {"name": "Globex U"}).status_code == 303
    assert cast.value("SELECT name FROM organizations WHERE id = %s", org) == "Globex U"
    listed = text(cast.clients["admin"].get("/admin/organizations?q=globex"))
    assert "Globex U" in listed and "Acme Learning" not in listed


def test_members_and_their_admins(cast):
    org = gen_org(cast.database, "Members Org")
    member, email = gen_account(cast.database, "student", name="Mia Member")
    unknown = cast.post("admin", f"/admin/organizations/{org}/members", {"email": "nobody-at-all@example.test"})
    assert unknown.status_code == 422 and "No account has that email" in text(unknown)
    assert "nobody-at-all@example.test" in text(unknown)
    assert cast.post("admin", f"/admin/organizations/{org}/members", {"email": email.upper()}).status_code == 303
    assert cast.value("SELECT organization_id FROM users WHERE id = %s", member) == org
    assert "Mia Member" in text(cast.clients["admin"].get(f"/admin/organizations/{org}"))
    make_admin = f"/admin/organizations/{org}/members/{member}/admin"
    # the first POST asks for a confirmation and changes nothing
    asked = cast.post("admin", make_admin, {"make": "yes"})
    assert asked.status_code == 200 and "will administer Members Org" in text(asked)
    assert 'name="confirm" value="y"' in text(asked)
    assert cast.value("SELECT role::text FROM users WHERE id = %s", member) == "student"
    assert cast.post("admin", make_admin, {"make": "yes", "confirm": "y"}).status_code == 303
    assert cast.value("SELECT role::text FROM users WHERE id = %s", member) == "org_admin"
    asked = cast.post("admin", make_admin, {"make": "no"})
    assert asked.status_code == 200 and "will no longer administer" in text(asked)
    assert cast.value("SELECT role::text FROM users WHERE id = %s", member) == "org_admin"
    assert cast.post("admin", make_admin, {"make": "no", "confirm": "y"}).status_code == 303
    assert cast.value("SELECT role::text FROM users WHERE id = %s", member) == "student"
    assert cast.post("admin", make_admin, {"make": "yes", "confirm": "y"}).status_code == 303
    # removing an org admin from the organization ends the role too
    assert cast.post("admin", f"/admin/organizations/{org}/members/{member}/remove").status_code == 303
    assert cast.database.rows("SELECT role::text, organization_id FROM users WHERE id = %s", (member,)) == \
        [{"role": "student", "organization_id": None}]


@pytest.mark.parametrize("make", ["yes", "no"])
def test_the_member_admin_button_acts_only_on_the_role_it_names(cast, make):
    """make=no on a plain instructor does not demote them to student, and make=yes on an instructor
    does not make them an org admin: nothing changes and the admin is told so."""
    org = gen_org(cast.database, f"Button Org {make}")
    teacher = person(cast, "instructor", name="Ivo Instructor", org=org)
    response = cast.post("admin", f"/admin/organizations/{org}/members/{teacher}/admin",
                         {"make": make, "confirm": "y"}, follow_redirects=True)
    assert response.status_code == 200 and "Nothing changed: Ivo Instructor is instructor" in text(response)
    assert cast.value("SELECT role::text FROM users WHERE id = %s", teacher) == "instructor"


def test_the_benchmark_measures_pages_that_open(cast):
    """The 1M benchmark signs in as the platform admin and an organization admin and measures these
    pages (portal.bench.run): each answers 200 to its person, so a renamed route is not measured as a
    404."""
    from portal.bench import run
    for actor, measured in (("admin", run.ADMIN_PAGES), ("org_admin", run.ORG_ADMIN_PAGES)):
        for name, path in measured:
            assert cast.clients[actor].get(path).status_code == 200, (name, path)

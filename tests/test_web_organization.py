"""The organization admin's home over HTTP: every route as every actor; their organization's figures,
courses, workshops and instructors (paged, filtered, exported as CSV, formula-safe); drill-downs;
and never another organization's rows nor an instructor's standalone work, on a page, in a figure
or in an export."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support import enroll, gen_account, gen_course, gen_org, gen_user, gen_workshop, pay
from tests.web import close_app, htmx, make_app, sign_in, text

RULES = {"/organization/courses.csv", "/organization/courses/<uuid:course_id>", "/organization/instructors.csv",
         "/organization/instructors/<uuid:user_id>"}
ACTORS = ("anon", "student", "instructor", "admin", "other_org_admin")


@pytest.fixture(scope="module")
def org(module_database):
    """Acme (its admin, instructor Ada with two Acme courses, an Acme workshop, and a standalone
    course and workshop of her own, all sold) and Globex (its admin, instructor Bob, a course)."""
    db = module_database
    app = make_app(db)
    acme, globex = gen_org(db, "Acme"), gen_org(db, "Globex")
    ada = gen_user(db, "instructor", org=acme, name="Ada Acme")
    bob = gen_user(db, "instructor", org=globex, name="Bob Globex")
    courses = {
        "acme": gen_course(db, ada, org=acme, price="50", title="Acme Algebra"),
        "acme_draft": gen_course(db, ada, org=acme, status="draft", title="=HYPERLINK(\"x\") Acme Draft"),
        "standalone": gen_course(db, ada, price="30", title="Ada Solo Published"),
        "standalone_draft": gen_course(db, ada, status="draft", title="Ada Solo Draft"),
        "globex": gen_course(db, bob, org=globex, price="40", title="Globex Geometry"),
    }
    workshops = {"acme": gen_workshop(db, ada, org=acme, title="Acme Workshop"),
                 "standalone": gen_workshop(db, ada, title="Ada Solo Workshop"),
                 "globex": gen_workshop(db, bob, org=globex, title="Globex Workshop")}
    student = gen_user(db, "student")
    for key in ("acme", "standalone", "globex"):
        pay(db, enroll(db, student, courses[key].id))
    db.value("SELECT refresh_instructor_monthly_stats()")
    clients, users = {"anon": app.test_client()}, {}
    for actor, role, home in (("org_admin", "org_admin", acme), ("other_org_admin", "org_admin", globex),
                              ("student", "student", None), ("instructor", "instructor", None),
                              ("admin", "admin", None)):
        users[actor], email = gen_account(db, role, org=home)
        clients[actor] = app.test_client()
        sign_in(clients[actor], email)
    yield dict(db=db, app=app, clients=clients, users=users, courses=courses, workshops=workshops, ada=ada, bob=bob,
               acme=acme, globex=globex)
    close_app()


def get(org, actor, path, **kwargs):
    return org["clients"][actor].get(path, **kwargs)


def routes(org):
    return ["/organization/", "/organization/courses", "/organization/workshops", "/organization/instructors",
            "/organization/courses.csv", "/organization/instructors.csv",
            f"/organization/courses/{org['courses']['acme'].id}", f"/organization/instructors/{org['ada']}"]


@pytest.mark.parametrize("actor", ACTORS)
def test_only_the_organizations_admin_opens_its_pages(org, actor):
    """Another role is a 404; the anonymous sign in; another organization's admin opens their own
    home but gets 404 for this organization's course and instructor."""
    for path in routes(org):
        response = get(org, actor, path, buffered=True)
        if actor == "anon":
            assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in"), path
        elif actor == "other_org_admin":
            expected = 404 if path.count("/") == 3 and not path.endswith(".csv") else 200
            assert response.status_code == expected, path
        else:
            assert response.status_code == 404, (path, response.status_code)


def test_the_home_counts_the_organizations_work_only(org):
    page = text(get(org, "org_admin", "/organization/"))
    assert 'data-figure="courses">2<' in page          # Acme's two, not Ada's standalone ones
    assert 'data-figure="workshops">1<' in page
    assert 'data-figure="instructors">1<' in page
    assert 'data-figure="enrolled">1<' in page
    assert 'data-figure="revenue">$50.00<' in page      # not the standalone $30, not Globex's $40
    assert 'data-chart="revenue_months"' in page and "$50.00" in page.split("Sales by month")[-1]
    other = text(get(org, "other_org_admin", "/organization/"))
    assert 'data-figure="revenue">$40.00<' in other and "Globex" in other


def test_lists_show_the_organizations_rows_only(org):
    courses = text(get(org, "org_admin", "/organization/courses"))
    assert "Acme Algebra" in courses and "Acme Draft" in courses
    for hidden in ("Ada Solo Published", "Ada Solo Draft", "Globex Geometry"):
        assert hidden not in courses
    workshops = text(get(org, "org_admin", "/organization/workshops"))
    assert "Acme Workshop" in workshops and "Ada Solo Workshop" not in workshops and "Globex" not in workshops
    instructors = text(get(org, "org_admin", "/organization/instructors"))
    assert "Ada Acme" in instructors and "Bob Globex" not in instructors
    filtered = text(get(org, "org_admin", "/organization/courses?status=draft", headers=htmx()))
    assert "Acme Draft" in filtered and "Acme Algebra" not in filtered and "<html" not in filtered


def test_the_course_drill_down(org):
    course = org["courses"]["acme"].id
    page = text(get(org, "org_admin", f"/organization/courses/{course}"))
    assert "Acme Algebra" in page and 'data-figure="revenue">$50.00<' in page
    assert 'data-status="enrolled">1<' in page and 'data-status="cancelled">0<' in page
    for key in ("standalone", "standalone_draft", "globex"):
        assert get(org, "org_admin", f"/organization/courses/{org['courses'][key].id}").status_code == 404


def test_the_instructor_drill_down_hides_their_standalone_work(org):
    page = text(get(org, "org_admin", f"/organization/instructors/{org['ada']}"))
    assert "Acme Algebra" in page and "Acme Workshop" in page
    assert "Ada Solo" not in page
    assert get(org, "org_admin", f"/organization/instructors/{org['bob']}").status_code == 404
    # a member who is no instructor has no instructor page
    assert get(org, "org_admin", f"/organization/instructors/{org['users']['org_admin']}").status_code == 404


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_exports_are_the_organizations_rows_formula_safe(org):
    response = get(org, "org_admin", "/organization/courses.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *rows = rows_of(response)
    assert header[0] == "Title" and len(rows) == 2
    titles = {row[0] for row in rows}
    assert "Acme Algebra" in titles
    assert all(not title.startswith("=") for title in titles)   # the formula is written as text
    assert not any("Solo" in title or "Globex" in title for title in titles)
    sold = next(row for row in rows if row[0] == "Acme Algebra")
    assert sold[8] == "50.00"
    header, *people = rows_of(get(org, "org_admin", "/organization/instructors.csv"))
    assert [row[0] for row in people] == ["Ada Acme"] and people[0][2] == "2"
    _, *other = rows_of(get(org, "other_org_admin", "/organization/courses.csv"))
    assert [row[0] for row in other] == ["Globex Geometry"]


def test_the_course_list_pages(org):
    db = org["db"]
    for n in range(21):
        gen_course(db, org["ada"], org=org["acme"], status="draft", title=f"Paged Course {n:02d}")
    first = text(get(org, "org_admin", "/organization/courses?q=paged"))
    assert first.count("Paged Course") == 20 and "Page 1 of 2" in first
    second = text(get(org, "org_admin", "/organization/courses?q=paged&page=2"))
    assert second.count("Paged Course") == 1 and "Paged Course 20" in second


def test_the_instructor_page_pages_their_courses(org):
    """Ada's organization courses page by 20 (the paged-course test above adds 21 drafts of hers)."""
    db = org["db"]
    if not db.value("SELECT count(*) FROM courses WHERE title LIKE 'Paged Course%%'"):
        for n in range(21):
            gen_course(db, org["ada"], org=org["acme"], status="draft", title=f"Paged Course {n:02d}")
    total = db.value("SELECT count(*) FROM courses WHERE instructor_id = %s AND organization_id = %s",
                     (org["ada"], org["acme"]))
    first = text(get(org, "org_admin", f"/organization/instructors/{org['ada']}"))
    assert first.count("/organization/courses/") == 20 and "Page 1 of 2" in first and "Ada Solo" not in first
    second = text(get(org, "org_admin", f"/organization/instructors/{org['ada']}?courses_page=2"))
    assert second.count("/organization/courses/") == total - 20 and "Acme Workshop" in second


def test_instructors_are_the_members_who_are_instructors_deactivated_marked(org):
    """A member demoted to student (their profile stays, hidden) is no instructor of the
    organization: not listed, not counted; a deactivated instructor is listed as Deactivated and
    not counted in the figure (active ones)."""
    db, app = org["db"], org["app"]
    # an organization of its own: the module's figures stay as they are
    home = gen_org(db, "Initech")
    gen_user(db, "instructor", org=home, name="Iris Active")
    demoted = gen_user(db, "instructor", org=home, name="Dora Demoted")
    db.value("UPDATE users SET role = 'student' WHERE id = %s RETURNING id", (demoted,))
    gone = gen_user(db, "instructor", org=home, name="Dirk Deactivated")
    db.value("UPDATE users SET is_active = false WHERE id = %s RETURNING id", (gone,))
    _, email = gen_account(db, "org_admin", org=home)
    client = app.test_client()
    sign_in(client, email)
    listed = text(client.get("/organization/instructors"))
    assert "Iris Active" in listed and "Dirk Deactivated" in listed and "Dora Demoted" not in listed
    assert listed.split("Dirk Deactivated")[1].split("</tr>")[0].count('data-field="status">Deactivated<') == 1
    assert listed.split("Iris Active")[1].split("</tr>")[0].count('data-field="status">Active<') == 1
    assert 'data-figure="instructors">1<' in text(client.get("/organization/"))
    assert client.get(f"/organization/instructors/{demoted}").status_code == 404
    rows = list(csv.reader(io.StringIO(client.get("/organization/instructors.csv").get_data(as_text=True))))
    assert sorted((r[0], r[-1]) for r in rows[1:]) == [("Dirk Deactivated", "deactivated"),
                                                       ("Iris Active", "active")]

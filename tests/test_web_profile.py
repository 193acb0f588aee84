"""The instructor's profile editor and its preview (issue 18, the profile part): who may open and
save it (always the caller's own profile), every field's rules with the person's values kept on a
422, the repeatable rows, social links, the database's CHECK as the final word (a 422, never a
500), the preview under each visibility, and the public instructor page and course pages
honouring profile_visibility."""

from __future__ import annotations

import html
import json
import re

import pytest

from portal.settings import profile_forms
from tests.support import enroll, gen_account, gen_course
from tests.web import csrf_token, htmx, make_app, close_app, sign_in, text

BIO = "I help small teams read their data and make calmer, better decisions with it."  # 79 characters
NAMES = {"owner": "Olivia Owner", "other": "Ian Other", "student": "Sam Student"}


class World:
    def __init__(self, database, app):
        self.database, self.app = database, app
        self.users, self.clients, self.tokens = {}, {"anon": app.test_client()}, {}
        for actor, name in NAMES.items():
            role = "student" if actor == "student" else "instructor"
            self.users[actor], email = gen_account(database, role, name=name)
            self.clients[actor] = app.test_client()
            sign_in(self.clients[actor], email)
            self.tokens[actor] = csrf_token(self.clients[actor], "/no-such-page")
        self.tokens["anon"] = csrf_token(self.clients["anon"], "/sign-in")

    def get(self, actor, path, **kwargs):
        return self.clients[actor].get(path, **kwargs)

    def post(self, actor, data, path="/settings/profile", csrf=True, **kwargs):
        data = dict(data)
        if csrf:
            data["csrf_token"] = self.tokens[actor]
        return self.clients[actor].post(path, data=data, **kwargs)

    def profile(self, actor) -> dict:
        return self.database.rows("SELECT headline, bio, expertise_tags, pillars, education, certifications, "
                                  "work_experience, social_links, website_url FROM instructor_profiles "
                                  "WHERE user_id = %s", (self.users[actor],))[0]

    def reset(self, actor) -> None:
        self.database.rows("UPDATE instructor_profiles SET headline = NULL, bio = NULL, expertise_tags = '{}', "
                           "pillars = '{}', education = '[]', certifications = '[]', work_experience = '[]', "
                           "social_links = '{}', website_url = NULL WHERE user_id = %s RETURNING 1",
                           (self.users[actor],))

    def visibility(self, actor, value) -> None:
        self.database.rows("UPDATE instructor_settings SET profile_visibility = %s WHERE user_id = %s RETURNING 1",
                           (value, self.users[actor]))


@pytest.fixture(scope="module")
def world(module_database):
    app = make_app(module_database)
    yield World(module_database, app)
    close_app()


@pytest.fixture()
def owner(world):
    """The owner's profile empty and public before and after the test."""
    world.reset("owner")
    world.visibility("owner", "public")
    yield world
    world.reset("owner")
    world.visibility("owner", "public")


def valid(**changes) -> dict:
    """A complete, valid post of the form."""
    data = {
        "headline": "Data coach for small teams", "bio": BIO,
        "expertise_tags": "Data, statistics ,  data , Python", "pillars": ["coaching", "adaptability"],
        "website_url": "https://olivia.example.test",
        "education-0-degree": "MSc Statistics", "education-0-institution": "University of Lagos",
        "education-0-year": "2011",
        "certifications-0-name": "Certified Facilitator", "certifications-0-issuer": "", "certifications-0-year": "",
        "work_experience-0-role": "Lead Analyst", "work_experience-0-company": "Kestrel Retail",
        "work_experience-0-from_year": "2016", "work_experience-0-to_year": "2022",
        "social_linkedin": "https://www.linkedin.com/in/olivia", "social_github": "",
        "social_mastodon": "https://mastodon.social/@olivia",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def flashes(client) -> list:
    with client.session_transaction() as session:
        return session.pop("_flashes", [])


def field_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', page)
    return html.unescape(found.group(1)) if found else None


# --- who may open and save it --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/settings/profile", "/settings/profile/preview"])
def test_pages_by_actor(world, path):
    """Instructors open the editor and the preview; students get 404; anonymous visitors sign in first."""
    assert world.get("owner", path).status_code == 200
    assert world.get("other", path).status_code == 200
    assert world.get("student", path).status_code == 404
    response = world.get("anon", path)
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")


def test_posts_by_actor(owner):
    """A student's POST is a 404, an anonymous one goes to sign in; neither changes anything."""
    world = owner
    assert world.post("student", valid()).status_code == 404
    response = world.post("anon", valid())
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    assert world.profile("owner")["headline"] is None


def test_a_post_without_a_csrf_token_is_refused(owner):
    """No token, no save: 400, the profile as it was."""
    world = owner
    assert world.post("owner", valid(), csrf=False).status_code == 400
    assert world.post("owner", valid(), csrf=False, headers=htmx()).status_code == 400
    assert world.profile("owner")["bio"] is None


def test_the_editor_shows_the_stored_profile_and_the_account_name(owner):
    """The form is filled in from the stored row (demo shapes); name and photo are read-only, sent to /account/."""
    world = owner
    world.database.rows(
        "UPDATE instructor_profiles SET headline = 'Coach', bio = %s, expertise_tags = '{Data,Python}', "
        "pillars = '{coaching}', education = %s, work_experience = %s, social_links = %s WHERE user_id = %s "
        "RETURNING 1",
        (BIO, json.dumps([{"degree": "BSc Statistics", "institution": "University of Lagos", "year": 2011}]),
         json.dumps([{"role": "Lead Data Analyst", "company": "Kestrel Retail", "from": 2016, "to": 2022}]),
         json.dumps({"github": "https://github.com/olivia"}), world.users["owner"]))
    page = text(world.get("owner", "/settings/profile"))
    assert field_value(page, "headline") == "Coach" and BIO in page
    assert field_value(page, "expertise_tags") == "Data, Python"
    assert re.search(r'<input[^>]*checked[^>]*value="coaching"|<input[^>]*value="coaching"[^>]*checked', page)
    assert field_value(page, "education-0-degree") == "BSc Statistics"
    assert field_value(page, "education-0-year") == "2011"
    assert field_value(page, "work_experience-0-from_year") == "2016"
    assert field_value(page, "social_github") == "https://github.com/olivia"
    assert "Olivia Owner" in page and 'href="/account/"' in page
    assert "Your name and photo are set on your account page" in page
    assert 'name="full_name"' not in page, "the name is not edited here"
    assert 'src="/static/js/profile.js"' in page and "<script>" not in page
    assert 'data-counter-min="50"' in page and 'data-counter-max="2000"' in page


def test_tag_suggestions_come_from_public_instructors_and_published_courses(owner):
    """The datalist offers tags that public profiles and published courses use (not drafts', not private ones)."""
    world = owner
    teacher, _ = gen_account(world.database, "instructor")
    hidden, _ = gen_account(world.database, "instructor")
    world.database.rows("UPDATE instructor_profiles SET expertise_tags = '{Kayaking}' WHERE user_id = %s RETURNING 1",
                        (teacher,))
    world.database.rows("UPDATE instructor_profiles SET expertise_tags = '{Secretology}' WHERE user_id = %s "
                        "RETURNING 1", (hidden,))
    world.database.rows("UPDATE instructor_settings SET profile_visibility = 'private' WHERE user_id = %s "
                        "RETURNING 1", (hidden,))
    published, draft = gen_course(world.database, teacher), gen_course(world.database, teacher, status="draft")
    world.database.rows("UPDATE courses SET tags = '{Origami}' WHERE id = %s RETURNING 1", (published.id,))
    world.database.rows("UPDATE courses SET tags = '{Draftonly}' WHERE id = %s RETURNING 1", (draft.id,))
    page = text(world.get("owner", "/settings/profile"))
    datalist = re.search(r'<datalist id="tag-suggestions">(.*?)</datalist>', page, re.S).group(1)
    assert '<option value="Kayaking">' in datalist and '<option value="Origami">' in datalist
    assert "Secretology" not in datalist and "Draftonly" not in datalist
    assert 'list="tag-suggestions"' in page
    assert datalist.count("<option") <= 50


# --- saving ----------------------------------------------------------------------------------------

def test_saving_stores_every_field_and_confirms(owner):
    """A valid post is stored in the stored shapes (tags trimmed and de-duplicated) and confirmed."""
    world = owner
    response = world.post("owner", valid())
    assert response.status_code == 303 and response.headers["Location"] == "/settings/profile"
    assert ("success", "Your profile is saved.") in flashes(world.clients["owner"])
    stored = world.profile("owner")
    assert stored == {
        "headline": "Data coach for small teams", "bio": BIO, "expertise_tags": ["Data", "statistics", "Python"],
        "pillars": ["adaptability", "coaching"], "website_url": "https://olivia.example.test",
        "education": [{"degree": "MSc Statistics", "institution": "University of Lagos", "year": 2011}],
        "certifications": [{"name": "Certified Facilitator"}],
        "work_experience": [{"role": "Lead Analyst", "company": "Kestrel Retail", "from": 2016, "to": 2022}],
        "social_links": {"linkedin": "https://www.linkedin.com/in/olivia",
                         "mastodon": "https://mastodon.social/@olivia"},
    }


def test_saving_with_htmx_redirects_and_a_bio_line_break_counts_once(owner):
    """htmx gets HX-Redirect (the confirmation flashed for the next page); CRLF is stored as one character."""
    world = owner
    bio = "First line of a bio that is long enough.\r\nSecond line, still the bio."
    response = world.post("owner", valid(bio=bio), headers=htmx())
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/settings/profile"
    assert world.profile("owner")["bio"] == bio.replace("\r\n", "\n")


def test_clearing_fields_stores_nothing_for_them(owner):
    """Empty headline, bio, website, tags and links are stored as none."""
    world = owner
    world.post("owner", valid())
    response = world.post("owner", {"headline": "", "bio": "", "expertise_tags": " , ,", "website_url": "",
                                    "education-0-degree": "", "education-0-institution": ""})
    assert response.status_code == 303
    assert world.profile("owner") == {"headline": None, "bio": None, "expertise_tags": [], "pillars": [],
                                      "education": [], "certifications": [], "work_experience": [],
                                      "social_links": {}, "website_url": None}


def test_another_instructor_only_ever_changes_their_own_profile(owner):
    """No id is read from the request: another instructor's post (naming the owner) changes their own row."""
    world = owner
    world.reset("other")
    response = world.post("other", valid(headline="Not Olivia", user_id=str(world.users["owner"]),
                                         user=str(world.users["owner"])))
    assert response.status_code == 303
    assert world.profile("other")["headline"] == "Not Olivia"
    assert world.profile("owner")["headline"] is None
    world.reset("other")


LONG = "x" * 41
BAD = [
    ("headline", {"headline": "h" * 201}, "Keep the headline to 200 characters", "h" * 201),
    ("bio too short", {"bio": "Too short for a bio."}, "Write between 50 and 2000 characters", "Too short for a bio."),
    ("bio too long", {"bio": "b" * 2001}, "Write between 50 and 2000 characters", None),
    ("sixteen tags", {"expertise_tags": ",".join(f"tag{i}" for i in range(16))}, "Choose at most 15 tags",
     ",".join(f"tag{i}" for i in range(16))),
    ("a long tag", {"expertise_tags": f"Data, {LONG}"}, "Keep each tag to 40 characters", f"Data, {LONG}"),
    ("website scheme", {"website_url": "javascript:alert(1)"}, "starts with http:// or https://",
     "javascript:alert(1)"),
    ("website no host", {"website_url": "https://"}, "starts with http:// or https://", "https://"),
    ("pillar", {"pillars": ["coaching", "astrology"]}, "not a valid choice", None),
    ("education half filled", {"education-0-institution": ""}, "Enter the institution, or clear the row.",
     "MSc Statistics"),
    ("education year", {"education-0-year": "1900"}, "Enter a year between 1950 and 2100", "1900"),
    ("education year text", {"education-0-year": "twenty"}, "Enter a year between 1950 and 2100", "twenty"),
    ("certification without name", {"certifications-0-name": "", "certifications-0-issuer": "IAF"},
     "Enter the certification&#39;s name, or clear the row.", "IAF"),
    ("work backwards", {"work_experience-0-from_year": "2020", "work_experience-0-to_year": "2010"},
     "The end year comes after the start year.", "2010"),
    ("work long role", {"work_experience-0-role": "r" * 201}, "Keep the role to 200 characters", "r" * 201),
    ("linkedin on http", {"social_linkedin": "http://www.linkedin.com/in/olivia"},
     "Enter your LinkedIn address, starting with https://.", "http://www.linkedin.com/in/olivia"),
    ("github elsewhere", {"social_github": "https://gitlab.com/olivia"}, "A GitHub address is on github.com.",
     "https://gitlab.com/olivia"),
    ("x lookalike", {"social_x": "https://notx.com/olivia"}, "A X (Twitter) address is on x.com or twitter.com.",
     "https://notx.com/olivia"),
    ("long link", {"social_mastodon": "https://m.example/" + "a" * 500}, "Keep the address to 500 characters", None),
    # review of issue 18: an address Python cannot split was a 500; one a browser reads otherwise is refused
    ("website bracket", {"website_url": "https://[abc"}, "starts with http:// or https://", "https://[abc"),
    ("github bracket", {"social_github": "https://[github.com"}, "Enter your GitHub address, starting with https://.",
     None),
    ("github behind a backslash", {"social_github": "https://evil.example\\@github.com"},
     "Enter your GitHub address, starting with https://.", None),
    ("github as a user part", {"social_github": "https://github.com@evil.example/olivia"},
     "Enter your GitHub address, starting with https://.", None),
]


@pytest.mark.parametrize("case, changes, message, kept", BAD, ids=[case[0] for case in BAD])
def test_bad_input_is_a_422_with_the_message_and_the_values_kept(owner, case, changes, message, kept):
    """Each rule: 422, the field's message, what was typed still in the form, nothing stored."""
    world = owner
    response = world.post("owner", valid(**changes))
    page = text(response)
    assert response.status_code == 422, page[:300]
    assert message in page
    if kept is not None:
        assert html.escape(kept, quote=True) in page or kept in page
    assert "Data coach for small teams" in page, "the other values are kept"
    assert world.profile("owner")["bio"] is None, "nothing stored"
    fragment = world.post("owner", valid(**changes), headers=htmx())
    assert fragment.status_code == 422 and "<html" not in text(fragment) and message in text(fragment)


def test_twenty_one_rows_are_too_many(owner):
    """At most 20 rows a section."""
    world = owner
    rows = {}
    for i in range(21):
        rows[f"education-{i}-degree"], rows[f"education-{i}-institution"] = f"Degree {i}", "School"
    response = world.post("owner", valid(**rows))
    assert response.status_code == 422 and "Keep at most 20 rows." in text(response)
    twenty = {name: value for name, value in rows.items() if not name.startswith("education-20-")}
    assert world.post("owner", valid(**twenty)).status_code == 303
    assert len(world.profile("owner")["education"]) == 20


# --- repeatable rows --------------------------------------------------------------------------------

def test_add_a_row_shows_one_more_blank_row_and_saves_nothing(owner):
    """"Add a row" (a submit button, no JS needed) re-renders the form with the values and one blank row."""
    world = owner
    response = world.post("owner", valid(add="education"))
    page = text(response)
    assert response.status_code == 200 and "<html" in page
    assert field_value(page, "education-0-degree") == "MSc Statistics"
    assert 'name="education-1-degree"' in page and field_value(page, "education-1-degree") in ("", None)
    assert 'name="education-2-degree"' not in page
    assert re.search(r'<input[^>]*autofocus[^>]*name="education-1-degree"|<input[^>]*name="education-1-degree"'
                     r'[^>]*autofocus', page), "the new row takes the focus"
    assert field_value(page, "headline") == "Data coach for small teams"
    assert world.profile("owner")["headline"] is None, "adding a row saves nothing"
    fragment = world.post("owner", valid(add="work_experience"), headers=htmx())
    assert fragment.status_code == 200 and "<html" not in text(fragment)
    assert 'name="work_experience-1-role"' in text(fragment)
    assert 'name="add" value="certifications"' in page


def test_empty_and_removed_rows_are_dropped(owner):
    """An empty row is left out; a ticked "Remove this row" drops a filled one; the order of the rest is kept."""
    world = owner
    response = world.post("owner", valid(**{
        "education-1-degree": "", "education-1-institution": "", "education-1-year": "",
        "education-2-degree": "BA History", "education-2-institution": "Old School", "education-2-remove": "y",
        "education-3-degree": "PhD Data", "education-3-institution": "New School",
        "certifications-0-name": "",
    }))
    assert response.status_code == 303
    stored = world.profile("owner")
    assert stored["education"] == [{"degree": "MSc Statistics", "institution": "University of Lagos", "year": 2011},
                                   {"degree": "PhD Data", "institution": "New School"}]
    assert stored["certifications"] == []
    # A removed row that is also invalid is not an error: it goes.
    response = world.post("owner", valid(**{"education-0-year": "1066", "education-0-remove": "y"}))
    assert response.status_code == 303 and world.profile("owner")["education"] == []


# --- social links -----------------------------------------------------------------------------------

def test_social_links_of_known_networks_on_their_hosts(owner):
    """twitter.com for X, youtu.be for YouTube, any host for Mastodon; an unknown network is not read."""
    world = owner
    links = {"social_x": "https://twitter.com/olivia", "social_youtube": "https://youtu.be/abc",
             "social_instagram": "https://www.instagram.com/olivia", "social_facebook": "https://facebook.com/o",
             "social_mastodon": "https://fosstodon.org/@olivia", "social_myspace": "https://myspace.com/olivia",
             "social_linkedin": ""}
    assert world.post("owner", valid(**links)).status_code == 303
    assert world.profile("owner")["social_links"] == {
        "x": "https://twitter.com/olivia", "youtube": "https://youtu.be/abc",
        "instagram": "https://www.instagram.com/olivia", "facebook": "https://facebook.com/o",
        "mastodon": "https://fosstodon.org/@olivia"}


# --- the database is the final word -------------------------------------------------------------------

def test_a_check_violation_is_a_field_error_not_a_500(owner, monkeypatch):
    """With the form's bio rule switched off, a 30-character bio reaches the database, whose CHECK refuses it:
    a 422 with the bio's message and the values kept, plain and htmx, nothing stored."""
    world = owner
    monkeypatch.setattr(profile_forms, "BIO_MIN", 1)
    bio = "Thirty characters of biograph."
    assert len(bio) == 30
    response = world.post("owner", valid(bio=bio))
    page = text(response)
    assert response.status_code == 422, page[:300]
    assert 'id="bio-error"' in page and "Write between 50 and 2000 characters" in page
    assert bio in page and field_value(page, "headline") == "Data coach for small teams"
    fragment = world.post("owner", valid(bio=bio), headers=htmx())
    assert fragment.status_code == 422 and 'id="bio-error"' in text(fragment)
    assert world.profile("owner")["bio"] is None
    # the request stayed usable: the page is whole (the tag suggestions were read after the refusal)
    assert "tag-suggestions" in page


def test_a_check_violation_without_a_known_column_is_a_form_error(owner, monkeypatch):
    """A refusal naming no column of the form still answers 422 with a message, never a 500."""
    from peewee import IntegrityError

    from portal.settings import profile_queries

    class Refusal(IntegrityError):
        pass

    def refuse(*args, **kwargs):
        raise Refusal("refused")

    monkeypatch.setattr(profile_queries.InstructorProfile, "update", refuse)
    response = owner.post("owner", valid())
    assert response.status_code == 422 and "not accepted" in text(response)
    assert 'class="alert alert--error"' in text(response), "shown above the form"


# --- the preview ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("visibility, says", [
    ("public", "Everyone: your page is public"),
    ("students", "Your students: those enrolled in your courses see your page"),
    ("private", "Only you: your profile is private"),
])
def test_the_preview_shows_the_public_page_and_who_can_see_it(owner, visibility, says):
    """Whatever the visibility, the preview is the public page (the catalog's template) with a banner."""
    world = owner
    world.post("owner", valid())
    gen_course(world.database, world.users["owner"], title="Owner Course Preview")
    world.visibility("owner", visibility)
    response = world.get("owner", "/settings/profile/preview")
    page = text(response)
    assert response.status_code == 200
    assert "This is a preview of your public page." in page and says in page
    assert 'href="/settings/"' in page
    for shown in ("Olivia Owner", "Data coach for small teams", BIO, "MSc Statistics", "University of Lagos",
                  "Lead Analyst", "Certified Facilitator", "https://www.linkedin.com/in/olivia", "Coaching",
                  "Owner Course Preview", 'id="instructor-courses"'):
        assert html.escape(shown, quote=False) in page or shown in page, shown
    public = world.get("anon", f"/instructors/{world.users['owner']}")
    assert public.status_code == (200 if visibility == "public" else 404)
    if visibility == "public":  # the same page, less the banner
        assert "MSc Statistics" in text(public) and "This is a preview" not in text(public)


def test_the_preview_pages_courses_with_htmx(owner):
    """The preview's course list answers htmx with the list fragment, paged on the preview's address."""
    world = owner
    response = world.get("owner", "/settings/profile/preview?page=1", headers=htmx())
    assert response.status_code == 200 and "<html" not in text(response)


# --- visibility on the public and course pages -------------------------------------------------------------

def test_a_private_profile_has_no_public_page_and_course_pages_name_without_a_link(owner):
    """Private: the instructor page is 404 for a visitor, the instructor's own student and another
    instructor; students only: 404 for the visitor and the other instructor, the page for the own
    student (011); either way the course page names the teacher without a link. Public again: the
    page and the link are back for everyone."""
    world = owner
    world.post("owner", valid())
    course = gen_course(world.database, world.users["owner"])
    slug = world.database.value("SELECT slug FROM courses WHERE id = %s", (course.id,))
    enroll(world.database, world.users["student"], course.id)  # a student of the owner's: no page either
    page_path, link = f"/instructors/{world.users['owner']}", f'href="/instructors/{world.users["owner"]}"'
    for visibility in ("private", "students"):
        world.visibility("owner", visibility)
        for actor in ("anon", "student", "other"):
            sees = visibility == "students" and actor == "student"
            assert world.get(actor, page_path).status_code == (200 if sees else 404), (visibility, actor)
            course_page = text(world.get(actor, f"/catalog/{slug}"))
            assert "Olivia Owner" in course_page and link not in course_page, (visibility, actor)
            assert "Data coach for small teams" not in course_page
    world.visibility("owner", "public")
    for actor in ("anon", "student", "other"):
        public = world.get(actor, page_path)
        assert public.status_code == 200 and "Data coach for small teams" in text(public)
        assert link in text(world.get(actor, f"/catalog/{slug}"))


def test_the_dashboard_sends_a_new_instructor_to_the_profile_editor(world):
    """"Complete your profile" on a new instructor's dashboard opens the editor."""
    newcomer, email = gen_account(world.database, "instructor")
    client = world.app.test_client()
    sign_in(client, email)
    page = text(client.get("/dashboard"))
    assert '<a href="/settings/profile">Complete your profile</a>' in page


def test_a_mastodon_handle_in_the_path_is_kept(owner):
    """"@" in the path (a Mastodon profile) is an address like any other; only a user part is refused."""
    world = owner
    assert world.post("owner", valid(social_mastodon="https://mastodon.social/@olivia")).status_code == 303
    assert world.profile("owner")["social_links"]["mastodon"] == "https://mastodon.social/@olivia"

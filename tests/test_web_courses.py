"""The course list, the details form and the lifecycle over HTTP: what each
teacher sees, what the form accepts (and how it says no), and that a write the
database refuses changes nothing, whatever the page showed."""

from __future__ import annotations

import html
import re
import uuid
from decimal import Decimal

import psycopg2
import pytest

from tests.support import Actor, enroll, gen_account, gen_course, gen_org
from tests.web import QueryCounter, htmx, notified, post, sign_in, text

TOKEN_PAGE = "/catalog/"  # any full page of a signed-in user carries the CSRF token (the sign-out form)
ROW = re.compile(r'<tr data-course="([0-9a-f-]{36})"')




def fresh_instructor(world, org=None):
    """A new instructor with a signed-in client (for lists whose every row the test controls)."""
    user_id, email = gen_account(world.database, "instructor", org=org)
    client = world.app.test_client()
    sign_in(client, email)
    return user_id, client


@pytest.fixture(scope="module")
def shelf(world):
    """An instructor with four courses of known status, tags and figures, and nothing else."""
    db = world.database
    user_id, client = fresh_instructor(world)
    specs = {  # name: (status, tags, enrolled, rating, reviews, revenue)
        "alpha": ("draft", ["python", "data"], 5, None, 0, "0"),
        "bravo": ("published", ["javascript"], 30, "4.50", 8, "120.00"),
        "charlie": ("published", ["pythonic", "style"], 12, "4.90", 3, "900.00"),
        "delta": ("archived", [], 1, "3.00", 1, "40.00"),
    }
    ids = {}
    for name, (status, tags, enrolled, rating, reviews, revenue) in specs.items():
        course = gen_course(db, user_id, status=status, lessons=("text",), title=f"Shelf {name.title()} course")
        db.value("UPDATE courses SET tags = %s, enrolled_count = %s, average_rating = %s, review_count = %s, "
                 "rating_sum = %s, total_revenue = %s, created_at = now() - make_interval(days => %s) "
                 "WHERE id = %s RETURNING id",
                 (tags, enrolled, rating, reviews, round(Decimal(rating or 0) * reviews), Decimal(revenue), len(ids),
                  course.id))
        ids[name] = str(course.id)
    return client, ids


def listed(response) -> list[str]:
    return ROW.findall(text(response))


def course_row(world, course_id) -> dict:
    rows = world.database.rows("SELECT * FROM courses WHERE id = %s", (course_id,))
    return rows[0] if rows else None


def details(**changes) -> dict:
    """A valid details form, with ``changes``."""
    data = {"title": "Practical statistics", "slug": "", "subtitle": "", "description": "Means and medians.",
            "category": "Data", "tags": "statistics, data", "what_you_will_learn": ["Compute a mean", ""],
            "target_audience": ["Analysts"], "price_amount": "19.99", "currency": "USD", "level": "beginner",
            "thumbnail_url": "", "certificate_template_url": "", "allow_comments": "y", "allow_qa": "y",
            "organization": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def unique(prefix="Course") -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def create(world, data, actor="owner", **kwargs):
    return post(world.clients[actor], "/courses/new", data, token_from=TOKEN_PAGE, **kwargs)


def save(world, course_id, data, actor="owner", **kwargs):
    return post(world.clients[actor], f"/courses/{course_id}", data, token_from=TOKEN_PAGE, **kwargs)


def act(world, course_id, action, actor="owner", **kwargs):
    return post(world.clients[actor], f"/courses/{course_id}/{action}", {}, token_from=TOKEN_PAGE, **kwargs)


def created_id(response) -> str:
    match = re.fullmatch(r"/courses/([0-9a-f-]{36})/curriculum", response.headers.get("Location", ""))
    assert match, (response.status_code, response.headers.get("Location"), text(response)[:300])
    return match.group(1)


def checked(page: str, name: str) -> bool:
    tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', page).group(0)
    return re.search(r"\schecked[\s>]", tag) is not None


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else ""


# --- the list ---------------------------------------------------------------------------

def test_list_shows_own_and_co_taught_courses_with_the_role(world):
    """The owner and a co-instructor both list the course, each with their role; another instructor does not."""
    course = world.course(status="draft", title=unique("Listed"))
    other = gen_course(world.database, world.users["other_instructor"], title=unique("Elsewhere"))
    owner_page = world.clients["owner"].get("/courses/")
    assert owner_page.status_code == 200 and "<html" in text(owner_page)
    assert str(course.id) in listed(owner_page) and str(other.id) not in listed(owner_page)
    row = text(owner_page).split(f'data-course="{course.id}"')[1].split("</tr>")[0]
    assert 'data-role="owner"' in row and f'href="/courses/{course.id}"' in row
    co_page = world.clients["co_edit"].get("/courses/")
    row = text(co_page).split(f'data-course="{course.id}"')[1].split("</tr>")[0]
    assert 'data-role="co-instructor"' in row and "Co-instructor" in row
    assert str(course.id) not in listed(world.clients["other_instructor"].get("/courses/"))
    assert str(other.id) in listed(world.clients["other_instructor"].get("/courses/"))


def test_a_co_teacher_without_view_content_sees_published_courses_only_as_text(world):
    """co_revenue lists a published co-taught course (no link: its pages need view_content); a draft stays hidden."""
    published = world.course(title=unique("Open"))
    draft = world.course(status="draft", title=unique("Hidden"))
    page = world.clients["co_revenue"].get("/courses/")
    assert str(published.id) in listed(page) and str(draft.id) not in listed(page)
    row = text(page).split(f'data-course="{published.id}"')[1].split("</tr>")[0]
    assert "href=" not in row


def test_list_is_for_instructors(world):
    """Anonymous visitors sign in first; a student gets a 404."""
    response = world.clients["anon"].get("/courses/?status=draft")
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    assert world.clients["student"].get("/courses/").status_code == 404


def test_tabs_filter_by_status_and_count(world, shelf):
    """Each tab lists its status only, its count shows on every tab, and the tab is in the URL."""
    client, ids = shelf
    page = text(client.get("/courses/"))
    counts = dict(re.findall(r'<a href="/courses/(?:\?status=(\w+))?"[^>]*>\w+ <span class="count">(\d+)</span>',
                             page))
    assert counts == {"": "4", "draft": "1", "published": "2", "archived": "1"}
    assert set(listed(client.get("/courses/"))) == set(ids.values())
    assert listed(client.get("/courses/?status=draft")) == [ids["alpha"]]
    assert set(listed(client.get("/courses/?status=published"))) == {ids["bravo"], ids["charlie"]}
    archived = client.get("/courses/?status=archived")
    assert listed(archived) == [ids["delta"]]
    assert 'href="/courses/?status=archived" hx-get="/courses/?status=archived"' in text(archived)
    assert re.search(r'status=archived"[^>]*aria-current="page"', text(archived))
    assert set(listed(client.get("/courses/?status=nonsense"))) == set(ids.values()), "an unknown tab is all"


def test_search_by_title_and_by_tag(world, shelf):
    """The search matches words of the title and the start of a tag, in any case."""
    client, ids = shelf
    assert listed(client.get("/courses/?q=BRAVO")) == [ids["bravo"]]
    assert set(listed(client.get("/courses/?q=pyth"))) == {ids["alpha"], ids["charlie"]}
    assert listed(client.get("/courses/?q=javascript")) == [ids["bravo"]]
    assert listed(client.get("/courses/?q=ython")) == [], "a tag matches from its start"
    assert listed(client.get("/courses/?q=100%25")) == [], "LIKE wildcards are plain text"
    assert listed(client.get("/courses/?q=pyth&status=published")) == [ids["charlie"]]
    page = text(client.get("/courses/?q=pyth"))
    assert "2 courses match “pyth”" in page
    assert re.search(r'<a href="/courses/\?status=draft&amp;q=pyth"[^>]*>Drafts <span class="count">1</span>', page)


def test_active_search_answers_with_the_results_fragment(world, shelf):
    """Typing (htmx aimed at #course-results) gets tabs and rows with the summary out of band; a tab gets the list."""
    client, ids = shelf
    page = text(client.get("/courses/"))
    assert 'hx-trigger="input changed delay:300ms, search"' in page and 'hx-push-url="true"' in page
    assert 'method="get" action="/courses/"' in page, "the search works as a plain form"
    fragment = client.get("/courses/?q=charlie", headers=htmx(**{"HX-Target": "course-results"}))
    body = text(fragment)
    assert fragment.status_code == 200 and "<html" not in body and 'id="course-search"' not in body
    assert ROW.findall(body) == [ids["charlie"]]
    assert 'id="course-summary" hx-swap-oob="innerHTML"' in body and "1 course matches “charlie”" in body
    assert "HX-Target" in fragment.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    whole = text(client.get("/courses/?status=draft", headers=htmx(**{"HX-Target": "course-list"})))
    assert "<html" not in whole and 'id="course-search"' in whole and 'name="status" value="draft"' in whole


@pytest.mark.parametrize("sort, order", [
    ("newest", ["alpha", "bravo", "charlie", "delta"]),
    ("enrollments", ["bravo", "charlie", "alpha", "delta"]),
    ("rating", ["charlie", "bravo", "delta", "alpha"]),
    ("revenue", ["charlie", "bravo", "delta", "alpha"]),
])
def test_each_sort_order(world, shelf, sort, order):
    """Newest first, most enrolled, best rated (unrated last), highest revenue."""
    client, ids = shelf
    assert listed(client.get(f"/courses/?sort={sort}")) == [ids[name] for name in order]


def test_pages_of_twenty_without_loss_or_repeat_in_bounded_queries(world):
    """23 courses: page 1 has 20 and a next link, page 2 the other 3; the query count does not grow with rows."""
    user_id, client = fresh_instructor(world)
    made = [str(gen_course(world.database, user_id, lessons=(), title=f"Paged {n:02d}").id) for n in range(23)]
    with QueryCounter() as few:
        first = client.get("/courses/?sort=newest")
    second = client.get("/courses/?page=2")
    assert len(listed(first)) == 20 and len(listed(second)) == 3
    assert sorted(listed(first) + listed(second)) == sorted(made)
    assert 'rel="next" href="/courses/?page=2"' in text(first) and "Page 1 of 2" in text(first)
    assert 'rel="prev" href="/courses/"' in text(second)
    assert listed(client.get("/courses/?page=99")) == listed(second), "a page past the end shows the last"
    assert listed(client.get("/courses/?page=abc")) == listed(first)
    _, small_client = fresh_instructor(world)
    with QueryCounter() as none:
        small_client.get("/courses/")
    assert few.count <= 6 and none.count <= few.count, (few.count, none.count)
    for _ in range(5):
        gen_course(world.database, user_id, lessons=(), title="Paged more")
    with QueryCounter() as more:
        client.get("/courses/?sort=newest")
    assert more.count == few.count


def test_empty_states(world, shelf):
    """No course at all: an invitation to create one; no match: say so and offer to clear the search."""
    _, client = fresh_instructor(world)
    page = text(client.get("/courses/"))
    assert "Create your first course" in page and 'href="/courses/new"' in page and 'id="course-search"' not in page
    shelf_client, _ = shelf
    none = text(shelf_client.get("/courses/?q=zzzz-nothing&status=draft"))
    assert "No course among your drafts matches “zzzz-nothing”" in none
    assert 'href="/courses/?status=draft">Clear the search' in none or 'href="/courses/?status=draft" hx-get' in none


def test_revenue_shows_only_to_the_owner_and_view_revenue(world):
    """The owner and co_revenue see the revenue; co_view sees an em dash with a hidden explanation."""
    course = world.course(title=unique("Earning"))
    world.database.value("UPDATE courses SET total_revenue = 1234.50 WHERE id = %s RETURNING id", (course.id,))

    def cell(actor):
        page = text(world.clients[actor].get("/courses/?sort=newest&q=earning"))
        return page.split(f'data-course="{course.id}"')[1].split("</tr>")[0]

    assert 'data-revenue="1234.50"' in cell("owner") and "$1,234.50" in cell("owner")
    assert "$1,234.50" in cell("co_revenue")
    hidden = cell("co_view")
    assert 'data-revenue="hidden"' in hidden and "1,234" not in hidden and "—" in hidden
    assert 'class="visually-hidden">Not shown' in hidden


def test_revenue_sort_does_not_rank_hidden_revenue(world):
    """For co_view, sorting by revenue puts courses whose revenue they may not see last, in no revenue order."""
    rich = world.course(title=unique("Rich"))
    world.database.value("UPDATE courses SET total_revenue = 99999 WHERE id = %s RETURNING id", (rich.id,))
    own = gen_course(world.database, world.users["co_view"], title=unique("Own small"))
    world.database.value("UPDATE courses SET total_revenue = 1 WHERE id = %s RETURNING id", (own.id,))
    order = listed(world.clients["co_view"].get("/courses/?sort=revenue"))
    assert order.index(str(own.id)) < order.index(str(rich.id))


# --- create -----------------------------------------------------------------------------

def test_new_course_form_full_page_and_fragment(world):
    """The form opens as a page and as a fragment; free means 0 and the defaults are set."""
    page = world.clients["owner"].get("/courses/new")
    body = text(page)
    assert page.status_code == 200 and "<html" in body and 'name="csrf_token"' in body
    assert "0 means the course is free" in body and 'value="0.00"' in body
    assert checked(body, "allow_qa") and checked(body, "allow_comments") and not checked(body, "drip_content")
    assert "<template data-items-template>" in body and "course_form.js" in body
    fragment = world.clients["owner"].get("/courses/new", headers=htmx())
    assert fragment.status_code == 200 and "<html" not in text(fragment) and 'id="course-form"' in text(fragment)
    response = world.clients["anon"].get("/courses/new")
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    assert world.clients["student"].get("/courses/new").status_code == 404


def test_create_makes_a_draft_with_a_slug_from_the_title(world):
    """Success inserts the owner's draft with a generated slug and every value, then opens its curriculum."""
    title = unique("Statistics for Everyone")
    response = create(world, details(title=f"  {title}  ", tags=" Stats, DATA  science, stats,, ",
                                     what_you_will_learn=["  Mean  ", "", "Median"], certificate_enabled="y",
                                     certificate_template_url="https://certs.example.test/t.pdf",
                                     drip_content="y", allow_comments=None))
    assert response.status_code == 303
    row = course_row(world, created_id(response))
    assert row["instructor_id"] == world.users["owner"] and row["status"] == "draft"
    assert row["title"] == title and row["slug"] == title.lower().replace(" ", "-")
    assert row["tags"] == ["stats", "data science"]
    assert row["what_you_will_learn"] == ["Mean", "Median"] and row["target_audience"] == ["Analysts"]
    assert row["price_amount"] == Decimal("19.99") and row["currency"] == "USD" and row["level"] == "beginner"
    assert row["certificate_enabled"] and row["drip_content"] and row["allow_qa"] and not row["allow_comments"]
    assert row["organization_id"] is None and row["published_at"] is None
    page = text(world.clients["owner"].get("/courses/"))
    assert "is created as a draft" in page


def test_create_through_htmx_redirects_with_hx_redirect(world):
    """An htmx create answers 204 with HX-Redirect to the curriculum."""
    response = create(world, details(title=unique("Htmx made")), headers=htmx())
    assert response.status_code == 204
    assert re.fullmatch(r"/courses/[0-9a-f-]{36}/curriculum", response.headers["HX-Redirect"])


def test_a_typed_slug_already_taken_is_a_field_error(world):
    """A typed slug another course holds (even a draft the user cannot see) comes back 422 on the slug field."""
    hidden = gen_course(world.database, world.users["other_instructor"], status="draft")
    taken = world.database.value("SELECT slug FROM courses WHERE id = %s", (hidden.id,))
    title = unique("Wants a taken address")
    response = create(world, details(title=title, slug=taken))
    page = text(response)
    assert response.status_code == 422 and "already taken" in field_error(page, "slug")
    assert f'value="{title}"' in page and f'value="{taken}"' in page
    assert world.database.value("SELECT count(*) FROM courses WHERE title = %s", (title,)) == 0


def test_a_generated_slug_already_taken_gets_a_number(world):
    """A title whose slug is taken (by another instructor's invisible draft) gets -2, then -3."""
    base = "dup-" + uuid.uuid4().hex[:8]
    world.database.value("UPDATE courses SET slug = %s WHERE id = %s RETURNING id",
                         (base, gen_course(world.database, world.users["other_instructor"], status="draft").id))
    first = course_row(world, created_id(create(world, details(title=base.replace("-", " ").title()))))
    second = course_row(world, created_id(create(world, details(title=base.upper()))))
    assert (first["slug"], second["slug"]) == (f"{base}-2", f"{base}-3")


def test_a_title_without_letters_still_gets_a_slug(world):
    """A title slugify cannot use falls back to 'course' (numbered when taken)."""
    row = course_row(world, created_id(create(world, details(title="!!! ???"))))
    assert re.fullmatch(r"course(-\d+)?", row["slug"])


LIMITS = [
    ("title", "ab", "3 to 200"),
    ("title", "x" * 201, "3 to 200"),
    ("title", "   ", "Give the course a title"),
    ("slug", "Has Spaces", "lowercase letters"),
    ("slug", "double--hyphen", "lowercase letters"),
    ("slug", "-leading", "lowercase letters"),
    ("slug", "a" * 101, "At most 100"),
    ("subtitle", "s" * 301, "At most 300"),
    ("description", "d" * 20001, "At most 20,000"),
    ("category", "c" * 101, "At most 100"),
    ("tags", ", ".join(f"t{n}" for n in range(21)), "At most 20 tags"),
    ("tags", "ok, " + "t" * 41, "at most 40 characters"),
    ("what_you_will_learn", [f"item {n}" for n in range(21)], "At most 20 items"),
    ("target_audience", ["fine", "a" * 301], "Item 2 has 301 characters"),
    ("price_amount", "-1", "cannot be negative"),
    ("price_amount", "100000", "at most 99,999.99"),
    ("price_amount", "1.234", "two decimals"),
    ("price_amount", "abc", "Enter an amount"),
    ("price_amount", "NaN", "Enter an amount"),
    ("price_amount", "", "Enter a price"),
    ("currency", "XYZ", "Choose a currency"),
    ("currency", "usd", "Choose a currency"),
    ("level", "expert", "Choose a level"),
    ("thumbnail_url", "ftp://example.test/a.png", "http:// or https://"),
    ("thumbnail_url", "https://example.test/" + "a" * 2000, "At most 2,000"),
    ("certificate_template_url", "javascript:alert(1)", "http:// or https://"),
    ("organization", str(uuid.uuid4()), "Choose none, or an organization you belong to"),
]


@pytest.mark.parametrize("name, value, message", LIMITS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LIMITS)])
def test_each_field_limit_is_a_422_with_the_message_and_values_kept(world, name, value, message):
    """A value past a limit comes back 422 with a message on that field and the other values kept; nothing is saved."""
    title = unique("Limits")
    data = details(**{"title": title, "description": "Kept description", name: value})
    response = create(world, data)
    page = text(response)
    assert response.status_code == 422, page[:300]
    assert message in field_error(page, name), (field_error(page, name), page[page.find("field-error"):][:300])
    assert name == "description" or "Kept description" in page
    assert name == "what_you_will_learn" or 'value="Compute a mean"' in page
    assert 'role="alert"' in page
    if name != "title":
        assert f'value="{title}"' in page
        assert world.database.value("SELECT count(*) FROM courses WHERE title = %s", (title,)) == 0


def test_a_bad_form_through_htmx_is_the_form_fragment(world):
    """An htmx create with a negative price swaps the form back in with 422."""
    response = create(world, details(price_amount="-5"), headers=htmx())
    assert response.status_code == 422 and "<html" not in text(response)
    assert 'id="course-form"' in text(response) and 'value="-5"' in text(response)


def test_create_without_csrf_is_refused(world):
    """A create without the CSRF token is a 400 and inserts nothing."""
    title = unique("No token")
    response = create(world, details(title=title), csrf=False)
    assert response.status_code == 400
    assert world.database.value("SELECT count(*) FROM courses WHERE title = %s", (title,)) == 0


def test_organization_is_none_or_the_users_own(world):
    """An instructor of an organization may place the course in it; another organization is a field error."""
    org, other_org = gen_org(world.database, "Own Org"), gen_org(world.database, "Other Org")
    user_id, client = fresh_instructor(world, org=org)
    page = text(client.get("/courses/new"))
    assert f'<option value="{org}">Own Org</option>' in page and str(other_org) not in page
    made = post(client, "/courses/new", details(title=unique("In org"), organization=str(org)),
                token_from=TOKEN_PAGE)
    assert course_row(world, created_id(made))["organization_id"] == org
    refused = post(client, "/courses/new", details(title=unique("Wrong org"), organization=str(other_org)),
                   token_from=TOKEN_PAGE)
    assert refused.status_code == 422 and "organization you belong to" in field_error(text(refused), "organization")


def test_a_co_instructor_cannot_move_the_owners_course_into_their_organization(world):
    """The organization is the owner's: a co-editor is not offered theirs, and a forged post is a 404."""
    org = gen_org(world.database, "Co Org")
    co_id, client = fresh_instructor(world, org=org)
    course = world.course(status="draft", title=unique("Owned"), co=False)
    world.database.value("INSERT INTO course_instructors (course_id, instructor_id, permissions) VALUES "
                         "(%s, %s, '{\"view_content\": true, \"edit_content\": true}') RETURNING id",
                         (course.id, co_id))
    page = text(client.get(f"/courses/{course.id}"))
    assert 'name="organization"' in page and str(org) not in page
    refused = post(client, f"/courses/{course.id}", details(title=unique("Moved"), organization=str(org)),
                   token_from=TOKEN_PAGE)
    assert refused.status_code in (404, 422)
    assert course_row(world, course.id)["organization_id"] is None


# --- details ----------------------------------------------------------------------------

def test_details_page_full_and_fragment(world):
    """The owner's details page has the header, the form with the values and the status panel; htmx gets the form."""
    course = world.course(status="draft", title=unique("Details"))
    response = world.clients["owner"].get(f"/courses/{course.id}")
    page = text(response)
    assert response.status_code == 200 and "<html" in page and "HX-Request" in response.headers["Vary"]
    assert 'id="course-header"' in page and 'aria-current="page"' in page
    assert 'id="lifecycle"' in page and "Publish" in page and f"/courses/{course.id}/delete" in page
    assert 'value="What this course teaches."' not in page and "What this course teaches." in page
    assert "<fieldset class=\"form-body\">" in page
    fragment = world.clients["owner"].get(f"/courses/{course.id}", headers=htmx())
    assert fragment.status_code == 200 and "<html" not in text(fragment) and 'id="course-form"' in text(fragment)


@pytest.mark.parametrize("status, says", [
    ("published", "See the course's public page"), ("draft", "Not public yet"),
    ("archived", "the course has left the catalog")])
def test_the_header_says_where_students_find_the_course(world, status, says):
    """A published course's header links its catalog page (which opens); a draft's and an archived
    course's say why there is none."""
    course = world.course(status=status, title=unique("Public page"))
    slug = world.database.value("SELECT slug FROM courses WHERE id = %s", (course.id,))
    page = html.unescape(text(world.clients["owner"].get(f"/courses/{course.id}")))
    assert says in page
    assert (f'href="/catalog/{slug}"' in page) == (status == "published")
    assert world.clients["anon"].get(f"/catalog/{slug}").status_code == (200 if status == "published" else 404)


@pytest.mark.parametrize("actor, status", [("co_view", 200), ("co_edit", 200), ("co_none", 404), ("co_revenue", 404),
                                           ("co_manage", 404), ("other_instructor", 404), ("student", 404)])
def test_details_page_needs_view_content(world, actor, status):
    """Teachers with view_content open the details; the others, another instructor and a student get 404."""
    course = world.course(title=unique("Who sees"))
    assert world.clients[actor].get(f"/courses/{course.id}").status_code == status


def test_details_page_sends_anonymous_visitors_to_sign_in(world):
    """Anonymous: 303 to sign-in with the page as next."""
    course = world.course()
    response = world.clients["anon"].get(f"/courses/{course.id}")
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")


def test_a_viewer_without_edit_sees_a_disabled_form(world):
    """co_view sees the values in a disabled fieldset, a note, and no save or lifecycle buttons."""
    course = world.course(title=unique("Read only"))
    page = text(world.clients["co_view"].get(f"/courses/{course.id}"))
    assert '<fieldset class="form-body" disabled>' in page and "edit content" in page
    assert "Save changes" not in page and "/archive" not in page and "/delete" not in page


def test_owner_saves_the_details(world):
    """A plain save updates the row under RLS and redirects to the page with a message."""
    course = world.course(status="draft", title=unique("Before"))
    title = unique("After")
    response = save(world, course.id, details(title=title, slug="after-" + uuid.uuid4().hex[:6],
                                              level="advanced", price_amount="0", currency="EUR",
                                              target_audience=["Beginners", "  ", "Managers"]))
    assert response.status_code == 303 and response.headers["Location"] == f"/courses/{course.id}"
    row = course_row(world, course.id)
    assert row["title"] == title and row["level"] == "advanced" and row["price_amount"] == Decimal("0.00")
    assert row["currency"] == "EUR" and row["target_audience"] == ["Beginners", "Managers"]
    assert "Your changes are saved" in text(world.clients["owner"].get(f"/courses/{course.id}"))


def test_htmx_save_returns_the_form_and_refreshes_header_and_status(world):
    """An htmx save answers 200 with the fresh form, the header and status panel out of band, and a message."""
    course = world.course(status="draft", title=unique("Swap"))
    title = unique("Swapped")
    response = save(world, course.id, details(title=title, slug=""), headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert 'id="course-header" hx-swap-oob="true"' in body and title in body
    assert 'id="lifecycle"' in body and 'hx-swap-oob="true"' in body
    assert notified(response) == {"message": "Your changes are saved.", "kind": "success"}
    assert course_row(world, course.id)["slug"] == title.lower().replace(" ", "-"), "an emptied slug is remade"


def test_co_edit_saves_the_details(world):
    """A co-instructor with edit_content saves."""
    course = world.course(title=unique("Co edit"))
    slug = course_row(world, course.id)["slug"]
    response = save(world, course.id, details(title="Edited by co", slug=slug), actor="co_edit")
    assert response.status_code == 303 and course_row(world, course.id)["title"] == "Edited by co"


@pytest.mark.parametrize("actor", ["co_view", "co_none", "co_revenue", "other_instructor", "student"])
def test_a_save_the_database_refuses_is_a_404_and_changes_nothing(world, actor):
    """Teachers without edit_content, another instructor and a student: 404, the row unchanged."""
    course = world.course(title=unique("Guarded"))
    before = course_row(world, course.id)
    response = save(world, course.id, details(title="Hijacked", slug=before["slug"]), actor=actor)
    assert response.status_code == 404
    assert course_row(world, course.id) == before


def test_save_as_anonymous_or_without_csrf_changes_nothing(world):
    """Anonymous: 303 to sign-in; without the CSRF token: 400; the row is unchanged either way."""
    course = world.course(title=unique("Untouched"))
    before = course_row(world, course.id)
    anon = post(world.clients["anon"], f"/courses/{course.id}", details(title="Anon"), token_from="/sign-in")
    assert anon.status_code == 303 and anon.headers["Location"].startswith("/sign-in")
    assert save(world, course.id, details(title="No token"), csrf=False).status_code == 400
    assert course_row(world, course.id) == before


def test_a_bad_save_keeps_the_values(world):
    """A bad save is 422 with the values typed and the message, and changes nothing."""
    course = world.course(status="draft", title=unique("Bad save"))
    before = course_row(world, course.id)
    response = save(world, course.id, details(title="Still typed", price_amount="-3", tags="one, two"))
    page = text(response)
    assert response.status_code == 422 and "cannot be negative" in field_error(page, "price_amount")
    assert 'value="Still typed"' in page and 'value="one, two"' in page and 'id="lifecycle"' in page
    assert course_row(world, course.id) == before


def test_a_draft_slug_can_change_but_not_to_a_taken_one(world):
    """A draft takes a new free slug; a taken one is a field error."""
    course, other = world.course(status="draft"), world.course(status="draft")
    new_slug = "moved-" + uuid.uuid4().hex[:8]
    assert save(world, course.id, details(slug=new_slug)).status_code == 303
    assert course_row(world, course.id)["slug"] == new_slug
    response = save(world, other.id, details(slug=new_slug))
    assert response.status_code == 422 and "already taken" in field_error(text(response), "slug")


def test_the_slug_is_stable_once_published(world):
    """A published course shows its slug read-only; a changed slug posted anyway is a field error, nothing saved."""
    course = world.course(title=unique("Stable"))
    slug = course_row(world, course.id)["slug"]
    page = text(world.clients["owner"].get(f"/courses/{course.id}"))
    assert re.search(r'name="slug"[^>]*readonly', page) and "keep their address" in page
    for posted in ("another-address", ""):
        response = save(world, course.id, details(title="Renamed", slug=posted))
        assert response.status_code == 422 and "address stays" in field_error(text(response), "slug")
    assert course_row(world, course.id)["title"] != "Renamed"
    assert save(world, course.id, details(title="Renamed", slug=slug)).status_code == 303
    assert course_row(world, course.id)["title"] == "Renamed" and course_row(world, course.id)["slug"] == slug


def test_an_archived_course_keeps_its_slug_too(world):
    """Published once is enough: an archived course keeps its slug."""
    course = world.course(status="archived", title=unique("Archived slug"))
    world.database.value("UPDATE courses SET published_at = now() WHERE id = %s RETURNING id", (course.id,))
    response = save(world, course.id, details(slug="archived-new-" + uuid.uuid4().hex[:6]))
    assert response.status_code == 422 and "address stays" in field_error(text(response), "slug")


# --- lifecycle --------------------------------------------------------------------------

def test_publishing_an_empty_course_says_what_is_missing(world):
    """A draft with a module but no lesson, and no description: 422 naming both; it stays a draft."""
    course = world.course(status="draft", modules=((),))
    world.database.value("UPDATE courses SET description = '  ' WHERE id = %s RETURNING id", (course.id,))
    response = act(world, course.id, "publish")
    page = text(response)
    assert response.status_code == 422 and "<html" in page
    assert "cannot be published yet: it needs a description and at least one module with a lesson" in page
    fragment = act(world, course.id, "publish", headers=htmx())
    assert fragment.status_code == 422 and "<html" not in text(fragment)
    assert 'id="lifecycle"' in text(fragment) and 'role="alert"' in text(fragment)
    assert course_row(world, course.id)["status"] == "draft"


def test_publishing_without_a_lesson_names_only_the_lesson(world):
    """With a description but no lesson, the message asks only for the lesson."""
    course = world.course(status="draft", modules=((),))
    page = text(act(world, course.id, "publish"))
    assert "it needs at least one module with a lesson." in page and "a description and" not in page


def test_publishing_with_an_empty_quiz_asks_for_its_questions(world):
    """A quiz without questions blocks publishing, in the page and in the database (006)."""
    course = world.course(status="draft", modules=(("text", "quiz"),))
    world.database.value("UPDATE course_lessons SET quiz = '{\"questions\": []}' WHERE course_id = %s "
                         "AND content_type = 'quiz' RETURNING id", (course.id,))
    response = act(world, course.id, "publish")
    assert response.status_code == 422 and "it needs a question in every quiz." in text(response)
    assert course_row(world, course.id)["status"] == "draft"
    with world.database.act(Actor.user(world.users["owner"])) as cur:
        with pytest.raises(psycopg2.errors.CheckViolation, match="every quiz has a question"):
            cur.execute("UPDATE courses SET status = 'published' WHERE id = %s", (course.id,))


def test_publish_archive_restore(world):
    """A good draft publishes (published_at set), archives, and restores to published."""
    course = world.course(status="draft", title=unique("Lifecycle"))
    response = act(world, course.id, "publish")
    assert response.status_code == 303 and response.headers["Location"] == f"/courses/{course.id}"
    row = course_row(world, course.id)
    assert row["status"] == "published" and row["published_at"] is not None
    assert "is published: it is in the catalog now" in text(world.clients["owner"].get(f"/courses/{course.id}"))
    archived = act(world, course.id, "archive", headers=htmx())
    assert archived.status_code == 204 and archived.headers["HX-Redirect"] == f"/courses/{course.id}"
    assert course_row(world, course.id)["status"] == "archived"
    assert act(world, course.id, "restore").status_code == 303
    assert course_row(world, course.id)["status"] == "published"
    assert course_row(world, course.id)["published_at"] == row["published_at"]


def test_archived_course_leaves_the_catalog_but_students_keep_access(world):
    """After archive, anonymous visitors cannot read the course; the enrolled student still can."""
    course = world.course(title=unique("Leaving"))
    enroll(world.database, world.users["student"], course.id)
    assert act(world, course.id, "archive").status_code == 303
    from tests.support import Actor
    with world.database.attempt(Actor.anon()) as cur:
        cur.execute("SELECT count(*) AS n FROM courses WHERE id = %s", (course.id,))
        assert cur.fetchone()["n"] == 0
    with world.database.attempt(Actor.user(world.users["student"])) as cur:
        cur.execute("SELECT count(*) AS n FROM courses WHERE id = %s", (course.id,))
        assert cur.fetchone()["n"] == 1


def test_a_wrong_step_is_refused_with_a_reason(world):
    """Archiving a draft or restoring a published course is a 409 with the reason; a repeat is harmless."""
    draft = world.course(status="draft")
    response = act(world, draft.id, "archive")
    assert response.status_code == 409 and "Only a published course can be archived" in text(response)
    published = world.course()
    assert act(world, published.id, "restore").status_code == 303, "already published: nothing to do"
    assert act(world, published.id, "publish").status_code == 303
    assert course_row(world, draft.id)["status"] == "draft" and course_row(world, published.id)["status"] == "published"


def test_co_edit_may_publish(world):
    """edit_content is enough to publish (courses_update)."""
    course = world.course(status="draft")
    assert act(world, course.id, "publish", actor="co_edit").status_code == 303
    assert course_row(world, course.id)["status"] == "published"


@pytest.mark.parametrize("actor", ["co_view", "co_none", "co_manage", "other_instructor", "student"])
@pytest.mark.parametrize("action, status", [("publish", "draft"), ("archive", "published"), ("restore", "archived")])
def test_lifecycle_refused_by_the_database_is_a_404(world, actor, action, status):
    """Without edit_content (or not a teacher at all) every step is a 404 and the status stays."""
    course = world.course(status=status)
    response = act(world, course.id, action, actor=actor)
    assert response.status_code == 404
    assert course_row(world, course.id)["status"] == status


def test_lifecycle_needs_csrf_and_sign_in(world):
    """Without the CSRF token: 400; anonymous: 303 to sign-in; the status stays."""
    course = world.course(status="draft")
    assert act(world, course.id, "publish", csrf=False).status_code == 400
    anon = post(world.clients["anon"], f"/courses/{course.id}/publish", {}, token_from="/sign-in")
    assert anon.status_code == 303 and anon.headers["Location"].startswith("/sign-in")
    assert course_row(world, course.id)["status"] == "draft"


# --- delete -----------------------------------------------------------------------------

def test_delete_a_draft_after_confirmation(world):
    """The owner confirms on the delete page, then the draft and its outline are gone."""
    course = world.course(status="draft", title=unique("Doomed"))
    page = world.clients["owner"].get(f"/courses/{course.id}/delete")
    assert page.status_code == 200 and "<html" in text(page) and "Delete the course permanently" in text(page)
    fragment = world.clients["owner"].get(f"/courses/{course.id}/delete", headers=htmx())
    assert fragment.status_code == 200 and "<html" not in text(fragment) and 'id="delete-course"' in text(fragment)
    response = post(world.clients["owner"], f"/courses/{course.id}/delete", {}, token_from=TOKEN_PAGE)
    assert response.status_code == 303 and response.headers["Location"] == "/courses/"
    assert course_row(world, course.id) is None
    assert world.database.value("SELECT count(*) FROM course_lessons WHERE course_id = %s", (course.id,)) == 0
    assert "is deleted" in text(world.clients["owner"].get("/courses/"))


def test_delete_is_refused_for_a_published_course_and_archive_is_offered(world):
    """A published course: the page says why and offers archive; a delete posted anyway is a 409, the course stays."""
    course = world.course(title=unique("Kept"))
    page = text(world.clients["owner"].get(f"/courses/{course.id}/delete"))
    assert "cannot be deleted" in page and "It is published" in page
    assert f'action="/courses/{course.id}/archive"' in page and "Delete the course permanently" not in page
    response = post(world.clients["owner"], f"/courses/{course.id}/delete", {}, token_from=TOKEN_PAGE)
    assert response.status_code == 409 and "The course was not deleted" in text(response)
    assert course_row(world, course.id) is not None


def test_delete_is_refused_for_a_draft_with_enrollments(world):
    """A draft with an enrollment (back to draft by maintenance) is not deleted; the page counts the students."""
    course = world.course(title=unique("Enrolled"))
    enroll(world.database, world.users["student"], course.id)
    world.database.value("UPDATE courses SET status = 'draft' WHERE id = %s RETURNING id", (course.id,))
    page = text(world.clients["owner"].get(f"/courses/{course.id}/delete"))
    assert "1 student has enrolled in it" in page and "Delete the course permanently" not in page
    response = post(world.clients["owner"], f"/courses/{course.id}/delete", {}, token_from=TOKEN_PAGE)
    assert response.status_code == 409 and course_row(world, course.id) is not None


@pytest.mark.parametrize("actor", ["co_edit", "co_view", "other_instructor", "student"])
def test_only_the_owner_deletes(world, actor):
    """Anyone else: the confirmation page and the delete are 404, and the draft stays."""
    course = world.course(status="draft")
    assert world.clients[actor].get(f"/courses/{course.id}/delete").status_code == 404
    response = post(world.clients[actor], f"/courses/{course.id}/delete", {}, token_from=TOKEN_PAGE)
    assert response.status_code == 404 and course_row(world, course.id) is not None


def test_delete_needs_csrf_and_sign_in(world):
    """Without the CSRF token: 400; anonymous: 303 to sign-in; the draft stays."""
    course = world.course(status="draft")
    assert post(world.clients["owner"], f"/courses/{course.id}/delete", {}, csrf=False).status_code == 400
    anon = post(world.clients["anon"], f"/courses/{course.id}/delete", {}, token_from="/sign-in")
    assert anon.status_code == 303 and anon.headers["Location"].startswith("/sign-in")
    assert world.clients["anon"].get(f"/courses/{course.id}/delete").status_code == 303
    assert course_row(world, course.id) is not None

"""The public side over HTTP: the catalog (search, filters, sorts, pages, its
query bound), a course's page (who may open it, what it shows, the enroll
panel's states), preview lessons, the reviews list and the public instructor
page, each opened as an anonymous visitor, a student, another student, the
course's instructor, a co-instructor and another instructor.

Every case builds its own courses in one module database, tagged with a word
of its own, so the cases do not see each other's courses through the filters.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from tests.support import (Actor, Course, Database, complete_course, enroll, gen_account, gen_course, gen_lesson,
                           gen_module, pay)
from tests.web import QueryCounter, close_app, htmx, make_app, sign_in, sign_in_cast, text

ACTORS = ("anon", "student", "other_student", "owner", "co", "other_instructor")
SIGNED_IN = ACTORS[1:]
CARD = re.compile(r'<li class="course-card card" data-course="([0-9a-f-]{36})"')
NAMES = {"owner": "Olivia Owner", "co": "Casey Coteacher", "other_instructor": "Ian Other",
         "student": "Sam Student", "other_student": "Tess Other"}


@dataclass
class World:
    database: Database
    app: object
    users: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)

    def course(self, *, status="published", price="0", title=None, tags=(), category=None, level="beginner",
               subtitle=None, description="What this course teaches.", lessons=("text", "quiz", "video"),
               co=False, **figures) -> Course:
        """A course of the owner's, with its catalog fields set as the owner (maintenance) would."""
        db = self.database
        course = gen_course(db, self.users["owner"], status=status, price=price, lessons=lessons,
                            title=title or f"Course {secrets.token_hex(3)}")
        db.value("UPDATE courses SET tags = %s, category = %s, level = %s, subtitle = %s, description = %s "
                 "WHERE id = %s RETURNING id", (list(tags), category, level, subtitle, description, course.id))
        if figures:
            if "average_rating" in figures and "review_count" in figures:   # kept together (008)
                figures["rating_sum"] = round(figures["average_rating"] * figures["review_count"])
            sets = ", ".join(f"{name} = %s" for name in figures)
            db.value(f"UPDATE courses SET {sets} WHERE id = %s RETURNING id", (*figures.values(), course.id))
        if co:
            db.value("INSERT INTO course_instructors (course_id, instructor_id, role) "
                     "VALUES (%s, %s, 'co-instructor') RETURNING id", (course.id, self.users["co"]))
        return course

    def slug(self, course: Course) -> str:
        return self.database.value("SELECT slug FROM courses WHERE id = %s", (course.id,))

    def get(self, actor: str, path: str, **kwargs):
        return self.clients[actor].get(path, **kwargs)


@pytest.fixture(scope="module")
def world(module_database):
    world = World(database=module_database, app=make_app(module_database))
    world.clients, world.users = sign_in_cast(world.app, module_database, ACTORS, NAMES)
    module_database.value(
        "UPDATE instructor_profiles SET headline = 'Teaches data for a living', "
        "bio = 'Olivia has taught data analysis to working adults for fifteen years, in person and online.', "
        "expertise_tags = '{statistics,python}', pillars = '{coaching,marketplace}' "
        "WHERE user_id = %s RETURNING user_id", (world.users["owner"],))
    yield world
    close_app()


def tag() -> str:
    return "t" + secrets.token_hex(4)


def listed(response) -> list[str]:
    return CARD.findall(text(response))


# --- the catalog -------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
def test_catalog_opens_for_everyone(world, actor):
    """The catalog is a full page for every actor, with the active search wired for htmx."""
    response = world.get(actor, "/catalog/")
    page = text(response)
    assert response.status_code == 200 and "<html" in page and "HX-Request" in response.headers["Vary"]
    assert 'hx-trigger="input changed delay:300ms, search"' in page and 'hx-push-url="true"' in page
    assert "/static/css/catalog.css" in page and "style=" not in page


@pytest.mark.parametrize("actor", ACTORS)
def test_catalog_lists_published_courses_only(world, actor):
    """Drafts and archived courses stay out of the catalog, even for their own instructor."""
    word = tag()
    published = world.course(tags=[word])
    world.course(tags=[word], status="draft")
    archived = world.course(tags=[word])
    enroll(world.database, world.users["student"], archived.id)  # enrolled, then archived: still not in the catalog
    world.database.value("UPDATE courses SET status = 'archived' WHERE id = %s RETURNING id", (archived.id,))
    assert listed(world.get(actor, f"/catalog/?tag={word}")) == [str(published.id)]


def test_card_shows_title_instructor_level_price_rating_and_students(world):
    """A card says what the course is, who teaches it, its level, price, rating and students, never its revenue."""
    word = tag()
    free = world.course(tags=[word], title="Cards for free", subtitle="A short subtitle", level="advanced",
                        enrolled_count=1234, average_rating=Decimal("4.25"), review_count=8, total_revenue=98765.43)
    world.course(tags=[word], title="Cards for money", price="49", enrolled_count=1)
    page = text(world.get("anon", f"/catalog/?tag={word}&sort=newest"))
    assert "Cards for free" in page and "A short subtitle" in page and "Advanced" in page
    assert f'href="/catalog/{world.slug(free)}"' in page
    assert f'href="/instructors/{world.users["owner"]}">Olivia Owner</a>' in page
    assert "1,234 enrolled" in page and "4.25" in page and "(8 reviews)" in page
    assert '<span class="visually-hidden">Price: </span>Free</p>' in page
    assert "$49.00" in page and "No reviews yet" in page
    assert "98,765.43" not in page and "98765.43" not in page


def test_search_matches_title_subtitle_description_and_tag(world):
    """Search finds a word in the title, subtitle, description or at a tag's start, every word of it."""
    word, marker = tag(), "zq" + secrets.token_hex(3)
    in_title = world.course(tags=[word], title=f"Learn {marker} fast")
    in_subtitle = world.course(tags=[word], subtitle=f"All about {marker.upper()}")
    in_description = world.course(tags=[word], description=f"We cover {marker} in depth.")
    in_tag = world.course(tags=[word, f"{marker}-basics"])
    world.course(tags=[word], title="Something else entirely")
    found = listed(world.get("anon", f"/catalog/?tag={word}&q={marker}"))
    assert sorted(found) == sorted(str(c.id) for c in (in_title, in_subtitle, in_description, in_tag))
    assert listed(world.get("anon", f"/catalog/?tag={word}&q={marker}+fast")) == [str(in_title.id)]
    assert listed(world.get("anon", f"/catalog/?tag={word}&q=%25")) == [], "LIKE wildcards are literal"


def test_filters_by_category_tag_level_and_price(world):
    """Category, tag, level and free/paid each narrow the list, and they combine."""
    word = tag()
    data_free = world.course(tags=[word, "sql"], category="Data Science", level="beginner")
    data_paid = world.course(tags=[word], category="Data Science", level="advanced", price="20")
    design = world.course(tags=[word, "sql"], category="Design", level="beginner", price="5")

    def ids(query):
        return sorted(listed(world.get("student", f"/catalog/?tag={word}&{query}")))

    assert ids("category=Data+Science") == sorted([str(data_free.id), str(data_paid.id)])
    assert ids("category=data+science") == ids("category=Data+Science"), "categories match whatever the case"
    assert ids("level=beginner") == sorted([str(data_free.id), str(design.id)])
    assert ids("price=free") == [str(data_free.id)]
    assert ids("price=paid") == sorted([str(data_paid.id), str(design.id)])
    assert ids("price=paid&level=beginner&category=Design") == [str(design.id)]
    assert sorted(listed(world.get("anon", f"/catalog/?tag={word}&level=nonsense&price=both"))) == \
        sorted(str(c.id) for c in (data_free, data_paid, design)), "unknown values are ignored"
    page = text(world.get("anon", "/catalog/"))
    assert '<option value="Data Science"' in page and f'<option value="{word}"' in page


def test_sorts_popular_best_rated_and_newest(world):
    """Popular is by enrolled students, best rated by rating then review count, newest by publication."""
    word = tag()
    a = world.course(tags=[word], enrolled_count=5, average_rating=Decimal("4.00"), review_count=9,
                     published_at="2024-01-03")
    b = world.course(tags=[word], enrolled_count=50, average_rating=Decimal("4.80"), review_count=2,
                     published_at="2024-01-01")
    c = world.course(tags=[word], enrolled_count=20, average_rating=Decimal("4.80"), review_count=7,
                     published_at="2024-01-02")
    d = world.course(tags=[word], enrolled_count=0, published_at="2024-01-04")  # no rating yet: last when rated

    def order(sort):
        return listed(world.get("anon", f"/catalog/?tag={word}&sort={sort}"))

    assert order("popular") == [str(x.id) for x in (b, c, a, d)]
    assert listed(world.get("anon", f"/catalog/?tag={word}")) == order("popular"), "popular is the default"
    assert order("rating") == [str(x.id) for x in (c, b, a, d)]
    assert order("newest") == [str(x.id) for x in (d, a, c, b)]


def test_pages_of_twelve(world):
    """Twelve cards a page, with previous/next links that keep the filters; past the end shows the last page."""
    word = tag()
    made = [world.course(tags=[word], published_at=f"2023-02-{day:02d}") for day in range(1, 15)]
    first = world.get("anon", f"/catalog/?tag={word}&sort=newest")
    second = world.get("anon", f"/catalog/?tag={word}&sort=newest&page=2")
    assert len(listed(first)) == 12 and len(listed(second)) == 2
    assert sorted(listed(first) + listed(second)) == sorted(str(c.id) for c in made)
    assert listed(first)[0] == str(made[-1].id)
    assert f'rel="next" href="/catalog/?tag={word}&amp;sort=newest&amp;page=2"' in text(first)
    assert "Page 1 of 2" in text(first) and "1–12 of 14 courses" in text(first)
    assert f'rel="prev" href="/catalog/?tag={word}&amp;sort=newest"' in text(second)
    assert listed(world.get("anon", f"/catalog/?tag={word}&sort=newest&page=99")) == listed(second)
    assert listed(world.get("anon", f"/catalog/?tag={word}&sort=newest&page=abc")) == listed(first)


def test_empty_state_offers_to_clear_the_filters(world):
    """No match: say so, and link back to the whole catalog."""
    response = world.get("anon", "/catalog/?q=nothing-will-match-this-" + secrets.token_hex(4))
    page = text(response)
    assert response.status_code == 200 and listed(response) == []
    assert "No course matches" in page and 'href="/catalog/" hx-get="/catalog/" hx-target="#catalog"' in page
    assert "Clear filters" in page


def test_htmx_search_answers_the_results_fragment(world):
    """Typing (htmx aimed at #catalog-results) gets the cards and an out-of-band summary, not a page."""
    word = tag()
    course = world.course(tags=[word])
    response = world.get("anon", f"/catalog/?tag={word}", headers=htmx(**{"HX-Target": "catalog-results"}))
    fragment = text(response)
    assert response.status_code == 200 and "<html" not in fragment and listed(response) == [str(course.id)]
    assert 'id="catalog-summary" hx-swap-oob="innerHTML"' in fragment and 'id="catalog-search"' not in fragment
    assert "HX-Target" in response.headers["Vary"]
    typed = world.get("anon", f"/catalog/?q=&category=&tag={word}&level=&price=&sort=popular",
                      headers=htmx(**{"HX-Target": "catalog-results"}))
    assert typed.headers["HX-Push-Url"] == f"/catalog/?tag={word}", "the address bar drops the empty fields"
    whole = text(world.get("anon", f"/catalog/?tag={word}", headers=htmx(**{"HX-Target": "catalog"})))
    assert "<html" not in whole and 'id="catalog-search"' in whole and "hx-swap-oob" not in whole


def test_catalog_costs_the_same_few_queries_for_3_or_30_courses(world):
    """The catalog page sends a bounded number of statements, whatever the number of courses."""
    few, many = tag(), tag()
    for _ in range(3):
        world.course(tags=[few], co=True)
    for _ in range(30):
        world.course(tags=[many], co=True)
    counts = {}
    for actor in ("anon", "student"):
        with QueryCounter() as small:
            assert len(listed(world.get(actor, f"/catalog/?tag={few}"))) == 3
        with QueryCounter() as large:
            assert len(listed(world.get(actor, f"/catalog/?tag={many}"))) == 12
        counts[actor] = (small.count, large.count)
        assert small.count == large.count and large.count <= 8, counts


# --- a course's page ------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
def test_course_page_is_open_to_everyone(world, actor):
    """A published course's page is a full page for every actor."""
    course = world.course()
    response = world.get(actor, f"/catalog/{world.slug(course)}")
    assert response.status_code == 200 and "<html" in text(response) and "style=" not in text(response)


@pytest.mark.parametrize("actor", ACTORS)
def test_drafts_and_unknown_courses_are_404(world, actor):
    """A draft's page does not exist (not even for its instructor), nor does an unknown slug."""
    draft = world.course(status="draft")
    assert world.get(actor, f"/catalog/{world.slug(draft)}").status_code == 404
    assert world.get(actor, "/catalog/no-such-course-here").status_code == 404
    assert world.get(actor, f"/catalog/{world.slug(draft)}/reviews").status_code == 404


@pytest.mark.parametrize("actor, expected", [("anon", 404), ("student", 200), ("other_student", 404),
                                             ("owner", 404), ("co", 404), ("other_instructor", 404)])
def test_archived_course_is_open_only_to_its_enrolled_students(world, actor, expected):
    """An archived course has left the catalog: only a student enrolled in it still opens its page."""
    course = world.course(co=True)
    enroll(world.database, world.users["student"], course.id)
    world.database.value("UPDATE courses SET status = 'archived' WHERE id = %s RETURNING id", (course.id,))
    response = world.get(actor, f"/catalog/{world.slug(course)}")
    assert response.status_code == expected
    if expected == 200:
        page = text(response)
        assert "Archived" in page and "Continue learning" in page
        assert "Lesson 1" in page, "the outline comes from the student's own learning outline"
        assert ">Olivia Owner</a>" in page


def test_course_page_shows_what_the_course_is(world):
    """Description (sanitized Markdown), outcomes, audience, outline with types and durations, teachers."""
    course = world.course(co=True, title="Data from zero", subtitle="Numbers without fear",
                          description="Learn **pandas**. <script>alert('x')</script>", lessons=("text", "video"))
    module = gen_module(world.database, course, "Second steps")
    gen_lesson(world.database, course, module, "quiz", preview=True)
    world.database.value(
        "UPDATE courses SET what_you_will_learn = '{Read a CSV,Plot a chart}', target_audience = '{Analysts}' "
        "WHERE id = %s RETURNING id", (course.id,))
    page = text(world.get("anon", f"/catalog/{world.slug(course)}"))
    assert "<h1>Data from zero" in page and "Numbers without fear" in page
    assert "<strong>pandas</strong>" in page and "<script>alert" not in page
    assert "Read a CSV" in page and "Plot a chart" in page and "Analysts" in page
    assert "Module" in page and "Second steps" in page and "Lesson 1" in page and "Lesson 3" in page
    assert "Reading" in page and "Video" in page and "Quiz" in page and "10 min" in page
    preview = f'href="/catalog/{world.slug(course)}/preview/{course.lessons[2]}"'
    assert preview in page and page.count("/preview/") == 1, "only the preview lesson links to a preview"
    assert f'href="/instructors/{world.users["owner"]}">Olivia Owner</a>' in page
    assert f'href="/instructors/{world.users["co"]}">Casey Coteacher</a>' in page and "Co-instructor" in page
    assert "Teaches data for a living" in page


def test_rating_summary_counts_visible_reviews_per_star(world):
    """The distribution counts visible reviews per rating, drawn with <meter> (no style attributes)."""
    course = world.course(lessons=("text",))
    ratings = (5, 5, 4, 1)
    for stars in ratings:
        student, _ = gen_account(world.database, "student")
        complete_course(world.database, student, course)
        with world.database.act(Actor.user(student)) as cur:
            cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, %s)",
                        (course.id, student, stars))
    hidden, _ = gen_account(world.database, "student")
    complete_course(world.database, hidden, course)
    with world.database.act(Actor.user(hidden)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 2)", (course.id, hidden))
    world.database.value("UPDATE course_reviews SET is_visible = false WHERE user_id = %s RETURNING id", (hidden,))
    page = text(world.get("anon", f"/catalog/{world.slug(course)}"))
    assert '<meter min="0" max="4" value="2">50%</meter>' in page
    assert '<meter min="0" max="4" value="1">25%</meter>' in page
    assert '<meter min="0" max="4" value="0">0%</meter>' in page
    assert "3.75" in page and "from 4 reviews" in page and "style=" not in page


# --- the enroll panel --------------------------------------------------------------------------

def panel(world, actor, course) -> str:
    page = text(world.get(actor, f"/catalog/{world.slug(course)}"))
    start = page.index('id="enroll"')
    return page[start:page.index("</aside>", start)]


def test_enroll_panel_for_anonymous_visitors_asks_to_sign_in(world):
    """Anonymous: a sign-in link that comes back to the course."""
    course = world.course()
    slug = world.slug(course)
    html = panel(world, "anon", course)
    assert f'href="/sign-in?next=/catalog/{slug}"' in html and "Sign in to enroll" in html and "<form" not in html


def test_enroll_panel_offers_free_and_paid_enrollment(world):
    """A student not enrolled: a form posting to the enroll endpoint, free or with its price."""
    free, paid = world.course(), world.course(price="49.5")
    html = panel(world, "student", free)
    assert f'action="/catalog/{world.slug(free)}/enroll"' in html and "Enroll for free" in html
    assert 'name="csrf_token"' in html
    html = panel(world, "other_student", paid)
    assert f'action="/catalog/{world.slug(paid)}/enroll"' in html and "Buy for $49.50" in html


def test_enroll_panel_for_pending_payments_offers_to_complete_them(world):
    """Pending payment, or a failed one: a form posting to the retry endpoint, with a message when it failed."""
    course = world.course(price="30")
    student, email = gen_account(world.database, "student")
    client = world.app.test_client()
    sign_in(client, email)
    enrollment = enroll(world.database, student, course.id)
    html = text(client.get(f"/catalog/{world.slug(course)}"))
    assert f'action="/catalog/{world.slug(course)}/checkout"' in html and "Complete payment" in html
    assert "did not go through" not in html and f"/catalog/{world.slug(course)}/enroll" not in html
    with world.database.act(Actor.user(student)) as cur:
        cur.execute("SELECT start_checkout(%s, 'test') AS id", (enrollment,))
        checkout = cur.fetchone()["id"]
    with world.database.act(Actor.service()) as cur:
        cur.execute("SELECT apply_payment_event(%s, %s, 'payment.failed')", ("evt-" + secrets.token_hex(6), checkout))
    html = text(client.get(f"/catalog/{world.slug(course)}"))
    assert "did not go through" in html and "Complete payment" in html


def test_enroll_panel_waits_for_the_instructors_approval(world):
    """Paid (or free) but not approved yet: the panel says it waits for the instructor, with no button."""
    approver, _ = gen_account(world.database, "instructor")
    world.database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                         "RETURNING user_id", (approver,))
    course = gen_course(world.database, approver, price="25")
    student, email = gen_account(world.database, "student")
    client = world.app.test_client()
    sign_in(client, email)
    pay(world.database, enroll(world.database, student, course.id))
    slug = world.slug(course)
    assert world.database.value("SELECT status FROM course_enrollments WHERE user_id = %s", (student,)) == "pending"
    page = text(client.get(f"/catalog/{slug}"))
    assert "Waiting for the instructor's approval" in page
    assert f"/catalog/{slug}/enroll" not in page and f"/catalog/{slug}/checkout" not in page


def test_enroll_panel_for_enrolled_students_continues_learning(world):
    """Enrolled, in progress or completed: a link to resume learning."""
    course = world.course()
    student, email = gen_account(world.database, "student")
    client = world.app.test_client()
    sign_in(client, email)
    enroll(world.database, student, course.id)
    html = text(client.get(f"/catalog/{world.slug(course)}"))
    assert f'href="/learn/{world.slug(course)}/"' in html and "Continue learning" in html and "<form" not in \
        html[html.index('id="enroll"'):html.index("</aside>")]
    done = world.course(lessons=("text",))
    complete_course(world.database, student, done)
    html = text(client.get(f"/catalog/{world.slug(done)}"))
    assert "You completed this course." in html and f'href="/learn/{world.slug(done)}/"' in html


def test_enroll_panel_after_cancelling_or_a_refund(world):
    """Cancelled: enroll again; refunded: the database's message, no button."""
    course, paid = world.course(), world.course(price="10")
    student, email = gen_account(world.database, "student")
    client = world.app.test_client()
    sign_in(client, email)
    enrollment = enroll(world.database, student, course.id)
    with world.database.act(Actor.user(student)) as cur:
        cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    html = text(client.get(f"/catalog/{world.slug(course)}"))
    assert f'action="/catalog/{world.slug(course)}/enroll"' in html and "Enroll for free" in html
    refunded = enroll(world.database, student, paid.id)
    pay(world.database, refunded)
    world.database.value("SELECT refund_course_enrollment(%s)::text", (refunded,))
    html = text(client.get(f"/catalog/{world.slug(paid)}"))
    assert "refunded; ask support to restore it" in html and f"/catalog/{world.slug(paid)}/enroll" not in html


@pytest.mark.parametrize("actor", ("owner", "co", "other_instructor"))
def test_instructors_see_no_enroll_button(world, actor):
    """Instructors do not enroll: their teachers get a link to manage the course, others a note."""
    course = world.course(co=True)
    html = panel(world, actor, course)
    assert "<form" not in html and "Enroll for free" not in html and "Sign in to enroll" not in html
    if actor == "other_instructor":
        assert "student accounts" in html
    else:
        assert "You teach this course" in html and f'href="/courses/{course.id}"' in html


# --- preview lessons -------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
def test_preview_lessons_open_to_everyone(world, actor):
    """A preview lesson renders for anyone: Markdown sanitized, a video link, a quiz without its answers."""
    course = world.course(lessons=())
    module = course.modules[0]
    text_lesson = gen_lesson(world.database, course, module, "text", preview=True)
    video = gen_lesson(world.database, course, module, "video", preview=True)
    quiz = gen_lesson(world.database, course, module, "quiz", preview=True)
    world.database.value("UPDATE course_lessons SET body = %s WHERE id = %s RETURNING id",
                         ("# Hello\n\nSome *text*. <script>alert(1)</script>", text_lesson))
    world.database.value("UPDATE course_lessons SET quiz = %s WHERE id = %s RETURNING id", (json.dumps(
        {"questions": [{"prompt": "Two plus two?", "choices": ["three", "four-secret-answer"], "answer": 1}]}), quiz))
    slug = world.slug(course)
    page = text(world.get(actor, f"/catalog/{slug}/preview/{text_lesson}"))
    assert "<h1>Hello</h1>" in page and "<em>text</em>" in page and "<script>alert" not in page
    assert "Free preview" in page and f'href="/catalog/{slug}/preview/{video}"' in page
    page = text(world.get(actor, f"/catalog/{slug}/preview/{video}"))
    assert 'href="https://video.example.test/v"' in page and "Watch the video" in page
    response = world.get(actor, f"/catalog/{slug}/preview/{quiz}")
    page = text(response)
    assert response.status_code == 200 and "Two plus two?" in page and "four-secret-answer" in page
    assert '"answer"' not in page and "answer\": 1" not in page and "checked" not in page


@pytest.mark.parametrize("actor", ACTORS)
def test_only_preview_lessons_of_published_courses_have_a_preview_page(world, actor):
    """A lesson that is not a preview, a draft's preview, another course's lesson or an unknown id: 404."""
    course = world.course(co=True, lessons=("text",))
    complete_course(world.database, world.users["student"], course)  # enrolled: reads the lesson in the player, not here
    slug = world.slug(course)
    draft = world.course(status="draft", lessons=())
    draft_preview = gen_lesson(world.database, draft, draft.modules[0], "text", preview=True)
    other = world.course(lessons=())
    other_preview = gen_lesson(world.database, other, other.modules[0], "text", preview=True)
    assert world.get(actor, f"/catalog/{slug}/preview/{course.lessons[0]}").status_code == 404
    assert world.get(actor, f"/catalog/{world.slug(draft)}/preview/{draft_preview}").status_code == 404
    assert world.get(actor, f"/catalog/{slug}/preview/{other_preview}").status_code == 404
    assert world.get(actor, f"/catalog/{slug}/preview/{uuid.uuid4()}").status_code == 404
    assert world.get(actor, f"/catalog/{slug}/preview/not-a-uuid").status_code == 404


# --- the reviews list ------------------------------------------------------------------------------

def review_world(world, count: int):
    """A course with ``count`` visible reviews, written one after the other by new students."""
    course = world.course(lessons=("text",))
    reviews = []
    for n in range(count):
        student, _ = gen_account(world.database, "student")
        complete_course(world.database, student, course)
        with world.database.act(Actor.user(student)) as cur:
            cur.execute("INSERT INTO course_reviews (course_id, user_id, rating, title) "
                        "VALUES (%s, %s, %s, %s) RETURNING id", (course.id, student, 1 + n % 5, f"Review {n}"))
            reviews.append(cur.fetchone()["id"])
        world.database.value("UPDATE course_reviews SET created_at = now() - make_interval(days => %s) "
                             "WHERE id = %s RETURNING id", (count - n, reviews[-1]))
    return course, reviews


REVIEW = re.compile(r'<article class="review" id="review-([0-9a-f-]{36})"')


def link(body: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', body)
    return html.unescape(found.group(1)) if found else None


@pytest.mark.parametrize("actor", ACTORS)
def test_reviews_list_pages_and_sorts(world, actor):
    """Ten reviews a page by position (newest first by default, or most helpful first), with
    next and previous links; a full page without htmx."""
    course, reviews = review_world(world, 12)
    world.database.value("UPDATE course_reviews SET helpful_count = 7 WHERE id = %s RETURNING id", (reviews[0],))
    world.database.value("UPDATE course_reviews SET helpful_count = 3 WHERE id = %s RETURNING id", (reviews[5],))
    slug = world.slug(course)
    first = world.get(actor, f"/catalog/{slug}/reviews")
    assert first.status_code == 200 and "<html" in text(first)
    assert REVIEW.findall(text(first)) == [str(r) for r in reversed(reviews)][:10]
    assert link(text(first), "prev") is None
    second = text(world.get(actor, link(text(first), "next")))
    assert REVIEW.findall(second) == [str(reviews[1]), str(reviews[0])] and link(second, "next") is None
    back = text(world.get(actor, link(second, "prev")))
    assert REVIEW.findall(back) == [str(r) for r in reversed(reviews)][:10]
    helpful = text(world.get(actor, f"/catalog/{slug}/reviews?sort=helpful"))
    assert REVIEW.findall(helpful)[:2] == [str(reviews[0]), str(reviews[5])]
    fragment = world.get(actor, link(helpful, "next"), headers=htmx())
    assert "<html" not in text(fragment) and len(REVIEW.findall(text(fragment))) == 2
    assert f'href="/catalog/{slug}/reviews?sort=helpful"' in text(fragment)
    course_page = text(world.get(actor, f"/catalog/{slug}"))
    assert REVIEW.findall(course_page) == [str(r) for r in reversed(reviews)][:10]
    assert link(course_page, "next").startswith(f"/catalog/{slug}/reviews?after=")
    # A position that is not one (tampered, or decoding to values of the wrong kind: ["x"], a
    # newest-first position under the helpful order) starts from the top rather than fail.
    from portal.listing import token
    newest_position = link(text(first), "next").split("after=")[1]
    for bad, sort in (("%%%", ""), (token(["x"]), ""), (token([1, "x", "y"]), ""), (newest_position, "&sort=helpful")):
        page = world.get(actor, f"/catalog/{slug}/reviews?after={bad}{sort}")
        assert page.status_code == 200, bad
        top = first if not sort else world.get(actor, f"/catalog/{slug}/reviews?sort=helpful")
        assert REVIEW.findall(text(page)) == REVIEW.findall(text(top)), bad


def test_reviews_show_instructor_responses_and_hide_hidden_reviews(world):
    """An instructor's response shows under its review; a hidden review shows to no one but its author."""
    course, reviews = review_world(world, 2)
    with world.database.act(Actor.user(world.users["owner"])) as cur:
        cur.execute("UPDATE course_reviews SET instructor_response = 'Thank you, <b>really</b>!' WHERE id = %s",
                    (reviews[0],))
    world.database.value("UPDATE course_reviews SET is_visible = false WHERE id = %s RETURNING id", (reviews[1],))
    for actor in ACTORS:
        page = text(world.get(actor, f"/catalog/{world.slug(course)}/reviews"))
        assert REVIEW.findall(page) == [str(reviews[0])], actor
        assert "Response from Olivia Owner" in page and "Thank you, &lt;b&gt;really&lt;/b&gt;!" in page


# --- the public instructor page ------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
def test_instructor_page_shows_the_public_profile_and_published_courses(world, actor):
    """Bio, expertise, pillars and figures, and the published courses they own or co-teach only."""
    db = world.database
    teacher, _ = gen_account(db, "instructor", name="Nora Newcomer")
    owned = gen_course(db, teacher, title="Owned and published", lessons=("text",))
    gen_course(db, teacher, title="Owned draft", status="draft", lessons=("text",))
    gen_course(db, teacher, title="Owned archived", status="archived", lessons=("text",))
    co_taught = world.course(title="Co-taught and published")
    db.value("INSERT INTO course_instructors (course_id, instructor_id) VALUES (%s, %s) RETURNING id",
             (co_taught.id, teacher))
    response = world.get(actor, f"/instructors/{teacher}")
    page = text(response)
    assert response.status_code == 200 and "<h1>Nora Newcomer" in page
    assert sorted(listed(response)) == sorted([str(owned.id), str(co_taught.id)])
    assert "Owned draft" not in page and "Owned archived" not in page
    assert "This instructor has not written a biography yet." in page
    page = text(world.get(actor, f"/instructors/{world.users['owner']}"))
    assert "fifteen years" in page and "statistics" in page and "Coaching" in page and "Marketplace" in page
    assert "Teaches data for a living" in page and "Average rating" in page


@pytest.mark.parametrize("actor", ACTORS)
def test_instructor_page_is_404_for_anyone_who_is_not_an_instructor(world, actor):
    """A student's id, an unknown id or a malformed one: there is no instructor page."""
    assert world.get(actor, f"/instructors/{world.users['student']}").status_code == 404
    assert world.get(actor, f"/instructors/{uuid.uuid4()}").status_code == 404
    assert world.get(actor, "/instructors/not-a-uuid").status_code == 404


def test_instructor_courses_are_paged(world):
    """An instructor with more than twelve courses gets pages, and htmx gets the list only."""
    teacher, _ = gen_account(world.database, "instructor", name="Prolific Teacher")
    for _ in range(13):
        gen_course(world.database, teacher, lessons=("text",))
    first = world.get("anon", f"/instructors/{teacher}")
    assert len(listed(first)) == 12 and f'rel="next" href="/instructors/{teacher}?page=2"' in text(first)
    second = world.get("anon", f"/instructors/{teacher}?page=2", headers=htmx())
    assert len(listed(second)) == 1 and "<html" not in text(second)


def test_course_page_costs_the_same_few_queries_for_few_or_many_reviews_and_lessons(world):
    """The course page's statements do not grow with its reviews, lessons or teachers."""
    small, _ = review_world(world, 2)
    large, reviews = review_world(world, 12)
    world.database.value("INSERT INTO course_instructors (course_id, instructor_id) VALUES (%s, %s) RETURNING id",
                         (large.id, world.users["co"]))
    for n in range(3):
        module = gen_module(world.database, large, f"Extra module {n}")
        for kind in ("text", "video", "quiz"):
            gen_lesson(world.database, large, module, kind, preview=kind == "text")
    with world.database.act(Actor.user(world.users["other_student"])) as cur:
        cur.execute("INSERT INTO review_helpful_votes (review_id) VALUES (%s)", (reviews[-1],))
    for actor in ("anon", "other_student", "owner"):
        with QueryCounter() as few:
            assert world.get(actor, f"/catalog/{world.slug(small)}").status_code == 200
        with QueryCounter() as many:
            assert world.get(actor, f"/catalog/{world.slug(large)}").status_code == 200
        assert few.count == many.count and many.count <= 16, (actor, few.count, many.count)

"""The reviews inbox over HTTP: every route as every actor, filters and paging, answering and
editing in place (htmx) or by a plain form, bad input, the database's refusal, the student's
notice (once), and the dashboard's count of unanswered reviews."""

from __future__ import annotations

import re

import pytest

from tests.course_web import send
from tests.support import Actor, complete_course, gen_account
from tests.web import htmx, notified, text

# The inbox's routes with an argument, or POST only (test_web_routes.py: every route is tested).
RULES = {"/reviews/<uuid:review_id>/response"}
TEACHERS = ("owner", "co_respond", "co_view")  # who reads the course's reviews
OUTSIDERS = ("co_none", "co_manage", "co_revenue", "other_instructor", "student")


def review(world, course, rating=4, title=None, text_=None):
    """A review of ``course`` by a new student who completed it; its id."""
    db = world.database
    student, _ = gen_account(db, "student")
    complete_course(db, student, course)
    with db.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating, title, review_text) "
                    "VALUES (%s, %s, %s, %s, %s) RETURNING id", (course.id, student, rating, title, text_))
        return cur.fetchone()["id"]


def respond(world, actor, review_id, answer="Thank you!", headers=None, **fields):
    return send(world, actor, f"/reviews/{review_id}/response", {"response": answer, **fields},
                headers=headers or {})


def response_of(world, review_id):
    return world.database.value("SELECT instructor_response FROM course_reviews WHERE id = %s", (review_id,))


def notices(world, review_id) -> int:
    return world.database.value("SELECT count(*) FROM notifications WHERE event_type = 'review_response' "
                                "AND payload ->> 'review_id' = %s", (str(review_id),))


@pytest.fixture(scope="module")
def course(world):
    return world.course(title="Inbox Course")


# --- who may open what --------------------------------------------------------------------------

@pytest.mark.parametrize("actor", [*TEACHERS, *OUTSIDERS, "anon"])
def test_the_inbox_shows_a_review_to_its_teachers_only(world, course, actor):
    """Owner and co-teachers who read reviews see it; others get an inbox without it; anon signs in."""
    review_id = review(world, course, title=f"Seen by {actor}")
    response = world.clients[actor].get("/reviews/")
    if actor == "anon":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    elif actor == "student":
        assert response.status_code == 404
    else:
        assert response.status_code == 200
        assert (f"Seen by {actor}" in text(response)) == (actor in TEACHERS)
        assert (f'id="review-{review_id}"' in text(response)) == (actor in TEACHERS)


@pytest.mark.parametrize("actor", [*OUTSIDERS, "co_view", "anon"])
def test_only_owner_and_co_with_respond_reviews_answer(world, course, actor):
    """Someone else's review is a 404 (a student's too), a reader without respond_reviews a 422 that
    says so, anon signs in; nothing is written."""
    review_id = review(world, course)
    response = respond(world, actor, review_id)
    if actor == "anon":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in")
    elif actor == "co_view":
        assert response.status_code == 422 and "respond to reviews" in text(response)
        again = respond(world, actor, review_id, headers=htmx())
        assert again.status_code == 422 and notified(again)["kind"] == "error"
    else:
        assert response.status_code == 404
    assert response_of(world, review_id) is None


def test_the_database_refuses_a_reader_without_respond_reviews(world, course):
    """Even past the page, course_reviews_update touches no row for co_view (the view says 422)."""
    review_id = review(world, course)
    with world.database.act(Actor.user(world.users["co_view"])) as cur:
        cur.execute("UPDATE course_reviews SET instructor_response = 'x' WHERE id = %s", (review_id,))
        assert cur.rowcount == 0


def test_missing_csrf_is_400(world, course):
    review_id = review(world, course)
    response = send(world, "owner", f"/reviews/{review_id}/response", {"response": "Hi"}, csrf=False)
    assert response.status_code == 400 and response_of(world, review_id) is None


# --- answering ---------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ["owner", "co_respond"])
def test_respond_then_edit_in_place_and_the_student_is_told_once(world, course, actor):
    """The first answer publishes (and tells the student), an edit updates; htmx gets the card back."""
    review_id = review(world, course)
    first = respond(world, actor, review_id, "Thanks for the kind words.", headers=htmx())
    assert first.status_code == 200 and f'id="review-{review_id}"' in text(first) and "<html" not in text(first)
    assert "Thanks for the kind words." in text(first) and "Edit your response" in text(first)
    assert notified(first) == {"message": "Your response is published. The student is told that you answered.",
                               "kind": "success"}
    assert response_of(world, review_id) == "Thanks for the kind words."
    edit = respond(world, actor, review_id, "Thanks, and see module 2.", headers=htmx())
    assert edit.status_code == 200 and notified(edit)["message"] == "Your response is updated."
    assert response_of(world, review_id) == "Thanks, and see module 2."
    assert world.database.value("SELECT responded_by FROM course_reviews WHERE id = %s",
                                (review_id,)) == world.users[actor]
    assert notices(world, review_id) == 1


def test_a_plain_form_redirects_back_keeping_filters_and_position(world, course):
    review_id = review(world, course)
    back = "/reviews/?rating=4&answered=unanswered&after=abc"
    response = respond(world, "owner", review_id, back=back)
    assert response.status_code == 303 and response.headers["Location"] == f"{back}#review-{review_id}"
    elsewhere = respond(world, "owner", review_id, "Again", back="https://evil.example/reviews/")
    assert elsewhere.headers["Location"] == f"/reviews/#review-{review_id}"
    assert response_of(world, review_id) == "Again"


@pytest.mark.parametrize("answer, message", [("   ", "Write your response"), ("x" * 5001, "At most 5,000")])
def test_bad_input_is_422_with_the_value_kept(world, course, answer, message):
    review_id = review(world, course)
    page = respond(world, "owner", review_id, answer)
    assert page.status_code == 422 and message in text(page) and "<html" in text(page)
    fragment = respond(world, "owner", review_id, answer, headers=htmx())
    assert fragment.status_code == 422 and "<html" not in text(fragment) and message in text(fragment)
    if answer.strip():
        assert answer in text(fragment)
    assert response_of(world, review_id) is None


def test_the_longest_answer_the_column_takes_is_accepted(world, course):
    review_id = review(world, course)
    assert respond(world, "owner", review_id, "y" * 5000).status_code == 303
    assert len(response_of(world, review_id)) == 5000


# --- the list ------------------------------------------------------------------------------------

def ids_on(page: str) -> list[str]:
    return re.findall(r'<article class="review card" id="review-([0-9a-f-]+)"', page)


def test_filters_order_and_paging(world):
    """Unanswered first then newest; course, rating, answered and reported filters; 20 a page by position."""
    course = world.course(title="Busy Course")
    other = world.course(title="Quiet Course")
    made = [review(world, course, rating=1 + i % 5) for i in range(23)]
    quiet = review(world, other, rating=5)
    respond(world, "owner", made[0], "Answered")
    student = world.users["student"]
    complete_course(world.database, student, other)
    with world.database.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO review_reports (review_id, reason) VALUES (%s, 'spam')", (quiet,))
    client = world.clients["owner"]
    first = text(client.get(f"/reviews/?course={course.id}"))
    shown = ids_on(first)
    assert len(shown) == 20 and str(made[0]) not in shown and shown[0] == str(made[-1])
    after = re.search(r'href="(/reviews/\?[^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = ids_on(text(client.get(after)))
    assert len(second) == 3 and second[-1] == str(made[0]), "the answered one comes last"
    assert set(shown) | set(second) == {str(r) for r in made}
    five = ids_on(text(client.get(f"/reviews/?course={course.id}&rating=5")))
    assert sorted(five) == sorted(str(r) for i, r in enumerate(made) if i % 5 == 4)
    assert ids_on(text(client.get(f"/reviews/?course={course.id}&answered=answered"))) == [str(made[0])]
    reported = text(client.get("/reviews/?reported=reported"))
    assert ids_on(reported) == [str(quiet)] and ">Reported<" in reported
    assert ids_on(text(client.get(f"/reviews/?course={other.id}&reported=reported"))) == [str(quiet)]
    # a co-teacher without access, or a bad course value, finds nothing / everything it may
    assert ids_on(text(world.clients["co_none"].get(f"/reviews/?course={course.id}"))) == []
    assert text(client.get("/reviews/?course=not-a-uuid&rating=9")).count("<article") >= 20
    # htmx: the inside of the inbox only
    fragment = client.get(f"/reviews/?course={course.id}", headers=htmx())
    assert "<html" not in text(fragment) and 'id="reviews-course"' in text(fragment)


def test_distribution_and_trend_follow_the_course_filter(world):
    course = world.course(title="Figures Course")
    for rating in (5, 5, 3):
        review(world, course, rating=rating)
    page = text(world.clients["owner"].get(f"/reviews/?course={course.id}"))
    assert "Ratings of “Figures Course”" in page and "3 visible reviews by rating." in page
    assert re.search(r"<th scope=\"row\">5 stars</th><td class=\"num\">2</td>", page)
    assert "Average rating by month" in page and "4.33" in page
    assert 'data-chart="rating_trend"' in page and 'data-chart="ratings"' in page


def test_an_empty_inbox_says_so(world):
    """An instructor without courses, and a filter that matches nothing, each get an empty state."""
    page = text(world.clients["other_instructor"].get("/reviews/"))
    assert "No courses, so no reviews yet" in page
    course = world.course(title="Unreviewed")
    narrowed = text(world.clients["owner"].get(f"/reviews/?course={course.id}"))
    assert "No review matches these filters" in narrowed


# --- the dashboard ---------------------------------------------------------------------------------

def test_the_dashboard_counts_unanswered_reviews_and_links_the_inbox(world):
    from portal.reviews import queries
    course = world.course(title="Counted")
    review_id = review(world, course)
    review(world, course)
    with world.database.act(Actor.user(world.users["owner"])) as cur:
        cur.execute("SELECT count(*) AS n FROM course_reviews r WHERE r.instructor_response IS NULL AND r.is_visible "
                    "AND r.course_id = ANY (rls.course_ids('{view_content,respond_reviews}'))")
        expected = cur.fetchone()["n"]
    page = text(world.clients["owner"].get("/dashboard"))
    assert f"{expected} reviews of your courses are waiting for an answer" in page
    assert 'href="/reviews/?answered=unanswered"' in page
    respond(world, "owner", review_id)
    assert f"{expected - 1} review" in text(world.clients["owner"].get("/dashboard"))
    assert "waiting for an answer" not in text(world.clients["other_instructor"].get("/dashboard"))
    assert queries.RESPONDERS == ("respond_reviews",)


@pytest.mark.parametrize("first", [1, -1, 2 ** 70, "x", None])
@pytest.mark.parametrize("side", ["after", "before"])
def test_a_tampered_position_starts_from_the_top(world, course, side, first):
    """A page token whose first value is not the key's boolean (review of issue 17) is the first page,
    never a 500 or a 422."""
    from portal.listing import token
    forged = token([first, "2024-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000"])
    response = world.clients["owner"].get(f"/reviews/?{side}={forged}")
    assert response.status_code == 200
    assert ids_on(text(response)) == ids_on(text(world.clients["owner"].get("/reviews/")))

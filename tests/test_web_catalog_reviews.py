"""The student's reviews over HTTP: writing and editing one (only after
completing the course, and only while the instructor allows reviews), helpful
votes (once per reader, never the author's own) and reports (once per reader,
with a reason). Each route as an anonymous visitor, the author, another
student, the course's instructor and another instructor; refused writes leave
nothing behind; every POST needs its CSRF token; bad input is a 422 that keeps
what was typed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import pytest

from tests.support import Actor, Course, Database, complete_course, enroll, gen_account, gen_course
from tests.web import close_app, htmx, make_app, notified, post, sign_in_cast, text

ACTORS = ("anon", "student", "other_student", "owner", "other_instructor")
TOKEN_PAGE = "/catalog/"  # a signed-in page carrying the CSRF token (the sign-out form); anon uses /sign-in
NAMES = {"owner": "Olivia Owner", "other_instructor": "Ian Other", "student": "Sam Student",
         "other_student": "Tess Other"}


@dataclass
class World:
    database: Database
    app: object
    users: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)

    def course(self, **kwargs) -> Course:
        return gen_course(self.database, self.users["owner"], lessons=("text",), **kwargs)

    def slug(self, course: Course) -> str:
        return self.database.value("SELECT slug FROM courses WHERE id = %s", (course.id,))

    def post(self, actor: str, path: str, data=None, **kwargs):
        token_from = "/sign-in" if actor == "anon" else TOKEN_PAGE
        return post(self.clients[actor], path, data, token_from=token_from, **kwargs)

    def review(self, actor: str, course: Course, rating: int = 4, **columns) -> uuid.UUID:
        """The actor's review, written through the API role as the student would."""
        names = ["course_id", "user_id", "rating", *columns]
        with self.database.act(Actor.user(self.users[actor])) as cur:
            cur.execute(f"INSERT INTO course_reviews ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "
                        "RETURNING id", (course.id, self.users[actor], rating, *columns.values()))
            return cur.fetchone()["id"]

    def reviews_of(self, course: Course) -> list[dict]:
        return self.database.rows("SELECT * FROM course_reviews WHERE course_id = %s", (course.id,))


@pytest.fixture(scope="module")
def world(module_database):
    world = World(database=module_database, app=make_app(module_database))
    world.clients, world.users = sign_in_cast(world.app, module_database, ACTORS, NAMES)
    yield world
    close_app()


def completed(world, actor="student", **kwargs) -> Course:
    """A course the actor has completed."""
    course = world.course(**kwargs)
    complete_course(world.database, world.users[actor], course)
    return course


def reviewed(world, **kwargs) -> tuple[Course, uuid.UUID]:
    """A course the student completed and reviewed."""
    course = completed(world, **kwargs)
    return course, world.review("student", course, title="Clear and useful", review_text="I learned a lot.")


GOOD = {"rating": "5", "title": "Worth every minute", "review_text": "Clear lessons.\r\nGood quizzes.",
        "content_quality_rating": "4", "instructor_rating": "5", "value_rating": ""}


# --- writing and editing a review -------------------------------------------------------------

@pytest.mark.parametrize("actor, expected", [("anon", "sign in"), ("student", 200), ("other_student", 404),
                                             ("owner", 404), ("other_instructor", 404)])
def test_review_form_is_only_for_students_who_completed_the_course(world, actor, expected):
    """The form opens for the student who completed the course; others get 404, anonymous users sign in."""
    course = completed(world)
    response = world.clients[actor].get(f"/catalog/{world.slug(course)}/review")
    if expected == "sign in":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    else:
        assert response.status_code == expected
    if expected == 200:
        page = text(response)
        assert "Review this course" in page and 'name="rating"' in page and 'name="csrf_token"' in page
        assert "style=" not in page


@pytest.mark.parametrize("actor", ("anon", "other_student", "owner", "other_instructor"))
def test_nobody_else_can_post_a_review(world, actor):
    """Posting a review without a completed enrollment is refused and writes nothing."""
    course = completed(world)
    response = world.post(actor, f"/catalog/{world.slug(course)}/review", GOOD)
    assert response.status_code in (303, 404)
    if actor == "anon":
        assert response.headers["Location"].startswith("/sign-in?next=")
    else:
        assert response.status_code == 404
    assert world.reviews_of(course) == []


def test_a_student_still_learning_is_refused_and_nothing_is_written(world):
    """Enrolled but not completed: no form, no review, and the course page says why."""
    course = world.course()
    enroll(world.database, world.users["other_student"], course.id)
    slug = world.slug(course)
    assert world.clients["other_student"].get(f"/catalog/{slug}/review").status_code == 404
    assert world.post("other_student", f"/catalog/{slug}/review", GOOD).status_code == 404
    assert world.reviews_of(course) == []
    page = text(world.clients["other_student"].get(f"/catalog/{slug}"))
    assert "once you have completed it" in page and f'href="/catalog/{slug}/review"' not in page


def test_write_then_edit_a_review(world):
    """A completed student publishes a review, finds it filled in, edits it: one row, kept up to date."""
    course = completed(world)
    slug = world.slug(course)
    client = world.clients["student"]
    assert f'href="/catalog/{slug}/review">Write a review' in text(client.get(f"/catalog/{slug}"))
    response = world.post("student", f"/catalog/{slug}/review", GOOD)
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{slug}#reviews"
    [row] = world.reviews_of(course)
    assert (row["rating"], row["title"], row["review_text"]) == (5, "Worth every minute", "Clear lessons.\nGood quizzes.")
    assert (row["content_quality_rating"], row["instructor_rating"], row["value_rating"]) == (4, 5, None)
    assert row["user_id"] == world.users["student"] and row["is_verified_purchase"]
    page = text(client.get(f"/catalog/{slug}"))
    assert "Thank you: your review is published." in page and "Your review" in page and "Edit your review" in page
    assert 'id="my-review"' in page and f'id="review-{row["id"]}"' in page, "the box and the list each show it once"
    assert world.database.value("SELECT review_count FROM courses WHERE id = %s", (course.id,)) == 1

    form = text(client.get(f"/catalog/{slug}/review"))
    assert "Edit your review" in form and 'value="Worth every minute"' in form and "Good quizzes." in form
    assert '<input checked id="rating-0" name="rating" required type="radio" value="5">' in form
    assert '<option selected value="4">' in form and '<option selected value="">Not rated' in form
    response = world.post("student", f"/catalog/{slug}/review", {**GOOD, "rating": "3", "title": "", "value_rating": "2"})
    assert response.status_code == 303
    [row] = world.reviews_of(course)
    assert (row["rating"], row["title"], row["value_rating"]) == (3, None, 2)
    assert "Your review is updated." in text(client.get(f"/catalog/{slug}"))
    assert world.database.value("SELECT average_rating FROM courses WHERE id = %s", (course.id,)) == 3


BAD = [
    ({"rating": "0"}, "A rating is a whole number from 1 to 5."),
    ({"rating": "6"}, "A rating is a whole number from 1 to 5."),
    ({"rating": "five"}, "A rating is a whole number from 1 to 5."),
    ({"rating": ""}, "Choose a rating from 1 to 5 stars."),
    ({"title": "t" * 201}, "At most 200 characters."),
    ({"review_text": "x" * 5001}, "At most 5,000 characters."),
    ({"value_rating": "7"}, "A rating is a whole number from 1 to 5."),
]


@pytest.mark.parametrize("change, message", BAD, ids=[next(iter(c)) + "=" + next(iter(c.values()))[:6] for c, _ in BAD])
def test_bad_review_input_is_422_with_the_values_kept(world, change, message):
    """A bad rating, a title or text too long: 422, the message on its field, the rest as typed; nothing saved."""
    course = completed(world)
    data = {**GOOD, "title": "Kept title", "review_text": "Kept text", **change}
    response = world.post("student", f"/catalog/{world.slug(course)}/review", data)
    page = text(response)
    assert response.status_code == 422 and message in page and 'class="field field--error"' in page
    assert (data["title"] if "title" not in change else change["title"]) in page
    assert (data["review_text"] if "review_text" not in change else change["review_text"]) in page
    assert world.reviews_of(course) == []


def test_missing_rating_is_422_and_htmx_gets_the_form_fragment(world):
    """No rating at all: 422; an htmx post gets the form back, not a page."""
    course = completed(world)
    data = {k: v for k, v in GOOD.items() if k != "rating"}
    response = world.post("student", f"/catalog/{world.slug(course)}/review", data, headers=htmx())
    page = text(response)
    assert response.status_code == 422 and "<html" not in page and 'id="review-form"' in page
    assert "Choose a rating from 1 to 5 stars." in page and "Worth every minute" in page
    assert world.reviews_of(course) == []


def test_reviews_turned_off_by_the_instructor(world):
    """allow_course_reviews = false: the page says so, the form is 404 and a post writes nothing."""
    teacher, _ = gen_account(world.database, "instructor")
    world.database.value("UPDATE instructor_settings SET allow_course_reviews = false WHERE user_id = %s "
                         "RETURNING user_id", (teacher,))
    course = gen_course(world.database, teacher, lessons=("text",))
    complete_course(world.database, world.users["student"], course)
    slug = world.slug(course)
    page = text(world.clients["student"].get(f"/catalog/{slug}"))
    assert "The instructor has turned reviews off" in page and f'href="/catalog/{slug}/review"' not in page
    assert world.clients["student"].get(f"/catalog/{slug}/review").status_code == 404
    assert world.post("student", f"/catalog/{slug}/review", GOOD).status_code == 404
    assert world.reviews_of(course) == []


def test_review_text_is_plain_and_escaped(world):
    """Markup in a review is shown as text, never run."""
    course = completed(world)
    slug = world.slug(course)
    world.post("student", f"/catalog/{slug}/review",
               {**GOOD, "title": "<b>bold</b>", "review_text": "<script>alert('x')</script> **not markdown**"})
    for actor in ACTORS:
        page = text(world.clients[actor].get(f"/catalog/{slug}"))
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; **not markdown**" in page, actor
        assert "<script>alert" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page and "<strong>not" not in page


def test_review_of_a_draft_or_unknown_course_is_404(world):
    """A draft or an unknown slug has no review form."""
    draft = world.course(status="draft")
    assert world.clients["student"].get(f"/catalog/{world.slug(draft)}/review").status_code == 404
    assert world.clients["student"].get("/catalog/no-such-course/review").status_code == 404
    assert world.post("student", "/catalog/no-such-course/review", GOOD).status_code == 404


# --- helpful votes ------------------------------------------------------------------------------

def helpful_count(world, review_id) -> int:
    return world.database.value("SELECT helpful_count FROM course_reviews WHERE id = %s", (review_id,))


def votes(world, review_id) -> int:
    return world.database.value("SELECT count(*) FROM review_helpful_votes WHERE review_id = %s", (review_id,))


def test_helpful_votes_count_once_per_reader(world):
    """A reader's vote counts once however often it is sent, can be withdrawn, and readers add up;
    the course's teacher has no vote."""
    course, review = reviewed(world)
    path = f"/catalog/reviews/{review}/helpful"
    response = world.post("other_student", path, {"vote": "add"})
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{world.slug(course)}#review-{review}"
    assert helpful_count(world, review) == 1
    assert world.post("other_student", path, {"vote": "add"}).status_code == 303
    assert helpful_count(world, review) == 1 and votes(world, review) == 1
    assert world.post("owner", path, {"vote": "add"}).status_code == 404  # the course's teacher: refused (007)
    world.post("other_instructor", path)  # no vote field: toggles on
    assert helpful_count(world, review) == 2 and votes(world, review) == 2
    world.post("other_instructor", path)  # toggles off
    world.post("other_student", path, {"vote": "remove"})
    world.post("other_student", path, {"vote": "remove"})
    assert helpful_count(world, review) == 0 and votes(world, review) == 0


def test_helpful_with_htmx_answers_the_button_fragment(world):
    """htmx gets the review's helpful form back, pressed, with the new count, and the message to show."""
    course, review = reviewed(world)
    response = world.post("other_student", f"/catalog/reviews/{review}/helpful", {"vote": "add"}, headers=htmx())
    fragment = text(response)
    assert response.status_code == 200 and "<html" not in fragment and f'id="helpful-{review}"' in fragment
    assert 'aria-pressed="true"' in fragment and "1 person finds this helpful, you included" in fragment
    assert 'name="vote" value="remove"' in fragment
    assert notified(response) == {"message": "Thank you: you found this review helpful.", "kind": "success"}
    page = text(world.clients["other_student"].get(f"/catalog/{world.slug(course)}"))
    assert 'aria-pressed="true"' in page
    response = world.post("other_student", f"/catalog/reviews/{review}/helpful", {"vote": "remove"}, headers=htmx())
    assert 'aria-pressed="false"' in text(response) and helpful_count(world, review) == 0


def test_the_author_cannot_vote_for_their_own_review(world):
    """Voting on one's own review is refused (404) and counts nothing; the author sees no vote button."""
    course, review = reviewed(world)
    for vote in ("add", None, "remove"):
        response = world.post("student", f"/catalog/reviews/{review}/helpful", {"vote": vote} if vote else {})
        assert response.status_code == 404
    assert helpful_count(world, review) == 0 and votes(world, review) == 0
    page = text(world.clients["student"].get(f"/catalog/{world.slug(course)}"))
    assert f'action="/catalog/reviews/{review}/helpful"' not in page
    assert f"/catalog/reviews/{review}/report" not in page


def test_anonymous_visitors_sign_in_to_vote(world):
    """An anonymous vote goes to sign in (back to the course) and counts nothing; the page offers the link."""
    course, review = reviewed(world)
    response = world.post("anon", f"/catalog/reviews/{review}/helpful", {"vote": "add"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/sign-in?next=/catalog/{world.slug(course)}")
    assert helpful_count(world, review) == 0
    page = text(world.clients["anon"].get(f"/catalog/{world.slug(course)}"))
    assert "Sign in to vote" in page and f'action="/catalog/reviews/{review}/helpful"' not in page


def test_hidden_or_unknown_reviews_cannot_be_voted_on_or_reported(world):
    """A review hidden by moderation, or one that does not exist, is 404 to other readers; nothing is written."""
    _, review = reviewed(world)
    world.database.value("UPDATE course_reviews SET is_visible = false WHERE id = %s RETURNING id", (review,))
    for path in (f"/catalog/reviews/{review}/helpful", f"/catalog/reviews/{uuid.uuid4()}/helpful"):
        assert world.post("other_student", path, {"vote": "add"}).status_code == 404
    for path in (f"/catalog/reviews/{review}/report", f"/catalog/reviews/{uuid.uuid4()}/report"):
        assert world.clients["other_student"].get(path).status_code == 404
        assert world.post("other_student", path, {"reason": "spam"}).status_code == 404
    assert votes(world, review) == 0
    assert world.database.value("SELECT count(*) FROM review_reports WHERE review_id = %s", (review,)) == 0


# --- reports ---------------------------------------------------------------------------------------

def reports(world, review_id) -> list[dict]:
    return world.database.rows("SELECT * FROM review_reports WHERE review_id = %s", (review_id,))


@pytest.mark.parametrize("actor, expected", [("anon", "sign in"), ("student", 404), ("other_student", 200),
                                             ("owner", 200), ("other_instructor", 200)])
def test_report_form_for_every_actor(world, actor, expected):
    """Signed-in readers other than the author get the form; the author 404; anonymous users sign in."""
    _, review = reviewed(world)
    response = world.clients[actor].get(f"/catalog/reviews/{review}/report")
    if expected == "sign in":
        assert response.status_code == 303
        assert response.headers["Location"] == f"/sign-in?next=/catalog/reviews/{review}/report"
    else:
        assert response.status_code == expected
    if expected == 200:
        page = text(response)
        assert "Report a review" in page and 'name="reason"' in page and "Clear and useful" in page


def test_report_is_stored_once_and_a_second_one_is_answered_with_a_message(world):
    """A report is stored with its reason; reporting again says so (409) and stores nothing more."""
    course, review = reviewed(world)
    path = f"/catalog/reviews/{review}/report"
    response = world.post("other_student", path, {"reason": "spam", "details": "Links to a shop."})
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{world.slug(course)}#review-{review}"
    [row] = reports(world, review)
    assert (row["reporter_id"], row["reason"], row["details"]) == (world.users["other_student"], "spam",
                                                                   "Links to a shop.")
    page = text(world.clients["other_student"].get(f"/catalog/{world.slug(course)}"))
    assert "Thank you: the review is reported" in page and "You reported this review." in page
    again = world.post("other_student", path, {"reason": "offensive"})
    assert again.status_code == 409 and "You already reported this review" in text(again)
    assert len(reports(world, review)) == 1
    form = text(world.clients["other_student"].get(path))
    assert "You already reported this review" in form and 'name="reason"' not in form
    assert world.post("owner", path, {"reason": "off_topic"}).status_code == 303
    assert len(reports(world, review)) == 2


def test_reporting_with_htmx_after_a_report_answers_the_message_fragment(world):
    """htmx: a duplicate report swaps the form for the message."""
    _, review = reviewed(world)
    world.post("other_student", f"/catalog/reviews/{review}/report", {"reason": "spam"})
    response = world.post("other_student", f"/catalog/reviews/{review}/report", {"reason": "spam"}, headers=htmx())
    assert response.status_code == 409 and "<html" not in text(response) and 'id="report"' in text(response)


BAD_REPORTS = [
    ({"reason": "other", "details": ""}, "Tell us what is wrong with this review"),
    ({"reason": "other", "details": "   "}, "Tell us what is wrong with this review"),
    ({"reason": "", "details": "Kept details"}, "Choose why you are reporting this review."),
    ({"reason": "rude", "details": "Kept details"}, "Choose why you are reporting this review."),
    ({"reason": "spam", "details": "d" * 1001}, "At most 1,000 characters."),
]


@pytest.mark.parametrize("data, message", BAD_REPORTS, ids=["other-empty", "other-blank", "no-reason", "bad-reason",
                                                            "too-long"])
def test_bad_report_input_is_422_with_the_values_kept(world, data, message):
    """'other' without details, no or an unknown reason, details too long: 422 with the message; nothing stored."""
    _, review = reviewed(world)
    response = world.post("other_student", f"/catalog/reviews/{review}/report", data)
    page = text(response)
    assert response.status_code == 422 and message in page
    if data["details"].strip():
        assert data["details"] in page
    if data["reason"] in ("other", "spam"):
        assert re.search(rf'<input checked id="reason-\d" name="reason" required type="radio" value="{data["reason"]}">',
                         page), "the chosen reason stays chosen"
    assert reports(world, review) == []


def test_the_author_cannot_report_their_own_review(world):
    """Reporting one's own review is refused (404) and stores nothing."""
    _, review = reviewed(world)
    assert world.post("student", f"/catalog/reviews/{review}/report", {"reason": "spam"}).status_code == 404
    assert reports(world, review) == []


def test_anonymous_reports_go_to_sign_in(world):
    """An anonymous report is not stored: sign in first."""
    _, review = reviewed(world)
    response = world.post("anon", f"/catalog/reviews/{review}/report", {"reason": "spam"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    assert reports(world, review) == []


# --- CSRF -------------------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
def test_every_post_needs_its_csrf_token(world, actor):
    """Without the CSRF token every POST of the area is refused (400) and writes nothing."""
    course, review = reviewed(world)
    client = world.clients[actor]
    slug = world.slug(course)
    assert client.post(f"/catalog/{slug}/review", data=GOOD).status_code == 400
    assert client.post(f"/catalog/reviews/{review}/helpful", data={"vote": "add"}).status_code == 400
    assert client.post(f"/catalog/reviews/{review}/report", data={"reason": "spam"}).status_code == 400
    [row] = world.reviews_of(course)
    assert row["title"] == "Clear and useful" and helpful_count(world, review) == 0 and reports(world, review) == []

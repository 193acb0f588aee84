"""Moderation in SQL, as the API roles: only a platform admin hides, restores or re-words a
review's moderation, or resolves its reports (the course's owner, a co-instructor who answers
reviews, the author, another student, an org admin, service_role: refused or no row touched);
every rating figure (the course's count, sum and average; the instructor's summary) follows a
hide and a restore, and verify_denormalized_figures agrees; the author is told of each decision
(not of a re-worded reason), a deactivated author of none."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tests.support import Actor, complete_course, gen_course, gen_org, gen_user, mismatches

PERMISSIONS = ("view_content", "edit_content", "manage_students", "view_revenue", "respond_reviews")


@pytest.fixture(scope="module")
def w(module_database):
    db = module_database
    org = gen_org(db, "Moderation Org")
    u = {"admin": gen_user(db, "admin"), "org_admin": gen_user(db, "org_admin", org=org),
         "owner": gen_user(db, "instructor", org=org), "co_respond": gen_user(db, "instructor"),
         "author": gen_user(db, "student"), "other_student": gen_user(db, "student"),
         "author2": gen_user(db, "student")}
    course = gen_course(db, u["owner"], org=org, lessons=("text",), title="Rated Course")
    db.value("INSERT INTO course_instructors (course_id, instructor_id, permissions) VALUES (%s, %s, %s) RETURNING id",
             (course.id, u["co_respond"], json.dumps({p: p == "respond_reviews" for p in PERMISSIONS})))
    reviews = {}
    for who, rating in (("author", 1), ("author2", 5)):
        complete_course(db, u[who], course)
        with db.act(Actor.user(u[who])) as cur:
            cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, %s) RETURNING id",
                        (course.id, u[who], rating))
            reviews[who] = cur.fetchone()["id"]
    with db.act(Actor.user(u["other_student"])) as cur:
        cur.execute("INSERT INTO review_reports (review_id, reason) VALUES (%s, 'offensive') RETURNING id",
                    (reviews["author"],))
        report = cur.fetchone()["id"]
    return {"db": db, "u": u, "course": course, "review": reviews["author"], "report": report}


def attempt(w, who, sql, params=None):
    actor = Actor.service() if who == "service" else Actor.user(w["u"][who])
    with w["db"].attempt(actor) as cur:
        try:
            cur.execute(sql, params)
        except psycopg2.Error as exc:
            return exc.pgcode
        return cur.rowcount


def act(w, who, sql, params=None):
    with w["db"].act(Actor.user(w["u"][who])) as cur:
        cur.execute(sql, params)
        return cur.rowcount


def figures(w):
    return w["db"].rows(
        "SELECT c.review_count, c.rating_sum, c.average_rating, p.total_reviews, p.average_rating AS instructor_rating "
        "FROM courses c JOIN instructor_profiles p ON p.user_id = c.instructor_id WHERE c.id = %s",
        (w["course"].id,))[0]


HIDE = "UPDATE course_reviews SET is_visible = false, moderation_reason = 'Mine now' WHERE id = %(review)s"
ATTACKS = {
    "hide": HIDE,
    "hide_without_reason": "UPDATE course_reviews SET is_visible = false WHERE id = %(review)s",
    "reason_only": "UPDATE course_reviews SET moderation_reason = 'Forged' WHERE id = %(review)s",
    "stamp_moderation": "UPDATE course_reviews SET moderated_at = now() WHERE id = %(review)s",
    "resolve_report": "UPDATE review_reports SET resolved_at = now() WHERE id = %(report)s",
    "delete_report": "DELETE FROM review_reports WHERE id = %(report)s",
}
# What each non-admin gets: the guard's refusal where the policy lets them touch the row (the author
# their own review, the owner and a co-instructor with respond_reviews the course's), no row where
# it does not, a missing grant (moderated_at: nobody writes it; service_role: nothing).
EXPECTED = {
    "author": {"hide": "42501", "hide_without_reason": "42501", "reason_only": "42501",
               "stamp_moderation": "42501", "resolve_report": 0, "delete_report": 0},
    "owner": {"hide": "42501", "hide_without_reason": "42501", "reason_only": "42501",
              "stamp_moderation": "42501", "resolve_report": 0, "delete_report": 0},
    "co_respond": {"hide": "42501", "hide_without_reason": "42501", "reason_only": "42501",
                   "stamp_moderation": "42501", "resolve_report": 0, "delete_report": 0},
    "other_student": {"hide": 0, "hide_without_reason": 0, "reason_only": 0, "stamp_moderation": "42501",
                      "resolve_report": 0, "delete_report": 0},
    "org_admin": {"hide": 0, "hide_without_reason": 0, "reason_only": 0, "stamp_moderation": "42501",
                  "resolve_report": 0, "delete_report": 0},
    "service": {name: "42501" for name in ATTACKS},
}


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("who", EXPECTED)
def test_only_a_platform_admin_moderates(w, who, attack):
    before = w["db"].rows("SELECT is_visible, moderation_reason, moderated_at FROM course_reviews WHERE id = %s",
                          (w["review"],))
    got = attempt(w, who, ATTACKS[attack], {"review": w["review"], "report": w["report"]})
    assert got == EXPECTED[who][attack]
    assert w["db"].rows("SELECT is_visible, moderation_reason, moderated_at FROM course_reviews WHERE id = %s",
                        (w["review"],)) == before


def test_the_admin_may_through_plain_sql(w):
    assert attempt(w, "admin", HIDE, {"review": w["review"]}) == 1
    assert attempt(w, "admin", ATTACKS["resolve_report"], {"report": w["report"]}) == 1


def test_a_deactivated_admin_is_anonymous_to_the_guard(w):
    db = w["db"]
    admin = gen_user(db, "admin")
    db.rows("UPDATE users SET is_active = false WHERE id = %s", (admin,))
    with db.attempt(Actor.user(admin)) as cur:
        cur.execute(HIDE, {"review": w["review"]})
        assert cur.rowcount == 0


def test_every_figure_follows_a_hide_and_a_restore(w):
    db = w["db"]
    shown = figures(w)
    assert (shown["review_count"], shown["rating_sum"], float(shown["average_rating"])) == (2, 6, 3.0)
    assert (shown["total_reviews"], float(shown["instructor_rating"])) == (2, 3.0)
    act(w, "admin", HIDE, {"review": w["review"]})
    hidden = figures(w)
    assert (hidden["review_count"], hidden["rating_sum"], float(hidden["average_rating"])) == (1, 5, 5.0)
    assert (hidden["total_reviews"], float(hidden["instructor_rating"])) == (1, 5.0)
    assert mismatches(db) == []
    # the public reads it no more (anon's policy: visible reviews only)
    with db.attempt(Actor.anon()) as cur:
        cur.execute("SELECT count(*) AS n FROM course_reviews WHERE id = %s", (w["review"],))
        assert cur.fetchone()["n"] == 0
    # a re-worded reason moves nothing
    act(w, "admin", "UPDATE course_reviews SET moderation_reason = 'Offensive' WHERE id = %s", (w["review"],))
    assert figures(w) == hidden
    act(w, "admin", "UPDATE course_reviews SET is_visible = true, moderation_reason = 'Restored' WHERE id = %s",
        (w["review"],))
    assert figures(w) == shown and mismatches(db) == []


def test_the_author_is_told_of_each_decision_only(w):
    db = w["db"]
    count = lambda: db.value("SELECT count(*) FROM notifications WHERE user_id = %s "  # noqa: E731
                             "AND event_type = 'review_moderated'", (w["u"]["author2"],))
    review = db.value("SELECT id FROM course_reviews WHERE user_id = %s", (w["u"]["author2"],))
    start = count()
    act(w, "admin", "UPDATE course_reviews SET is_visible = false, moderation_reason = 'One' WHERE id = %s", (review,))
    act(w, "admin", "UPDATE course_reviews SET moderation_reason = 'Two' WHERE id = %s", (review,))
    assert count() == start + 1
    act(w, "admin", "UPDATE course_reviews SET is_visible = true, moderation_reason = 'Three' WHERE id = %s", (review,))
    act(w, "admin", "UPDATE course_reviews SET is_visible = false, moderation_reason = 'Four' WHERE id = %s", (review,))
    assert count() == start + 3  # hidden again: a notice of its own
    payloads = [r["payload"] for r in db.rows("SELECT payload FROM notifications WHERE user_id = %s AND "
                                              "event_type = 'review_moderated' ORDER BY created_at, id",
                                              (w["u"]["author2"],))]
    assert [(p["hidden"], p["reason"]) for p in payloads[-3:]] == [(True, "One"), (False, "Three"), (True, "Four")]
    act(w, "admin", "UPDATE course_reviews SET is_visible = true, moderation_reason = 'Back' WHERE id = %s", (review,))
    assert mismatches(db) == []


def test_a_deactivated_author_is_told_nothing(w):
    db = w["db"]
    student = gen_user(db, "student")
    complete_course(db, student, w["course"])
    with db.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 3) RETURNING id",
                    (w["course"].id, student))
        review = cur.fetchone()["id"]
    db.rows("UPDATE users SET is_active = false WHERE id = %s", (student,))
    act(w, "admin", "UPDATE course_reviews SET is_visible = false, moderation_reason = 'x' WHERE id = %s", (review,))
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'review_moderated'",
                    (student,)) == 0
    assert mismatches(db) == []


def test_workshop_feedback_has_no_reports(w):
    """The issue's "workshop feedback where reports apply": no report table refers to it (nothing to moderate)."""
    assert w["db"].value("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                         "AND confrelid = 'public.workshop_feedback'::regclass") == 0


def _fresh_review(w, rating=2):
    db = w["db"]
    student = gen_user(db, "student")
    complete_course(db, student, w["course"])
    with db.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating, review_text) VALUES (%s, %s, %s, 'x') "
                    "RETURNING id", (w["course"].id, student, rating))
        return cur.fetchone()["id"], student


def _report(w, review):
    reporter = gen_user(w["db"], "student")
    with w["db"].act(Actor.user(reporter)) as cur:
        cur.execute("INSERT INTO review_reports (review_id, reason) VALUES (%s, 'spam') RETURNING id", (review,))
        return cur.fetchone()["id"]


def _delete_own(w, student, review):
    with w["db"].attempt(Actor.user(student)) as cur:
        cur.execute("DELETE FROM course_reviews WHERE id = %s", (review,))
        return cur.rowcount


def test_the_author_cannot_undo_a_hide_by_deleting_and_posting_again(w):
    """The attack: hidden by an admin, the author deletes the review and posts it again (visible)."""
    db = w["db"]
    review, student = _fresh_review(w)
    act(w, "admin", "UPDATE course_reviews SET is_visible = false, moderation_reason = 'Abusive' WHERE id = %s",
        (review,))
    assert _delete_own(w, student, review) == 0
    assert db.value("SELECT is_visible FROM course_reviews WHERE id = %s", (review,)) is False
    with db.attempt(Actor.user(student)) as cur:  # posting again: one review per student and course
        with pytest.raises(psycopg2.Error):
            cur.execute("INSERT INTO course_reviews (course_id, user_id, rating, review_text) "
                        "VALUES (%s, %s, 1, 'bad again') RETURNING is_visible", (w["course"].id, student))


def test_the_author_cannot_wipe_open_reports_by_deleting(w):
    db = w["db"]
    review, student = _fresh_review(w)
    report = _report(w, review)
    assert _delete_own(w, student, review) == 0
    assert db.value("SELECT count(*) FROM review_reports WHERE id = %s", (report,)) == 1
    # once a moderator has decided (dismissed: resolved, still visible), the author may delete it
    act(w, "admin", "UPDATE review_reports SET resolved_at = now() WHERE id = %s", (report,))
    assert _delete_own(w, student, review) == 1
    assert mismatches(db) == []


def test_the_author_deletes_a_visible_unreported_review_and_an_admin_any(w):
    review, student = _fresh_review(w)
    assert _delete_own(w, student, review) == 1
    hidden, _ = _fresh_review(w)
    _report(w, hidden)
    act(w, "admin", "UPDATE course_reviews SET is_visible = false, moderation_reason = 'x' WHERE id = %s", (hidden,))
    assert act(w, "admin", "DELETE FROM course_reviews WHERE id = %s", (hidden,)) == 1


def test_the_open_report_figures_follow_every_report_change(w):
    """open_report_count and first_open_report_at by delta: a report, another, one resolved, all
    resolved in one statement, one reopened, one deleted; nobody but the trigger writes them."""
    db = w["db"]
    review, student = _fresh_review(w)
    kept = lambda: db.rows("SELECT open_report_count AS n, first_open_report_at AS first "  # noqa: E731
                           "FROM course_reviews WHERE id = %s", (review,))[0]
    first_report = _report(w, review)
    second, third = _report(w, review), _report(w, review)
    created = {r["id"]: r["created_at"] for r in db.rows("SELECT id, created_at FROM review_reports "
                                                         "WHERE review_id = %s", (review,))}
    assert kept() == {"n": 3, "first": created[first_report]}
    act(w, "admin", "UPDATE review_reports SET resolved_at = now() WHERE id = %s", (first_report,))
    assert kept() == {"n": 2, "first": min(created[second], created[third])}
    act(w, "admin", "UPDATE review_reports SET resolved_at = now() WHERE review_id = %s AND resolved_at IS NULL",
        (review,))
    assert kept() == {"n": 0, "first": None}
    act(w, "admin", "UPDATE review_reports SET resolved_at = NULL WHERE id = %s", (third,))
    assert kept() == {"n": 1, "first": created[third]}
    act(w, "admin", "DELETE FROM review_reports WHERE id = %s", (third,))
    assert kept() == {"n": 0, "first": None}
    # maintenance re-dating open reports (all at once) moves the date too
    act(w, "admin", "UPDATE review_reports SET resolved_at = NULL WHERE review_id = %s", (review,))
    db.rows("UPDATE review_reports SET created_at = created_at - make_interval(days => 5) + "
            "CASE WHEN id = %s THEN interval '0' ELSE interval '1 day' END WHERE review_id = %s",
            (second, review))
    assert kept() == {"n": 2, "first": db.value("SELECT created_at FROM review_reports WHERE id = %s", (second,))}
    assert db.rows("SELECT * FROM private.verify_moderation_figures()") == []
    for who in ("author", "admin"):
        assert attempt(w, who, "UPDATE course_reviews SET open_report_count = 0 WHERE id = %s", (review,)) == "42501"
    with db.attempt(Actor.user(student)) as cur:
        with pytest.raises(psycopg2.Error) as refused:
            cur.execute("UPDATE course_reviews SET first_open_report_at = NULL WHERE id = %s", (review,))
    assert refused.value.pgcode == "42501"

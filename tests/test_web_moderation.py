"""The moderation queue over HTTP: every route as every actor (a platform admin only; everyone else
a 404, anon signs in, no CSRF a 400), the queue (open reports oldest first, grouped per review,
paged by position both ways, a tampered position), hiding and restoring with a reason (422
without one, the form again with what was typed), dismissing the reports, the author told, the
public page and the course's figures following, the audit log's row."""

from __future__ import annotations

import dataclasses

import pytest

from portal.moderation import queries as moderation
from tests.support import Actor, complete_course, gen_account, gen_course, gen_org, mismatches
from tests.web import close_app, csrf_token, htmx, make_app, notified, sign_in, text

# The queue's routes with an argument, or POST only (test_web_routes.py: every route is tested).
RULES = {"/admin/moderation/<uuid:review_id>", "/admin/moderation/<uuid:review_id>/hide",
         "/admin/moderation/<uuid:review_id>/restore", "/admin/moderation/<uuid:review_id>/dismiss",
         "/admin/moderation/<uuid:review_id>/reopen"}
ACTORS = ("anon", "student", "author", "owner", "other_instructor", "org_admin", "admin")
ROLES = {"student": "student", "author": "student", "owner": "instructor", "other_instructor": "instructor",
         "org_admin": "org_admin", "admin": "admin"}


@pytest.fixture(scope="module")
def w(module_database):
    db = module_database
    app = make_app(db)
    org = gen_org(db, "Moderated Org")
    users, clients, tokens = {}, {"anon": app.test_client()}, {}
    for actor in ACTORS[1:]:
        users[actor], email = gen_account(db, ROLES[actor], org=org if actor in ("org_admin", "owner") else None,
                                          name=actor.replace("_", " ").title())
        clients[actor] = app.test_client()
        sign_in(clients[actor], email)
        tokens[actor] = csrf_token(clients[actor], "/no-such-page")
    course = gen_course(db, users["owner"], org=org, lessons=("text",), title="Moderated Course")
    yield {"db": db, "app": app, "users": users, "clients": clients, "tokens": tokens, "course": course,
           "slug": db.value("SELECT slug FROM courses WHERE id = %s", (course.id,))}
    close_app()


def reported(w, rating=1, text_="Buy my course instead!", reasons=("spam",), author=None):
    """A review of the course by a new student (or ``author``), reported by one new student per reason."""
    db = w["db"]
    if author is None:
        author, _ = gen_account(db, "student", name="Rev Author")
    complete_course(db, author, w["course"])
    with db.act(Actor.user(author)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating, title, review_text) "
                    "VALUES (%s, %s, %s, 'Review title', %s) RETURNING id", (w["course"].id, author, rating, text_))
        review = cur.fetchone()["id"]
    for reason in reasons:
        reporter, _ = gen_account(db, "student")
        with db.act(Actor.user(reporter)) as cur:
            cur.execute("INSERT INTO review_reports (review_id, reason, details) VALUES (%s, %s, %s)",
                        (review, reason, "Details" if reason == "other" else None))
    return review


def post(w, actor, path, data=None, csrf=True, **kwargs):
    data = dict(data or {})
    if csrf and actor != "anon":
        data["csrf_token"] = w["tokens"][actor]
    elif csrf:
        data["csrf_token"] = csrf_token(w["clients"]["anon"])
    return w["clients"][actor].post(path, data=data, **kwargs)


def state(w, review):
    return w["db"].rows("SELECT is_visible, moderation_reason, moderated_by, "
                        "(SELECT count(*) FROM review_reports WHERE review_id = r.id AND resolved_at IS NULL) AS open "
                        "FROM course_reviews r WHERE id = %s", (review,))[0]


def figures(w):
    return w["db"].rows("SELECT review_count, rating_sum, average_rating FROM courses WHERE id = %s",
                        (w["course"].id,))[0]


# --- who may open what --------------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("path", ["/admin/moderation/", "/admin/moderation/{review}"])
def test_pages_are_for_platform_admins_only(w, actor, path):
    review = reported(w)
    response = w["clients"][actor].get(path.format(review=review))
    if actor == "anon":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    elif actor == "admin":
        assert response.status_code == 200 and "Buy my course instead!" in text(response)
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("action", ["hide", "restore", "dismiss", "reopen"])
@pytest.mark.parametrize("actor", [a for a in ACTORS if a != "admin"])
def test_nobody_but_an_admin_decides(w, actor, action):
    """The author, the course's owner, another student, an org admin: 404, nothing changes; anon signs in."""
    review = reported(w)
    if action == "restore":
        assert post(w, "admin", f"/admin/moderation/{review}/hide", {"reason": "Advertising"}).status_code == 303
    if action == "reopen":
        assert post(w, "admin", f"/admin/moderation/{review}/dismiss").status_code == 303
    before = state(w, review)
    response = post(w, actor, f"/admin/moderation/{review}/{action}", {"reason": "Because"})
    if actor == "anon":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in")
    else:
        assert response.status_code == 404
    assert state(w, review) == before


@pytest.mark.parametrize("action", ["hide", "restore", "dismiss", "reopen"])
def test_missing_csrf_is_400(w, action):
    review = reported(w)
    before = state(w, review)
    response = post(w, "admin", f"/admin/moderation/{review}/{action}", {"reason": "No token"}, csrf=False)
    assert response.status_code == 400 and state(w, review) == before


def test_an_unknown_review_is_404(w):
    assert w["clients"]["admin"].get("/admin/moderation/00000000-0000-0000-0000-000000000000").status_code == 404
    assert post(w, "admin", "/admin/moderation/00000000-0000-0000-0000-000000000000/hide",
                {"reason": "x"}).status_code == 404


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, htmx()], ids=["plain", "htmx"])
@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_hiding_without_a_reason_is_422_with_the_form_again(w, reason, headers):
    review = reported(w)
    response = post(w, "admin", f"/admin/moderation/{review}/hide", {"reason": reason}, headers=headers)
    assert response.status_code == 422
    page = text(response)
    assert ("Say why" in page) if not reason.strip() else ("At most 1,000 characters." in page)
    assert f'id="reason-{review}"' in page and ("<html" in page) == (not headers)
    if reason.strip():
        assert reason in page  # what was typed comes back
    if headers:
        assert notified(response)["kind"] == "error"
    assert state(w, review)["is_visible"] is True and state(w, review)["open"] == 1


def test_restoring_without_a_reason_is_422(w):
    review = reported(w)
    post(w, "admin", f"/admin/moderation/{review}/hide", {"reason": "Advertising"})
    response = post(w, "admin", f"/admin/moderation/{review}/restore", {"reason": ""})
    assert response.status_code == 422 and "Say why" in text(response)
    assert state(w, review)["is_visible"] is False


# --- the decisions -------------------------------------------------------------------------------

def test_hide_then_restore_moves_every_figure_tells_the_author_and_is_audited(w):
    db = w["db"]
    author, _ = gen_account(db, "student", name="Told Author")
    start = figures(w)
    review = reported(w, rating=1, author=author, reasons=("spam", "offensive"), text_="Visit my site instead")
    with_review = figures(w)
    assert with_review["review_count"] == start["review_count"] + 1
    response = post(w, "admin", f"/admin/moderation/{review}/hide", {"reason": "Advertising another course"})
    assert response.status_code == 303
    now = state(w, review)
    assert (now["is_visible"], now["moderation_reason"], now["moderated_by"], now["open"]) == \
        (False, "Advertising another course", w["users"]["admin"], 0)
    assert figures(w) == start
    assert "Visit my site instead" not in text(w["clients"]["student"].get(f"/catalog/{w['slug']}/reviews"))
    told = db.rows("SELECT payload FROM notifications WHERE user_id = %s AND event_type = 'review_moderated'",
                   (author,))
    assert [n["payload"]["hidden"] for n in told] == [True]
    assert told[0]["payload"]["reason"] == "Advertising another course"
    audited = db.rows("SELECT action, actor_id, reason FROM audit_log WHERE entity_id = %s OR entity_id IN "
                      "(SELECT id FROM review_reports WHERE review_id = %s) ORDER BY id", (review, review))
    assert [(a["action"], a["actor_id"]) for a in audited] == \
        [("review.hidden", w["users"]["admin"])] + [("review_report.resolved", w["users"]["admin"])] * 2
    assert audited[0]["reason"] == "Advertising another course"

    # hidden: out of the open queue, in the hidden one
    assert f'id="review-{review}"' not in text(w["clients"]["admin"].get("/admin/moderation/"))
    assert f'id="review-{review}"' in text(w["clients"]["admin"].get("/admin/moderation/?status=hidden"))

    restored = post(w, "admin", f"/admin/moderation/{review}/restore", {"reason": "Reviewed again: fair"},
                    headers=htmx())
    assert restored.status_code == 200 and notified(restored)["message"] == \
        "The review is shown again. Its author is told."
    assert "Hide the review" in text(restored) and "<html" not in text(restored)
    assert state(w, review)["is_visible"] is True and figures(w) == with_review
    assert "Visit my site instead" in text(w["clients"]["student"].get(f"/catalog/{w['slug']}/reviews"))
    assert db.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = 'review_moderated'",
                    (author,)) == 2
    assert mismatches(db) == []


def test_a_second_hide_changes_nothing_and_says_so(w):
    review = reported(w)
    post(w, "admin", f"/admin/moderation/{review}/hide", {"reason": "First"})
    again = post(w, "admin", f"/admin/moderation/{review}/hide", {"reason": "Second"}, headers=htmx())
    assert again.status_code == 200 and notified(again)["kind"] == "info"
    assert state(w, review)["moderation_reason"] == "First"


def test_dismissing_resolves_the_reports_and_keeps_the_review(w):
    review = reported(w, reasons=("spam", "off_topic"))
    before = figures(w)
    response = post(w, "admin", f"/admin/moderation/{review}/dismiss", {"back": "/admin/moderation/?status=open"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/moderation/?status=open"
    now = state(w, review)
    assert now["is_visible"] is True and now["open"] == 0 and figures(w) == before
    # a dismissal is told apart from a resolution by hiding
    assert w["db"].value("SELECT count(*) FROM audit_log WHERE action = 'review_report.dismissed' AND entity_id IN "
                         "(SELECT id FROM review_reports WHERE review_id = %s)", (review,)) == 2


def test_a_foreign_back_address_goes_to_the_queue(w):
    review = reported(w)
    response = post(w, "admin", f"/admin/moderation/{review}/dismiss", {"back": "https://evil.example/"})
    assert response.headers["Location"] == "/admin/moderation/"


# --- the queue -----------------------------------------------------------------------------------

def test_the_queue_groups_reports_per_review_with_their_reasons_and_context(w):
    review = reported(w, reasons=("spam", "offensive", "other"))
    with w["db"].act(Actor.user(w["users"]["owner"])) as cur:
        cur.execute("UPDATE course_reviews SET instructor_response = 'We disagree.' WHERE id = %s", (review,))
    page = text(w["clients"]["admin"].get(f"/admin/moderation/{review}"))
    for expected in ("3 open reports", "Spam", "Offensive", "Other", "Details", "We disagree.", "Moderated Course",
                     "Rev Author", "Owner"):
        assert expected in page, expected
    assert 'aria-label="Rated 1 out of 5"' in page


def test_the_queue_is_oldest_open_first_and_pages_by_position_both_ways(w, monkeypatch):
    db = w["db"]
    db.rows("UPDATE review_reports SET resolved_at = now() WHERE resolved_at IS NULL")  # as maintenance: a clean queue
    reviews = [reported(w) for _ in range(5)]
    for n, review in enumerate(reviews):  # the first review has the oldest report
        db.rows("UPDATE review_reports SET created_at = now() - make_interval(days => %s) WHERE review_id = %s",
                (10 - n, review))
    monkeypatch.setattr(moderation, "LIST", dataclasses.replace(moderation.LIST, page_size=2))
    client, seen, url = w["clients"]["admin"], [], "/admin/moderation/"
    pages = []
    while url:
        page = text(client.get(url, headers=htmx()))
        pages.append(url)
        shown = [r for r in reviews if f'id="review-{r}"' in page]
        seen.extend(sorted(shown, key=lambda r: page.index(f'id="review-{r}"')))
        nxt = [part.split('"')[0] for part in page.split('rel="next" href="')[1:]]
        url = nxt[0].replace("&amp;", "&") if nxt else None
    assert seen == reviews and len(pages) == 3
    # back from the last page
    last = text(client.get(pages[-1], headers=htmx()))
    prev = last.split('rel="prev" href="')[1].split('"')[0].replace("&amp;", "&")
    back = text(client.get(prev, headers=htmx()))
    assert [r for r in reviews if f'id="review-{r}"' in back] == reviews[2:4]


def test_a_tampered_position_starts_from_the_top(w):
    response = w["clients"]["admin"].get("/admin/moderation/?after=bm90LWEtcG9zaXRpb24")
    assert response.status_code == 200
    assert w["clients"]["admin"].get("/admin/moderation/?status=nosuch&before=%%%").status_code == 200


def test_the_queue_pages_on_the_kept_figures_index(w):
    """A page and the heading's count read 016's partial index of the reviews with open reports
    (their kept count and first report's date), not a grouping of every open report."""
    reported(w)
    with w["db"].act(Actor.user(w["users"]["admin"])) as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        for sql in (moderation.OPEN.format(op=">", dir="ASC"), moderation.OPEN_COUNT):
            cur.execute("EXPLAIN " + sql, {"at": None, "id": None, "limit": 21})
            plan = "\n".join(row["QUERY PLAN"] for row in cur.fetchall())
            assert "idx_course_reviews_reported" in plan and "GroupAggregate" not in plan, plan
            assert "HashAggregate" not in plan, plan


def _email_text(w, author) -> str:
    from types import SimpleNamespace

    from portal import mail
    [row] = w["db"].rows("SELECT e.* FROM notifications n, private.email_to_send(n.id) e WHERE n.user_id = %s "
                         "AND n.event_type = 'review_moderated' ORDER BY n.created_at DESC LIMIT 1", (author,))
    return mail.compose(w["app"], SimpleNamespace(**row)).get_body(preferencelist=("plain",)).get_content()


def test_the_email_mentions_reports_only_when_there_were_some(w):
    db = w["db"]
    reported_author, _ = gen_account(db, "student", name="Reported Author")
    reported(w, author=reported_author)
    quiet_author, _ = gen_account(db, "student", name="Quiet Author")
    quiet = reported(w, author=quiet_author, reasons=())
    loud = db.value("SELECT id FROM course_reviews WHERE user_id = %s", (reported_author,))
    for review in (loud, quiet):
        assert post(w, "admin", f"/admin/moderation/{review}/hide", {"reason": "Off topic"}).status_code == 303
    assert "after reports from other students" in _email_text(w, reported_author)
    assert "after reports" not in _email_text(w, quiet_author)


def test_restoring_a_visible_review_says_it_is_visible_and_the_page_title_is_neutral(w):
    review = reported(w, reasons=())
    again = post(w, "admin", f"/admin/moderation/{review}/restore", {"reason": "Fine"}, headers=htmx())
    assert again.status_code == 200 and notified(again)["kind"] == "info"
    assert "already visible" in notified(again)["message"] and "another moderator" not in notified(again)["message"]
    page = text(w["clients"]["admin"].get(f"/admin/moderation/{review}"))
    assert "<h1>A review in moderation</h1>" in page and "A reported review" not in page
    assert ">Moderation queue<" in page  # the admin's menu names the queue plainly


def test_a_dismissal_asks_first_and_can_be_undone(w):
    """The dismiss form asks for confirmation (htmx); once dismissed, the card offers to reopen the
    reports, which brings the review back to the queue (audited as reopened); a hidden review's
    resolved reports are not reopened."""
    db = w["db"]
    review = reported(w, reasons=("spam", "offensive"))
    card = text(w["clients"]["admin"].get(f"/admin/moderation/{review}"))
    assert 'hx-confirm="Dismiss the open reports' in card and "Reopen the dismissed reports" not in card
    dismissed = post(w, "admin", f"/admin/moderation/{review}/dismiss", headers=htmx())
    assert state(w, review)["open"] == 0 and "Reopen the dismissed reports" in text(dismissed)
    reopened = post(w, "admin", f"/admin/moderation/{review}/reopen", headers=htmx())
    assert reopened.status_code == 200 and notified(reopened)["kind"] == "success"
    assert state(w, review)["open"] == 2
    assert db.value("SELECT open_report_count FROM course_reviews WHERE id = %s", (review,)) == 2
    assert db.value("SELECT count(*) FROM audit_log WHERE action = 'review_report.reopened' AND entity_id IN "
                    "(SELECT id FROM review_reports WHERE review_id = %s)", (review,)) == 2
    # hidden (its reports resolved by the hide): nothing to reopen
    assert post(w, "admin", f"/admin/moderation/{review}/hide", {"reason": "Spam"}).status_code == 303
    again = post(w, "admin", f"/admin/moderation/{review}/reopen", headers=htmx())
    assert notified(again)["kind"] == "info" and state(w, review)["open"] == 0

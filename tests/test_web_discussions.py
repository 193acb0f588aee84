"""Lesson discussions over HTTP (issue 19): every route as every actor, comments posted in place
(htmx) or by a plain form, paging, bad input kept, missing CSRF, questions answered and accepted,
the inbox and the dashboard's count, assignments handed in, graded by permission and shown to
the student and on the instructor's student page, the switches turning sections off."""

from __future__ import annotations

import pytest

from tests.course_web import send
from tests.support import enroll, gen_account
from tests.web import csrf_token, htmx, notified, sign_in, text

RULES = {
    "/discussions/lessons/<uuid:lesson_id>/comments",
    "/discussions/comments/<uuid:comment_id>/delete",
    "/discussions/comments/<uuid:comment_id>/edit",
    "/discussions/courses/<uuid:course_id>/questions",
    "/discussions/comments/<uuid:comment_id>/report",
    "/discussions/lessons/<uuid:lesson_id>/questions",
    "/discussions/questions/<uuid:question_id>",
    "/discussions/questions/<uuid:question_id>/answers",
    "/discussions/questions/<uuid:question_id>/accept",
    "/discussions/questions/<uuid:question_id>/report",
    "/discussions/answers/<uuid:answer_id>/report",
    "/discussions/lessons/<uuid:lesson_id>/submission",
    "/discussions/inbox",
    "/discussions/grading",
    "/discussions/submissions/<uuid:submission_id>",
    # the admin's moderation queue (portal/moderation): reported comments and questions
    "/admin/moderation/posts/<any(comment, question, answer):kind>/<uuid:post_id>/hide",
    "/admin/moderation/posts/<any(comment, question, answer):kind>/<uuid:post_id>/dismiss",
    "/admin/moderation/posts/<any(comment, question, answer):kind>/<uuid:post_id>/restore",
}
TEACHERS = ("owner", "co_view", "co_edit", "co_manage", "co_revenue", "co_respond", "co_none")
STRANGERS = ("other_instructor", "other_student")
# Teachers who read the course's lessons (course_lessons' policy: view_content or edit_content): a
# lesson's comments and questions are shown with the lesson; a question's own page to every teacher.
LESSON_READERS = ("owner", "co_view", "co_edit")


def lesson_page(world, course, lesson):
    slug = world.database.value("SELECT slug FROM courses WHERE id = %s", (course.id,))
    return f"/learn/{slug}/lessons/{lesson}"


@pytest.fixture(scope="module")
def course(world):
    c = world.course(modules=(("text", "assignment"),), title="Talk Course")
    world.database.value("UPDATE course_lessons SET passing_score = 60 WHERE id = %s RETURNING id", (c.lessons[1],))
    c.enrollment = enroll(world.database, world.users["student"], c.id)
    return c


@pytest.fixture(scope="module")
def posts(world, course):
    """A comment and a question by the student, an answer by the owner, a hand-in."""
    db, lesson = world.database, course.lessons[0]
    assert send(world, "student", f"/discussions/lessons/{lesson}/comments", {"body": "First!"}).status_code == 303
    assert send(world, "student", f"/discussions/lessons/{lesson}/questions",
                {"title": "Where do I start?", "body": ""}).status_code == 303
    ids = {"comment": db.value("SELECT id FROM lesson_comments WHERE body = 'First!'"),
           "question": db.value("SELECT id FROM course_questions WHERE title = 'Where do I start?'")}
    assert send(world, "owner", f"/discussions/questions/{ids['question']}/answers",
                {"body": "At lesson one."}).status_code == 303
    ids["answer"] = db.value("SELECT id FROM question_answers WHERE body = 'At lesson one.'")
    assert send(world, "student", f"/discussions/lessons/{course.lessons[1]}/submission",
                {"body": "My essay", "link_url": ""}).status_code == 303
    ids["submission"] = db.value("SELECT id FROM assignment_submissions WHERE body = 'My essay'")
    return ids


def paths(course, ids):
    lesson = course.lessons[0]
    return {
        "comments": f"/discussions/lessons/{lesson}/comments",
        "questions": f"/discussions/lessons/{lesson}/questions",
        "question": f"/discussions/questions/{ids['question']}",
        "course_questions": f"/discussions/courses/{course.id}/questions",
        "report_comment": f"/discussions/comments/{ids['comment']}/report",
        "report_answer": f"/discussions/answers/{ids['answer']}/report",
        "inbox": "/discussions/inbox",
        "grading": "/discussions/grading",
        "submission": f"/discussions/submissions/{ids['submission']}",
    }


# path name -> expected status by actor (students, teachers, strangers, anon)
GETS = {
    "comments": {"student": 200, "teacher": 404, "stranger": 404, **{t: 200 for t in LESSON_READERS}},
    "questions": {"student": 200, "teacher": 404, "stranger": 404, **{t: 200 for t in LESSON_READERS}},
    "question": {"student": 200, "teacher": 200, "stranger": 404},
    "course_questions": {"student": 200, "teacher": 200, "stranger": 404},
    "report_answer": {"student": 200, "teacher": 200, "stranger": 404, "owner": 404},   # the owner wrote it
    "inbox": {"student": 404, "teacher": 200, "other_instructor": 200, "other_student": 404},
    "grading": {"student": 404, "teacher": 200, "other_instructor": 200, "other_student": 404},
    # read by the teachers who read the course's students (view_content or manage_students)
    "submission": {"student": 404, "teacher": 404, "stranger": 404, "owner": 200, "co_view": 200, "co_edit": 200,
                   "co_manage": 200},
}


def kind(actor):
    return "student" if actor == "student" else "teacher" if actor in TEACHERS else "stranger"


@pytest.mark.parametrize("name", list(GETS))
@pytest.mark.parametrize("actor", ["student", *TEACHERS, *STRANGERS, "anon"])
def test_every_page_as_every_actor(world, course, posts, name, actor):
    path = paths(course, posts)[name]
    response = world.clients[actor].get(path)
    if actor == "anon":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
        return
    rule = GETS[name]
    assert response.status_code == rule.get(actor, rule.get(kind(actor))), (name, actor)


@pytest.mark.parametrize("actor", [*STRANGERS, "anon"])
def test_strangers_write_nothing(world, course, posts, actor):
    """Another course's student or instructor: 404 on every POST (anon signs in); nothing written."""
    db = world.database
    before = db.value("SELECT count(*) FROM lesson_comments") + db.value("SELECT count(*) FROM question_answers")
    lesson = course.lessons[0]
    for path, data in ((f"/discussions/lessons/{lesson}/comments", {"body": "x"}),
                       (f"/discussions/lessons/{lesson}/questions", {"title": "Sneaky?"}),
                       (f"/discussions/questions/{posts['question']}/answers", {"body": "x"}),
                       (f"/discussions/questions/{posts['question']}/accept", {"answer": str(posts["answer"])}),
                       (f"/discussions/lessons/{course.lessons[1]}/submission", {"body": "x"}),
                       (f"/discussions/submissions/{posts['submission']}", {"score": "100"}),
                       (f"/discussions/comments/{posts['comment']}/delete", {})):
        response = send(world, actor, path, data)
        if actor == "anon":
            assert response.status_code == 303 and "/sign-in" in response.headers["Location"], path
        else:
            assert response.status_code == 404, (path, response.status_code)
    after = db.value("SELECT count(*) FROM lesson_comments") + db.value("SELECT count(*) FROM question_answers")
    assert after == before


@pytest.mark.parametrize("path", ["comments", "questions"])
def test_missing_csrf_is_400(world, course, path):
    response = send(world, "student", f"/discussions/lessons/{course.lessons[0]}/{path}",
                    {"body": "No token", "title": "No token?"}, csrf=False)
    assert response.status_code == 400
    assert world.database.value("SELECT count(*) FROM lesson_comments WHERE body = 'No token'") == 0


# --- comments -------------------------------------------------------------------------------

def test_the_lesson_shows_its_discussion(world, course, posts):
    page = text(world.clients["student"].get(lesson_page(world, course, course.lessons[0])))
    assert 'id="comments"' in page and "First!" in page and 'id="questions"' in page and "Where do I start?" in page
    assert 'id="submission"' not in page   # not an assignment
    page = text(world.clients["student"].get(lesson_page(world, course, course.lessons[1])))
    assert 'id="submission"' in page and "waiting for a grade" in page


def test_a_comment_posted_with_htmx_appears_without_a_reload(world, course):
    lesson = course.lessons[0]
    response = send(world, "student", f"/discussions/lessons/{lesson}/comments", {"body": "Live comment"},
                    headers=htmx())
    body = text(response)
    assert response.status_code == 200 and "<html" not in body and body.lstrip().startswith("<section")
    assert "Live comment" in body and notified(response)["kind"] == "success"
    assert body.index("Live comment") < body.index("First!") if "First!" in body else True


def test_a_teacher_replies_and_is_marked_instructor(world, course, posts):
    response = send(world, "co_view", f"/discussions/lessons/{course.lessons[0]}/comments",
                    {"body": "Welcome aboard", "parent": str(posts["comment"])}, headers=htmx())
    assert response.status_code == 200
    page = text(world.clients["student"].get(lesson_page(world, course, course.lessons[0])))
    assert "Welcome aboard" in page and "Instructor</span>" in page
    assert world.database.value("SELECT parent_id FROM lesson_comments WHERE body = 'Welcome aboard'") == posts["comment"]


@pytest.mark.parametrize("body, message", [("", "Write your comment first."), ("x" * 5001, "At most 5,000 characters.")])
def test_bad_comment_is_422_with_the_value_kept(world, course, body, message):
    response = send(world, "student", f"/discussions/lessons/{course.lessons[0]}/comments", {"body": body},
                    headers=htmx())
    assert response.status_code == 422 and message in text(response)
    if body:
        assert body in text(response)


def test_comments_page_by_position(world, course):
    db = world.database
    lesson = course.lessons[1]
    for n in range(12):
        send(world, "student", f"/discussions/lessons/{lesson}/comments", {"body": f"Paged {n:02d}"})
    first = text(world.clients["student"].get(f"/discussions/lessons/{lesson}/comments"))
    assert "Paged 11" in first and "Paged 02" in first and "Paged 01" not in first and "Older comments" in first
    more = first.split('hx-get="')[-1].split('"')[0].replace("&amp;", "&")
    rest = text(world.clients["student"].get(more, headers=htmx()))
    assert "Paged 01" in rest and "Paged 00" in rest and "Paged 11" not in rest and "<html" not in rest
    assert db.value("SELECT count(*) FROM lesson_comments WHERE lesson_id = %s", (lesson,)) == 12


def test_the_author_deletes_after_confirming(world, course):
    send(world, "student", f"/discussions/lessons/{course.lessons[0]}/comments", {"body": "Oops"})
    cid = world.database.value("SELECT id FROM lesson_comments WHERE body = 'Oops'")
    assert world.clients["owner"].get(f"/discussions/comments/{cid}/delete").status_code == 404
    confirm = world.clients["student"].get(f"/discussions/comments/{cid}/delete")
    assert confirm.status_code == 200 and "This cannot be undone." in text(confirm)
    assert send(world, "student", f"/discussions/comments/{cid}/delete").status_code == 303
    assert world.database.value("SELECT count(*) FROM lesson_comments WHERE id = %s", (cid,)) == 0


def test_reporting_a_comment_opens_a_report(world, course, posts):
    path = f"/discussions/comments/{posts['comment']}/report"
    assert world.clients["student"].get(path).status_code == 404   # one's own
    bad = send(world, "owner", path, {"reason": "other", "details": ""})
    assert bad.status_code == 422 and "Something else" in text(bad)
    assert send(world, "owner", path, {"reason": "spam"}).status_code == 303
    assert world.database.value("SELECT open_report_count FROM lesson_comments WHERE id = %s", (posts["comment"],)) == 1


# --- questions and answers -----------------------------------------------------------------

def test_teachers_do_not_ask_and_students_accept(world, course, posts):
    assert send(world, "owner", f"/discussions/lessons/{course.lessons[0]}/questions",
                {"title": "Owner asks?"}).status_code == 404
    q, a = posts["question"], posts["answer"]
    page = text(world.clients["student"].get(f"/discussions/questions/{q}"))
    assert "At lesson one." in page and "Accept this answer" in page
    assert send(world, "owner", f"/discussions/questions/{q}/accept", {"answer": str(a)}).status_code == 404
    assert send(world, "student", f"/discussions/questions/{q}/accept", {"answer": str(a)}).status_code == 303
    assert world.database.value("SELECT accepted_answer_id FROM course_questions WHERE id = %s", (q,)) == a
    assert "Accepted answer ✓" in text(world.clients["co_view"].get(f"/discussions/questions/{q}"))


def test_bad_question_is_422_with_the_value_kept(world, course):
    response = send(world, "student", f"/discussions/lessons/{course.lessons[0]}/questions",
                    {"title": "Hi", "body": "Kept details"}, headers=htmx())
    assert response.status_code == 422 and "From 3 to 200 characters." in text(response)
    assert "Kept details" in text(response)


def test_the_inbox_and_the_dashboard_count_unanswered_questions(world, course):
    send(world, "student", f"/discussions/lessons/{course.lessons[0]}/questions", {"title": "Still open?"})
    inbox = text(world.clients["co_revenue"].get("/discussions/inbox"))
    assert "Still open?" in inbox and "Where do I start?" not in inbox   # answered ones leave
    assert "Still open?" not in text(world.clients["other_instructor"].get("/discussions/inbox"))
    dashboard = text(world.clients["owner"].get("/dashboard"))
    assert 'id="unanswered-questions"' in dashboard and "/discussions/inbox" in dashboard


# --- assignments ------------------------------------------------------------------------------

def test_hand_in_grade_and_completion(world, course, posts):
    db, sub, lesson = world.database, posts["submission"], course.lessons[1]
    bad = send(world, "student", f"/discussions/lessons/{lesson}/submission", {"body": "", "link_url": "ftp://x"})
    assert bad.status_code == 422 and "https://" in text(bad)
    assert send(world, "student", f"/discussions/lessons/{lesson}/submission",
                {"body": "Better essay", "link_url": "https://example.test/essay"}).status_code == 303
    assert db.value("SELECT body FROM assignment_submissions WHERE id = %s", (sub,)) == "Better essay"
    # co_view reads the work but does not grade; co_manage grades
    page = world.clients["co_view"].get(f"/discussions/submissions/{sub}")
    assert page.status_code == 200 and "Better essay" in text(page) and "Save the grade" not in text(page)
    assert send(world, "co_view", f"/discussions/submissions/{sub}", {"score": "90"}).status_code == 404
    assert f'id="submission-{sub}"' in text(world.clients["co_manage"].get("/discussions/grading"))
    bad = send(world, "co_manage", f"/discussions/submissions/{sub}", {"score": "101", "feedback": "Kept"})
    assert bad.status_code == 422 and "A score from 0 to 100." in text(bad) and "Kept" in text(bad)
    score = lambda: db.value("SELECT engagement_score FROM student_progress WHERE enrollment_id = %s",  # noqa: E731
                             (course.enrollment,))
    before = score()
    done = send(world, "co_manage", f"/discussions/submissions/{sub}", {"score": "75", "feedback": "Good work"})
    assert done.status_code == 303
    assert db.value("SELECT status FROM lesson_progress WHERE enrollment_id = %s AND lesson_id = %s",
                    (course.enrollment, lesson)) == "completed"
    assert score() > before
    page = text(world.clients["student"].get(lesson_page(world, course, lesson)))
    assert "Grade: 75%" in page and "Good work" in page and "Passed ✓" in page
    resubmit = send(world, "student", f"/discussions/lessons/{lesson}/submission", {"body": "Again"})
    assert resubmit.status_code == 422 and "graded" in text(resubmit)
    student_page = text(world.clients["owner"].get(f"/students/{world.users['student']}"))
    assert f'id="grades-{course.id}"' in student_page and "75%" in student_page and "Taking part" in student_page
    for path in ("/dashboard", "/students/activity"):   # the timelines say it in words
        timeline = text(world.clients["owner"].get(path))
        assert "got 75" in timeline and "(passed)" in timeline and "handed in &#34;Lesson 2&#34;" in timeline, path
    assert "assignment_graded" in [r["event_type"] for r in db.rows(
        "SELECT event_type FROM notifications WHERE user_id = %s", (world.users["student"],))]


# --- the switches -----------------------------------------------------------------------------

def test_sections_and_routes_go_when_the_course_turns_them_off(world, course, posts):
    db = world.database
    db.value("UPDATE courses SET allow_comments = false, allow_qa = false WHERE id = %s RETURNING id", (course.id,))
    try:
        page = text(world.clients["student"].get(lesson_page(world, course, course.lessons[0])))
        assert 'id="comments"' not in page and 'id="questions"' not in page
        for path in (f"/discussions/lessons/{course.lessons[0]}/comments",
                     f"/discussions/questions/{posts['question']}"):
            assert world.clients["student"].get(path).status_code == 404
        assert send(world, "student", f"/discussions/lessons/{course.lessons[0]}/comments",
                    {"body": "Off"}).status_code == 404
    finally:
        db.value("UPDATE courses SET allow_comments = true, allow_qa = true WHERE id = %s RETURNING id", (course.id,))


# --- moderation ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def admin(world):
    user, email = gen_account(world.database, "admin")
    client = world.app.test_client()
    sign_in(client, email)
    return client, csrf_token(client, "/no-such-page")


def test_reported_posts_join_the_moderation_queue_and_an_admin_hides_them(world, course, admin):
    client, token = admin
    db, lesson = world.database, course.lessons[0]
    send(world, "student", f"/discussions/lessons/{lesson}/comments", {"body": "Buy my course!"})
    cid = db.value("SELECT id FROM lesson_comments WHERE body = 'Buy my course!'")
    assert send(world, "owner", f"/discussions/comments/{cid}/report", {"reason": "spam"}).status_code == 303
    queue = client.get("/admin/moderation/?status=discussion").get_data(as_text=True)
    assert f'id="post-{cid}"' in queue and "Buy my course!" in queue and "Spam" in queue
    for actor in ("student", "owner"):
        assert send(world, actor, f"/admin/moderation/posts/comment/{cid}/hide").status_code == 404
    assert client.post(f"/admin/moderation/posts/comment/{cid}/hide", data={"csrf_token": token}).status_code == 303
    assert db.value("SELECT (NOT is_visible) AND open_report_count = 0 FROM lesson_comments WHERE id = %s", (cid,))
    assert "Buy my course!" not in text(world.clients["co_view"].get(f"/discussions/lessons/{lesson}/comments"))
    assert "Hidden by a moderator" in text(world.clients["student"].get(f"/discussions/lessons/{lesson}/comments"))
    assert f'id="post-{cid}"' not in client.get("/admin/moderation/?status=discussion").get_data(as_text=True)
    assert client.post(f"/admin/moderation/posts/question/{cid}/dismiss",
                       data={"csrf_token": token}).status_code == 404   # not a question
    hidden = client.get("/admin/moderation/?status=discussion_hidden").get_data(as_text=True)
    assert f'id="post-{cid}"' in hidden and "Show the comment again" in hidden
    assert send(world, "owner", f"/admin/moderation/posts/comment/{cid}/restore").status_code == 404
    assert client.post(f"/admin/moderation/posts/comment/{cid}/restore", data={"csrf_token": token}).status_code == 303
    assert "Buy my course!" in text(world.clients["co_view"].get(f"/discussions/lessons/{lesson}/comments"))


def test_the_author_edits_within_the_window(world, course):
    db = world.database
    send(world, "student", f"/discussions/lessons/{course.lessons[0]}/comments", {"body": "Typo hre"})
    cid = db.value("SELECT id FROM lesson_comments WHERE body = 'Typo hre'")
    assert world.clients["other_student"].get(f"/discussions/comments/{cid}/edit").status_code == 404
    assert world.clients["owner"].get(f"/discussions/comments/{cid}/edit").status_code == 404
    assert "Typo hre" in text(world.clients["student"].get(f"/discussions/comments/{cid}/edit"))
    assert send(world, "student", f"/discussions/comments/{cid}/edit", {"body": "Typo here"}).status_code == 303
    assert db.value("SELECT body FROM lesson_comments WHERE id = %s", (cid,)) == "Typo here"
    db.value("UPDATE lesson_comments SET created_at = now() - interval '1 hour' WHERE id = %s RETURNING id", (cid,))
    late = send(world, "student", f"/discussions/comments/{cid}/edit", {"body": "Too late"})
    assert late.status_code == 422 and "The time to edit this has passed" in text(late) and "Too late" in text(late)
    assert db.value("SELECT body FROM lesson_comments WHERE id = %s", (cid,)) == "Typo here"


def test_a_question_about_the_whole_course(world, course):
    path = f"/discussions/courses/{course.id}/questions"
    assert send(world, "owner", path, {"title": "Owner asks?"}).status_code == 404
    bad = send(world, "student", path, {"title": "?", "body": "Kept"})
    assert bad.status_code == 422 and "From 3 to 200 characters." in text(bad) and "Kept" in text(bad)
    done = send(world, "student", path, {"title": "Is there a certificate?"})
    assert done.status_code == 303 and done.headers["Location"].startswith("/discussions/questions/")
    assert world.database.value("SELECT lesson_id FROM course_questions WHERE title = 'Is there a certificate?'") \
        is None
    page = text(world.clients["co_respond"].get(path))
    assert "Is there a certificate?" in page and "the whole course" in page


def test_teachers_reach_a_lessons_comments_from_the_curriculum(world, course):
    page = text(world.clients["owner"].get(f"/courses/{course.id}/curriculum"))
    assert f'href="/discussions/lessons/{course.lessons[0]}/comments"' in page
    teacher_view = text(world.clients["owner"].get(f"/discussions/lessons/{course.lessons[0]}/comments"))
    assert 'id="comments"' in teacher_view and "Post the comment" in teacher_view


@pytest.mark.parametrize("event, payload, summary", [
    ("new_question", {"title": "Why?", "course_title": "SQL", "question_id": "x"}, "A student asked “Why?” in SQL"),
    ("new_submission", {"lesson_title": "Essay", "course_title": "SQL"}, "A student handed in “Essay” in SQL"),
    ("question_answered", {"by_teacher": True, "title": "Why?"}, "An instructor answered your question “Why?”"),
    ("question_answered", {"by_teacher": False, "title": "Why?"}, "A classmate answered your question “Why?”"),
    ("assignment_graded", {"lesson_title": "Essay", "score": "75.00", "passed": True},
     "Your work on “Essay” was graded: 75% (passed)"),
    ("assignment_graded", {"lesson_title": "Essay", "score": 40, "passed": False},
     "Your work on “Essay” was graded: 40% (not passed yet)"),
])
def test_the_notices_say_what_happened(event, payload, summary):
    from zoneinfo import ZoneInfo

    from portal.notifications.events import EVENTS
    assert EVENTS[event].summary(payload, ZoneInfo("UTC")) == summary


def test_each_notice_is_written_once_to_the_right_person(world, course, posts):
    """The owner on the question and the hand-in, the student on the answer (not the answerer)."""
    db = world.database
    kinds = lambda who: [r["event_type"] for r in db.rows(  # noqa: E731
        "SELECT event_type FROM notifications WHERE user_id = %s AND event_type IN "
        "('new_question', 'new_submission', 'question_answered', 'assignment_graded')", (world.users[who],))]
    assert {"new_question", "new_submission"} <= set(kinds("owner")) and "question_answered" not in kinds("owner")
    assert "question_answered" in kinds("student") and "new_question" not in kinds("student")
    assert kinds("co_view") == []
    payloads = [r["payload"] for r in db.rows("SELECT payload FROM notifications WHERE event_type IN "
                                              "('new_question', 'new_submission', 'question_answered')")]
    assert payloads and not any(key in p for p in payloads for key in ("student_name", "by_name"))
    assert any(p.get("by_teacher") is True for p in payloads)


# --- review fixes (issue 19's second pass) ----------------------------------------------------------

@pytest.mark.parametrize("score", ["NaN", "sNaN", "Infinity", "-Infinity", "nan"])
def test_a_non_finite_score_is_a_422_not_a_500(world, course, posts, score):
    got = send(world, "co_manage", f"/discussions/submissions/{posts['submission']}",
               {"score": score, "feedback": "Kept"})
    assert got.status_code == 422 and "A score from 0 to 100." in text(got) and "Kept" in text(got)


def test_deleting_a_replied_comment_keeps_the_thread_as_deleted(world, course, posts):
    db, lesson = world.database, course.lessons[0]
    assert send(world, "student", f"/discussions/lessons/{lesson}/comments", {"body": "Soon gone"}).status_code == 303
    top = db.value("SELECT id FROM lesson_comments WHERE body = 'Soon gone'")
    assert send(world, "owner", f"/discussions/lessons/{lesson}/comments",
                {"body": "A teacher's reply", "parent": str(top)}).status_code == 303
    done = send(world, "student", f"/discussions/comments/{top}/delete", {})
    assert done.status_code == 303
    page = text(world.clients["student"].get(f"/discussions/lessons/{lesson}/comments"))
    assert "replies to it stay" in page and "Soon gone" not in page and "[deleted]" in page and "A teacher&#39;s reply" in page
    assert f'/discussions/comments/{top}/delete"' not in page
    assert world.clients["student"].get(f"/discussions/comments/{top}/delete").status_code == 404


def test_no_delete_link_on_ones_own_reported_or_hidden_comment(world, course, posts):
    db, lesson = world.database, course.lessons[0]
    assert send(world, "student", f"/discussions/lessons/{lesson}/comments", {"body": "Reported one"}).status_code == 303
    mine = db.value("SELECT id FROM lesson_comments WHERE body = 'Reported one'")
    assert send(world, "owner", f"/discussions/comments/{mine}/report", {"reason": "spam"}).status_code == 303
    page = text(world.clients["student"].get(f"/discussions/lessons/{lesson}/comments"))
    assert f'id="comment-{mine}"' in page and f'/discussions/comments/{mine}/delete"' not in page


def test_a_locked_lesson_s_question_is_not_listed_nor_shown_to_the_student(world, course, posts):
    db = world.database
    db.value("UPDATE courses SET drip_content = true, drip_schedule = %s WHERE id = %s RETURNING id",
             ('{"%s": 30}' % course.lessons[0], course.id))
    try:
        listing = text(world.clients["student"].get(f"/discussions/courses/{course.id}/questions"))
        assert "Where do I start?" not in listing
        assert world.clients["student"].get(f"/discussions/questions/{posts['question']}").status_code == 404
        assert "Where do I start?" in text(world.clients["owner"].get(f"/discussions/courses/{course.id}/questions"))
    finally:
        db.value("UPDATE courses SET drip_content = false, drip_schedule = '{}' WHERE id = %s RETURNING id",
                 (course.id,))


def test_hiding_and_dismissing_a_post_ask_first_with_htmx(world, course, admin):
    """hx-confirm only asks on an htmx request: the queue's hide and dismiss forms post with htmx
    (the answer an HX-Redirect back to the queue) after asking."""
    import re
    client, token = admin
    db, lesson = world.database, course.lessons[0]
    send(world, "student", f"/discussions/lessons/{lesson}/comments", {"body": "Reported for the confirm"})
    cid = db.value("SELECT id FROM lesson_comments WHERE body = 'Reported for the confirm'")
    assert send(world, "owner", f"/discussions/comments/{cid}/report", {"reason": "spam"}).status_code == 303
    queue = client.get("/admin/moderation/?status=discussion").get_data(as_text=True)
    for action, asks in (("hide", "Hide this comment?"), ("dismiss", "Dismiss the open reports on this comment?")):
        url = f"/admin/moderation/posts/comment/{cid}/{action}"
        form = re.search(rf'<form method="post" action="{url}"[^>]*>', queue)
        assert form and f'hx-post="{url}"' in form.group(0) and f'hx-confirm="{asks}' in form.group(0), action
    done = client.post(f"/admin/moderation/posts/comment/{cid}/dismiss", data={"csrf_token": token},
                       headers={"HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Redirect"].startswith("/admin/moderation/")


def test_a_graded_link_only_hand_in_still_shows_its_link(world):
    db = world.database
    c = world.course(modules=(("assignment",),), title="Link Course")
    enroll(db, world.users["student"], c.id)
    lesson = c.lessons[0]
    assert send(world, "student", f"/discussions/lessons/{lesson}/submission",
                {"body": "", "link_url": "https://example.test/repo"}).status_code == 303
    sub = db.value("SELECT id FROM assignment_submissions WHERE lesson_id = %s", (lesson,))
    assert send(world, "owner", f"/discussions/submissions/{sub}", {"score": "90", "feedback": ""}).status_code == 303
    page = text(world.clients["student"].get(lesson_page(world, c, lesson)))
    assert "Grade: 90%" in page and 'href="https://example.test/repo"' in page


def test_an_empty_reply_shows_its_error_in_that_threads_reply_form(world, course, posts):
    lesson = course.lessons[0]
    got = send(world, "student", f"/discussions/lessons/{lesson}/comments",
               {"body": "   ", "parent": str(posts["comment"])})
    assert got.status_code == 422
    page = text(got)
    top = page.split('class="discussion__form"', 1)[1].split("</form>", 1)[0]
    assert 'name="parent"' not in top and "Write your comment first." not in top   # the top form stays a comment
    reply = page.split(f'id="reply-{posts["comment"]}"', 1)[0].rsplit("<details", 1)[1]
    assert reply.startswith(' class="comment__reply" open')
    assert f'id="reply-{posts["comment"]}-error">Write your comment first.' in page


def test_each_thread_shows_its_first_replies_and_links_to_the_rest(world, course, posts, monkeypatch):
    from portal.discussions import queries
    monkeypatch.setattr(queries, "REPLIES_SHOWN", 2)
    db, lesson = world.database, course.lessons[0]
    assert send(world, "student", f"/discussions/lessons/{lesson}/comments", {"body": "Busy thread"}).status_code == 303
    top = db.value("SELECT id FROM lesson_comments WHERE body = 'Busy thread'")
    for i in range(3):
        assert send(world, "owner", f"/discussions/lessons/{lesson}/comments",
                    {"body": f"Reply number {i}", "parent": str(top)}).status_code == 303
    page = text(world.clients["student"].get(f"/discussions/lessons/{lesson}/comments"))
    assert "Reply number 1" in page and "Reply number 2" not in page
    more = f"/discussions/lessons/{lesson}/comments?thread={top}"
    assert f'href="{more}"' in page and "Show all 3 replies" in page
    thread = text(world.clients["student"].get(more))
    assert "Reply number 2" in thread and "Show all 3 replies" not in thread


def test_a_course_wide_question_links_back_to_the_course_questions(world, course):
    got = send(world, "student", f"/discussions/courses/{course.id}/questions", {"title": "Course wide?", "body": ""})
    assert got.status_code == 303
    page = text(world.clients["student"].get(got.headers["Location"]))
    assert f'<a href="/discussions/courses/{course.id}/questions">Back to the course&#39;s questions</a>' in page


def test_the_inbox_names_its_askers_in_one_statement(world, course):
    from tests.web import QueryCounter
    for i in range(3):
        send(world, "student", f"/discussions/lessons/{course.lessons[0]}/questions", {"title": f"Open one {i}?"})
    with QueryCounter() as few:
        one_page = text(world.clients["owner"].get("/discussions/inbox"))
    for i in range(3):
        send(world, "student", f"/discussions/lessons/{course.lessons[0]}/questions", {"title": f"Open two {i}?"})
    with QueryCounter() as more:
        page = text(world.clients["owner"].get("/discussions/inbox"))
    assert "Open one 0?" in one_page and "Open two 2?" in page
    assert "A student" not in page   # every asker named (the fallback otherwise)
    assert more.count == few.count   # three more rows, no more statements


def test_an_answer_is_reported_moderated_and_its_author_cannot_delete_it_then(world, course, posts, admin):
    client, token = admin
    db, answer = world.database, posts["answer"]
    page = text(world.clients["student"].get(f"/discussions/questions/{posts['question']}"))
    assert f'href="/discussions/answers/{answer}/report"' in page
    assert send(world, "student", f"/discussions/answers/{answer}/report", {"reason": "off_topic"}).status_code == 303
    assert db.value("SELECT open_report_count FROM question_answers WHERE id = %s", (answer,)) == 1
    queue = client.get("/admin/moderation/?status=discussion").get_data(as_text=True)
    assert f'id="post-{answer}"' in queue and "Answer to: Where do I start?" in queue
    assert client.post(f"/admin/moderation/posts/answer/{answer}/hide", data={"csrf_token": token}).status_code == 303
    assert db.value("SELECT NOT is_visible AND open_report_count = 0 FROM question_answers WHERE id = %s", (answer,))
    hidden = client.get("/admin/moderation/?status=discussion_hidden").get_data(as_text=True)
    assert f'id="post-{answer}"' in hidden
    assert client.post(f"/admin/moderation/posts/answer/{answer}/restore", data={"csrf_token": token}).status_code == 303
    assert db.value("SELECT is_visible FROM question_answers WHERE id = %s", (answer,))

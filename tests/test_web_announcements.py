"""Announcements through the web (issue 15, part C): who may write and list them, bad input,
the fan-out job delivering to exactly the course's (filtered) students as their settings say,
once each however often it runs, and the students reading them (and no one else)."""

from __future__ import annotations

import json
import re

import pytest

from portal.jobs import tasks
from tests.course_web import send
from tests.support import complete_course, enroll, gen_account
from tests.test_web_bulk_enroll import mailbox, run_job  # noqa: F401 (a fixture)
from tests.web import sign_in, text

RULES = {"/students/announcements", "/students/announcements/new", "/announcements/",
         "/announcements/<uuid:announcement_id>"}


def write(world, actor, course, title="New module", body="**Module 3** is open.", audience="all", **kwargs):
    return send(world, actor, "/students/announcements/new",
                {"course": str(course.id), "title": title, "body": body, "audience": audience}, **kwargs)


def announcements_of(world, course) -> list[dict]:
    return world.database.rows("SELECT * FROM course_announcements WHERE course_id = %s ORDER BY created_at",
                               (course.id,))


@pytest.mark.parametrize("path", ["/students/announcements", "/students/announcements/new"])
@pytest.mark.parametrize("actor, expected", [("owner", 200), ("co_manage", 200), ("co_view", 200),
                                             ("other_instructor", 200), ("student", 404), ("anon", 303)])
def test_the_instructor_pages_answer_each_actor(world, path, actor, expected):
    response = world.clients[actor].get(path)
    assert response.status_code == expected
    if expected == 303:
        assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("actor", ["owner", "co_manage"])
def test_a_teacher_with_manage_students_writes_and_the_fan_out_is_queued(world, actor):
    course = world.course()
    response = write(world, actor, course)
    assert response.status_code == 303 and response.headers["Location"] == "/students/announcements"
    (row,) = announcements_of(world, course)
    assert (row["title"], row["audience"], row["author_id"]) == ("New module", "all", world.users[actor])
    assert world.database.value("SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE task_name = 'announce' "
                                "AND args ->> 'announcement_id' = %s", (str(row["id"]),)) == 1


@pytest.mark.parametrize("actor", ["co_view", "co_none", "other_instructor"])
def test_other_teachers_cannot_write_to_the_course(world, actor):
    course = world.course()
    response = write(world, actor, course)
    assert response.status_code == 422 and "Choose one of your courses." in text(response)
    assert announcements_of(world, course) == []


def test_missing_csrf_is_400(world):
    course = world.course()
    assert write(world, "owner", course, csrf=False).status_code == 400
    assert announcements_of(world, course) == []


@pytest.mark.parametrize("title, body, audience, message", [
    ("", "Body", "all", "Give it a title."),
    ("Title", "   ", "all", "Write the message."),
    ("T" * 201, "Body", "all", "At most 200 characters."),
    ("Title", "Body", "everyone", "Not a valid choice"),
])
def test_bad_input_is_422_with_the_values_kept(world, title, body, audience, message):
    course = world.course()
    response = write(world, "owner", course, title=title, body=body, audience=audience)
    assert response.status_code == 422 and message in text(response)
    assert announcements_of(world, course) == []
    if title and len(title) < 50:
        assert f'value="{title}"' in text(response)


@pytest.fixture(scope="module")
def cohort(world):
    """A course with: a learner (in progress), a graduate (completed), a learner who turned this
    event's email off, a cancelled one, a deactivated one, and a student of another course."""
    db = world.database
    course = world.course(modules=(("text",),))
    people = {}
    for name in ("learner", "graduate", "quiet", "cancelled", "gone", "elsewhere"):
        people[name], _ = gen_account(db, "student", name=name.title())
    enroll(db, people["learner"], course.id)
    enroll(db, people["quiet"], course.id)
    complete_course(db, people["graduate"], course)
    cancelled = enroll(db, people["cancelled"], course.id)
    db.rows("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s RETURNING 1", (cancelled,))
    enroll(db, people["gone"], course.id)
    db.rows("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (people["gone"],))
    enroll(db, people["elsewhere"], world.course().id)
    db.rows("INSERT INTO notification_settings (user_id, email_notifications) VALUES (%s, %s) RETURNING 1",
            (people["quiet"], json.dumps({"course_announcement": False})))
    return course, people


def notices(world, announcement_id) -> dict:
    return {r["user_id"]: r for r in world.database.rows(
        "SELECT user_id, in_portal, email_state, payload FROM notifications WHERE event_type = 'course_announcement' "
        "AND dedup_key = %s", (f"announcement:{announcement_id}",))}


def test_the_fan_out_reaches_exactly_the_students_as_their_settings_say_once(world, cohort):
    course, people = cohort
    world.app.config["ANNOUNCEMENT_BATCH"] = 2  # several batches for four students
    assert write(world, "owner", course).status_code == 303
    (row,) = [r for r in announcements_of(world, course) if r["audience"] == "all"]
    assert run_job(world, tasks.announce, str(row["id"])) == 4  # learner, quiet, graduate, gone (told nothing)
    told = notices(world, row["id"])
    assert set(told) == {people["learner"], people["quiet"], people["graduate"]}
    assert told[people["learner"]]["email_state"] == "pending" and told[people["learner"]]["in_portal"]
    assert told[people["quiet"]]["email_state"] == "off" and told[people["quiet"]]["in_portal"]
    assert told[people["learner"]]["payload"]["title"] == "New module"
    emails = world.database.value(
        "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE task_name = 'deliver_email' AND "
        "args ->> 'notification_id' IN (SELECT id::text FROM notifications WHERE dedup_key = %s)",
        (f"announcement:{row['id']}",))
    assert emails == 2
    done = world.database.rows("SELECT recipients, delivered_at FROM course_announcements WHERE id = %s",
                               (row["id"],))[0]
    assert done["recipients"] == 3 and done["delivered_at"] is not None  # notices written: not the deactivated one
    # run again (a retried job): nothing more
    assert run_job(world, tasks.announce, str(row["id"])) == 0
    assert notices(world, row["id"]).keys() == told.keys()
    # a stopped run resumes: forget the progress, every notice is kept once by its key
    world.database.rows("UPDATE course_announcements SET delivered_at = NULL, fanned_out_through = NULL, "
                        "recipients = 0 WHERE id = %s RETURNING 1", (row["id"],))
    run_job(world, tasks.announce, str(row["id"]))
    assert len(notices(world, row["id"])) == 3


def test_a_filtered_announcement_reaches_only_its_audience(world, cohort):
    course, people = cohort
    assert write(world, "co_manage", course, title="Well done", audience="completed").status_code == 303
    (row,) = [r for r in announcements_of(world, course) if r["audience"] == "completed"]
    run_job(world, tasks.announce, str(row["id"]))
    assert set(notices(world, row["id"])) == {people["graduate"]}
    assert write(world, "owner", course, title="Keep going", audience="active").status_code == 303
    (row,) = [r for r in announcements_of(world, course) if r["audience"] == "active"]
    run_job(world, tasks.announce, str(row["id"]))
    assert set(notices(world, row["id"])) == {people["learner"], people["quiet"]}


def client_of(world, user_id):
    email = world.database.value("SELECT email FROM users WHERE id = %s", (user_id,))
    client = world.app.test_client()
    sign_in(client, email)
    return client


def test_students_read_what_was_written_to_them_and_no_one_else_does(world, cohort):
    course, people = cohort
    assert write(world, "owner", course, title="Only for graduates", body="A *bonus* lesson.",
                 audience="completed").status_code == 303
    row = [r for r in announcements_of(world, course) if r["title"] == "Only for graduates"][0]
    graduate, learner, elsewhere = (client_of(world, people[n]) for n in ("graduate", "learner", "elsewhere"))
    listing = graduate.get("/announcements/")
    assert listing.status_code == 200 and "Only for graduates" in text(listing)
    assert "<em>bonus</em>" in text(listing)  # markdown, rendered and sanitized
    page = graduate.get(f"/announcements/{row['id']}")
    assert page.status_code == 200 and "<em>bonus</em>" in text(page)
    assert "Only for graduates" not in text(learner.get("/announcements/"))
    assert learner.get(f"/announcements/{row['id']}").status_code == 404
    assert elsewhere.get(f"/announcements/{row['id']}").status_code == 404
    # the course's teachers who manage its students reread it (their list links here); others do not
    owner_page = world.clients["owner"].get(f"/announcements/{row['id']}")
    assert owner_page.status_code == 200 and "<em>bonus</em>" in text(owner_page)
    assert world.clients["co_view"].get(f"/announcements/{row['id']}").status_code == 404
    assert world.clients["other_instructor"].get(f"/announcements/{row['id']}").status_code == 404
    assert world.clients["anon"].get(f"/announcements/{row['id']}").status_code == 303


def test_a_script_in_the_body_is_not_run(world, cohort):
    course, people = cohort
    assert write(world, "owner", course, title="Careful", body="<script>alert(1)</script> [x](javascript:alert(1))"
                 ).status_code == 303
    row = [r for r in announcements_of(world, course) if r["title"] == "Careful"][0]
    page = client_of(world, people["learner"]).get(f"/announcements/{row['id']}")
    body = text(page).split('<article class="card prose">')[1].split("</article>")[0]
    assert page.status_code == 200 and "<script" not in body and 'href="javascript:' not in body


def test_the_instructor_list_shows_each_announcement_with_its_recipients(world, cohort):
    course, _ = cohort
    page = world.clients["owner"].get("/students/announcements")
    assert page.status_code == 200 and "New module" in text(page)
    # each row links to the announcement, with the notices written (not the students walked)
    reached = dict(re.findall(r'<a href="/announcements/([0-9a-f-]+)">[^<]*</a></td>.*?'
                              r'class="announcement-recipients">(\d+)<', text(page), re.S))
    (active,) = [r for r in announcements_of(world, course) if r["title"] == "Keep going"]
    assert reached[str(active["id"])] == "2"  # learner and quiet
    other = world.clients["other_instructor"].get("/students/announcements")
    assert "New module" not in text(other)


def test_an_instructor_enrolled_in_anothers_course_reads_its_announcements(world):
    course = world.course(co=False)
    enroll(world.database, world.users["other_instructor"], course.id)
    assert write(world, "owner", course, title="For every student").status_code == 303
    (row,) = announcements_of(world, course)
    listing = world.clients["other_instructor"].get("/announcements/")
    assert listing.status_code == 200 and "For every student" in text(listing)
    assert world.clients["other_instructor"].get(f"/announcements/{row['id']}").status_code == 200
    # the course's own teachers find it on their Students pages, not here
    assert "For every student" not in text(world.clients["owner"].get("/announcements/"))


def test_the_email_excerpt_is_plain_text_not_markdown(world, cohort, mailbox):
    from portal import mail
    course, people = cohort
    assert write(world, "owner", course, title="Plain please",
                 body="**Module 4** is [open](https://example.test/m4) <b>now</b>").status_code == 303
    row = [r for r in announcements_of(world, course) if r["title"] == "Plain please"][0]
    run_job(world, tasks.announce, str(row["id"]))
    notice = world.database.value("SELECT id FROM notifications WHERE dedup_key = %s AND user_id = %s",
                                  (f"announcement:{row['id']}", people["learner"]))
    assert run_job(world, tasks.deliver_email, str(notice)) == "sent"
    (message,) = [m for m in mail.capture_box(world.app) if m["X-Portal-Notification"] == str(notice)]
    plain, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    # what the portal shows, as text: no Markdown syntax; the raw tag is text there, escaped in the HTML part
    assert "Module 4 is open <b>now</b>" in plain and "**" not in plain and "](" not in plain
    assert "Module 4 is open &lt;b&gt;now&lt;/b&gt;" in html and "**Module 4**" not in html

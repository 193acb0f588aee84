"""Bulk enrollment and invitations through the web (issue 15, part C): who may open and post the
form, the preview's lines (bad rows, duplicates, enrolled already, teachers; existing and unknown
addresses told apart nowhere), applying it (free and granted paid courses, invitations queued),
idempotency, CSV files, and an invitation followed from its email to an enrolled account."""

from __future__ import annotations

import io
import json
import re
from types import SimpleNamespace

import pytest

from portal.jobs import Runtime, WorkerDatabase, tasks
from portal import mail
from tests.course_web import send
from tests.support import enroll, gen_account
from tests.web import csrf_token, text

# The routes of this part: every actor below; test_web_routes.py names them through RULES.
RULES = {"/students/enroll", "/invitations/<invitation>"}


@pytest.fixture(scope="module")
def mailbox(world, tmp_path_factory):
    world.app.config["MAIL_CAPTURE_DIR"] = str(tmp_path_factory.mktemp("mail") / "box")
    return world.app


def run_job(world, task, *arguments):
    """Run one job's handler as the worker does (as portal_worker, on the world's app)."""
    database = WorkerDatabase(world.database.app_dsn, 1)
    try:
        context = SimpleNamespace(additional_context={"portal": Runtime(app=world.app, database=database)})
        return task(context, *arguments)
    finally:
        database.close()


def lines(response) -> list[tuple[str, str]]:
    """(address, what happens) of each line of a preview or result table."""
    return re.findall(r'<tr class="bulk-line bulk-line--[a-z_]+"><td>\d+</td><td>([^<]*)</td><td>([^<]*)</td></tr>',
                      text(response))


def outcomes(response) -> list[str]:
    return re.findall(r'class="bulk-line bulk-line--([a-z_]+)"', text(response))


def post(world, actor, course, emails, step="preview", **extra):
    return send(world, actor, "/students/enroll", {"course": str(course.id), "emails": emails, "step": step,
                                                   **extra})


def enrollments(world, course) -> dict:
    return {str(r["user_id"]): r for r in world.database.rows(
        "SELECT user_id, status, payment_status, amount_paid FROM course_enrollments WHERE course_id = %s",
        (course.id,))}


def invitations(world, course) -> list[str]:
    return [r["email"] for r in world.database.rows(
        "SELECT email::text FROM course_invitations WHERE course_id = %s ORDER BY email", (course.id,))]


@pytest.mark.parametrize("actor, expected", [("owner", 200), ("co_manage", 200), ("co_view", 200),
                                             ("other_instructor", 200), ("student", 404), ("anon", 303)])
def test_the_form_offers_only_the_courses_whose_students_one_manages(world, actor, expected):
    course = world.course(title=f"Bulk form {actor}")
    response = world.clients[actor].get("/students/enroll")
    assert response.status_code == expected
    if actor == "anon":
        assert response.headers["Location"].startswith("/sign-in?next=")
    if expected == 200:
        assert (f'value="{course.id}"' in text(response)) == (actor in ("owner", "co_manage"))


@pytest.mark.parametrize("actor", ["co_view", "other_instructor", "co_none"])
def test_a_teacher_without_manage_students_cannot_preview_or_apply(world, actor):
    course = world.course()
    for step in ("preview", "apply"):
        response = post(world, actor, course, "someone-new@example.test", step)
        assert response.status_code == 422 and "Choose one of your courses." in text(response)
    assert enrollments(world, course) == {} and invitations(world, course) == []


def test_missing_csrf_is_400_and_changes_nothing(world):
    course = world.course()
    response = send(world, "owner", "/students/enroll", {"course": str(course.id), "emails": "x@example.test",
                                                         "step": "apply"}, csrf=False)
    assert response.status_code == 400 and invitations(world, course) == []


def test_the_preview_classifies_bad_rows_and_changes_nothing(world):
    course = world.course()
    enroll(world.database, world.users["other_student"], course.id)
    listed = ", ".join([world.emails["student"], world.emails["other_student"], "not-an-email",
                        "New.Person@Example.test", "new.person@example.test", world.emails["owner"],
                        world.emails["co_view"]])
    response = post(world, "owner", course, listed)
    assert response.status_code == 200
    assert outcomes(response) == ["add", "already_enrolled", "invalid_email", "add", "duplicate", "teacher",
                                  "teacher"]
    found = dict(reversed(lines(response)))  # each address's first line
    # an address with an account and one without read the same: no enumeration of accounts
    assert found[world.emails["student"].lower()] == found["new.person@example.test"] \
        == "Will be enrolled, or invited to create an account"
    assert str(world.users["student"]) not in enrollments(world, course)
    assert invitations(world, course) == []
    # the list to apply is carried, normalized: only what will be added
    assert f'name="emails" value="{world.emails["student"].lower()},new.person@example.test"' in text(response)


def test_applying_enrolls_invites_and_a_second_upload_changes_nothing(world, mailbox):
    course = world.course()
    newcomer = "invitee-one@example.test"
    listed = f"{world.emails['student']}\n{newcomer}\nbroken@\n{world.emails['owner']}"
    response = post(world, "owner", course, listed, "apply")
    assert response.status_code == 200
    assert outcomes(response) == ["add", "add", "invalid_email", "teacher"]
    row = enrollments(world, course)[str(world.users["student"])]
    assert (row["status"], row["payment_status"], row["amount_paid"]) == ("enrolled", "completed", 0)
    assert world.database.value("SELECT granted_by FROM course_enrollment_grants WHERE course_id = %s "
                                "AND user_id = %s", (course.id, world.users["student"])) == world.users["owner"]
    assert invitations(world, course) == [newcomer]
    assert world.database.value("SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE task_name = "
                                "'send_invitation' AND args ->> 'invitation_id' = (SELECT id::text FROM "
                                "course_invitations WHERE course_id = %s)", (course.id,)) == 1
    before = (enrollments(world, course), world.database.value("SELECT count(*) FROM course_invitations"),
              world.database.value("SELECT count(*) FROM procrastinate.procrastinate_jobs"),
              world.database.value("SELECT count(*) FROM course_enrollment_grants"))
    again = post(world, "owner", course, listed, "apply")
    assert again.status_code == 200
    assert outcomes(again) == ["already_enrolled", "already_invited", "invalid_email", "teacher"]
    assert (enrollments(world, course), world.database.value("SELECT count(*) FROM course_invitations"),
            world.database.value("SELECT count(*) FROM procrastinate.procrastinate_jobs"),
            world.database.value("SELECT count(*) FROM course_enrollment_grants")) == before


def test_a_paid_course_needs_the_grant_which_is_recorded_and_earns_nothing(world):
    course = world.course(price="49.00")
    _, email = gen_account(world.database, "student", name="Paid Learner")
    refused = post(world, "owner", course, email, "apply")
    assert refused.status_code == 422 and "This course has a price" in text(refused)
    assert enrollments(world, course) == {}
    done = post(world, "co_manage", course, email, "apply", grant_access="y")
    assert done.status_code == 200 and outcomes(done) == ["add"]
    (row,) = enrollments(world, course).values()
    assert (row["status"], row["payment_status"], row["amount_paid"]) == ("enrolled", "completed", 0)
    assert world.database.value("SELECT paid_course FROM course_enrollment_grants WHERE course_id = %s",
                                (course.id,)) is True
    assert world.database.value("SELECT granted_by FROM course_enrollment_grants WHERE course_id = %s",
                                (course.id,)) == world.users["co_manage"]
    assert world.database.value("SELECT count(*) FROM revenue_transactions WHERE course_id = %s", (course.id,)) == 0
    assert world.database.value("SELECT total_revenue FROM courses WHERE id = %s", (course.id,)) == 0


@pytest.mark.parametrize("content", ["name,email\nAda,csv-one@example.test\nBob,csv-two@example.test\n",
                                     "csv-one@example.test\ncsv-two@example.test\n",
                                     "\ufeffEmail\r\ncsv-one@example.test\r\n\r\ncsv-two@example.test\r\n"])
def test_a_csv_file_with_or_without_a_header(world, content):
    course = world.course()
    response = world.clients["owner"].post("/students/enroll", data={
        "csrf_token": world.tokens["owner"], "course": str(course.id), "step": "preview", "emails": "",
        "upload": (io.BytesIO(content.encode()), "students.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert [address for address, _ in lines(response)] == ["csv-one@example.test", "csv-two@example.test"]


@pytest.mark.parametrize("emails, message", [
    ("", "Paste the addresses or choose a CSV file of them."),
    (",".join(f"many{n}@example.test" for n in range(1001)), "At most 1,000 addresses a list"),
])
def test_bad_input_is_422_with_the_form_again(world, emails, message):
    course = world.course()
    response = post(world, "owner", course, emails)
    assert response.status_code == 422 and message in text(response)
    assert f'<option selected value="{course.id}">' in text(response)


def test_an_invitation_from_its_email_to_an_enrolled_account(world, mailbox):
    course = world.course()
    address = "follow-the-link@example.test"
    assert post(world, "owner", course, address, "apply").status_code == 200
    invitation = world.database.value("SELECT id FROM course_invitations WHERE course_id = %s", (course.id,))
    assert run_job(world, tasks.send_invitation, str(invitation)) == "sent"
    assert run_job(world, tasks.send_invitation, str(invitation)) == "nothing to send"  # once
    (message,) = [m for m in mail.capture_box(world.app) if m["To"] == address]
    token = re.search(r"/invitations/([A-Za-z0-9_-]+)", message.get_payload()[0].get_payload(decode=True)
                      .decode()).group(1)
    stored = world.database.value("SELECT token_hash FROM course_invitations WHERE id = %s", (invitation,))
    assert stored and token not in stored  # only the hash is kept
    visitor = world.app.test_client()
    page = visitor.get(f"/invitations/{token}")
    assert page.status_code == 200 and "Owner invites you to" in text(page) and address in text(page)
    assert visitor.get("/invitations/forged-token-0123456789").status_code == 404
    token_page = visitor.get(f"/invitations/{token}")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(token_page)).group(1)
    short = visitor.post(f"/invitations/{token}", data={"csrf_token": csrf, "full_name": "New Learner",
                                                        "password": "short", "confirm": "short"})
    assert short.status_code == 422 and 'value="New Learner"' in text(short)
    assert visitor.post(f"/invitations/{token}", data={"full_name": "New Learner", "password": "x" * 14,
                                                       "confirm": "x" * 14}).status_code == 400  # no CSRF
    joined = visitor.post(f"/invitations/{token}", data={"csrf_token": csrf, "full_name": "New Learner",
                                                         "password": "a-long-passphrase", "confirm": "a-long-passphrase"})
    assert joined.status_code == 303 and joined.headers["Location"] == "/learning/"
    user = world.database.rows("SELECT id, email_confirmed_at FROM users WHERE email = %s", (address,))[0]
    assert user["email_confirmed_at"] is not None  # the link reached the address
    assert enrollments(world, course)[str(user["id"])]["status"] == "enrolled"
    assert visitor.get(f"/invitations/{token}").status_code == 404  # used
    signed_in = csrf_token(visitor, "/no-such-page")  # a new session since signing up
    assert visitor.post(f"/invitations/{token}", data={"csrf_token": signed_in}).status_code == 404
    # the same list again: the address is enrolled now
    assert outcomes(post(world, "owner", course, address)) == ["already_enrolled"]


def test_a_signed_in_person_accepts_and_a_teacher_cannot(world, mailbox):
    course = world.course()
    address = "signed-in-accepts@example.test"
    assert post(world, "owner", course, address, "apply").status_code == 200
    invitation = world.database.value("SELECT id FROM course_invitations WHERE course_id = %s", (course.id,))
    token = "a-known-token-for-this-test-0123456789"
    from portal.outreach.mail import token_hash
    world.database.rows("UPDATE course_invitations SET token_hash = %s, expires_at = now() + interval '1 day' "
                        "WHERE id = %s RETURNING 1", (token_hash(token), invitation))
    teacher = send(world, "co_view", f"/invitations/{token}")
    assert teacher.status_code == 422 and "Instructors do not enroll in their own course." in text(teacher)
    _, email = gen_account(world.database, "student", name="Someone Else")
    from tests.web import sign_in
    client = world.app.test_client()
    sign_in(client, email)
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 200 and "Accept the invitation" in text(page)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                     text(page))
    accepted = client.post(f"/invitations/{token}", data={"csrf_token": csrf.group(1) or csrf.group(2)})
    assert accepted.status_code == 303
    assert world.database.value("SELECT status FROM course_enrollments e JOIN users u ON u.id = e.user_id "
                                "WHERE e.course_id = %s AND u.email = %s", (course.id, email)) == "enrolled"


def test_an_expired_invitation_is_404_and_a_new_list_invites_again(world, mailbox):
    course = world.course()
    address = "expires@example.test"
    post(world, "owner", course, address, "apply")
    token = "expired-token-for-this-test-0123456789"
    from portal.outreach.mail import token_hash
    world.database.rows("UPDATE course_invitations SET token_hash = %s, sent_at = now() - interval '15 days', "
                        "expires_at = now() - interval '1 day' WHERE course_id = %s RETURNING 1",
                        (token_hash(token), course.id))
    assert world.clients["anon"].get(f"/invitations/{token}").status_code == 404
    assert outcomes(post(world, "owner", course, address)) == ["add"]
    assert outcomes(post(world, "owner", course, address, "apply")) == ["add"]
    row = world.database.rows("SELECT token_hash, sent_at FROM course_invitations WHERE course_id = %s",
                              (course.id,))
    assert len(row) == 1 and row[0]["token_hash"] is None and row[0]["sent_at"] is None  # to be sent again

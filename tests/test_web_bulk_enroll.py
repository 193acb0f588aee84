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
RULES = {"/students/enroll", "/invitations/<invitation>", "/students/invitations",
         "/students/invitations/<uuid:invitation_id>/revoke", "/learning/<uuid:enrollment_id>/leave"}


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


# --- review fixes (015, part C) --------------------------------------------------------------

def test_the_done_page_says_enrolled_or_invited_and_a_deactivated_address_reads_invited_afterwards(world):
    course = world.course()
    gone, gone_email = gen_account(world.database, "student", name="Gone Learner")
    world.database.rows("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (gone,))
    done = post(world, "owner", course, f"{gone_email}\nfresh-address@example.test", "apply")
    assert done.status_code == 200 and outcomes(done) == ["add", "add"]
    assert "Students enrolled or invited" in text(done) and "Students enrolled in" not in text(done)
    assert {result for _, result in lines(done)} == {"Enrolled or invited"}
    assert enrollments(world, course) == {}
    # afterwards both read the same: invited (the deactivated one's invitation is never sent)
    assert outcomes(post(world, "owner", course, f"{gone_email}\nfresh-address@example.test")) == \
        ["already_invited", "already_invited"]
    assert world.database.value("SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE task_name = "
                                "'send_invitation' AND args ->> 'invitation_id' IN (SELECT id::text FROM "
                                "course_invitations WHERE course_id = %s)", (course.id,)) == 1


def test_a_teacher_who_manages_no_course_sees_an_empty_state(world):
    enroll_page = text(world.clients["co_view"].get("/students/enroll"))
    assert "No course to enroll students in" in enroll_page and 'name="emails"' not in enroll_page
    announce_page = text(world.clients["co_view"].get("/students/announcements/new"))
    assert "No course to write to" in announce_page and 'name="title"' not in announce_page
    assert "No course to enroll students in" not in text(world.clients["owner"].get("/students/enroll"))


def test_the_enroll_page_says_what_happens_to_existing_accounts_and_invitations(world):
    world.course()
    page = text(world.clients["owner"].get("/students/enroll"))
    assert "already has an account is enrolled at once" in page and "expires after 14 days" in page
    assert "leave the course from My learning" in page


@pytest.mark.parametrize("content", ["email;name\nsemi-one@example.test;Semi\nsemi-two@example.test;Two\n",
                                     '"Ada Lovelace <semi-one@example.test>"\n"semi-two@example.test",\n',
                                     "name\temail\nAda\tsemi-one@example.test\nBob\tsemi-two@example.test\n"])
def test_semicolon_and_tab_separated_files_and_named_addresses(world, content):
    course = world.course()
    response = world.clients["owner"].post("/students/enroll", data={
        "csrf_token": world.tokens["owner"], "course": str(course.id), "step": "preview", "emails": "",
        "upload": (io.BytesIO(content.encode()), "students.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert [address for address, _ in lines(response)] == ["semi-one@example.test", "semi-two@example.test"]


def test_pasted_named_addresses_and_semicolons(world):
    course = world.course()
    response = post(world, "owner", course, 'Ada <paste-a@example.test>; "Lovelace, Ada" <paste-b@example.test>\n'
                                            "paste-c@example.test paste-d@example.test")
    assert [address for address, _ in lines(response)] == ["paste-a@example.test", "paste-b@example.test",
                                                           "paste-c@example.test", "paste-d@example.test"]


def test_an_address_a_header_would_read_otherwise_is_invalid_and_never_composed(world):
    course = world.course()
    assert outcomes(post(world, "owner", course, "grp:real-target@example.test", "apply")) == ["invalid_email"]
    assert invitations(world, course) == []
    from portal.outreach import mail as outreach_mail
    for address in ("grp:real-target@example.test", "a@example.test, b@example.test", "Ada <a@example.test>"):
        invitation = SimpleNamespace(id="00000000-0000-0000-0000-000000000000", email=address,
                                     inviter_name="Owner", course_title="Course")
        with pytest.raises(outreach_mail.NotAnAddress):
            outreach_mail.compose_invitation(world.app, invitation, "token")


def test_a_newline_in_a_course_title_does_not_kill_the_invitation(world, mailbox):
    course = world.course(title="Line one\nBcc: evil@example.test")
    address = "nl-subject@example.test"
    assert post(world, "owner", course, address, "apply").status_code == 200
    invitation = world.database.value("SELECT id FROM course_invitations WHERE email = %s", (address,))
    assert run_job(world, tasks.send_invitation, str(invitation)) == "sent"
    (message,) = [m for m in mail.capture_box(world.app) if m["To"] == address]
    assert "\n" not in message["Subject"] and "Line one Bcc: evil@example.test" in message["Subject"]
    assert message["Bcc"] is None


def listed(response) -> list[str]:
    """The addresses of the invitations' table."""
    return re.findall(r'<tr class="invitation-row">\s*<td>([^<]+)</td>', text(response))


def _armed(world, course, address, token, **extra):
    from portal.outreach.mail import token_hash
    assert post(world, "owner", course, address, "apply", **extra).status_code == 200
    invitation = world.database.value("SELECT id FROM course_invitations WHERE course_id = %s AND email = %s",
                                      (course.id, address))
    world.database.rows("UPDATE course_invitations SET token_hash = %s, sent_at = now(), "
                        "expires_at = now() + interval '1 day' WHERE id = %s RETURNING 1",
                        (token_hash(token), invitation))
    return invitation


@pytest.mark.parametrize("actor, expected", [("owner", 200), ("co_manage", 200), ("co_view", 404),
                                             ("other_instructor", 404), ("student", 404), ("anon", 303)])
def test_open_invitations_are_listed_and_revoked_after_a_confirmation(world, actor, expected):
    course = world.course()
    address = f"revoke-{actor}@example.test"
    token = f"revoke-token-{actor}-0123456789"
    invitation = _armed(world, course, address, token)
    listing = world.clients[actor].get(f"/students/invitations?course={course.id}")
    assert listing.status_code == (303 if actor == "anon" else 200 if actor != "student" else 404)
    assert (address in listed(listing)) == (expected == 200)
    confirm = world.clients[actor].get(f"/students/invitations/{invitation}/revoke")
    assert confirm.status_code == expected
    if actor == "anon":
        assert confirm.headers["Location"].startswith("/sign-in?next=")
    if expected != 200:
        if actor != "anon":
            assert send(world, actor, f"/students/invitations/{invitation}/revoke").status_code == 404
        assert world.clients["anon"].get(f"/invitations/{token}").status_code == 200  # still works
        return
    assert f"Revoke the invitation to {address}?" in text(confirm)
    assert send(world, actor, f"/students/invitations/{invitation}/revoke", csrf=False).status_code == 400
    done = send(world, actor, f"/students/invitations/{invitation}/revoke")
    assert done.status_code == 303 and done.headers["Location"] == "/students/invitations"
    assert world.clients["anon"].get(f"/invitations/{token}").status_code == 404
    assert address not in listed(world.clients[actor].get(f"/students/invitations?course={course.id}"))
    assert world.clients[actor].get(f"/students/invitations/{invitation}/revoke").status_code == 404


def test_the_invitations_list_pages(world):
    course = world.course()
    post(world, "owner", course, "\n".join(f"page-{n:02d}@example.test" for n in range(23)), "apply")
    first = world.clients["owner"].get(f"/students/invitations?course={course.id}")
    rows = listed(first)
    assert len(rows) == 20
    after = re.search(r'rel="next" href="([^"]+)"', text(first)).group(1).replace("&amp;", "&")
    assert f"course={course.id}" in after
    second = listed(world.clients["owner"].get(after))
    assert len(second) == 3 and not set(second) & set(rows)


def test_accepting_a_lapsed_grant_says_payment_is_needed_not_welcome(world):
    course = world.course(price="10.00")
    token = "lapsed-grant-token-0123456789"
    _armed(world, course, "lapsed-web@example.test", token, grant_access="y")
    world.database.rows("UPDATE courses SET price_amount = 20 WHERE id = %s RETURNING 1", (course.id,))
    client = world.clients["other_student"]
    accepted = client.post(f"/invitations/{token}", data={"csrf_token": world.tokens["other_student"]})
    assert accepted.status_code == 303
    page = text(client.get(accepted.headers["Location"]))
    assert "needs payment" in page and "Welcome to" not in page


def test_an_enrolled_student_is_told_who_enrolled_them_and_leaves_from_my_learning(world):
    course = world.course()
    _, email = gen_account(world.database, "student", name="Told Learner")
    from tests.web import sign_in
    client = world.app.test_client()
    sign_in(client, email)
    assert post(world, "co_manage", course, email, "apply").status_code == 200
    user = world.database.value("SELECT id FROM users WHERE email = %s", (email,))
    bell = text(client.get("/notifications/"))
    teacher = world.database.value("SELECT full_name FROM users WHERE id = %s", (world.users["co_manage"],))
    assert f"{teacher} enrolled you in" in bell
    assert "you can leave it from My learning" in bell
    assert world.database.value("SELECT count(*) FROM notifications WHERE user_id = %s AND event_type = "
                                "'new_enrollment' AND payload ->> 'course_id' = %s",
                                (world.users["owner"], str(course.id))) == 0
    enrollment = world.database.value("SELECT id FROM course_enrollments WHERE course_id = %s AND user_id = %s",
                                      (course.id, user))
    learning = text(client.get("/learning/"))
    assert f'href="/learning/{enrollment}/leave"' in learning
    for other in ("student", "owner", "co_manage"):
        assert world.clients[other].get(f"/learning/{enrollment}/leave").status_code == 404
    assert world.clients["anon"].get(f"/learning/{enrollment}/leave").headers["Location"].startswith("/sign-in")
    page = client.get(f"/learning/{enrollment}/leave")
    assert page.status_code == 200 and "Leave “" in text(page)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', text(page)).group(1)
    assert client.post(f"/learning/{enrollment}/leave").status_code == 400
    assert send(world, "student", f"/learning/{enrollment}/leave").status_code == 404
    left = client.post(f"/learning/{enrollment}/leave", data={"csrf_token": token})
    assert left.status_code == 303 and left.headers["Location"] == "/learning/"
    assert world.database.value("SELECT status FROM course_enrollments WHERE id = %s", (enrollment,)) == "cancelled"
    assert client.get(f"/learning/{enrollment}/leave").status_code == 404

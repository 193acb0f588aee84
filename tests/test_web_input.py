"""Bad text at the boundary: a NUL character (which PostgreSQL text cannot hold) in a query
parameter or a form field is handled once, by ``portal.forms``, and never answers a 500.

Searches and pages answer as they would without the NUL; free text is stored without it;
an email address holding one is refused on its field (422); a JSON body never stands in
for a form. First the places that used to answer 500, then every form class, every GET
route and every course form, generically."""

from __future__ import annotations

import json
import uuid

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from portal import forms as boundary
from tests.support import Actor, complete_course, enroll, gen_account, gen_org
from tests.test_web_courses_access import ROUTES as COURSE_ROUTES
from tests.test_web_courses_access import setting
from tests.web import csrf_token, htmx, sign_in, text





def send(world, actor: str, path: str, data: dict, **kwargs):
    return world.clients[actor].post(path, data={**data, "csrf_token": world.tokens[actor]}, **kwargs)


def only_row(world, query: str, *params) -> dict:
    rows = world.database.rows(query, params)
    assert len(rows) == 1, rows
    return rows[0]


# --- the places that answered 500 -------------------------------------------------------

def test_course_search_with_a_nul_finds_what_it_would_without(world):
    """GET /courses/?q=x%00y is the search for "xy": 200, with the course it finds."""
    course = world.course(title="Quokka Nulsearch")
    response = world.clients["owner"].get("/courses/?q=Nul%00search")
    assert response.status_code == 200
    assert str(course.id) in text(response)


def test_drip_student_search_with_a_nul_finds_the_student(world):
    """The drip page's student search (student_q) drops the NUL and finds the student."""
    course = world.course()
    student, _ = gen_account(world.database, "student", name="Katherine Johnson")
    enroll(world.database, student, course.id)
    response = world.clients["owner"].get(f"/courses/{course.id}/drip?student_q=Kath%00erine", headers=htmx())
    assert response.status_code == 200
    assert "Katherine Johnson" in text(response)


def test_module_title_and_description_lose_their_nul(world):
    """Adding and editing a module with NULs in its title and description stores the text without them."""
    course = world.course()
    response = send(world, "owner", f"/courses/{course.id}/modules",
                    {"title": "Null\x00 module", "description": "About\x00 nothing"})
    assert response.status_code == 303
    module = only_row(world, "SELECT id, description FROM course_modules WHERE course_id = %s AND title = %s",
                      course.id, "Null module")
    assert module["description"] == "About nothing"
    response = send(world, "owner", f"/courses/{course.id}/modules/{module['id']}",
                    {"title": "\x00Renamed\x00", "description": "\x00"})
    assert response.status_code == 303
    assert only_row(world, "SELECT title, description FROM course_modules WHERE id = %s", module["id"]) == \
        {"title": "Renamed", "description": None}


def test_a_title_of_only_nul_characters_is_a_missing_title(world):
    """What is left after the NULs are dropped is checked as usual: nothing left is a field error."""
    course = world.course()
    response = send(world, "owner", f"/courses/{course.id}/modules", {"title": "\x00\x00"})
    assert response.status_code == 422 and "Give the module a title." in text(response)


def test_lesson_title_and_body_lose_their_nul(world):
    """Adding a lesson, then editing its title and body, with NULs: stored without them."""
    course = world.course()
    module = course.modules[0]
    response = send(world, "owner", f"/courses/{course.id}/modules/{module}/lessons",
                    {"title": "Nul\x00 lesson", "content_type": "text"})
    assert response.status_code == 303
    lesson = only_row(world, "SELECT id FROM course_lessons WHERE module_id = %s AND title = %s",
                      module, "Nul lesson")["id"]
    response = send(world, "owner", f"/courses/{course.id}/lessons/{lesson}",
                    {"title": "Edited\x00 lesson", "content_type": "text", "module": str(module),
                     "duration_minutes": "5", "body": "# Notes\x00\n\nText\x00."})
    assert response.status_code == 303
    assert only_row(world, "SELECT title, body FROM course_lessons WHERE id = %s", lesson) == \
        {"title": "Edited lesson", "body": "# Notes\n\nText."}


def test_a_co_instructor_email_with_a_nul_is_a_field_error(world):
    """An email holding a NUL is not an email address: 422 with the field's message, nobody added."""
    course = world.course(co=False)
    email = world.emails["other_instructor"]
    response = send(world, "owner", f"/courses/{course.id}/team",
                    {"email": email[:3] + "\x00" + email[3:], "role": "assistant", "view_content": "y"})
    assert response.status_code == 422
    assert boundary.NOT_AN_EMAIL in text(response)
    assert world.database.value("SELECT count(*) FROM course_instructors WHERE course_id = %s "
                                "AND role <> 'primary'", (course.id,)) == 0


@pytest.fixture()
def visitor(world):
    """A signed-out client with its CSRF token."""
    client = world.app.test_client()
    return client, csrf_token(client, "/sign-in")


def test_sign_in_with_a_nul_in_the_email_is_a_field_error(world, visitor):
    """Signed out, POST /sign-in with a NUL in the email: 422, the email's message, no failure counted."""
    client, token = visitor
    email = world.emails["student"]
    failures = world.database.value("SELECT count(*) FROM private.sign_in_failures")
    response = client.post("/sign-in", data={"email": "\x00" + email, "password": "whatever it is",
                                             "csrf_token": token})
    assert response.status_code == 422 and boundary.NOT_AN_EMAIL in text(response)
    assert world.database.value("SELECT count(*) FROM private.sign_in_failures") == failures


def test_sign_up_name_loses_its_nul_and_an_email_with_one_is_refused(world, visitor):
    """POST /sign-up: a NUL in the name is dropped (the account is made); one in the email is a 422."""
    client, token = visitor
    fields = {"password": "a long passphrase", "role": "student", "csrf_token": token}
    refused = client.post("/sign-up", data={**fields, "full_name": "Nul Email",
                                            "email": "nul\x00email@example.test"})
    assert refused.status_code == 422 and boundary.NOT_AN_EMAIL in text(refused)
    assert world.database.value("SELECT count(*) FROM users WHERE full_name = 'Nul Email'") == 0
    made = client.post("/sign-up", data={**fields, "full_name": "Grace\x00 Nul", "email": "grace.nul@example.test"})
    assert made.status_code == 303
    assert world.database.value("SELECT full_name FROM users WHERE email = 'grace.nul@example.test'") == "Grace Nul"


def test_a_password_keeps_its_nul(world, visitor):
    """A password is hashed, never stored as text: it is kept exactly as typed, NUL included."""
    client, token = visitor
    password = "a long pass\x00phrase"
    made = client.post("/sign-up", data={"full_name": "Pass Nul", "email": "pass.nul@example.test",
                                         "password": password, "role": "student", "csrf_token": token})
    assert made.status_code == 303
    other = world.app.test_client()
    wrong = other.post("/sign-in", data={"email": "pass.nul@example.test", "password": password.replace("\x00", ""),
                                         "csrf_token": csrf_token(other, "/sign-in")})
    assert wrong.status_code == 422
    right = other.post("/sign-in", data={"email": "pass.nul@example.test", "password": password,
                                         "csrf_token": csrf_token(other, "/sign-in")})
    assert right.status_code == 303


def test_a_json_body_is_not_a_form(world, visitor):
    """A JSON body (which could carry lone surrogates, numbers or lists) never stands in for a form."""
    client, token = visitor
    body = json.dumps({"email": "\ud800" + world.emails["student"], "password": ["x"], "full_name": 5})
    for path in ("/sign-in", "/sign-up"):
        response = client.post(path, data=body, headers={"Content-Type": "application/json", "X-CSRFToken": token})
        assert response.status_code == 422, path
        assert "Enter your email." in text(response)


def test_undecodable_text_is_stored_as_sent_not_refused(world):
    """A field whose bytes are not UTF-8 (a lone surrogate's encoding) arrives as plain text; no 500."""
    course = world.course()
    response = world.clients["owner"].post(
        f"/courses/{course.id}/modules", content_type="application/x-www-form-urlencoded",
        data=f"csrf_token={world.tokens['owner']}&title=Odd%ED%A0%80bytes%FF".encode())
    assert response.status_code == 303
    assert world.database.value("SELECT count(*) FROM course_modules WHERE course_id = %s AND title LIKE 'Odd%%bytes%%'",
                                (course.id,)) == 1


# --- every form, generically -------------------------------------------------------------

def form_classes() -> list[type]:
    """Every form class of the portal (the app is built, so every module is imported), but those
    made per request (the drip rules form, whose fields are the course's outline)."""
    found, pending = [], list(FlaskForm.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("portal.") and "<locals>" not in cls.__qualname__:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_form_is_a_base_form(world):
    """No form of the portal reads a request without the boundary (portal.forms.BaseForm)."""
    from portal.courses.builder.forms import drip_rules_form
    with world.app.test_request_context("/"):
        classes = [*form_classes(), type(drip_rules_form([], {}, False, blank=True))]
    assert len(classes) >= 12
    assert [cls.__qualname__ for cls in classes if not issubclass(cls, boundary.BaseForm)] == []


def leaves(form):
    """Every field that holds a value, inside subforms and lists too."""
    for field in form:
        if field.type == "FormField":
            yield from leaves(field.form)
        elif field.type == "FieldList":
            for entry in field.entries:
                yield from (leaves(entry.form) if entry.type == "FormField" else [entry])
        else:
            yield field


def instances():
    """One instance of each form, with a quiz question and a drip rule so that subforms exist."""
    from portal.courses.builder.forms import LessonForm, drip_rules_form
    item = uuid.uuid4()
    for cls in form_classes():
        if cls is LessonForm:
            yield cls(formdata=None, data={"questions": [{"prompt": "p", "choices": ["a", "b"], "answer": 0}]})
        else:
            yield cls(formdata=None)
    yield drip_rules_form([item], {}, False, blank=True)


def test_every_field_of_every_form_drops_nul(world):
    """Posted with a NUL in every field, no field of any form holds one, but a password and an email
    address, which keep what was sent (an email holding a NUL is refused: the sign-in, sign-up and
    team tests above)."""
    app, checked = world.app, 0
    with app.test_request_context("/"):
        shapes = [(type(form), [field.name for field in leaves(form)]) for form in instances()]
    for cls, names in shapes:
        posted = MultiDict([(name, "a\x00b") for name in names] + [(name, "c\x00d") for name in names])
        with app.test_request_context("/", method="POST", data=posted):
            for field in leaves(cls()):
                values = field.data if isinstance(field.data, list) else [field.data]
                if field.type in ("PasswordField", "EmailField"):
                    assert field.data == "a\x00b", field.name
                else:
                    assert [v for v in values if isinstance(v, str) and "\x00" in v] == [], \
                        f"{cls.__qualname__}.{field.name}"
                checked += 1
    assert len(shapes) == len(form_classes()) + 1 and checked > 60


# --- every GET route, generically ------------------------------------------------------

# Every query parameter a view reads, each with a NUL inside a value it could hold.
QUERY = {"q": "py\x00thon", "student_q": "ka\x00th", "status": "pub\x00lished", "sort": "new\x00est",
         "page": "1\x00", "category": "Da\x00ta", "tag": "da\x00ta", "level": "begin\x00ner", "price": "fr\x00ee",
         "next": "/cata\x00log/", "since": "2020-01-01T00:00:00\x00+00:00", "before": "2999-01-01T00:00:00+00:00\x00",
         "since_id": "", "before_id": str(uuid.UUID(int=1)) + "\x00", "learning_page": "1\x00",
         "pending_page": "\x002", "completed_page": "1\x00", "show": "un\x00read", "after": "af\x00ter",
         "state": "de\x00ad", "course": "no\x00such", "rating": "5\x00", "answered": "un\x00answered",
         "reported": "re\x00ported"}


@pytest.fixture(scope="module")
def places(world, tmp_path_factory):
    """A value for every argument of every route, and an admin among the actors: a course with its
    team, a preview lesson, an early unlock, a student who completed it (a certificate, a review),
    and the student's open checkout of a paid course; the owner's notice of the student's
    enrollment, the student's unsubscribe link, an email in the development mailbox, and a worker
    whose heartbeat stays fresh while the module runs."""
    db, users = world.database, world.users
    world.app.config["MAIL_CAPTURE_DIR"] = str(tmp_path_factory.mktemp("mail") / "box")
    users["admin"], email = gen_account(db, "admin")
    world.clients["admin"] = world.app.test_client()
    sign_in(world.clients["admin"], email)
    # 017: an organization whose admin opens its home, a course of it and an instructor of it
    org = gen_org(db, "Input Org")
    users["org_admin"], email = gen_account(db, "org_admin", org=org)
    world.clients["org_admin"] = world.app.test_client()
    sign_in(world.clients["org_admin"], email)
    org_teacher, _ = gen_account(db, "instructor", org=org)
    course = world.course()
    db.rows("UPDATE courses SET organization_id = %s WHERE id = %s", (org, course.id))
    db.rows("UPDATE courses SET certificate_enabled = true WHERE id = %s", (course.id,))
    db.rows("UPDATE course_lessons SET is_preview = true WHERE id = %s", (course.lessons[0],))
    enrollment = complete_course(db, users["student"], course)
    waiting = enroll(db, users["student"], world.course(price="19.99").id)
    with db.act(Actor.user(users["student"])) as cur:
        cur.execute("SELECT start_checkout(%s, 'test') AS id", (waiting,))
        checkout = cur.fetchone()["id"]
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 4) RETURNING id",
                    (course.id, users["student"]))
        review = cur.fetchone()["id"]
    return {
        "course_id": course.id, "module_id": course.modules[0], "lesson_id": course.lessons[0],
        "slug": db.value("SELECT slug FROM courses WHERE id = %s", (course.id,)),
        "teacher_id": db.value("SELECT id FROM course_instructors WHERE course_id = %s AND instructor_id = %s",
                               (course.id, users["co_none"])),
        "unlock_id": db.value("INSERT INTO drip_unlocks (enrollment_id, user_id, course_id, module_id) "
                              "VALUES (%s, %s, %s, %s) RETURNING id",
                              (enrollment, users["student"], course.id, course.modules[1])),
        "review_id": review, "instructor_id": users["owner"], "checkout_id": checkout,
        "student_id": users["student"],  # a student of the owner's (students.student and its pages)
        "user_id": org_teacher, "org_id": org,  # 017: an account (admin), an organization's instructor
        "code": db.value("SELECT code FROM certificates WHERE enrollment_id = %s", (enrollment,)),
        "name": "htmx.min.js", "filename": "css/portal.css",
        "notice_id": db.value("SELECT id FROM notifications WHERE user_id = %s ORDER BY created_at LIMIT 1",
                              (users["owner"],)),
        "token": _unsubscribe_token(world, users["student"]), "key": _captured_email(world),
        "confirmation": _confirmation_token(world, users["student"]),
        "reset": _reset_token(db, users["student"]), "change": _email_change_token(world, users["student"]),
        "worker": db.value("INSERT INTO procrastinate.procrastinate_workers (last_heartbeat) "
                           "VALUES (now() + interval '1 hour') RETURNING id"),
        "invitation": _invitation_token(db, users["owner"], course.id),
        "announcement_id": _announcement(db, users["owner"], course.id),
        "invitation_id": db.value("SELECT id FROM course_invitations WHERE email = 'invited-input@example.test'"),
        "enrollment_id": enroll(db, users["student"], world.course().id),  # one to leave (/learning/<id>/leave)
        # 020: the student's paid sale in the owner's course (its page, the admin's, the receipt), a payout
        "transaction_id": _sale(db, users["student"], world.course(price="9.99").id),
        "payout_id": db.value("INSERT INTO payouts (instructor_id, cutoff, scheduled_for) "
                              "VALUES (%s, now(), current_date) RETURNING id", (users["owner"],)),
        **_discussion(world, course),  # 022
        **_workshop_places(db, users["owner"], users["student"]),  # 021
    }


def _sale(db, student, course_id):
    """A paid enrollment's sale (020's pages)."""
    from tests.support import pay
    enrollment = enroll(db, student, course_id)
    pay(db, enrollment)
    return db.value("SELECT id FROM revenue_transactions WHERE enrollment_id = %s", (enrollment,))


def _discussion(world, course) -> dict:
    """022: the student's comment and question on the course's first lesson, and their hand-in of
    another course's assignment (the owner's)."""
    db, student = world.database, world.users["student"]
    work = world.course(modules=(("assignment",),))
    enroll(db, student, work.id)
    with db.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO lesson_comments (course_id, lesson_id, body) VALUES (%s, %s, 'Hi') RETURNING id",
                    (course.id, course.lessons[0]))
        comment = cur.fetchone()["id"]
        cur.execute("INSERT INTO course_questions (course_id, lesson_id, title) VALUES (%s, %s, 'Why?') RETURNING id",
                    (course.id, course.lessons[0]))
        question = cur.fetchone()["id"]
        cur.execute("SELECT submit_assignment(%s, 'My work', NULL) AS id", (work.lessons[0],))
        submission = cur.fetchone()["id"]
    with db.act(Actor.user(world.users["owner"])) as cur:   # the owner's answer, which the student may report
        cur.execute("INSERT INTO question_answers (question_id, course_id, body) VALUES (%s, %s, 'Because') "
                    "RETURNING id", (question, course.id))
        answer = cur.fetchone()["id"]
    return {"comment_id": comment, "question_id": question, "submission_id": submission,  # course_id: above
            "answer_id": answer}


def _workshop_places(db, owner, student) -> dict:
    """021: the owner's workshop, held and ended, the student attended (its feedback form opens); the
    owner's calendar feed address."""
    import hashlib

    from tests.support import gen_workshop, register
    workshop = gen_workshop(db, owner, title="Input Workshop")
    register(db, student, workshop)
    db.rows("UPDATE workshops SET start_time = now() - interval '3 hours', end_time = now() - interval '1 hour' "
            "WHERE id = %s RETURNING 1", (workshop,))
    with db.act(Actor.user(owner)) as cur:
        cur.execute("UPDATE workshop_registrations SET status = 'attended' WHERE workshop_id = %s", (workshop,))
    token = "input-feed-token-0123456789-abcdefghijklmnop"
    db.rows("UPDATE instructor_settings SET calendar_sync_enabled = true, calendar_provider = 'apple', "
            "calendar_feed_hash = %s WHERE user_id = %s RETURNING 1", (hashlib.sha256(token.encode()).hexdigest(), owner))
    return {"workshop_id": workshop, "feed_token": token,
            "workshop_slug": db.value("SELECT slug FROM workshops WHERE id = %s", (workshop,))}


def _invitation_token(db, owner, course_id) -> str:
    """An invitation's link (015), armed as the worker arms one."""
    from portal.outreach.mail import token_hash
    token = "invitation-token-for-the-input-tests-0123456789"
    with db.act(Actor.user(owner)) as cur:
        cur.execute("SELECT count(*) AS n FROM bulk_enroll(%s, ARRAY['invited-input@example.test'], false, NULL)",
                    (course_id,))
    db.rows("UPDATE course_invitations SET token_hash = %s, expires_at = now() + interval '1 day' "
            "WHERE email = 'invited-input@example.test' RETURNING 1", (token_hash(token),))
    return token


def _announcement(db, owner, course_id):
    """An announcement to every student of the course (015)."""
    with db.act(Actor.user(owner)) as cur:
        cur.execute("SELECT post_announcement(%s, 'Welcome', 'Hello **all**', 'all') AS id", (course_id,))
        return cur.fetchone()["id"]


def _confirmation_token(world, user) -> str:
    from portal.notifications import events
    with world.app.app_context():
        return events.confirmation_token(user, world.database.value("SELECT email FROM users WHERE id = %s",
                                                                     (user,)))


def _reset_token(db, user) -> str:
    """A password reset link's token for ``user``, armed as the worker arms one (011)."""
    import hashlib
    token = "reset-token-for-the-input-tests-0123456789"
    db.value("INSERT INTO private.password_resets (user_id, email, token_hash, expires_at) "
             "SELECT id, email, %s, now() + interval '1 hour' FROM users WHERE id = %s RETURNING 1",
             (hashlib.sha256(token.encode()).digest(), user))
    return token


def _email_change_token(world, user) -> str:
    """The link of a pending change of ``user``'s address (011)."""
    from portal.notifications import events
    change = world.database.value("INSERT INTO email_changes (user_id, new_email) VALUES (%s, %s) RETURNING id",
                                  (user, f"moved-{user}@example.test"))
    with world.app.app_context():
        return events.email_change_token(user, change)


def _unsubscribe_token(world, user) -> str:
    from portal.notifications import events
    with world.app.app_context():
        return events.unsubscribe_token(user, "certificate_issued")


def _captured_email(world) -> str:
    """The key of an email sent to the development mailbox."""
    from email.message import EmailMessage

    from portal import mail
    message = EmailMessage()
    message["Subject"], message["To"] = "A test email", "student@example.test"
    message.set_content("Hello.")
    message.add_alternative("<p>Hello.</p>", subtype="html")
    mail.send(world.app, message)
    (key,) = mail.capture_box(world.app).keys()
    return key


ACTORS = ("anon", "owner", "student", "admin", "org_admin")


def get_routes(app) -> list:
    return sorted((rule for rule in app.url_map.iter_rules() if "GET" in rule.methods), key=lambda r: r.rule)


def test_every_get_route_answers_a_query_with_nul_as_it_answers_one_without(world, places):
    """Every GET route, as a visitor, a teacher, a student and an admin, with every query parameter holding
    a NUL: the same status as without the NULs, and never a 500."""
    from flask import url_for
    clean = {name: value.replace("\x00", "") for name, value in QUERY.items()}
    answered, opened = 0, set()
    for rule in get_routes(world.app):
        with world.app.test_request_context():
            arguments = {name: places[name] for name in rule.arguments}
            paths = [url_for(rule.endpoint, **arguments, **query) for query in (QUERY, clean)]
        assert "%00" in paths[0] and "%00" not in paths[1]
        for actor in ACTORS:
            # buffered: a streamed export is read to its end before the next request
            with_nul, without = (world.clients[actor].get(path, buffered=True) for path in paths)
            assert with_nul.status_code == without.status_code != 500, \
                (rule.rule, actor, with_nul.status_code, without.status_code)
            answered += 1
            if with_nul.status_code == 200 or (with_nul.status_code == 303 and
                                               not with_nul.headers["Location"].startswith("/sign-in")):
                opened.add(rule.rule)
    assert answered == len(ACTORS) * len(get_routes(world.app))
    # The places are real: every route opens (or sends on) for someone, the PDF and static files included.
    assert {rule.rule for rule in get_routes(world.app)} - opened == set()


# --- every course form, generically -------------------------------------------------------

def with_nul(data: dict) -> dict:
    """Every value with a NUL in it (each item of a list too)."""
    def spoil(value):
        return [spoil(v) for v in value] if isinstance(value, list) else (value[:1] + "\x00" + value[1:])
    return {name: spoil(value) for name, value in data.items()}


# The course routes that post values (placeholders stand in for the case's ids).
_FAKE = {"course": uuid.UUID(int=0), "module": uuid.UUID(int=0), "slug": "s", "enrollment": uuid.UUID(int=0),
         "other_email": "x@example.test"}
POSTS = [route for route in COURSE_ROUTES if route.method == "POST" and route.data(_FAKE)]
# Values a view reads itself as a token (request.form.get), not through a form: a NUL makes the
# token invalid, answered as any invalid token is (never a 500).
TOKENS = {"confirm", "by", "to"}


@pytest.mark.parametrize("route", POSTS, ids=[route.rule for route in POSTS])
def test_every_course_form_with_nul_in_every_value_answers_as_without(world, route):
    """Each course form that sends values, posted as the owner with a NUL in every value, answers as the
    same post without them (an email holding one excepted: that is a 422)."""
    statuses = []
    for spoiled in (True, False):
        ctx = setting(world, route.status)
        data = route.data(ctx)
        response = send(world, "owner", route.path(ctx), with_nul(data) if spoiled else data)
        statuses.append(response.status_code)
    assert statuses[1] in (200, 303), statuses
    if TOKENS & set(route.data(_FAKE)):
        assert statuses[0] in (200, 400), statuses  # the confirm step again, or a bad move
    else:
        assert statuses[0] == (422 if "email" in route.data(_FAKE) else statuses[1]), statuses

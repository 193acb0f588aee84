"""The instructor's approval queue: with auto_approve_enrollments off, enrollments wait
until the owner (or a co-instructor with manage_students) approves or declines them.
Free and paid cases, htmx and plain, the confirmation before declining, pagination, and
every route as every actor, with nothing changed when refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.course_web import send, slug
from tests.support import enroll, gen_account, gen_course, gen_user, mismatches, pay
from tests.web import htmx, notified, sign_in, text

QUEUE = "/students/approvals"


@pytest.fixture(scope="module")
def world(world):
    """The shared cast (tests/conftest.py), with the owner approving enrollments by hand (set as
    the database owner, as the brief's setup says)."""
    assert world.database.value("UPDATE instructor_settings SET auto_approve_enrollments = false "
                                "WHERE user_id = %s RETURNING user_id", (world.users["owner"],))
    return world


def enrollment(world, course, actor="student") -> dict:
    return world.database.rows(
        "SELECT id, status::text, payment_status::text, amount_paid, updated_at FROM course_enrollments "
        "WHERE course_id = %s AND user_id = %s", (course.id, world.users[actor]))[0]


def revenue(world, course) -> list:
    return [row["amount"] for row in world.database.rows(
        "SELECT amount FROM revenue_transactions WHERE course_id = %s ORDER BY created_at", (course.id,))]


def flashes(world, actor: str) -> list[str]:
    with world.clients[actor].session_transaction() as session:
        return [message for _, message in session.pop("_flashes", [])]


def approve_url(row) -> str:
    return f"{QUEUE}/{row['id']}/approve"


def decline_url(row) -> str:
    return f"{QUEUE}/{row['id']}/decline"


def waiting_free(world, actor="student"):
    """A free course of the owner's, with ``actor`` enrolled through the web and waiting."""
    course = world.course()
    response = send(world, actor, f"/catalog/{slug(world, course)}/enroll")
    assert response.status_code == 303 and response.headers["Location"] == f"/catalog/{slug(world, course)}"
    return course, enrollment(world, course, actor)


def waiting_paid(world, price="60.00", actor="student"):
    """A paid course of the owner's: the student pays through the test provider and waits."""
    course = world.course(price=price)
    response = send(world, actor, f"/catalog/{slug(world, course)}/enroll")
    checkout = response.headers["Location"]
    assert re.fullmatch(r"/checkout/[0-9a-f-]{36}", checkout)
    paid = send(world, actor, f"{checkout}/pay")
    assert paid.status_code == 303 and paid.headers["Location"] == f"/catalog/{slug(world, course)}"
    return course, enrollment(world, course, actor)


def queue_ids(world, actor: str) -> set[str]:
    return set(re.findall(r'id="approval-([0-9a-f-]{36})"', text(world.clients[actor].get(QUEUE))))


# --- free ---------------------------------------------------------------------------------

def test_a_free_enrollment_waits_then_the_owner_approves_it(world):
    """Auto-approve off: the free enrollment waits (with a message), is in the queue, and approving enrolls."""
    course, row = waiting_free(world)
    assert (row["status"], row["payment_status"]) == ("pending", "completed")
    assert any("waiting for approval" in m for m in flashes(world, "student"))
    page = text(world.clients["owner"].get(QUEUE))
    listed = page[page.index(f'id="approval-{row["id"]}"'):]
    listed = listed[:listed.index("</tr>")]
    assert "Student" in listed and "Free" in listed and f'action="{approve_url(row)}"' in listed
    response = send(world, "owner", approve_url(row))
    assert response.status_code == 303 and response.headers["Location"] == QUEUE
    assert any("Approved" in m for m in flashes(world, "owner"))
    assert enrollment(world, course)["status"] == "enrolled"
    assert revenue(world, course) == [] and str(row["id"]) not in queue_ids(world, "owner")


def test_declining_asks_first_then_cancels(world):
    """Decline without confirmation shows the question and changes nothing; confirmed, it cancels."""
    course, row = waiting_free(world)
    asked = send(world, "owner", decline_url(row))
    page = text(asked)
    assert asked.status_code == 200 and "<html" in page and "Decline Student’s enrollment" in page
    assert 'name="confirm" value="yes"' in page and "Keep it waiting" in page
    assert enrollment(world, course) == row
    done = send(world, "owner", decline_url(row), {"confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == QUEUE
    assert any("Declined" in m for m in flashes(world, "owner"))
    assert enrollment(world, course)["status"] == "cancelled"


def test_the_queue_row_confirms_a_decline_in_place(world):
    """The row's decline is a disclosure holding the confirm button (keyboard-usable, no script)."""
    _, row = waiting_free(world)
    page = text(world.clients["owner"].get(QUEUE))
    listed = page[page.index(f'id="approval-{row["id"]}"'):]
    listed = listed[:listed.index("</tr>")]
    assert "<details" in listed and "<summary" in listed and 'name="confirm" value="yes"' in listed
    assert "Decline enrollment" in listed


def test_a_declined_student_can_enroll_again_and_waits_again(world):
    """After a decline the student may enroll again; the enrollment waits in the queue once more."""
    course, row = waiting_free(world)
    send(world, "owner", decline_url(row), {"confirm": "yes"})
    again = send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    assert again.status_code == 303
    assert enrollment(world, course)["status"] == "pending" and str(row["id"]) in queue_ids(world, "owner")


# --- paid -----------------------------------------------------------------------------------

def test_a_paid_enrollment_waits_after_payment_and_approval_writes_the_sale(world):
    """Paid through the test provider it waits (no sale yet); approving enrolls and writes one sale."""
    course, row = waiting_paid(world, price="60.00")
    assert (row["status"], row["payment_status"], row["amount_paid"]) == ("pending", "completed", Decimal("60.00"))
    assert any("waiting for approval" in m for m in flashes(world, "student"))
    assert revenue(world, course) == []
    assert "Paid $60.00" in text(world.clients["owner"].get(QUEUE))
    assert send(world, "owner", approve_url(row)).status_code == 303
    assert enrollment(world, course)["status"] == "enrolled"
    assert revenue(world, course) == [Decimal("60.00")]
    assert world.database.value("SELECT total_revenue FROM courses WHERE id = %s", (course.id,)) == Decimal("60.00")
    assert mismatches(world.database) == []


def test_declining_a_paid_enrollment_writes_no_sale_and_re_enrolling_does_not_charge_again(world):
    """A declined paid enrollment has no sale; enrolling again waits without a new checkout."""
    course, row = waiting_paid(world)
    send(world, "owner", decline_url(row), {"confirm": "yes"})
    assert enrollment(world, course)["status"] == "cancelled" and revenue(world, course) == []
    again = send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    assert again.status_code == 303 and again.headers["Location"] == f"/catalog/{slug(world, course)}"
    assert world.database.value("SELECT count(*) FROM checkouts WHERE course_id = %s", (course.id,)) == 1
    assert enrollment(world, course)["status"] == "pending"


def test_an_unpaid_enrollment_cannot_be_approved(world):
    """Awaiting payment: no approve button, and an approve POST changes nothing and says why."""
    course = world.course(price="20.00")
    send(world, "student", f"/catalog/{slug(world, course)}/enroll")
    row = enrollment(world, course)
    page = text(world.clients["owner"].get(QUEUE))
    listed = page[page.index(f'id="approval-{row["id"]}"'):]
    listed = listed[:listed.index("</tr>")]
    assert "Awaiting payment" in listed and approve_url(row) not in listed
    response = send(world, "owner", approve_url(row))
    assert response.status_code == 303 and any("has not paid" in m for m in flashes(world, "owner"))
    partial = send(world, "owner", approve_url(row), headers=htmx())
    body = text(partial)
    assert partial.status_code == 200 and "<html" not in body and "has not paid" in body
    assert notified(partial)["kind"] == "error" and "has not paid" in notified(partial)["message"]
    assert f'id="approval-{row["id"]}"' in body and "Awaiting payment" in body
    assert enrollment(world, course) == row


# --- htmx -------------------------------------------------------------------------------------

def test_htmx_approve_and_decline_replace_the_row(world):
    """With htmx the row comes back as an approved / declined row, not a page."""
    _, first = waiting_free(world)
    _, second = waiting_free(world, actor="other_student")
    approved = send(world, "owner", approve_url(first), headers=htmx())
    body = text(approved)
    assert approved.status_code == 200 and "<html" not in body
    assert f'id="approval-{first["id"]}"' in body and "Approved" in body and "approval--approved" in body
    assert notified(approved)["kind"] == "success" and notified(approved)["message"].startswith("Approved: ")
    declined = send(world, "owner", decline_url(second), {"confirm": "yes"}, headers=htmx())
    assert declined.status_code == 200 and "approval--declined" in text(declined)
    assert notified(declined)["message"].startswith("Declined: ")
    asked = send(world, "owner", decline_url(second), headers=htmx())
    assert asked.status_code == 200 and "Already decided" in text(asked)
    assert notified(asked)["kind"] == "info" and "already declined" in notified(asked)["message"]


def test_htmx_decline_without_confirmation_returns_the_question_row(world):
    """An htmx decline without confirm gets the confirmation row; nothing changes."""
    course, row = waiting_free(world)
    asked = send(world, "owner", decline_url(row), headers=htmx())
    body = text(asked)
    assert asked.status_code == 200 and "<html" not in body and "approval--confirm" in body
    assert enrollment(world, course) == row


def test_a_decision_already_made_is_reported_not_repeated(world):
    """Approving an enrollment already approved says so and changes nothing."""
    course, row = waiting_free(world)
    send(world, "owner", approve_url(row))
    flashes(world, "owner")
    before = enrollment(world, course)
    response = send(world, "owner", approve_url(row))
    assert response.status_code == 303 and any("already approved" in m for m in flashes(world, "owner"))
    assert enrollment(world, course) == before


# --- who sees and decides ------------------------------------------------------------------------

def test_the_queue_lists_what_the_viewer_may_decide(world):
    """Owner and the manage_students co-instructor see the row; other teachers and instructors do not."""
    _, row = waiting_free(world)
    assert str(row["id"]) in queue_ids(world, "owner")
    assert str(row["id"]) in queue_ids(world, "co_manage")
    for actor in ("co_view", "co_edit", "co_none", "co_revenue", "other_instructor"):
        assert str(row["id"]) not in queue_ids(world, actor), actor


def test_a_co_instructor_with_manage_students_approves(world):
    """manage_students is enough to approve."""
    course, row = waiting_free(world)
    assert send(world, "co_manage", approve_url(row)).status_code == 303
    assert enrollment(world, course)["status"] == "enrolled"


@pytest.mark.parametrize("action", ["approve", "decline"])
@pytest.mark.parametrize("actor, expected", [("anon", "sign in"), ("student", 404), ("other_student", 404),
                                             ("co_view", 404), ("co_none", 404), ("co_edit", 404),
                                             ("other_instructor", 404)])
def test_nobody_else_decides(world, action, actor, expected):
    """Everyone without manage_students on the course is refused (404, or sign in), and nothing changes."""
    course, row = waiting_free(world)
    response = send(world, actor, f"{QUEUE}/{row['id']}/{action}", {"confirm": "yes"})
    if expected == "sign in":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
    else:
        assert response.status_code == expected
    assert enrollment(world, course) == row


@pytest.mark.parametrize("actor, expected", [("anon", "sign in"), ("student", 404), ("other_student", 404),
                                             ("owner", 200), ("co_manage", 200), ("other_instructor", 200)])
def test_the_queue_page_as_every_actor(world, actor, expected):
    """Instructors open the queue (each sees their own); students get 404; visitors sign in."""
    response = world.clients[actor].get(QUEUE)
    if expected == "sign in":
        assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in?next=")
        return
    assert response.status_code == expected
    if expected == 200:
        assert "<html" in text(response) and "HX-Request" in response.headers["Vary"]
        partial = world.clients[actor].get(QUEUE, headers=htmx())
        assert partial.status_code == 200 and "<html" not in text(partial) and 'id="approvals"' in text(partial)


def test_an_instructor_with_nothing_waiting_sees_the_empty_state(world):
    """The empty queue explains when enrollments wait here and links to the settings."""
    page = text(world.clients["other_instructor"].get(QUEUE))
    assert "No enrollments are waiting for you" in page and 'href="/settings/"' in page


def test_an_unknown_enrollment_is_404(world):
    """Approve or decline an id that does not exist: 404."""
    for path in (f"{QUEUE}/00000000-0000-4000-8000-000000000000/approve",
                 f"{QUEUE}/00000000-0000-4000-8000-000000000000/decline"):
        assert send(world, "owner", path, {"confirm": "yes"}).status_code == 404


@pytest.mark.parametrize("action", ["approve", "decline"])
def test_posts_without_a_csrf_token_are_refused(world, action):
    """Approve and decline need the CSRF token: 400, nothing changes."""
    course, row = waiting_free(world)
    for actor in ("owner", "anon"):
        response = send(world, actor, f"{QUEUE}/{row['id']}/{action}", {"confirm": "yes"}, csrf=False)
        assert response.status_code == 400
    assert enrollment(world, course) == row


# --- pagination ---------------------------------------------------------------------------------

def test_the_queue_has_pages_of_twenty(world):
    """21 waiting enrollments: 20 on page one with a next link, the last on page two."""
    teacher, email = gen_account(world.database, "instructor", name="Busy Teacher")
    world.database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                         "RETURNING user_id", (teacher,))
    course = gen_course(world.database, teacher, price="10.00")
    for _ in range(21):
        pay(world.database, enroll(world.database, gen_user(world.database, "student"), course.id))
    client = world.app.test_client()
    sign_in(client, email)
    first = text(client.get(QUEUE))
    assert len(re.findall(r'id="approval-', first)) == 20 and "Showing 1–20 of 21" in first
    assert 'href="/students/approvals?page=2"' in first and "Page 1 of 2" in first
    second = text(client.get(f"{QUEUE}?page=2"))
    assert len(re.findall(r'id="approval-', second)) == 1 and 'rel="prev"' in second
    assert len(re.findall(r'id="approval-', text(client.get(f"{QUEUE}?page=99")))) == 1  # clamped to the last


def test_the_menu_marks_students_on_the_queue(world):
    """The queue belongs to the students area, so the menu marks Students as the current section."""
    page = text(world.clients["owner"].get(QUEUE))
    assert 'href="/students/" aria-current="true">Students<' in page

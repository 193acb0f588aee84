"""Certificates over HTTP: issued on completing a course that offers one, verified by
anyone (anonymous too) by its code on a printable page and as a PDF; an unknown code is a
404; a refunded enrollment's certificate reads as revoked."""

from __future__ import annotations

import re

import pytest

from portal.learning import certificates, queries
from tests.routes_learning import build_learning_world, close_world, lesson_path
from tests.support import Actor, complete_course
from tests.web import notified, text

ACTORS = ("anon", "student", "other", "owner", "other_instructor")


@pytest.fixture(scope="module")
def world(module_database):
    world = build_learning_world(module_database)
    yield world
    close_world()


def earn(world, actor="student", **course_options):
    """Complete a certificate course over HTTP; return (course, enrollment id, code)."""
    course = world.course(("text", "text"), certificate=True, **course_options)
    enrollment = world.enroll(actor, course)
    for lesson in course.lessons:
        world.post(actor, lesson_path(course, lesson, "complete"))
    code = world.database.value("SELECT code FROM certificates WHERE enrollment_id = %s", (enrollment,))
    assert code is not None
    return course, enrollment, code


def test_completing_a_certificate_course_issues_one_certificate(world):
    """One certificate with a 32-hex-digit code, its URL stored on the progress row, its facts frozen."""
    course, enrollment, code = earn(world, title="Certified Course")
    assert re.fullmatch(r"[0-9a-f]{32}", code)
    row = world.database.rows("SELECT * FROM certificates WHERE enrollment_id = %s", (enrollment,))
    assert len(row) == 1 and row[0]["student_name"] == "Ada Student" and row[0]["course_title"] == "Certified Course"
    assert row[0]["instructor_name"] == "Olive Owner"
    assert world.database.value("SELECT certificate_url FROM student_progress WHERE enrollment_id = %s",
                                (enrollment,)) == f"/certificates/{code}"


def test_a_course_without_certificates_issues_none(world):
    """Completing a course with certificates off issues none and shows no certificate link."""
    course = world.course(("text",), certificate=False)
    enrollment = world.enroll("student", course)
    response = world.post("student", lesson_path(course, course.lessons[0], "complete"), hx=True)
    body = text(response)
    assert "You have completed this course" in body and "Your certificate" not in body
    assert notified(response)["message"] == "You have completed the course. Well done!"
    assert world.database.value("SELECT count(*) FROM certificates WHERE enrollment_id = %s", (enrollment,)) == 0


@pytest.mark.parametrize("actor", ACTORS)
def test_certificate_page_is_public_by_its_code(world, actor):
    """Anyone (anonymous, any student, any instructor) can verify a certificate by its code."""
    _, _, code = earn(world, title="Public Proof")
    page = world.get(actor, f"/certificates/{code}")
    body = text(page)
    assert page.status_code == 200 and "<html" in body
    for fact in ("Ada Student", "Public Proof", "Olive Owner", "Valid.", f"http://localhost/certificates/{code}",
                 code, "Certificate of completion"):
        assert fact in body, fact
    assert "/static/css/learning.css" in body
    assert ("This is your certificate" in body) is (actor == "student")


def test_certificate_page_shows_the_issue_date(world):
    """The page shows the day the certificate was issued."""
    _, enrollment, code = earn(world)
    issued = world.database.value("SELECT to_char(issued_at AT TIME ZONE 'UTC', 'DD FMMonth YYYY') "
                                  "FROM certificates WHERE enrollment_id = %s", (enrollment,))
    assert issued in text(world.get("anon", f"/certificates/{code}"))


@pytest.mark.parametrize("code", ["0" * 32, "f" * 31, "not-a-code", "x" * 200])
def test_unknown_certificate_code_is_404(world, code):
    """A code no certificate has is a 404, as a page and as a PDF."""
    assert world.get("anon", f"/certificates/{code}").status_code == 404
    assert world.get("student", f"/certificates/{code}.pdf").status_code == 404


def test_certificate_pdf_is_a_landscape_pdf_with_the_facts_and_the_code(world):
    """The PDF: application/pdf, inline with a filename, starts with %PDF, holds the code and the verification URL."""
    _, _, code = earn(world, title="Portable Proof")
    response = world.get("anon", f"/certificates/{code}.pdf")
    data = response.get_data()
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="certificate-{code}.pdf"'
    assert data.startswith(b"%PDF") and code.encode() in data
    assert f"http://localhost/certificates/{code}".encode() in data  # the link annotation
    assert b"/MediaBox [0 0 841.89 595.28]" in data  # A4 landscape, in points


def test_certificate_pdf_renders_names_in_any_script(world):
    """Names outside Latin-1 print (with a Unicode font) or fall back, but never fail."""
    found = queries.VerifiedCertificate(code="a" * 32, student_name="Łukasz Żółć 李小龍", course_title="Ünïcödé — 101",
                                        instructor_name="Zoë", issued_at=None, course_slug=None, revoked=False)
    data = certificates.certificate_pdf(found, "http://localhost/certificates/" + "a" * 32, "01 January 2030")
    assert data.startswith(b"%PDF") and b"a" * 32 in data
    assert certificates._latin1("Zoë Łukasz") == "Zoe ?ukasz"


def test_certificate_page_is_printable(world):
    """The certificate's stylesheet has print rules that hide the site's chrome."""
    css = world.get("anon", "/static/css/learning.css")
    body = text(css)
    assert css.status_code == 200 and "@media print" in body and ".site-header" in body.split("@media print", 1)[1]


def test_refunded_enrollment_makes_its_certificate_revoked(world):
    """After a refund the certificate still verifies, as revoked (page and PDF)."""
    world.add_student("refunded", name="Rita Refund")
    course = world.course(("text",), certificate=True, price="30.00", title="Refundable")
    enrollment = complete_course(world.database, world.users["refunded"], course)
    code = world.database.value("SELECT code FROM certificates WHERE enrollment_id = %s", (enrollment,))
    assert "Valid." in text(world.get("anon", f"/certificates/{code}"))
    with world.database.act(Actor.service()) as cur:
        cur.execute("SELECT refund_course_enrollment(%s)", (enrollment,))
    body = text(world.get("anon", f"/certificates/{code}"))
    assert "Revoked." in body and "Valid." not in body and "Rita Refund" in body
    assert b"REVOKED" in world.get("anon", f"/certificates/{code}.pdf").get_data()
    assert world.get("refunded", f"/learn/{world.database.value('SELECT slug FROM courses WHERE id = %s', (course.id,))}/"
                     ).status_code == 404


def test_another_students_certificate_gives_no_access_to_their_course(world):
    """Knowing someone's certificate code opens the public page only: their lessons and progress stay 404."""
    course, _, code = earn(world)
    assert world.get("other", f"/certificates/{code}").status_code == 200
    assert "This is your certificate" not in text(world.get("other", f"/certificates/{code}"))
    assert world.get("other", lesson_path(course, course.lessons[0])).status_code == 404
    assert world.get("other", f"/learn/{course.slug}/").status_code == 404
    assert world.post("other", lesson_path(course, course.lessons[0], "complete")).status_code == 404


def test_another_students_certificate_is_reached_by_its_code_only(world):
    """Ids another student could come by (the enrollment's, the certificate row's, the owner's) open nothing."""
    _, enrollment, code = earn(world)
    row_id = world.database.value("SELECT id FROM certificates WHERE code = %s", (code,))
    for guess in (enrollment, row_id, world.users["student"], code[:16]):
        for suffix in ("", ".pdf"):
            assert world.get("other", f"/certificates/{guess}{suffix}").status_code == 404
    assert world.get("other", f"/certificates/{code}").status_code == 200

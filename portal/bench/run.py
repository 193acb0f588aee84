"""``bench run``: every measurement on one generated dataset, in a fixed order,
each bounded (rounds, requests, timeouts, a time budget per page)."""

from __future__ import annotations

import logging
import os
import secrets
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

import click
import psycopg2

from portal.bench import load, measure, writes
from portal.bench.generate import PASSWORD, top_email
from portal.bench.timing import ratio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    rounds: int           # interleaved rounds per SQL ratio
    requests: int         # HTTP requests per page
    budget: float         # seconds after which no new request (or round) starts, per page
    timeout: float        # seconds one HTTP request may take
    throughput_requests: int
    slow_page: float = 30.0  # seconds: a page whose single request takes longer is not loaded
    alone: int = 20          # requests one after another, before the load (p50 and p95 "alone")


SETTINGS = {
    "smoke": Settings(rounds=3, requests=8, budget=20, timeout=30, throughput_requests=16, alone=3),
    "10k": Settings(rounds=9, requests=64, budget=60, timeout=60, throughput_requests=200),
    "100k": Settings(rounds=7, requests=48, budget=90, timeout=120, throughput_requests=120),
    "1m": Settings(rounds=5, requests=16, budget=240, timeout=600, throughput_requests=24),
}
CONCURRENCY = 8


# Fragments a page loads with htmx after it has loaded: asked for as htmx asks (opened as a page,
# /students/at-risk redirects to the roster's at-risk students).
FRAGMENTS = {"/students/at-risk"}
HTMX = {"HX-Request": "true"}


def _headers(path: str) -> dict | None:
    return HTMX if path in FRAGMENTS else None


def pages(course_id, student_id, lesson_id=None) -> list[tuple[str, str]]:
    """Every instructor page with queries of its own (the placeholder areas have none); ``lesson_id``
    is the biggest course's first lesson (its discussion's pages; left out without one)."""
    course = f"/courses/{course_id}"
    return [("dashboard", "/dashboard"), ("dashboard activity (first page)", "/dashboard/activity"),
            ("course list", "/courses/"), ("course details (biggest course)", course),
            ("course insight (biggest course)", f"{course}/insight"),
            ("curriculum (biggest course)", f"{course}/curriculum"),
            ("drip and early unlocks (biggest course)", f"{course}/drip"),
            ("team (biggest course)", f"{course}/team"), ("approvals queue", "/students/approvals"),
            ("notifications (first page)", "/notifications/"), ("settings", "/settings/"),
            ("profile editor", "/settings/profile"), ("account", "/account/"),
            ("reviews inbox (first page)", "/reviews/"),
            ("reviews inbox (unanswered, biggest course)", f"/reviews/?answered=unanswered&course={course_id}"),
            # issue 15: the students roster, first page of each order, the at-risk filter, a search
            ("students roster (first page, last active)", "/students/"),
            ("students roster (progress, lowest first)", "/students/?sort=progress"),
            ("students roster (engagement, highest first)", "/students/?sort=engagement_highest"),
            ("students roster (enrolled, newest first)", "/students/?sort=enrolled"),
            ("students roster (last active, longest ago first)", "/students/?sort=activity_oldest"),
            ("students roster (biggest course)", f"/students/?course={course_id}&sort=progress"),
            ("students roster (at risk)", "/students/?risk=at_risk"),
            ("students at risk count (the dashboard loads it after the page)", "/students/at-risk"),
            ("students roster (at risk, biggest course)", f"/students/?risk=at_risk&course={course_id}"),
            ("students roster (search a name)", "/students/?q=noor+okafor"),
            ("students roster (search an email)", "/students/?q=student4242"),
            ("a student's page (the biggest course's first student)", f"/students/{student_id}"),
            ("students activity timeline (first page)", "/students/activity"),
            ("bulk enrollment form", "/students/enroll"), ("announcements", "/students/announcements"),
            ("open invitations", "/students/invitations"),
            # issue 16: revenue (the period's figures read the instructor's rows of the period)
            ("revenue overview (this month)", "/revenue/"),
            ("revenue overview (this year)", "/revenue/?period=year"),
            ("revenue overview (biggest course, this year)", f"/revenue/?period=year&item=course:{course_id}"),
            ("revenue transactions (first page, all time)", "/revenue/transactions?period=all"),
            ("revenue transactions (biggest course, refunds)",
             f"/revenue/transactions?period=all&item=course:{course_id}&kind=refund"),
            ("payouts", "/revenue/payouts"),
            # issue 19: the teachers' side of the discussions (the generator writes ~0.2 comments and
            # 0.05 questions per enrollment; the biggest course's first lesson has the most comments)
            ("unanswered questions inbox (first page)", "/discussions/inbox"),
            ("grading queue (first page)", "/discussions/grading"),
            ("course questions (biggest course, first page)", f"/discussions/courses/{course_id}/questions"),
            *([("lesson comments (biggest course's first lesson, first page)",
                f"/discussions/lessons/{lesson_id}/comments"),
               ("lesson questions (biggest course's first lesson, first page)",
                f"/discussions/lessons/{lesson_id}/questions")] if lesson_id else []),
            # issue 14: the workshops list (each tab's first page), the feedback comparison
            ("workshops (upcoming, first page)", "/workshops/"),
            ("workshops (past, first page)", "/workshops/?tab=past"),
            ("workshops (most registrations)", "/workshops/?sort=registrations"),
            ("feedback across workshops", "/workshops/feedback")]


# issue 17: the platform admin's and an organization admin's pages, each signed in as that person.
ADMIN_PAGES = [("admin: overview", "/admin/"), ("admin: users (first page)", "/admin/users"),
               ("admin: users (search a name)", "/admin/users?q=noor+okafor"),
               ("admin: organizations", "/admin/organizations"), ("admin: job queue", "/admin/jobs"),
               ("admin: moderation queue", "/admin/moderation/"), ("admin: audit log", "/audit/")]
ORG_ADMIN_PAGES = [("org admin: organization home", "/organization/"),
                   ("org admin: courses (first page)", "/organization/courses"),
                   ("org admin: workshops (first page)", "/organization/workshops"),
                   ("org admin: instructors (first page)", "/organization/instructors"),
                   ("org admin: audit log", "/audit/")]


def personas(ids: dict) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(email, user id, pages) of each person measured: the largest instructor, the platform admin and
    the admin of the largest organization."""
    return [(top_email(), ids["instructor"], pages(ids["course"], ids["student"], ids["lesson"])),
            (ids["admin_email"], ids["admin"], ADMIN_PAGES),
            (ids["org_admin_email"], ids["org_admin"], ORG_ADMIN_PAGES)]


def subjects(owner_url: str) -> dict:
    """The ids the measurements need: the largest instructor, their biggest course and biggest free course,
    the platform admin, and the admin of the organization with the most courses."""
    with psycopg2.connect(owner_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE email = %s", (top_email(),))
        instructor = cur.fetchone()[0]
        cur.execute("""SELECT c.id, c.price_amount, count(e.id) FROM courses c
                       LEFT JOIN course_enrollments e ON e.course_id = c.id
                       WHERE c.instructor_id = %s AND c.status = 'published'
                       GROUP BY c.id ORDER BY count(e.id) DESC""", (instructor,))
        courses = cur.fetchall()
        cur.execute("SELECT user_id FROM course_enrollments WHERE course_id = %s ORDER BY enrolled_at, id LIMIT 1",
                    (courses[0][0],))
        student = cur.fetchone()[0]
        cur.execute("""SELECT l.id FROM course_lessons l JOIN course_modules m ON m.id = l.module_id
                       WHERE l.course_id = %s ORDER BY m.position, l.position LIMIT 1""", (courses[0][0],))
        lesson = cur.fetchone()[0]
        cur.execute("SELECT total_students FROM instructor_profiles WHERE user_id = %s", (instructor,))
        students = cur.fetchone()[0]
        cur.execute("SELECT id, email::text FROM users WHERE role = 'admin' AND is_active ORDER BY created_at, id LIMIT 1")
        admin = cur.fetchone()
        cur.execute("""SELECT u.id, u.email::text FROM users u
                       WHERE u.role = 'org_admin' AND u.is_active
                       ORDER BY (SELECT count(*) FROM courses c WHERE c.organization_id = u.organization_id) DESC, u.id
                       LIMIT 1""")
        org_admin = cur.fetchone()
        cur.execute("SELECT split_part(version(), ' ', 2), current_setting('server_version')")
        version = cur.fetchone()[1]
    conn.close()
    free = next(c for c in courses if c[1] == 0)
    return {"instructor": instructor, "course": courses[0][0], "course_enrollments": courses[0][2], "student": student,
            "lesson": lesson,
            "free_course": free[0], "students": students, "postgres": version,
            "admin": admin[0], "admin_email": admin[1], "org_admin": org_admin[0], "org_admin_email": org_admin[1]}


def sql_pages(urls, ids: dict, settings: Settings) -> list[dict]:
    """Capture each page's statements through the Flask test client, signed in as its person, then time
    them on both sides with that person's claims."""
    from portal import create_app

    app = create_app({"DATABASE_URL": urls.app, "SECRET_KEY": secrets.token_urlsafe(32),
                      "WTF_CSRF_ENABLED": False, "DATABASE_POOL_SIZE": 2})
    results = []
    for email, user_id, their_pages in personas(ids):
        client = app.test_client()
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
        if response.status_code not in (302, 303):
            raise click.ClickException(f"signing in as {email} answered {response.status_code}")
        sides = measure.Sides.open(urls, user_id)
        try:
            for name, path in their_pages:
                status, statements = measure.capture(client, path, _headers(path))
                log.info("page %s: %s, %d statements", name, status, len(statements))
                result = measure.measure_page(sides, name, statements, settings.rounds, settings.budget)
                result["status"] = status
                results.append(result)
        finally:
            sides.close()
    return results


def http_pages(urls, ids: dict, settings: Settings) -> dict:
    workers = load.serve.worker_count()
    with load.gunicorn(urls.app, ids["course"], workers, int(settings.timeout) + 30) as port:
        results = []
        alone = {}
        for email, _, their_pages in personas(ids):
            their_cookie = load.sign_in(port, email, PASSWORD)
            for name, path in their_pages:
                click.echo(f"  load: {name}")
                results.append(load_page(port, their_cookie, name, path, settings))
                alone.setdefault(path, results[-1]["alone_ms"])
        cookie = load.sign_in(port, top_email(), PASSWORD)
        click.echo("  throughput: dashboard vs bare page")
        if alone["/dashboard"] is None or alone["/dashboard"] > settings.slow_page * 1000:
            rates = {"dashboard": None, "bare": None}  # one request alone is too slow to load
        else:
            rates = load.throughput(port, cookie, {"dashboard": "/dashboard", "bare": "/_bench/bare"},
                                    settings.throughput_requests, CONCURRENCY, settings.timeout, settings.budget)
    return {"workers": workers, "concurrency": CONCURRENCY, "pages": results,
            "throughput": {"dashboard_rps": rates["dashboard"], "bare_rps": rates["bare"],
                           "bare_over_dashboard": ratio(rates["bare"], rates["dashboard"]), "rounds": 3,
                           "requests_per_round": settings.throughput_requests,
                           "dashboard_alone_ms": alone["/dashboard"]}}


def load_page(port: int, cookie: str, name: str, path: str, settings: Settings) -> dict:
    """One request alone; unless it was slower than ``settings.slow_page`` (such a page is reported,
    not hammered), ``settings.alone`` more one after another (their server p50 and p95 are the page's
    "alone" figures: what one user waits on an otherwise idle server), then the bounded load."""
    first = load.hammer(port, path, cookie, 1, 1, settings.timeout, settings.budget, _headers(path)).report()
    result = {"name": name, "path": path, "alone_ms": first["server_p50_ms"], "loaded": False}
    if first["server_p50_ms"] is None or first["server_p50_ms"] > settings.slow_page * 1000:
        return {**result, **first}
    alone = load.hammer(port, path, cookie, settings.alone, 1, settings.timeout, settings.budget,
                        _headers(path)).report()
    result.update(alone_ms=alone["server_p50_ms"], alone_p95_ms=alone["server_p95_ms"])
    outcome = load.hammer(port, path, cookie, settings.requests, CONCURRENCY, settings.timeout, settings.budget,
                          _headers(path))
    return {**result, **outcome.report(), "loaded": True}


def measure_all(urls, size: str, settings: Settings, generation: dict | None) -> dict:
    """Every measurement; the result that report.save() writes."""
    started = "load average {:.2f} {:.2f} {:.2f} before measuring".format(*os.getloadavg())
    ids = subjects(urls.owner)
    sides = measure.Sides.open(urls, ids["instructor"])
    try:
        click.echo("helpers...")
        helpers = measure.measure_helpers(sides, ids["instructor"], ids["course"], settings.rounds)
        click.echo("pages' statements...")
        pages_sql = sql_pages(urls, ids, settings)
    finally:
        sides.close()
    click.echo("pages under load...")
    pages_http = http_pages(urls, ids, settings)
    click.echo("inserts...")
    inserts = writes.measure_inserts(urls, ids["course"], max(settings.rounds * 2, 10))
    click.echo("50 concurrent enrollments...")
    concurrency = writes.concurrent_enrollments(urls, ids["free_course"], timeout=settings.timeout)
    return {
        "size": size,
        "meta": {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "postgres": ids["postgres"],
                 "nproc": os.cpu_count(), "command": "python -m portal " + shlex.join(sys.argv[1:]),
                 "load_average": [round(x, 2) for x in os.getloadavg()], "started": started,
                 "instructor_students": ids["students"], "biggest_course_enrollments": ids["course_enrollments"],
                 "settings": settings.__dict__},
        "generation": generation,
        "helpers": helpers, "pages_sql": pages_sql, "pages_http": pages_http,
        "inserts": inserts, "concurrency": concurrency,
    }

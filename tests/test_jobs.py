"""Notifications and background jobs (schema/010, portal/jobs, portal/mail.py), against a real
PostgreSQL and, for email, a real SMTP server (aiosmtpd) on this machine:

* the outbox: a notice and its email job are written in the act's transaction, or not at all;
* each person's preferences decide the channels, per event;
* a delivery that fails is retried with a growing wait, then is dead, and an admin's retry
  sends it;
* the scheduled jobs do their work once per period, however many workers defer them;
* the worker runs as portal_worker.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
from datetime import datetime, timedelta, timezone

import croniter
import psycopg2
import pytest
from aiosmtpd.controller import Controller
from procrastinate.periodic import MAX_DELAY, PeriodicDeferrer

from portal.jobs import make_queue
from portal.jobs.tasks import JOBS
from portal.jobs.worker import build, work
from portal.notifications import events
from tests.support import (Actor, enroll, gen_course, gen_lesson, gen_module, gen_user, gen_workshop,
                           register, run_async)
from tests.web import close_app


# --- a real SMTP server -------------------------------------------------------------------

class Inbox:
    """An SMTP server's handler: accepts (or, while ``refusing``, refuses with 451) each message."""

    def __init__(self):
        self.messages = []
        self.refusing = False

    async def handle_DATA(self, server, session, envelope):
        if self.refusing:
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _run_worker(database, queues=("email",), **config):
    """Run a worker (no schedule of its own) until no job of ``queues`` is due."""
    queue, runtime, concurrency = build(database.app_dsn, flask_config={
        "SECRET_KEY": "test-secret", "TESTING": True, **config}, concurrency=2, periodic=False)

    async def once():
        async with queue.open_async():
            await work(queue, runtime, concurrency, wait=False, queues=list(queues),
                       install_signal_handlers=False)
    try:
        run_async(once)
    finally:
        runtime.database.close()
        close_app()
    return runtime


def _smtp_config(port: int) -> dict:
    return {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
            "PORTAL_URL": "https://portal.example.test", "EMAIL_ATTEMPTS": 3, "JOB_RETRY_WAIT": 60}


def _notices(database, user):
    return database.rows("SELECT * FROM notifications WHERE user_id = %s ORDER BY created_at, id", (user,))


def _email_jobs(database):
    return database.rows("SELECT * FROM procrastinate.procrastinate_jobs WHERE task_name = 'deliver_email' "
                         "ORDER BY id")


# --- the outbox ----------------------------------------------------------------------------

def test_an_enrollment_writes_its_notice_and_email_job_in_its_own_transaction(database):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student", name="Ada Park")
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    [notice] = _notices(database, teacher)
    assert notice["event_type"] == "new_enrollment" and notice["in_portal"] and notice["email_state"] == "pending"
    assert notice["payload"]["student_name"] == "Ada Park" and notice["payload"]["kind"] == "enrolled"
    [job] = _email_jobs(database)
    assert job["args"] == {"notification_id": str(notice["id"])} and job["status"] == "todo"
    assert job["queue_name"] == "email"
    assert enrollment is not None


def test_a_rolled_back_act_leaves_no_notice_and_no_job(database):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    course = gen_course(database, teacher)
    with database.attempt(Actor.user(student)) as cur:   # enrolls, then rolls back
        cur.execute("SELECT enroll_in_course(%s)", (course.id,))
        cur.execute("SELECT count(*) AS n FROM notifications")  # the student cannot see the teacher's
        assert cur.fetchone()["n"] == 0
    assert database.value("SELECT count(*) FROM course_enrollments WHERE user_id = %s", (student,)) == 0
    assert _notices(database, teacher) == []
    assert _email_jobs(database) == []


def test_a_failed_act_leaves_no_notice(database):
    """An enrollment refused by the database (the teacher enrolling in their own course) writes nothing."""
    teacher = gen_user(database, "instructor")
    course = gen_course(database, teacher)
    with pytest.raises(psycopg2.Error):
        enroll(database, teacher, course.id)
    assert database.value("SELECT count(*) FROM notifications") == 0
    assert _email_jobs(database) == []


def test_decisions_reach_the_student_and_requests_the_teacher(database):
    """With approval on: a request tells the teacher, the decline tells the student (not when the
    student withdraws themself), a later approval confirms."""
    teacher = gen_user(database, "instructor")
    database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                   "RETURNING 1", (teacher,))
    course = gen_course(database, teacher)
    declined, withdrawn, approved = (gen_user(database, "student") for _ in range(3))
    ids = {s: enroll(database, s, course.id) for s in (declined, withdrawn, approved)}
    kinds = [n["payload"]["kind"] for n in _notices(database, teacher)]
    assert kinds == ["request", "request", "request"]
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (ids[declined],))
        cur.execute("UPDATE course_enrollments SET status = 'enrolled' WHERE id = %s", (ids[approved],))
    with database.act(Actor.user(withdrawn)) as cur:
        cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (ids[withdrawn],))
    assert [n["payload"]["kind"] for n in _notices(database, declined)] == ["declined"]
    assert _notices(database, withdrawn) == []
    assert [n["payload"]["kind"] for n in _notices(database, approved)] == ["confirmed"]
    assert [n["payload"]["kind"] for n in _notices(database, teacher)][-1] == "enrolled"


def test_reviews_and_answers_are_announced(database):
    teacher, student = gen_user(database, "instructor", name="Maya Chen"), gen_user(database, "student")
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    database.value("UPDATE course_enrollments SET status = 'completed', completed_at = now() WHERE id = %s "
                   "RETURNING 1", (enrollment,))
    with database.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO course_reviews (course_id, user_id, rating) VALUES (%s, %s, 4) RETURNING id",
                    (course.id, student))
        review = cur.fetchone()["id"]
    assert _notices(database, teacher)[-1]["payload"]["rating"] == 4
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE course_reviews SET instructor_response = 'Thank you!' WHERE id = %s", (review,))
    with database.act(Actor.user(teacher)) as cur:   # an edit of the answer is not announced again
        cur.execute("UPDATE course_reviews SET instructor_response = 'Thanks a lot!' WHERE id = %s", (review,))
    [answer] = [n for n in _notices(database, student) if n["event_type"] == "review_response"]
    assert answer["payload"]["instructor_name"] == "Maya Chen"


# --- preferences ---------------------------------------------------------------------------

@pytest.mark.parametrize("email, push, expected", [
    (None, None, (True, "pending")),            # the event's defaults: both
    (False, None, (True, "off")),
    (None, False, (False, "pending")),
    (False, False, None),                       # neither: no notice at all
])
def test_the_instructors_settings_choose_the_channels(database, email, push, expected):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    settings = {"email_notifications": email, "push_notifications": push}
    for column, value in settings.items():
        if value is not None:
            database.value(f"UPDATE instructor_settings SET {column} = {column} || jsonb_build_object("
                           f"'new_enrollment', %s::boolean) WHERE user_id = %s RETURNING 1", (value, teacher))
    enroll(database, student, gen_course(database, teacher).id)
    notices = _notices(database, teacher)
    if expected is None:
        assert notices == [] and _email_jobs(database) == []
        return
    [notice] = notices
    assert (notice["in_portal"], notice["email_state"]) == expected
    assert len(_email_jobs(database)) == (1 if expected[1] == "pending" else 0)


def test_a_students_own_settings_choose_theirs_and_other_events_keep_their_defaults(database):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    with database.act(Actor.user(student)) as cur:
        cur.execute("INSERT INTO notification_settings (user_id, email_notifications, push_notifications) "
                    "VALUES (%s, '{\"enrollment_update\": false}', '{\"certificate_issued\": false}')", (student,))
    database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                   "RETURNING 1", (teacher,))
    enrollment = enroll(database, student, gen_course(database, teacher).id)
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("UPDATE course_enrollments SET status = 'enrolled' WHERE id = %s", (enrollment,))
    [confirmed] = _notices(database, student)
    assert (confirmed["in_portal"], confirmed["email_state"]) == (True, "off")


def test_a_deactivated_account_is_told_nothing(database):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    course = gen_course(database, teacher)
    database.value("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (teacher,))
    enroll(database, student, course.id)
    assert _notices(database, teacher) == [] and _email_jobs(database) == []


# --- delivery ------------------------------------------------------------------------------

def test_the_worker_sends_the_email_by_smtp_in_the_readers_time_zone(database, smtp):
    inbox, port = smtp
    teacher = gen_user(database, "instructor", name="Maya\nChen")
    database.value("UPDATE instructor_settings SET timezone = 'Asia/Tokyo' WHERE user_id = %s RETURNING 1",
                   (teacher,))
    student = gen_user(database, "student")
    workshop = gen_workshop(database, teacher, title="Live Q&A\r\nBcc: evil@example.test",
                            starts_in=timedelta(hours=3))
    register(database, student, workshop)
    assert database.value("SELECT private.send_workshop_reminders()") == 2   # the student and the teacher
    _run_worker(database, **_smtp_config(port))
    assert len(inbox.messages) == 2
    [message] = [m for m in inbox.messages if "Maya" in m["To"]]
    # A title with a line break cannot add a header: the subject is one line.
    assert "\n" not in message["Subject"] and "Bcc" not in message and message["Subject"].startswith("Live Q&A Bcc")
    text = message.get_body(preferencelist=("plain",)).get_content()
    start = database.value("SELECT start_time FROM workshops WHERE id = %s", (workshop,))
    assert start.astimezone(events.zone("Asia/Tokyo")).strftime("%H:%M JST") in text
    assert "You are teaching it." in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Live Q&amp;A" in html   # escaped in the HTML part
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://portal.example.test/notifications/unsubscribe/") and unsubscribe in text
    states = database.rows("SELECT email_state, email_attempts, email_sent_at FROM notifications")
    assert all(s["email_state"] == "sent" and s["email_attempts"] == 1 and s["email_sent_at"] for s in states)
    assert {j["status"] for j in _email_jobs(database)} == {"succeeded"}


def test_a_failing_delivery_backs_off_then_is_dead_and_an_admin_retry_sends_it(database, smtp):
    inbox, port = smtp
    inbox.refusing = True
    config = _smtp_config(port)   # three attempts in all, the first retry 60 s later
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    admin = gen_user(database, "admin")
    enroll(database, student, gen_course(database, teacher).id)
    [notice] = _notices(database, teacher)
    waits = []
    for attempt in (1, 2):
        started = datetime.now(timezone.utc)
        _run_worker(database, **config)
        [job] = _email_jobs(database)
        assert (job["status"], job["attempts"]) == ("todo", attempt)
        waits.append((job["scheduled_at"] - started).total_seconds())
        [notice] = _notices(database, teacher)
        assert (notice["email_state"], notice["email_attempts"]) == ("pending", attempt)
        assert "451" in notice["email_error"]
        database.value("UPDATE procrastinate.procrastinate_jobs SET scheduled_at = now() WHERE id = %s "
                       "RETURNING 1", (job["id"],))   # the wait has passed
    assert 60 <= waits[0] < 70 and 120 <= waits[1] < 130   # each wait twice the one before
    _run_worker(database, **config)   # the third and last attempt
    [job] = _email_jobs(database)
    assert job["status"] == "failed"
    [notice] = _notices(database, teacher)
    assert (notice["email_state"], notice["email_attempts"]) == ("failed", 3)
    assert "451" in database.value("SELECT error FROM private.job_errors WHERE job_id = %s", (job["id"],))
    with database.act(Actor.user(admin)) as cur:
        cur.execute("SELECT state, jobs FROM job_queue_counts()")
        assert dict((r["state"], r["jobs"]) for r in cur.fetchall())["dead"] == 1
        cur.execute("SELECT id, error FROM job_queue_jobs('dead')")
        [dead] = cur.fetchall()
        assert dead["id"] == job["id"] and "451" in dead["error"]
        cur.execute("SELECT retry_dead_job(%s)", (job["id"],))
    assert _notices(database, teacher)[0]["email_state"] == "pending"
    inbox.refusing = False
    _run_worker(database, **config)
    assert len(inbox.messages) == 1 and _notices(database, teacher)[0]["email_state"] == "sent"


def test_a_notice_already_sent_is_not_sent_again(database, tmp_path):
    """A job that runs twice (a worker died after sending) sends once: the handler checks the state."""
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    enroll(database, student, gen_course(database, teacher).id)
    capture = {"MAIL_BACKEND": "capture", "MAIL_CAPTURE_DIR": str(tmp_path / "mail")}
    _run_worker(database, **capture)
    database.value("UPDATE procrastinate.procrastinate_jobs SET status = 'todo' RETURNING 1")
    _run_worker(database, **capture)
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 1


def test_the_worker_runs_as_portal_worker_with_no_table_of_its_own(database, tmp_path):
    runtime = _run_worker(database, MAIL_BACKEND="capture", MAIL_CAPTURE_DIR=str(tmp_path))
    from portal.jobs import WorkerDatabase
    worker_db = WorkerDatabase(database.app_dsn, size=1)
    try:
        with worker_db.transaction() as cur:
            cur.execute("SELECT current_user, session_user")
            assert tuple(cur.fetchone()) == ("portal_worker", "authenticator")
        with pytest.raises(Exception, match="permission denied"):
            with worker_db.transaction() as cur:
                cur.execute("SELECT count(*) FROM public.users")
    finally:
        worker_db.close()
    assert runtime.app.config["MAIL_BACKEND"] == "capture"


# --- the schedule --------------------------------------------------------------------------

def test_each_period_is_deferred_once_however_many_workers_defer_it(database):
    """Two workers' schedulers at the same moment queue one job per periodic task and period."""
    config = {"EMAIL_ATTEMPTS": 3, "JOB_RETRY_WAIT": 60}
    queues = [make_queue(database.app_dsn, config) for _ in range(2)]
    at = time.time()

    async def both():
        async with queues[0].open_async(), queues[1].open_async():
            deferrers = [PeriodicDeferrer(registry=q.periodic_registry) for q in queues]
            await asyncio.gather(*(d.defer_jobs(list(d.get_previous_tasks(at=at))) for d in deferrers))
            await asyncio.gather(*(d.defer_jobs(list(d.get_previous_tasks(at=at + 1))) for d in deferrers))
    run_async(both)
    due = {job.function.__name__: round(croniter.croniter(job.cron, at).get_prev(float))
           for job in JOBS if job.cron}
    expected = {name for name, tick in due.items() if at - tick <= MAX_DELAY}
    rows = database.rows("SELECT task_name, (args->>'timestamp')::bigint AS tick, count(*) AS n "
                         "FROM procrastinate.procrastinate_jobs GROUP BY 1, 2")
    assert {r["task_name"] for r in rows} == expected and expected >= {"send_workshop_reminders"}
    assert all(r["n"] == 1 and r["tick"] == due[r["task_name"]] for r in rows)


def _run_job(database, name: str, **config):
    """Queue one run of a scheduled job, as its schedule would, and let a worker run it."""
    queue = make_queue(database.app_dsn, {"EMAIL_ATTEMPTS": 3, "JOB_RETRY_WAIT": 60}, periodic=False)

    async def defer():
        async with queue.open_async():
            await queue.tasks[name].defer_async(timestamp=int(time.time()))
    run_async(defer)
    _run_worker(database, queues=("maintenance",), **config)
    return database.rows("SELECT status FROM procrastinate.procrastinate_jobs WHERE task_name = %s", (name,))


def test_workshop_reminders_come_24_hours_and_1_hour_before_once_each(database):
    teacher, student, waitlisted = (gen_user(database, r) for r in ("instructor", "student", "student"))
    soon = gen_workshop(database, teacher, starts_in=timedelta(minutes=40), capacity=1)
    later = gen_workshop(database, teacher, starts_in=timedelta(hours=20))
    gen_workshop(database, teacher, starts_in=timedelta(days=3))            # too far: nothing yet
    gen_workshop(database, teacher, starts_in=timedelta(hours=5), status="draft")
    register(database, student, soon)
    register(database, waitlisted, soon)                                    # no seat: not reminded
    register(database, student, later)
    assert [r["status"] for r in _run_job(database, "send_workshop_reminders")] == ["succeeded"]
    leads = sorted((n["payload"]["lead"], str(n["payload"]["workshop_id"]) == str(soon))
                   for n in _notices(database, student))
    assert leads == [("1h", True), ("24h", False)]
    assert len(_notices(database, teacher)) == 2 and _notices(database, waitlisted) == []
    assert database.value("SELECT private.send_workshop_reminders()") == 0  # once each
    # A workshop moved later is reminded again for its new time.
    database.value("UPDATE workshops SET start_time = start_time + interval '2 hours', "
                   "end_time = end_time + interval '2 hours' WHERE id = %s RETURNING 1", (soon,))
    assert database.value("SELECT private.send_workshop_reminders()") == 2


def test_checkouts_left_open_expire(database):
    teacher, student, other = gen_user(database, "instructor"), gen_user(database, "student"), \
        gen_user(database, "student")
    course = gen_course(database, teacher, price="49")
    stale, fresh = enroll(database, student, course.id), enroll(database, other, course.id)
    for who, enrollment in ((student, stale), (other, fresh)):
        with database.act(Actor.user(who)) as cur:
            cur.execute("SELECT start_checkout(%s, 'test')", (enrollment,))
    database.value("UPDATE checkouts SET created_at = now() - interval '25 hours' WHERE enrollment_id = %s "
                   "RETURNING 1", (stale,))
    assert [r["status"] for r in _run_job(database, "expire_checkouts", CHECKOUT_TTL="24 hours")] == ["succeeded"]
    rows = {r["enrollment_id"]: r for r in database.rows("SELECT * FROM checkouts")}
    assert rows[stale]["status"] == "failed" and "expired" in rows[stale]["failure_reason"]
    assert rows[fresh]["status"] == "open"
    with database.act(Actor.user(student)) as cur:   # the student can start again
        cur.execute("SELECT start_checkout(%s, 'test') AS id", (stale,))
        assert cur.fetchone()["id"] != rows[stale]["id"]


def test_the_nightly_verification_alerts_every_admin_once(database):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    admins = [gen_user(database, "admin") for _ in range(2)]
    course = gen_course(database, teacher)
    enroll(database, student, course.id)
    assert _run_job(database, "verify_figures")[0]["status"] == "succeeded"
    assert all(_notices(database, a) == [] for a in admins)     # all figures right: no alert
    database.value("UPDATE courses SET enrolled_count = 7 WHERE id = %s RETURNING 1", (course.id,))
    _run_job(database, "verify_figures")
    for admin in admins:
        [alert] = _notices(database, admin)
        assert alert["event_type"] == "figures_mismatch" and alert["payload"]["count"] >= 1
        assert any(row["table_name"] == "courses" for row in alert["payload"]["sample"])
    assert database.value("SELECT private.alert_admins('figures_mismatch', '{}', %s)",
                          (f"verify:{_notices(database, admins[0])[0]['payload']['checked_on']}",)) == 0


def test_old_activity_is_archived_and_the_monthly_stats_refreshed(database):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    course = gen_course(database, teacher)
    module = gen_module(database, course)
    gen_lesson(database, course, module)
    enroll(database, student, course.id)
    total = database.value("SELECT count(*) FROM student_activity")
    assert total >= 1
    database.value("UPDATE student_activity SET occurred_at = now() - interval '400 days' RETURNING 1")
    assert _run_job(database, "archive_activity", ACTIVITY_RETENTION="1 year")[0]["status"] == "succeeded"
    assert database.value("SELECT count(*) FROM student_activity") == 0
    assert database.value("SELECT count(*) FROM private.student_activity_archive") == total
    before = database.value("SELECT count(*) FROM instructor_monthly_stats WHERE instructor_id = %s", (teacher,))
    assert _run_job(database, "refresh_monthly_stats")[0]["status"] == "succeeded"
    after = database.value("SELECT count(*) FROM instructor_monthly_stats WHERE instructor_id = %s", (teacher,))
    assert (before, after) == (0, 1)


def test_old_notices_that_are_done_with_are_forgotten(database):
    """Read (or under the read mark), not waiting for an email, and older than the retention."""
    teacher = gen_user(database, "instructor")
    students = [gen_user(database, "student") for _ in range(4)]
    course = gen_course(database, teacher)
    for student in students:
        enroll(database, student, course.id)
    ids = [n["id"] for n in _notices(database, teacher)]
    database.value("UPDATE notifications SET email_state = 'sent', email_sent_at = now() WHERE id <> %s "
                   "RETURNING 1", (ids[3],))
    database.value("UPDATE notifications SET created_at = now() - interval '200 days' RETURNING 1")
    database.value("UPDATE notifications SET read_at = now() WHERE id = %s RETURNING 1", (ids[0],))
    unread_kept = _run_job(database, "prune_notifications", NOTIFICATION_RETENTION="180 days")
    assert unread_kept[0]["status"] == "succeeded"
    assert {n["id"] for n in _notices(database, teacher)} == set(ids[1:])   # only the read one went
    with database.act(Actor.user(teacher)) as cur:   # "mark all as read": the rest are read now...
        cur.execute("SELECT mark_all_notifications_read()")
    database.value("UPDATE notifications SET created_at = now() - interval '10 days' WHERE id = %s "
                   "RETURNING 1", (ids[2],))   # ...but this one is too recent to forget
    _run_job(database, "prune_notifications", NOTIFICATION_RETENTION="180 days")
    kept = {n["id"] for n in _notices(database, teacher)}
    assert kept == {ids[2], ids[3]}   # too recent; still waiting for its email


def test_an_email_unsubscribed_from_before_it_went_is_not_sent(database, tmp_path):
    """The recipient turned the event's email off (or was deactivated) after the notice was written."""
    teacher, other_teacher = gen_user(database, "instructor"), gen_user(database, "instructor")
    student = gen_user(database, "student")
    enroll(database, student, gen_course(database, teacher).id)
    enroll(database, student, gen_course(database, other_teacher).id)
    database.value("UPDATE instructor_settings SET email_notifications = email_notifications || "
                   "'{\"new_enrollment\": false}' WHERE user_id = %s RETURNING 1", (teacher,))
    database.value("UPDATE users SET is_active = false WHERE id = %s RETURNING 1", (other_teacher,))
    _run_worker(database, MAIL_BACKEND="capture", MAIL_CAPTURE_DIR=str(tmp_path / "mail"))
    assert not (tmp_path / "mail").exists() or not list((tmp_path / "mail" / "new").iterdir())
    assert [(n["in_portal"], n["email_state"]) for n in _notices(database, teacher)] == [(True, "off")]
    assert {j["status"] for j in _email_jobs(database)} == {"succeeded"}


def test_a_student_who_enrolls_again_and_again_tells_the_instructor_once(database):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    course = gen_course(database, teacher)
    enrollment = enroll(database, student, course.id)
    for _ in range(3):
        with database.act(Actor.user(student)) as cur:
            cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
        enroll(database, student, course.id)
    assert len(_notices(database, teacher)) == 1 and len(_email_jobs(database)) == 1


def test_reminders_are_once_whatever_the_sessions_time_zone(database):
    teacher = gen_user(database, "instructor")
    gen_workshop(database, teacher, starts_in=timedelta(hours=3))
    with database.owner.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute("SELECT private.send_workshop_reminders()")
        assert cur.fetchone()[0] == 1
        cur.execute("SET TimeZone = 'America/New_York'")
        cur.execute("SELECT private.send_workshop_reminders()")
        assert cur.fetchone()[0] == 0

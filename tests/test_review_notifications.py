"""Review of issue 13 ("Notifications and background jobs"): attacks and usability checks that the
issue's own tests leave out; each demonstrated a hole, fixed since (the list below is what they were).

* any role that can connect stops every job worker with one NOTIFY (procrastinate's listener dies
  on a payload that is not its JSON, and the worker then stops, exit status 0);
* sign-up confirms no address, so anyone makes the worker mail any address, as often as they
  like, with a subject they write (a workshop title), from the portal's own mail server;
* an instructor who moves a workshop by a minute reminds every registered student again;
* a student's workshop reminder leads to a page students may not open (404);
* a stored time zone that names a directory of the zone database ("America") is a 500 on every
  page that shows a time, and kills that person's emails in the worker;
* the emails offer no one-click unsubscribe (RFC 8058) that a mail provider could use;
* the email of a declined request says nothing was charged, when the student paid and keeps paying;
* anon hears, through LISTEN, every email job the queue is given;
* a keyset position with an offset PostgreSQL refuses is a 422, not the first page.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from portal import mail
from portal.jobs.worker import build, work
from portal.notifications import events
from tests.support import (Actor, gen_account, gen_user, gen_workshop, password_hash, register,
                           run_async)
from tests.web import close_app, sign_in


# --- the worker -------------------------------------------------------------------------------

def _listening(database) -> bool:
    return bool(database.value(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND query ILIKE 'LISTEN%procrastinate%'"))


def _until(condition, seconds: float = 30):
    """Wait until ``condition()`` holds (a readiness poll, as for a server starting); fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.05)


def test_a_notify_from_anon_does_not_stop_the_worker(database, tmp_path):
    """Workers do not LISTEN (010 turns the queue's NOTIFY off; they poll): anon's NOTIFY on the queue's
    channel, with a payload that is not the queue's JSON, reaches no worker, which goes on running jobs."""
    from tests.support import enroll, gen_course
    queue, runtime, concurrency = build(database.app_dsn, flask_config={
        "SECRET_KEY": "test-secret", "TESTING": True, "MAIL_BACKEND": "capture",
        "MAIL_CAPTURE_DIR": str(tmp_path / "mail"), "WORKER_POLL_SECONDS": 0.1},
        concurrency=1, periodic=False)
    sent = "SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE status = 'succeeded'"

    def attack_then_work():
        _until(lambda: database.value("SELECT count(*) FROM procrastinate.procrastinate_workers") == 1)
        assert not _listening(database)
        with database.act(Actor.anon()) as cur:   # NOTIFY needs no privilege at all
            cur.execute("NOTIFY procrastinate_any_queue_v1, 'not json'")
        enroll(database, gen_user(database, "student"), gen_course(database, gen_user(database, "instructor")).id)
        _until(lambda: database.value(sent) == 1)

    async def scenario():
        async with queue.open_async():
            worker = asyncio.create_task(work(queue, runtime, concurrency, wait=True,
                                              install_signal_handlers=False))
            try:
                await asyncio.to_thread(attack_then_work)
                assert not worker.done(), "the worker stopped"
            finally:
                worker.cancel()
                with contextlib.suppress(BaseException):
                    await worker
    try:
        run_async(scenario)
    finally:
        runtime.database.close()
        close_app()
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 1


# --- who gets email ----------------------------------------------------------------------------

def test_an_address_nobody_confirmed_is_sent_no_email(database):
    with database.act(Actor.anon()) as cur:
        cur.execute("SELECT sign_up('victim@elsewhere.example', %s, 'Spammer', 'instructor') AS id",
                    (password_hash(),))
        spammer = cur.fetchone()["id"]
    with database.act(Actor.user(spammer)) as cur:
        cur.execute("""INSERT INTO workshops (instructor_id, title, slug, start_time, end_time, capacity,
                                              status, meeting_url)
                       SELECT rls.uid(), 'Your account is locked: call +1 555 0100 (ref ' || g || ')',
                              'flood-' || g, now() + interval '2 hours' + g * interval '1 second',
                              now() + interval '3 hours', 10, 'published', 'https://meet.example.test/x'
                       FROM generate_series(1, 10) g""")
    database.value("SELECT private.send_workshop_reminders()")
    queued = database.value("SELECT count(*) FROM notifications WHERE user_id = %s AND email_state = 'pending' "
                            "AND event_type <> 'email_confirmation'", (spammer,))
    assert queued == 0, f"{queued} emails queued to an address nobody confirmed"
    # The one email there is the confirmation, which sign-up queued once.
    assert database.value("SELECT count(*) FROM notifications WHERE user_id = %s", (spammer,)) == 11


def test_moving_a_workshop_by_minutes_does_not_remind_its_students_again_and_again(database):
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    workshop = gen_workshop(database, teacher, starts_in=timedelta(hours=5))
    register(database, student, workshop)
    for _ in range(5):
        database.value("SELECT private.send_workshop_reminders()")
        with database.act(Actor.user(teacher)) as cur:
            cur.execute("UPDATE workshops SET start_time = start_time + interval '1 minute', "
                        "end_time = end_time + interval '1 minute' WHERE id = %s", (workshop,))
    database.value("SELECT private.send_workshop_reminders()")
    reminders = database.value("SELECT count(*) FROM notifications WHERE user_id = %s "
                               "AND event_type = 'workshop_reminder'", (student,))
    assert reminders <= 2, f"{reminders} reminders of one workshop"


# --- where a notice leads ----------------------------------------------------------------------

def test_a_students_workshop_reminder_leads_to_a_page_they_may_open(database, app, client):
    teacher = gen_user(database, "instructor")
    student, email = gen_account(database, "student")
    register(database, student, gen_workshop(database, teacher, starts_in=timedelta(hours=3)))
    database.value("SELECT private.send_workshop_reminders()")
    notice = database.value("SELECT id FROM notifications WHERE user_id = %s", (student,))
    sign_in(client, email)
    opened = client.get(f"/notifications/{notice}")
    assert opened.status_code == 303
    assert client.get(opened.headers["Location"]).status_code == 200


# --- time zones --------------------------------------------------------------------------------

def test_a_zone_that_names_a_directory_reads_as_utc_in_emails():
    assert events.zone("America") == ZoneInfo("UTC")


def test_a_zone_that_names_a_directory_is_never_a_500(database, app, client):
    student, email = gen_account(database, "student")
    with database.act(Actor.user(student)) as cur:   # the user's own row, through the API
        cur.execute("INSERT INTO notification_settings (user_id, timezone) VALUES (%s, 'America')", (student,))
    database.value("SELECT private.notify(%s, 'certificate_issued', "
                   "'{\"course_id\": \"c\", \"course_title\": \"T\", \"code\": \"ABC\"}', NULL)", (student,))
    sign_in(client, email)
    assert client.get("/notifications/").status_code < 500


# --- unsubscribing -----------------------------------------------------------------------------

class _Notice:
    """One row of private.email_to_send, as compose() reads it."""
    def __init__(self, user_id):
        self.id, self.user_id = "00000000-0000-0000-0000-000000000001", user_id
        self.event_type, self.full_name, self.email = "certificate_issued", "Sam", "sam@example.test"
        self.timezone = "UTC"
        self.payload = {"course_id": "c", "course_title": "T", "code": "ABC"}


def test_an_email_offers_one_click_unsubscribe(database, app):
    student = gen_user(database, "student")
    message = mail.compose(app, _Notice(student))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = message["List-Unsubscribe"].strip("<>").split("://", 1)[1].split("/", 1)[1]
    answer = app.test_client().post("/" + path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert database.value("SELECT email_notifications ->> 'certificate_issued' FROM notification_settings "
                          "WHERE user_id = %s", (student,)) == "false"


def test_the_email_of_a_declined_paid_request_does_not_say_nothing_was_charged(database, app):
    from types import SimpleNamespace
    from tests.support import enroll, gen_course, pay
    teacher, student = gen_user(database, "instructor"), gen_user(database, "student")
    database.value("UPDATE instructor_settings SET auto_approve_enrollments = false WHERE user_id = %s "
                   "RETURNING 1", (teacher,))
    enrollment = enroll(database, student, gen_course(database, teacher, price="49").id)
    pay(database, enrollment)
    with database.act(Actor.user(teacher)) as cur:   # the instructor declines the paid request
        cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (enrollment,))
    assert database.value("SELECT amount_paid FROM course_enrollments WHERE id = %s", (enrollment,)) > 0
    [row] = database.rows("SELECT e.* FROM notifications n, private.email_to_send(n.id) e "
                          "WHERE n.user_id = %s", (student,))
    assert row["payload"]["kind"] == "declined"
    text = mail.compose(app, SimpleNamespace(**row)).get_body(preferencelist=("plain",)).get_content()
    assert "Nothing was charged" not in text


# --- small things -------------------------------------------------------------------------------

def test_anon_hears_nothing_when_an_email_is_queued(database):
    """LISTEN needs no privilege; the queue announces nothing (010), so anon learns of no email job."""
    from tests.support import enroll, gen_course
    listener = database.connect_app()
    listener.autocommit = True
    try:
        with listener.cursor() as cur:
            cur.execute("SET ROLE anon")
            cur.execute('LISTEN "procrastinate_any_queue_v1"')
        enroll(database, gen_user(database, "student"), gen_course(database, gen_user(database, "instructor")).id)
        assert database.value("SELECT count(*) FROM procrastinate.procrastinate_jobs") == 1
        with listener.cursor() as cur:   # a round trip: what was announced at the commit has arrived
            cur.execute("SELECT 1")
        heard = [n.payload for n in listener.notifies]
    finally:
        listener.close()
    assert heard == []


def test_a_position_with_an_impossible_offset_starts_from_the_top(database, app, client):
    import uuid
    from portal.listing import token
    student, email = gen_account(database, "student")
    sign_in(client, email)
    position = token(["2024-01-01T00:00:00-23:59", str(uuid.uuid4())])
    assert client.get(f"/notifications/?after={position}").status_code == 200

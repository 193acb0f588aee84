"""Every job the worker runs, and the schedule of the periodic ones.

Each handler is idempotent: running it twice does what running it once does
(an email already sent is not sent again; a reminder, an alert, an expiry or an
archive finds nothing left to do), because a job may run again after a worker
dies mid-way (``retry_stalled_jobs``).

| job | queue | when (UTC, cron) | what |
|---|---|---|---|
| ``deliver_email`` | email | queued by ``private.notify`` | send one notice by email; retried with backoff, then dead |
| ``send_invitation`` | email | queued by ``bulk_enroll`` (015) | the invitation email to an address without an account, with a fresh token (only its hash is stored) |
| ``announce`` | email | queued by ``post_announcement`` (015) | notify an announcement's students, a batch (``ANNOUNCEMENT_BATCH``) per transaction |
| ``send_workshop_reminders`` | maintenance | ``*/5 * * * *`` | notices 24 h and 1 h before a published workshop |
| ``expire_checkouts`` | maintenance | ``*/15 * * * *`` | close checkouts open longer than ``CHECKOUT_TTL`` |
| ``release_lapsed_seats`` | maintenance | ``*/5 * * * *`` | (021) cancel paid workshop seats not paid by their hold's end; each seat passes to the waitlist |
| ``refresh_monthly_stats`` | maintenance | ``10 2 * * *`` | ``REFRESH MATERIALIZED VIEW CONCURRENTLY instructor_monthly_stats`` |
| ``verify_figures`` | maintenance | ``40 2 * * *`` | every kept figure against its recomputation; admins told of any mismatch |
| ``archive_activity`` | maintenance | ``20 3 * * *`` | activity older than ``ACTIVITY_RETENTION`` to the archive |
| ``prune_notifications`` | maintenance | ``30 3 * * *`` | forget read notices older than ``NOTIFICATION_RETENTION`` |
| ``retry_stalled_jobs`` | maintenance | ``*/5 * * * *`` | run again the jobs of a worker that stopped beating |
| ``remove_old_jobs`` | maintenance | ``0 4 * * *`` | forget jobs that succeeded more than 14 days ago |
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Callable

from procrastinate import BaseRetryStrategy, RetryDecision

from portal import mail

log = logging.getLogger(__name__)

SUCCEEDED_JOBS_KEPT_HOURS = 14 * 24
# How long a worker may miss its heartbeat (every 10 s) before its running jobs count as stalled.
STALLED_AFTER_SECONDS = 60


class Backoff(BaseRetryStrategy):
    """``attempts`` tries in all: the first retry after ``wait`` seconds, each later one
    after twice the one before; after the last try the job is dead (status failed)."""

    def __init__(self, attempts: int, wait: int):
        self.attempts = attempts
        self.wait = wait

    def final(self, job) -> bool:
        """Whether this run of ``job`` is its last try."""
        return job.attempts + 1 >= self.attempts

    def get_retry_decision(self, *, exception, job):
        if self.final(job):
            return None
        return RetryDecision(retry_in={"seconds": self.wait * 2 ** job.attempts})


def _runtime(context):
    return context.additional_context["portal"]


# --- the outbox ---------------------------------------------------------------------------

def deliver_email(context, notification_id: str) -> str:
    runtime = _runtime(context)
    with runtime.database.transaction() as cur:
        cur.execute("SELECT * FROM private.email_to_send(%s)", (notification_id,))
        notice = cur.fetchone()
    if notice is None or notice.email_state in ("sent", "off"):
        return "nothing to send"  # gone with its user, or sent by an earlier run
    if not notice.wanted:  # deactivated, or unsubscribed since the notice was written
        with runtime.database.transaction() as cur:
            cur.execute("SELECT private.drop_email(%s)", (notification_id,))
        return "not wanted any more"
    reset_token = None
    if notice.event_type == "password_reset":  # a fresh token: the database keeps only its hash
        reset_token = secrets.token_urlsafe(32)
        with runtime.database.transaction() as cur:
            cur.execute("SELECT private.arm_password_reset(%s, %s, make_interval(mins => %s))",
                        (notice.payload["reset_id"], hashlib.sha256(reset_token.encode()).digest(),
                         runtime.app.config["PASSWORD_RESET_TTL_MINUTES"]))
            armed = cur.fetchone()[0]
        if not armed:  # used, or the address changed since it was asked for
            with runtime.database.transaction() as cur:
                cur.execute("SELECT private.drop_email(%s)", (notification_id,))
            return "not wanted any more"
    try:
        mail.send(runtime.app, mail.compose(runtime.app, notice, reset_token))
    except Exception as exc:
        final = context.task.retry_strategy.final(context.job)
        with runtime.database.transaction() as cur:
            cur.execute("SELECT private.record_email(%s, false, %s, %s)",
                        (notification_id, f"{type(exc).__name__}: {exc}", final))
        raise
    with runtime.database.transaction() as cur:
        cur.execute("SELECT private.record_email(%s, true, NULL, false)", (notification_id,))
    return "sent"


# --- bulk enrollment and announcements (015) ---------------------------------------------

def send_invitation(context, invitation_id: str) -> str:
    """The invitation email: no user to notify (the address has no account), so it is sent here,
    with a token made now; the database keeps only its SHA-256. A run after the email went out
    sends nothing."""
    from portal.outreach import mail as outreach_mail

    runtime = _runtime(context)
    with runtime.database.transaction() as cur:
        cur.execute("SELECT * FROM private.invitation_to_send(%s)", (invitation_id,))
        invitation = cur.fetchone()
    if invitation is None:
        return "nothing to send"  # sent already, accepted, or gone with its course
    token = secrets.token_urlsafe(32)
    with runtime.database.transaction() as cur:
        cur.execute("SELECT private.arm_invitation(%s, %s)", (invitation_id, outreach_mail.token_hash(token)))
        if not cur.fetchone()[0]:
            return "nothing to send"
    try:
        message = outreach_mail.compose_invitation(runtime.app, invitation, token)
    except outreach_mail.NotAnAddress:
        return "not an address"  # never sent, never retried: no header can name it alone
    mail.send(runtime.app, message)
    with runtime.database.transaction() as cur:
        cur.execute("SELECT private.invitation_sent(%s)", (invitation_id,))
    return "sent"


def announce(context, announcement_id: str) -> int:
    """Notify an announcement's students a batch per transaction (100,000 students are 200 short
    transactions, not one long one); each batch keeps the progress, so a run that stops resumes."""
    runtime = _runtime(context)
    batch = max(int(runtime.app.config["ANNOUNCEMENT_BATCH"]), 1)
    total = 0
    while True:
        with runtime.database.transaction() as cur:
            cur.execute("SELECT private.fan_out_announcement(%s, %s)", (announcement_id, batch))
            taken = cur.fetchone()[0]
        total += taken
        if taken < batch:
            return total


# --- scheduled ----------------------------------------------------------------------------

def _one(context, statement: str, *arguments):
    with _runtime(context).database.transaction() as cur:
        cur.execute(statement, arguments)
        return cur.fetchone()[0]


def send_workshop_reminders(context, timestamp: int) -> int:
    return _one(context, "SELECT private.send_workshop_reminders()")


def expire_checkouts(context, timestamp: int) -> int:
    return _one(context, "SELECT private.expire_checkouts(%s::interval)",
                _runtime(context).app.config["CHECKOUT_TTL"])


def release_lapsed_seats(context, timestamp: int) -> int:
    """021: held workshop seats not paid in time are cancelled; promote_waitlist passes each one on."""
    return _one(context, "SELECT private.release_lapsed_seats()")


def refresh_monthly_stats(context, timestamp: int) -> None:
    _one(context, "SELECT public.refresh_instructor_monthly_stats()")


def archive_activity(context, timestamp: int) -> int:
    return _one(context, "SELECT public.archive_student_activity(%s::interval)",
                _runtime(context).app.config["ACTIVITY_RETENTION"])


def prune_notifications(context, timestamp: int) -> int:
    return _one(context, "SELECT private.prune_notifications(%s::interval)",
                _runtime(context).app.config["NOTIFICATION_RETENTION"])


def verify_figures(context, timestamp: int) -> int:
    """Instructor by instructor, each in its own short transaction (as ``db verify``);
    any mismatch is one alert to every admin, once per night."""
    database = _runtime(context).database
    with database.transaction() as cur:
        cur.execute("SELECT * FROM private.instructors_to_verify()")
        instructors = [row[0] for row in cur.fetchall()]
    found = []
    for instructor in instructors:
        with database.transaction() as cur:
            cur.execute("SELECT table_name, row_id, stored, expected FROM private.verify_figures(%s)",
                        (instructor,))
            found.extend(cur.fetchall())
    if found:
        checked_on = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).date().isoformat()
        sample = [{"table_name": r.table_name, "row_id": str(r.row_id), "stored": r.stored,
                   "expected": r.expected} for r in found[:20]]
        with database.transaction() as cur:
            cur.execute("SELECT private.alert_admins('figures_mismatch', %s, %s)",
                        (_json({"count": len(found), "checked_on": checked_on, "sample": sample}),
                         f"verify:{checked_on}"))
        log.warning("verify_figures: %d mismatch(es); admins alerted", len(found))
    return len(found)


async def retry_stalled_jobs(context, timestamp: int) -> int:
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS))
    for job in stalled:
        await manager.retry_job(job)
    return len(stalled)


async def remove_old_jobs(context, timestamp: int) -> None:
    await context.app.job_manager.delete_old_jobs(nb_hours=SUCCEEDED_JOBS_KEPT_HOURS)


def _json(value):
    from psycopg.types.json import Jsonb
    return Jsonb(value)


# --- the registry ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    function: Callable
    queue: str
    cron: str | None = None   # periodic when set


QUEUES = ("email", "maintenance")
JOBS = (
    Job(deliver_email, "email"),
    Job(send_invitation, "email"),
    Job(announce, "email"),
    Job(send_workshop_reminders, "maintenance", "*/5 * * * *"),
    Job(expire_checkouts, "maintenance", "*/15 * * * *"),
    Job(release_lapsed_seats, "maintenance", "*/5 * * * *"),
    Job(refresh_monthly_stats, "maintenance", "10 2 * * *"),
    Job(verify_figures, "maintenance", "40 2 * * *"),
    Job(archive_activity, "maintenance", "20 3 * * *"),
    Job(prune_notifications, "maintenance", "30 3 * * *"),
    Job(retry_stalled_jobs, "maintenance", "*/5 * * * *"),
    Job(remove_old_jobs, "maintenance", "0 4 * * *"),
)


def register(queue, email_attempts: int = 5, retry_wait: int = 60, periodic: bool = True) -> None:
    """Put every job on a procrastinate app under its bare name (the name SQL queues it by),
    with its schedule unless ``periodic`` is False (a worker that defers nothing by itself)."""
    for job in JOBS:
        retry = Backoff(email_attempts, retry_wait) if job.queue == "email" else False
        task = queue.task(name=job.function.__name__, queue=job.queue, pass_context=True,
                          retry=retry)(job.function)
        if job.cron and periodic:
            queue.periodic(cron=job.cron, periodic_id=job.function.__name__)(task)

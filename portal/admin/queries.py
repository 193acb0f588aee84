"""Named queries of the admin area: the job queue, through functions that answer
platform admins only (``job_queue_counts``, ``job_queue_jobs``, ``retry_dead_job``, 010)."""

from __future__ import annotations

from peewee import DatabaseError

from portal import refusals
from portal.db import database

STATES = {"dead": "Dead", "retrying": "Retrying", "waiting": "Waiting", "scheduled": "Scheduled",
          "running": "Running"}
PAGE_SIZE = 25
LAST_ID = 2 ** 63 - 1  # job ids are bigints: no job has an id outside 1..LAST_ID


def job_id(value: int | None) -> int | None:
    """``value`` when it could be a job's id, else None (an absurd one in an address names no job)."""
    return value if value is not None and 0 < value <= LAST_ID else None


def job_counts() -> dict[str, int]:
    return dict(database.execute_sql("SELECT state, jobs FROM job_queue_counts()").fetchall())


def jobs(state: str, before: int | None) -> tuple[list[dict], int | None]:
    """One page of the jobs in ``state``, newest first; and the id the next page starts before."""
    cursor = database.execute_sql(
        "SELECT id, queue_name, task_name, args, attempts, scheduled_at, error, failed_at "
        "FROM job_queue_jobs(%s, %s, %s)", (state, before, PAGE_SIZE + 1))
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1]["id"] if more else None)


def retry(job: int) -> bool:
    """Run a dead job again now; False when no dead job has this id (it was retried already, is
    waiting or running, or does not exist: ``retry_dead_job`` refuses with job_not_dead)."""
    if job_id(job) is None:
        return False
    try:
        with database.atomic():
            database.execute_sql("SELECT retry_dead_job(%s)", (job,))
    except DatabaseError as exc:
        if refusals.code(exc) != "job_not_dead":
            raise
        return False
    return True

"""Named queries of the admin area: the job queue, through functions that answer
platform admins only (``job_queue_counts``, ``job_queue_jobs``, ``retry_dead_job``, 010)."""

from __future__ import annotations

from portal.db import database

STATES = {"dead": "Dead", "retrying": "Retrying", "waiting": "Waiting", "scheduled": "Scheduled",
          "running": "Running"}
PAGE_SIZE = 25


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


def retry(job_id: int) -> None:
    database.execute_sql("SELECT retry_dead_job(%s)", (job_id,))

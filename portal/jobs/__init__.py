"""Background jobs: procrastinate, a job queue kept in PostgreSQL.

Why procrastinate: the portal already needs PostgreSQL and nothing else, and a
queue in the same database lets the outbox queue a notice's delivery in the very
transaction that writes the notice (``private.notify`` in ``schema/010``), which a
queue on another server (RQ on Redis) cannot: a crash between the two would lose
or invent a message. Workers fetch jobs with ``FOR UPDATE SKIP LOCKED`` and hear of
new ones through LISTEN/NOTIFY, so any number of worker processes on any number of
machines share one queue; periodic jobs are deferred through a unique
(task, period) row, so each period's job exists once however many workers run.

The worker connects as ``authenticator`` and becomes ``portal_worker`` for its whole
session (a NOLOGIN role: the queue's tables and the named back-office functions,
nothing else). ``portal.jobs.tasks`` declares every job and its schedule,
``portal.jobs.worker`` runs them (``python -m portal worker``).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import procrastinate
from psycopg.rows import namedtuple_row
from psycopg_pool import ConnectionPool

WORKER_ROLE = "portal_worker"
# The queue's connections: the worker's role, and the queue's schema first so that its
# functions (which name their tables without a schema) find them.
QUEUE_OPTIONS = f"-c role={WORKER_ROLE} -c search_path=procrastinate"


class WorkerDatabase:
    """The jobs' own connections, as portal_worker: each ``transaction()`` commits when
    its block ends and rolls back when it raises."""

    def __init__(self, app_url: str, size: int):
        self.pool = ConnectionPool(app_url, min_size=1, max_size=max(size, 1), open=True,
                                   kwargs={"options": f"-c role={WORKER_ROLE}"})

    @contextmanager
    def transaction(self):
        with self.pool.connection() as conn, conn.cursor(row_factory=namedtuple_row) as cur:
            yield cur

    def close(self) -> None:
        self.pool.close()


@dataclass
class Runtime:
    """What every job gets in its context: the Flask app (configuration, templates,
    links) and the worker's database."""
    app: object
    database: WorkerDatabase


def make_queue(app_url: str, config: dict, pool_size: int = 4, periodic: bool = True) -> procrastinate.App:
    """A procrastinate app on the portal's database with every job of ``tasks`` on it
    (the email's retries as ``config`` says; the schedule unless ``periodic`` is False)."""
    from portal.jobs import tasks

    queue = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=app_url, min_size=1, max_size=max(pool_size, 2), kwargs={"options": QUEUE_OPTIONS}))
    tasks.register(queue, email_attempts=config["EMAIL_ATTEMPTS"], retry_wait=config["JOB_RETRY_WAIT"],
                   periodic=periodic)
    return queue

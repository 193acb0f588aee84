"""``python -m portal bench ...``: the benchmark's commands (see ``portal.bench``)."""

from __future__ import annotations

import click

from dataclasses import asdict

import psycopg2

from portal.bench import generate as generator
from portal.bench import report
from portal.bench.plan import SIZES
from portal.bench.run import SETTINGS, measure_all
from portal.bench.target import open_target

SIZE = click.option("--size", type=click.Choice(list(SIZES)), default="10k", show_default=True,
                    help="Dataset size (smoke is the tests' ~1k enrollments).")
FRESH = click.option("--fresh/--in-place", default=None,
                     help="The benchmark's own database on the embedded server (default without DATABASE_URL), "
                          "or the database DATABASE_URL / MIGRATION_DATABASE_URL name.")
FORCE = click.option("--force", is_flag=True, help="Replace a database that holds users the benchmark did not make.")


@click.group()
def bench() -> None:
    """Benchmark: generate a dataset and measure the portal on it."""


def _generate(owner_url: str, size: str, force: bool) -> generator.Generated:
    click.echo(f"generating the {size} dataset...")
    try:
        result = generator.generate(owner_url, SIZES[size], force=force)
    except generator.NotABenchDatabase as exc:
        raise click.ClickException(str(exc)) from exc
    counts = ", ".join(f"{table} {n:,}" for table, n in result.counts.items())
    click.echo(f"generated {size} in {result.seconds:.1f} s: {counts}")
    click.echo(f"figures verified in {result.figures['verify_seconds']} s"
               + (f" after rebuilding {result.figures['rebuilt']}" if result.figures["rebuilt"] else ""))
    click.echo(f"largest instructor: {result.top_email} / password: {result.password}")
    return result


@bench.command()
@SIZE
@FRESH
@FORCE
def generate(size: str, fresh: bool | None, force: bool) -> None:
    """Load the dataset (set-based, as the owner) and print a sign-in of the largest instructor."""
    target = open_target(fresh, size, recreate=True)
    click.echo(f"database: {target.urls.owner}")
    _generate(target.urls.owner, size, force)


def _needs_generation(owner_url: str, size: str) -> str | None:
    """Why the database must be (re)generated for ``size``, or None when it holds that dataset."""
    with psycopg2.connect(owner_url) as conn, conn.cursor() as cur:
        found = generator.marker(cur)
        migrations = generator.applied_migrations(cur)
    conn.close()
    if not found:
        return "no benchmark dataset yet"
    if found.get("size") != size:
        return f"it holds the {found.get('size')} dataset"
    if found.get("migrations") != migrations:
        return "migrations were applied since it was generated"
    return None


@bench.command(name="run")
@SIZE
@FRESH
@FORCE
@click.option("--regenerate", is_flag=True, help="Generate again even if the dataset is there.")
def run_command(size: str, fresh: bool | None, force: bool, regenerate: bool) -> None:
    """Generate the dataset if needed, take every measurement, write docs/performance.md."""
    target = open_target(fresh, size)
    click.echo(f"database: {target.urls.owner}")
    generation = None
    reason = "asked to" if regenerate else _needs_generation(target.urls.owner, size)
    if reason:
        click.echo(f"generating first: {reason}")
        generation = asdict(_generate(target.urls.owner, size, force))
    result = measure_all(target.urls, size, SETTINGS[size], generation)
    click.echo(f"results: {report.save(result)}")
    click.echo(f"report: {report.write()}")


@bench.command(name="report")
def report_command() -> None:
    """Rebuild docs/performance.md from docs/bench-results/*.json."""
    click.echo(f"report: {report.write()}")

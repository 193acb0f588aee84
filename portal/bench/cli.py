"""``python -m portal bench ...``: the benchmark's commands (see ``portal.bench``)."""

from __future__ import annotations

import click

from portal.bench import generate as generator
from portal.bench.plan import SIZES
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
    click.echo(f"largest instructor: {result.top_email} / password: {result.password}")
    return result


@bench.command()
@SIZE
@FRESH
@FORCE
def generate(size: str, fresh: bool | None, force: bool) -> None:
    """Load the dataset (set-based, as the owner) and print a sign-in of the largest instructor."""
    target = open_target(fresh, recreate=True)
    click.echo(f"database: {target.urls.owner}")
    _generate(target.urls.owner, size, force)

"""Command-line tools: flask --app blog init-db | demo | create-user."""

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from blog import accounts, demo
from blog.extensions import db
from blog.ghost import commands as ghost_commands  # import-ghost, export-ghost, integrations
from blog.models import ROLES, Post

MIGRATIONS = str(Path(__file__).parent / "migrations")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database schema, or upgrade it to the newest version (safe to run again)."""
    upgrade_schema()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("demo")
@with_appcontext
@click.option("--posts", "count", default=36, show_default=True, help="How many posts to write.")
def demo_command(count: int) -> None:
    """Fill an empty blog with demo authors, tags, pages and posts."""
    upgrade_schema()
    if db.session.scalar(select(func.count()).select_from(Post)):
        click.echo("The blog already has posts; demo content is only added to an empty blog.")
        return
    started = time.perf_counter()
    with _progress(count) as progress, demo.bulk_writes():
        demo.fill(count, progress=progress)
    click.echo(
        f"Added {count:,} demo posts by {len(demo.AUTHORS)} authors "
        f"in {time.perf_counter() - started:.1f} s. Sign in: see README."
    )


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    """Yield a callback told how many posts were just written: a progress bar on a terminal,
    else (a log, a pipe) a line at every tenth of total."""
    if sys.stdout.isatty():
        with click.progressbar(length=total, label="Writing demo posts") as bar:
            yield bar.update
        return
    done, step = [0], max(total // 10, 1)

    def report(written: int) -> None:
        done[0] += written
        if done[0] // step != (done[0] - written) // step or done[0] == total:
            click.echo(f"Writing demo posts: {done[0]:,} of {total:,}")

    yield report


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", type=click.Choice(ROLES), default="author", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a staff account."""
    try:
        user = accounts.create_user(email=email, name=name, role=role, password=password)
    except accounts.AccountError as error:
        raise click.UsageError(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} ({user.url}).")


def enable_migrations(app: Flask) -> None:
    """Bind Flask-Migrate (Alembic) to app, for init-db, demo and `flask db ...`.

    Only commands need it: importing Alembic costs each web worker about 12 MB.
    """
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=MIGRATIONS)


def upgrade_schema() -> None:
    """Apply every migration the database has not had yet."""
    from flask_migrate import upgrade

    enable_migrations(current_app._get_current_object())
    upgrade(directory=MIGRATIONS)


def init_app(app: Flask) -> None:
    """Register the commands (and, under the flask command, Flask-Migrate's `db` group)."""
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        enable_migrations(app)
    for command in (init_db, demo_command, create_user):
        app.cli.add_command(command)

    ghost_commands.init_app(app)

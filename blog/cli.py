"""Command-line tools: flask --app blog init-db | demo | create-user."""

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from blog import accounts, demo
from blog.extensions import db
from blog.models import ROLES, Post


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database schema, or upgrade it to the newest version (safe to run again)."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("demo")
@with_appcontext
@click.option("--posts", "count", default=36, show_default=True, help="How many posts to write.")
def demo_command(count: int) -> None:
    """Fill an empty blog with demo authors, tags, pages and posts."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    if db.session.scalar(select(func.count()).select_from(Post)):
        click.echo("The blog already has posts; demo content is only added to an empty blog.")
        return
    with click.progressbar(length=count, label="Writing demo posts") as bar:
        demo.fill(count, progress=bar.update)
    click.echo(f"Added {count} demo posts by {len(demo.AUTHORS)} authors. Sign in: see README.")


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


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (init_db, demo_command, create_user):
        app.cli.add_command(command)

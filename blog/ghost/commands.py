"""flask --app blog import-ghost FILE | export-ghost -o FILE | integrations create|list|revoke."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from blog.api.keys import IntegrationError, create_integration, integrations
from blog.api.keys import revoke as revoke_key
from blog.extensions import db
from blog.ghost.exporter import export_document
from blog.ghost.importer import import_export
from blog.ghost.reader import ExportError, read_export


@click.command("import-ghost")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=100, show_default=True, help="Posts per transaction.")
def import_ghost(file: Path, batch_size: int) -> None:
    """Import a Ghost export (.json of any Ghost version, or a .zip with content/images).

    Safe to run again: what an earlier run imported is matched and updated, never doubled.
    """
    try:
        export = read_export(file, current_app.config["IMAGE_MAX_BYTES"])
    except ExportError as error:
        raise click.UsageError(str(error)) from None
    version = export.version or "unknown"
    click.echo(f"Ghost {version} export: {len(export.rows('posts'))} posts and pages, "
               f"{len(export.rows('tags'))} tags, {len(export.rows('users'))} users, "
               f"{len(export.images)} images.")  # fmt: skip
    with click.progressbar(length=len(export.rows("posts")), label="Importing posts") as bar:
        report = import_export(export, batch_size=batch_size, progress=bar.update)
    for line in report.lines():
        click.echo(line)
    click.echo("Imported staff have no password: they sign in after a password reset.")


@click.command("export-ghost")
@with_appcontext
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="File to write ('-' for standard output).")  # fmt: skip
def export_ghost(output: str) -> None:
    """Write posts, pages, tags and staff in Ghost's JSON export shape (no passwords)."""
    document = export_document()
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if output == "-":
        click.echo(text)
        return
    Path(output).write_text(text, encoding="utf-8")
    data = document["db"][0]["data"]
    click.echo(f"Wrote {len(data['posts'])} posts and pages, {len(data['tags'])} tags and "
               f"{len(data['users'])} users to {output}.")  # fmt: skip


@click.group("integrations")
def integrations_group() -> None:
    """Content API keys for Ghost clients: create, list and revoke them."""


@integrations_group.command("create")
@with_appcontext
@click.argument("name")
def create(name: str) -> None:
    """Create an integration NAME and print its Content API key."""
    try:
        integration = create_integration(name)
    except IntegrationError as error:
        raise click.UsageError(str(error)) from None
    db.session.commit()
    click.echo(integration.content_key)


@integrations_group.command("list")
@with_appcontext
def list_integrations() -> None:
    """List integrations: id, key, created, name."""
    for found in integrations():
        click.echo(f"{found.id}\t{found.content_key}\t{found.created_at:%Y-%m-%d}\t{found.name}")


@integrations_group.command("revoke")
@with_appcontext
@click.argument("key_or_id")
def revoke(key_or_id: str) -> None:
    """Delete an integration (by key or id); its key stops working at once."""
    try:
        found = revoke_key(key_or_id)
    except IntegrationError as error:
        raise click.UsageError(str(error)) from None
    db.session.commit()
    click.echo(f"Revoked {found.name} ({found.content_key}).")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (import_ghost, export_ghost, integrations_group):
        app.cli.add_command(command)

"""Newsletter commands: import-subscribers, export-subscribers (worker and send-newsletter
are blog.mail.commands)."""

import io

import click
from flask import Flask
from flask.cli import with_appcontext

from blog.extensions import db
from blog.models.newsletter import SUBSCRIBER_STATUSES
from blog.newsletter import transfer


@click.command("import-subscribers")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_subscribers(path: str) -> None:
    """Import a CSV with an email column (Ghost, Mailchimp, Substack) as confirmed subscribers."""
    with open(path, newline="", encoding="utf-8-sig") as stream:
        try:
            report = transfer.import_subscribers(stream)
        except (ValueError, UnicodeDecodeError) as error:
            raise click.UsageError(f"Cannot import {path}: {error}") from None
    db.session.commit()
    click.echo(report.summary())


@click.command("export-subscribers")
@with_appcontext
@click.option("--status", type=click.Choice(SUBSCRIBER_STATUSES), help="Only this status.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: standard output).",
)
def export_subscribers(status: str | None, output: str | None) -> None:
    """Write the subscribers as CSV; cells a spreadsheet would run as formulas are neutralised."""
    rows = transfer.export_rows(status)
    if output:
        with open(output, "w", newline="", encoding="utf-8") as out:
            count = transfer.write_csv(out, rows)
        click.echo(f"Wrote {count} subscribers to {output}.", err=True)
        return
    for row in rows:
        buffer = io.StringIO()
        transfer.write_csv(buffer, [row])
        click.echo(buffer.getvalue(), nl=False)


def init_app(app: Flask) -> None:
    """Add the commands to `flask` (top-level: flask --app blog import-subscribers FILE)."""
    app.cli.add_command(import_subscribers)
    app.cli.add_command(export_subscribers)

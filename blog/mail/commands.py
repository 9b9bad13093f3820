"""Mail commands: `flask worker` sends the outbox, `flask send-newsletter` mails a post."""

import logging
import signal
import threading
import time

import click
from flask import Flask, current_app
from sqlalchemy import select

from blog.extensions import db
from blog.mail import sender
from blog.mail.delivery import deliver_due
from blog.models import Post
from blog.newsletter import services
from blog.posts.scheduling import publish_due_posts


def init_app(app: Flask) -> None:
    """Add the commands to `flask` (top-level: flask --app blog worker)."""
    app.cli.add_command(worker)
    app.cli.add_command(send_newsletter)


def _where_mail_goes() -> str:
    cfg = current_app.config
    if cfg.get("MAIL_SERVER"):
        return f"SMTP {cfg['MAIL_SERVER']}:{cfg['MAIL_PORT']}"
    return f"files in {current_app.instance_path}/mail (no MAIL_SERVER set)"


@click.command("worker")
@click.option("--burst", is_flag=True, help="Send what is due now, then exit.")
@click.option(
    "--connections",
    type=click.IntRange(1, 32),
    help="SMTP connections sending at once (default: MAIL_CONNECTIONS).",
)
def worker(burst: bool, connections: int | None) -> None:
    """Send mail from the outbox until stopped (Ctrl+C or SIGTERM finish the message in hand)."""
    logging.getLogger("blog").setLevel(logging.INFO)
    stop = threading.Event()

    def request_stop(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    click.echo(f"Sending mail to {_where_mail_goes()}" + (" (burst)" if burst else ""), err=True)
    connections = connections or current_app.config["MAIL_CONNECTIONS"]
    app = current_app._get_current_object()
    report = sender.run_parallel(app, stop, burst=burst, connections=connections)
    click.echo(
        f"Sent {report.sent}, retrying later {report.retrying}, failed {report.failed}, "
        f"cancelled {report.cancelled}.",
        err=True,
    )


@click.command("send-newsletter")
@click.argument("slug")
@click.option(
    "--queue-only", is_flag=True, help="Only queue; the site's sender or `worker` sends them."
)
def send_newsletter(slug: str, queue_only: bool) -> None:
    """Email a published post to every confirmed subscriber, once each however often it runs."""
    publish_due_posts()  # a scheduled post whose time has come is published: it can be sent
    post = db.session.scalar(select(Post).where(Post.slug == slug))
    if post is None:
        raise click.UsageError(f"There is no post with the slug {slug!r}.")
    try:
        queued = services.queue_post_newsletter(post)
    except services.NewsletterError as error:
        raise click.UsageError(str(error)) from None
    db.session.commit()
    counts = _counts(post)
    total = sum(counts.values())
    click.echo(f"Queued {queued} new deliveries of {post.title!r} ({total - queued} before).")
    if queue_only or not total:
        return
    with click.progressbar(length=total, label="Sending", show_pos=True) as bar:

        def show(report=None) -> dict[str, int]:
            counts = _counts(post)
            bar.update(total - counts.get("queued", 0) - counts.get("sending", 0) - bar.pos)
            return counts

        show()
        while True:
            handled = deliver_due(on_batch=show).handled
            counts = show()
            if not handled and not counts.get("sending"):  # done, or waiting for a retry
                break
            if not handled:
                time.sleep(1)  # another sender holds some: wait for it (or for its lease)
    click.echo(
        f"This post's deliveries: sent {counts.get('sent', 0)}, failed {counts.get('failed', 0)}, "
        f"skipped {counts.get('cancelled', 0)} (unsubscribed meanwhile), "
        f"waiting for a retry {counts.get('queued', 0)}."
    )


def _counts(post: Post) -> dict[str, int]:
    counts = services.delivery_counts(post)
    db.session.commit()  # end the read: on SQLite it holds the write lock
    return counts

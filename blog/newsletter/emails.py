"""The newsletter's mails: the confirmation request, and each post as a newsletter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blog.content import absolute_urls, plain_text
from blog.extensions import db
from blog.highlight import inline_styles
from blog.mail import Builder, Job, compose, default_sender, queue, register_renderer, site_host
from blog.models import Post, PostAuthor, Subscriber
from blog.newsletter import mail_body, tokens
from blog.site import settings


def one_line(text: str | None) -> str:
    """Collapse CR, LF and NUL into spaces: text bound for a mail header stays one header."""
    return re.sub(r"[\r\n\x00]+", " ", text or "").strip()


def link(endpoint: str, **values) -> str:
    """Return an endpoint's absolute URL on SITE_URL (never the request's Host), in any context."""
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path or "/", url_scheme=site.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def identity() -> tuple[str, str | None]:
    """Return the From header and the Reply-To address (if any) from the site's settings.

    Reply-To is the newsletter_reply_to setting (NEWSLETTER_REPLY_TO), else the sender
    address when one is set; with neither, replies would go to the default noreply@ sender,
    so no Reply-To is sent. Ghost offers the same choice (a newsletter's "Reply-to" address).
    """
    values = settings()
    address = one_line(values.get("newsletter_sender_email")) or default_sender()
    name = one_line(values.get("newsletter_sender_name")) or one_line(values["title"])
    reply_to = one_line(values.get("newsletter_reply_to")) or one_line(
        values.get("newsletter_sender_email")
    )
    return formataddr((name, address)), reply_to or None


def _render(template: str, **context) -> str:
    """Render a mail template without the page context processors (there may be no request)."""
    return current_app.jinja_env.get_template(template).render(site=settings(), **context)


def queue_confirmation(subscriber: Subscriber) -> None:
    """Queue the mail that asks the reader to confirm, with a signed, expiring link."""
    sender, reply_to = identity()
    context = {
        "confirm_url": link("newsletter.confirm", token=tokens.confirm_token(subscriber)),
        "hours": current_app.config["NEWSLETTER_CONFIRM_HOURS"],
        "name": subscriber.name,
    }
    queue(
        subscriber.email,
        f"Confirm your subscription to {one_line(settings()['title'])}",
        _render("email/confirm.txt", **context),
        _render("email/confirm.html", **context),
        sender=sender,
        reply_to=reply_to,
        kind="confirm",
        subscriber_id=subscriber.id,
    )


@dataclass
class PostMail:
    """What every copy of one post's newsletter shares, built once per batch."""

    id: int
    published: bool
    subject: str
    title: str
    url: str
    html: str
    text: str
    excerpt: str
    authors: str
    feature_image: str

    @classmethod
    def of(cls, post: Post) -> PostMail:
        base = current_app.config["SITE_URL"].rstrip("/")
        # Stored HTML links site paths ("/uploads/..."); a mail needs absolute addresses.
        # Mail clients drop classes: highlighted code gets its colours inline.
        html = absolute_urls(inline_styles(post.html), link("posts.post", slug=post.slug))
        text = plain_text(html, links=True)  # paragraphs, list items and link URLs
        html = mail_body.fit(html)  # 600 px at most, narrower on a phone
        image = post.feature_image or ""
        return cls(
            id=post.id,
            published=post.status == "published",
            subject=one_line(post.title)[:300],
            title=post.title,
            url=link("posts.post", slug=post.slug),
            html=html,
            text=text,
            excerpt=post.custom_excerpt or "",
            authors=", ".join(author.name for author in post.authors),
            feature_image=base + image if image.startswith("/") else image,
        )


def prepare_newsletters(jobs: list[Job]) -> Builder:
    """Load a batch's posts and subscribers at once; build each copy, or None if unwanted now."""
    post_ids = {job.post_id for job in jobs}
    posts = {
        post.id: PostMail.of(post)
        for post in db.session.scalars(
            select(Post)
            .where(Post.id.in_(post_ids))
            .options(selectinload(Post.author_links).selectinload(PostAuthor.author))
        )
    }
    # Read now, just before sending: whoever unsubscribed meanwhile gets nothing.
    subscribers = {
        row.id: row
        for row in db.session.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.status).where(
                Subscriber.id.in_({job.subscriber_id for job in jobs})
            )
        )
    }
    sender, reply_to = identity()
    host = site_host()
    list_name = re.sub(r'["\\<>]', "", one_line(settings()["title"]))[:100]
    site = dict(settings())

    def build(job: Job) -> Message | None:
        post, subscriber = posts.get(job.post_id), subscribers.get(job.subscriber_id)
        if post is None or subscriber is None or subscriber.status != "confirmed":
            return None
        if not post.published:
            return None
        token = tokens.unsubscribe_token(subscriber.id, subscriber.email)
        unsubscribe_url = link("newsletter.unsubscribe", token=token)
        context = {"post": post, "unsubscribe_url": unsubscribe_url, "site": site}
        template = current_app.jinja_env.get_template
        return compose(
            to=subscriber.email,
            subject=post.subject,
            text=template("email/newsletter.txt").render(**context),
            html=template("email/newsletter.html").render(**context),
            sender=sender,
            reply_to=reply_to,
            message_id=f"<newsletter.{post.id}.{subscriber.id}@{host}>",
            headers={
                "List-Unsubscribe": (
                    f"<{unsubscribe_url}>, "
                    f"<mailto:{parseaddr(sender)[1]}?subject=unsubscribe%20{token}>"
                ),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": f'"{list_name}" <newsletter.{host}>',
                "Precedence": "bulk",
            },
        )

    return build


register_renderer("newsletter", prepare_newsletters)

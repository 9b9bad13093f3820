"""A post as a newsletter issue: composed at send time for each confirmed subscriber, from
the post as readers read it (blog.posts.reading.Article), with RFC 2369 / RFC 8058
List-Unsubscribe headers. Rendered once per claimed batch, then stamped out per subscriber
(blog.mail.stencil). Registered as the outbox's "newsletter" renderer by
blog.mail.sender.init_app."""

from __future__ import annotations

import re
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select

from blog.content import absolute_urls, plain_text
from blog.extensions import db
from blog.highlight import inline_styles
from blog.mail.fit import fit
from blog.mail.message import Message, link, newsletter_identity, one_line, site_host, templated
from blog.mail.outbox import Builder, Job
from blog.mail.stencil import Stencil, mark
from blog.models import Post, Subscriber
from blog.newsletter import tokens
from blog.posts.reading import get_post
from blog.site import settings


def issue(post) -> dict:
    """Return what every copy of one post's newsletter shares, as template context: `post`
    itself, its absolute `url`, the mail's `html` (site links made absolute, code colours
    inline, fitted to 600 px: blog.mail.fit), its plain `text` (link URLs kept), `authors`
    ("A, B") and an absolute `feature_image` ("" for none).

    post: a blog.posts.reading.Article (a Post answers the same names).
    """
    url = link("posts.post", slug=post.slug)
    # Stored HTML links site paths ("/uploads/..."); a mail needs absolute addresses.
    # Mail clients drop classes: highlighted code gets its colours inline.
    html = absolute_urls(inline_styles(post.html), url)
    image = post.feature_image or ""
    base = current_app.config["SITE_URL"].rstrip("/")
    return {
        "post": post,
        "url": url,
        "html": fit(html),  # 600 px at most, narrower on a phone
        "text": plain_text(html, links=True),  # paragraphs, list items and link URLs
        "authors": ", ".join(author.name for author in post.authors),
        "feature_image": base + image if image.startswith("/") else image,
    }


def _issues(post_ids: set[int]) -> dict[int, dict]:
    """Return issue() of each published post among post_ids, by id, read as readers read it."""
    slugs = db.session.execute(select(Post.id, Post.slug).where(Post.id.in_(post_ids)))
    issues = {}
    for post_id, slug in slugs:
        article = get_post(slug)
        if article is not None and article.id == post_id and article.status == "published":
            issues[post_id] = issue(article)
    return issues


def prepare(jobs: list[Job]) -> Builder:
    """Load a batch's posts and subscribers at once; build each copy, or None if unwanted now
    (the post is no longer published, or the reader is no longer confirmed)."""
    issues = _issues({job.post_id for job in jobs})
    # Read now, just before sending: whoever unsubscribed meanwhile gets nothing.
    subscribers = {
        row.id: row
        for row in db.session.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.status).where(
                Subscriber.id.in_({job.subscriber_id for job in jobs})
            )
        )
    }
    sender, reply_to = newsletter_identity()
    host = site_host()
    list_name = re.sub(r'["\\<>]', "", one_line(settings()["title"]))[:100]
    site = dict(settings())
    stencils = {
        post_id: _stencil(shared, sender, reply_to, host, list_name, site)
        for post_id, shared in issues.items()
    }

    def build(job: Job) -> Message | None:
        stencil, subscriber = stencils.get(job.post_id), subscribers.get(job.subscriber_id)
        if stencil is None or subscriber is None or subscriber.status != "confirmed":
            return None
        return stencil.stamp(
            to=subscriber.email,
            message_id=f"<newsletter.{job.post_id}.{subscriber.id}@{host}>",
            token=tokens.unsubscribe_token(subscriber.id, subscriber.email),
        )

    return build


def _stencil(
    shared: dict, sender: str, reply_to: str | None, host: str, list_name: str, site: dict
) -> Stencil:
    """Render one post's issue once, with marks for what is each subscriber's own: the
    address, Message-ID and unsubscribe token (blog.mail.stencil). The token is URL-safe
    (letters, digits, "-_."), so the link built around its mark is the link built around it."""
    to, message_id, token = (mark(name) for name in ("to", "message_id", "token"))
    unsubscribe_url = link("newsletter.unsubscribe", token=token)
    template = templated(
        to,
        one_line(shared["post"].title)[:300],
        "newsletter",
        sender=sender,
        reply_to=reply_to,
        message_id=message_id,
        headers={
            "List-Unsubscribe": (
                f"<{unsubscribe_url}>, "
                f"<mailto:{parseaddr(sender)[1]}?subject=unsubscribe%20{token}>"
            ),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f'"{list_name}" <newsletter.{host}>',
            "Precedence": "bulk",
        },
        site=site,
        unsubscribe_url=unsubscribe_url,
        **shared,
    )
    return Stencil(template, ["to", "message_id", "token"])

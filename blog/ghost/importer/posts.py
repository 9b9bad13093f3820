"""Importing Ghost's posts and pages, with their tag and author links in Ghost's order.

A post is matched to what an earlier run stored by Ghost's ObjectId (kept in `ghost_id`), then
its uuid, then its slug, so running an import again adds nothing. Posts are written in batches,
each batch one transaction, and each post inside it a savepoint: a post that fails leaves
nothing behind and is reported; the rest of its batch is kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import select

from blog import slugs
from blog.extensions import db
from blog.ghost.importer.body import post_body
from blog.ghost.importer.run import ImportRun, assign, clip, ghost_id, url_field
from blog.ghost.reader import parse_date
from blog.models import Post, PostAuthor, PostTag, User, utcnow

# Ghost's statuses; "sent" is an email-only post, which Ghost never shows on the web.
_STATUSES = {"published": "published", "draft": "draft", "scheduled": "scheduled"}
# Fields Ghost 4+ keeps in posts_meta (and older Ghosts in posts), with our column lengths.
_META_FIELDS = {
    "feature_image_alt": 191, "meta_title": 300, "meta_description": 500, "og_title": 300,
    "og_description": 500, "twitter_title": 300, "twitter_description": 500,
}  # fmt: skip
_META_URLS = ("canonical_url", "og_image", "twitter_image")


def import_posts(run: ImportRun, batch_size: int, progress: Callable[[int], None]) -> None:
    """Import every post and page, batch_size per transaction; progress(n) after each batch."""
    rows = run.export.rows("posts")
    ids = {str(row.get("id")) for row in rows}
    tags = _links(run, "posts_tags", "tag_id", run.tags, ids)
    authors = _links(run, "posts_authors", "author_id", run.users, ids)
    meta = {str(m.get("post_id")): m for m in run.export.rows("posts_meta")}
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        for row in batch:
            source = str(row.get("id"))
            kind = "page" if row.get("type") == "page" else "post"
            try:
                with db.session.begin_nested():
                    outcome, note = _import_post(
                        run, row, meta.get(source, {}), tags.get(source), authors.get(source)
                    )
            except Exception as error:  # one bad post must not stop the import
                outcome, note = "skipped", f"{row.get('slug') or source}: {error}"
            run.report.count(kind, outcome, note)
        db.session.commit()
        progress(len(batch))


def _links(run: ImportRun, table: str, key: str, known: dict[str, int], posts: set[str]):
    """Read a join table into {Ghost post id: [our ids in order]}, reporting bad rows."""
    report = run.report
    ordered: dict[str, list[tuple]] = defaultdict(list)
    seen: set[tuple[str, int]] = set()
    for index, row in enumerate(run.export.rows(table)):
        post, target = str(row.get("post_id")), str(row.get(key))
        if post not in posts:
            report.count(table, "skipped", f"row {row.get('id', index)}: no post {post!r}")
            continue
        if target not in known:
            report.count(table, "skipped", f"row {row.get('id', index)}: no {key[:-3]} {target!r}")
            continue
        if (post, known[target]) in seen:
            report.count(
                table, "skipped", f"row {row.get('id', index)}: duplicate of an earlier row"
            )
            continue
        seen.add((post, known[target]))
        order = row.get("sort_order")
        order = order if isinstance(order, int | float) else float("inf")
        ordered[post].append((order, index, known[target]))
    return {post: [target for *_, target in sorted(rows)] for post, rows in ordered.items()}


def _find_post(run: ImportRun, found_id: str | None, uuid: str | None, slug: str) -> Post | None:
    """Find the post an earlier import stored for a row: by ObjectId, then uuid, then slug.

    A post this run already wrote is never matched again: two rows sharing a uuid or slug in
    one export stay two posts.
    """
    for column, value in ((Post.ghost_id, found_id), (Post.uuid, uuid), (Post.slug, slug)):
        if value:
            post = db.session.scalar(select(Post).where(column == value))
            if post is not None and post.id not in run.claimed_posts:
                return post
    return None


def _import_post(run: ImportRun, row: dict, meta: dict, tag_ids, author_ids):
    """Create or update one post from its Ghost row; return (outcome, note)."""
    notes: list[str] = []
    label = row.get("slug") or row.get("title") or row.get("id")
    title = clip((row.get("title") or "").strip() or "(Untitled)", 255)
    slug = slugs.slugify(str(row.get("slug") or title))
    found_id, uuid = ghost_id(row.get("id")), clip(row.get("uuid"), 36) or None
    post = _find_post(run, found_id, uuid, slug)
    if post is None and slug:
        if slug in slugs.RESERVED or db.session.scalar(select(Post.id).where(Post.slug == slug)):
            new = slugs.unique_slug(Post, slug)
            notes.append(f"slug {slug!r} is reserved or taken; now {new!r}")
            slug = new
    slug = slug or slugs.unique_slug(Post, title)
    values = _values(run, row, meta, title, notes)
    updated_at = parse_date(row.get("updated_at")) or values["created_at"]
    author_ids = author_ids or _fallback_author(run, row, notes)
    tag_ids = tag_ids or []
    if post is None:
        outcome = "imported"
        post = _new_post(run, slug, updated_at, values, found_id, uuid, notes)
        post.author_links = [PostAuthor(author_id=i) for i in author_ids]
        post.tag_links = [PostTag(tag_id=i) for i in tag_ids]
    else:
        changed = assign(post, values)
        changed = _set_links(post, "author_links", PostAuthor, "author_id", author_ids) or changed
        changed = _set_links(post, "tag_links", PostTag, "tag_id", tag_ids) or changed
        outcome = "updated" if changed else "unchanged"
        if changed:
            post.updated_at = updated_at
    for table, ids in (("posts_authors", author_ids), ("posts_tags", tag_ids)):
        for _ in ids:
            run.report.count(table, outcome)
    db.session.flush()
    run.claimed_posts.add(post.id)
    run.claimed_uuids.add(post.uuid or "")
    run.posts[str(row.get("id"))] = post.id
    return outcome, f"{label}: {'; '.join(notes)}" if notes else None


def _values(run: ImportRun, row: dict, meta: dict, title: str, notes: list[str]) -> dict:
    """Our post columns from a Ghost row and its posts_meta row; odd values noted in notes."""
    status = _STATUSES.get(str(row.get("status") or "draft"))
    if status is None:
        notes.append(f"status {row.get('status')!r} is not shown on the web; imported as a draft")
        status = "draft"
    published_at = parse_date(row.get("published_at"))
    created_at = parse_date(row.get("created_at")) or published_at or utcnow()
    if row.get("published_at") and published_at is None:
        notes.append(f"unreadable published_at {row.get('published_at')!r}")
    if status != "draft" and published_at is None:
        published_at = created_at
    custom_excerpt = clip(row.get("custom_excerpt"), 300)
    body = post_body(row, run, custom_excerpt)

    def field(name: str, length: int):
        value = meta.get(name) if meta.get(name) is not None else row.get(name)
        return clip(value, length)

    return {
        "title": title,
        **body,
        "custom_excerpt": custom_excerpt,
        "feature_image": url_field(row.get("feature_image"), run),
        "status": status,
        "type": "page" if row.get("type") == "page" else "post",
        "featured": row.get("featured") in (1, True, "1", "true"),
        "published_at": published_at,
        "created_at": created_at,
        **{name: field(name, length) for name, length in _META_FIELDS.items()},
        **{name: url_field(field(name, 2000), run) for name in _META_URLS},
    }


def _fallback_author(run: ImportRun, row: dict, notes: list[str]) -> list[int]:
    """A post without author links: its 0.x author_id, else our owner, else our first user."""
    fallback = run.users.get(str(row.get("author_id"))) or run.owner_id
    if fallback is None:
        fallback = db.session.scalar(select(User.id).order_by(User.id).limit(1))
    author_ids = [fallback] if fallback else []
    if author_ids and str(row.get("author_id")) not in run.users:
        notes.append("no author; given the owner")
    return author_ids


def _new_post(run: ImportRun, slug, updated_at, values: dict, found_id, uuid, notes) -> Post:
    """Add a new post; it keeps Ghost's uuid and ObjectId unless another post has them."""
    post = Post(slug=slug, updated_at=updated_at, **values)
    if (
        uuid
        and uuid not in run.claimed_uuids
        and not db.session.scalar(select(Post.id).where(Post.uuid == uuid))
    ):
        post.uuid = uuid
    elif uuid:
        notes.append(f"uuid {uuid} belongs to another post; given a new one")
    if found_id and not db.session.scalar(select(Post.id).where(Post.ghost_id == found_id)):
        post.ghost_id = found_id
    db.session.add(post)
    return post


def _set_links(post: Post, attribute: str, model, key: str, ids: list[int]) -> bool:
    """Make a post's author or tag links exactly ids, in order; tell whether anything changed."""
    links = getattr(post, attribute)
    if [getattr(link, key) for link in links] == list(ids):
        return False
    links.clear()
    db.session.flush()
    for id_ in ids:
        links.append(model(**{key: id_}))
    return True


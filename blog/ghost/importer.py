"""Importing a Ghost export: users, tags, posts and pages, their joins, and the zip's images.

Real exports are messy (Ghost's own importer tests carry duplicate join rows, joins to missing
posts and users, two users with one address, posts without authors); none of that stops an
import. Every row ends up counted in a Report as imported, updated, unchanged or skipped, with
the reason for each skip.

Running an import again adds nothing: rows are matched to what an earlier run stored, by
Ghost's ObjectId (kept in `ghost_id`), then the post's uuid, then the slug (users: the
address; tags: the slug). Two users with one address become one; two with one slug but
different addresses stay two, the second with a new slug. Posts are written in batches, each batch one transaction, and each post
inside it a savepoint: a post that fails leaves nothing behind and is reported; the rest of its
batch is kept.

All body HTML goes through blog.content.sanitise, the one sanitiser, like anything an author
writes.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from blog import content, slugs
from blog.addresses import AddressError, normalise_address
from blog.extensions import db
from blog.ghost import cards
from blog.ghost.reader import Export, image_path, parse_date
from blog.models import ROLES, GhostImage, Post, PostAuthor, PostTag, Tag, User, utcnow
from blog.site import safe_url

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
# A Ghost image URL in HTML or a field: `__GHOST_URL__/content/images/...`, `/content/images/...`
# or the old site's absolute address (the host is unknown, so any http(s) host is taken).
_IMAGE_URL = re.compile(r"""(?:__GHOST_URL__|https?://[^/"'\s<>]+)?/content/images/[^"'\s<>)?#]+""")
_GHOST_URL = "__GHOST_URL__"
# Ghost's statuses; "sent" is an email-only post, which Ghost never shows on the web.
_STATUSES = {"published": "published", "draft": "draft", "scheduled": "scheduled"}


@dataclass
class Report:
    """What an import did: counts per (kind, outcome) and one line per skipped or odd row."""

    counts: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def count(self, kind: str, outcome: str, note: str | None = None) -> None:
        """Count one row of kind (post, page, tag, user, image, posts_tags, posts_authors)."""
        self.counts[(kind, outcome)] += 1
        if note:
            self.notes.append(f"{kind}: {note}")

    def get(self, kind: str, outcome: str) -> int:
        return self.counts[(kind, outcome)]

    def lines(self) -> list[str]:
        """The report as text lines: a table of counts, then the reasons."""
        kinds = ["setting", "user", "tag", "post", "page", "posts_tags", "posts_authors", "image"]
        outcomes = ["imported", "updated", "unchanged", "skipped"]
        out = [f"{'':14}" + "".join(f"{o:>11}" for o in outcomes)]
        for kind in kinds:
            if any(self.counts[(kind, o)] for o in outcomes):
                out.append(
                    f"{kind:14}" + "".join(f"{self.counts[(kind, o)]:>11}" for o in outcomes)
                )
        if self.notes:
            out.append("")
            out.extend(f"- {note}" for note in self.notes)
        return out


class _Run:
    """One import's state: the export, the report, and Ghost ids mapped to our rows' ids."""

    def __init__(self, export: Export, report: Report, save_image) -> None:
        self.export = export
        self.report = report
        self.save_image = save_image
        self.users: dict[str, int] = {}  # Ghost user id -> our users.id
        self.tags: dict[str, int] = {}
        self.posts: dict[str, int] = {}
        self.images: dict[str, str] = {}  # path below content/images/ (lower case) -> our URL
        self.claimed_posts: set[int] = set()
        self.claimed_uuids: set[str] = set()
        self.owner_id: int | None = None


def import_export(
    export: Export,
    batch_size: int = 100,
    progress: Callable[[int], None] | None = None,
    save_image: Callable[[FileStorage], str] | None = None,
) -> Report:
    """Import a read Ghost export into the blog; return the Report.

    batch_size: posts per transaction. progress(n) is called after every n posts handled.
    save_image(file) stores one image and returns its URL (default: blog.images.save_image,
    which checks, re-encodes and stores it in our uploads). Commits as it goes; rows of a failed
    batch are rolled back and reported, never left half-written.
    """
    if save_image is None:
        from blog.images import save_image
    run = _Run(export, Report(), save_image)
    try:
        _import_images(run)
    finally:
        export.close()
    _import_settings(run)
    _import_users(run)
    _import_tags(run)
    _import_posts(run, max(1, batch_size), progress or (lambda n: None))
    return run.report


# --- Images ------------------------------------------------------------------------------------


def _import_images(run: _Run) -> None:
    known = dict(db.session.execute(select(GhostImage.path, GhostImage.url)).all())
    run.images.update(known)
    for path in sorted(run.export.images):
        key = path.lower()
        if key in known:
            run.report.count("image", "unchanged")
            continue
        try:
            data = run.export.read_image(path)
            url = run.save_image(FileStorage(io.BytesIO(data), filename=_file_name(path)))
        except Exception as error:  # UploadError, or anything Pillow raises on a bad file
            run.report.count("image", "skipped", f"{path}: {getattr(error, 'message', error)}")
            continue
        db.session.add(GhostImage(path=key[:500], url=url))
        db.session.commit()  # the file is on disk: record it at once
        run.images[key] = url
        run.report.count("image", "imported")
    db.session.commit()


def _file_name(path: str) -> str:
    """The file name part of an image path, as a browser would send it."""
    return path.rsplit("/", 1)[-1]


def relink(url: str | None, run: _Run) -> str | None:
    """Return a field's URL with Ghost's placeholders resolved and imported images re-linked."""
    if not url:
        return url
    url = _IMAGE_URL.sub(lambda m: _image_url(m[0], run), url)
    return url.replace(_GHOST_URL, "") or "/"


def _url(value, run: _Run) -> str | None:
    """A URL field: re-linked, and kept only if it is a site path or http(s)/mailto (SECURITY #5:
    no javascript: or data: URL reaches a reader)."""
    url = safe_url(relink(_clip(value, 2000), run))
    return url[:2000] if url else None


def _image_url(found: str, run: _Run) -> str:
    path = image_path(found.replace(_GHOST_URL, ""))
    if path and path.lower() in run.images:
        return run.images[path.lower()]
    if found.startswith(_GHOST_URL):
        return found[len(_GHOST_URL) :]
    return found


def _relink_html(html: str, run: _Run) -> str:
    html = _IMAGE_URL.sub(lambda m: _image_url(m[0], run), html)
    return html.replace(_GHOST_URL, "")


# --- Settings ----------------------------------------------------------------------------------

# Ghost's settings keys (and their 0.x names) -> ours (blog.site.SETTING_KEYS).
GHOST_SETTINGS = {
    "title": "title",
    "description": "description",
    "accent_color": "accent_color",
    "lang": "language",
    "locale": "language",
    "default_locale": "language",
    "navigation": "navigation",
    "logo": "logo",
}


def _import_settings(run: _Run) -> None:
    """Take the site's title, description, accent colour, language, navigation and logo from
    Ghost, checked by the settings screen's own rules; a setting already saved here is kept."""
    from werkzeug.datastructures import MultiDict

    from blog.admin import store
    from blog.admin.forms import parse_settings
    from blog.models import Setting

    ghost: dict = {}
    for row in run.export.rows("settings"):
        name = GHOST_SETTINGS.get(str(row.get("key")))
        if name and row.get("value") not in (None, "") and name not in ghost:
            ghost[name] = row["value"]
    if not ghost:
        return
    data = MultiDict({k: str(v) for k, v in ghost.items() if k not in ("navigation", "logo")})
    if "logo" in ghost:
        data["logo"] = _url(ghost["logo"], run) or ""
    if "navigation" in ghost:
        try:
            items = json.loads(ghost["navigation"]) if isinstance(ghost["navigation"], str) else []
        except ValueError:
            items = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            url = relink(str(item.get("url") or ""), run) or ""
            if not safe_url(url):
                run.report.notes.append(f"setting: navigation link {url[:100]!r} dropped")
                continue
            data.add("nav_label", str(item.get("label") or ""))
            data.add("nav_url", url)
    form = parse_settings(data)
    stored = set(db.session.scalars(select(Setting.key)))
    chosen = {}
    for name in ghost:
        if name in stored:
            run.report.count("setting", "unchanged")
        elif name in form.errors:
            run.report.count("setting", "skipped", f"{name}: {form.errors[name]}")
        else:
            chosen[name] = form.values.get(name)
            run.report.count("setting", "imported")
    if chosen:
        store.save_settings(chosen)
    db.session.commit()


# --- Users -------------------------------------------------------------------------------------


def _roles(export: Export) -> dict[str, str]:
    """Map Ghost user ids to our role names (Ghost's roles, lower-cased; author if unknown)."""
    names = {str(r.get("id")): str(r.get("name", "")).lower() for r in export.rows("roles")}
    roles: dict[str, str] = {}
    for link in export.rows("roles_users"):
        name = names.get(str(link.get("role_id")), "")
        user = str(link.get("user_id"))
        if name in ROLES and (user not in roles or ROLES.index(name) < ROLES.index(roles[user])):
            roles[user] = name
    return roles


def _clip(value, length: int) -> str | None:
    """Text of at most length characters, without NULs (PostgreSQL refuses them); None stays."""
    if value is None:
        return None
    return str(value).replace("\x00", "")[:length]


def _ghost_id(value) -> str | None:
    """Ghost's ObjectId if value is one (Ghost 1.0+), else None (0.x numbers, odd ids)."""
    text = str(value or "")
    return text if OBJECT_ID.fullmatch(text) else None


def _import_users(run: _Run) -> None:
    report, roles = run.report, _roles(run.export)
    our_owner = db.session.scalar(select(User.id).where(User.role == "owner").limit(1))
    claimed: dict[int, str] = {}  # our user id -> the Ghost user it came from in this run
    for row in run.export.rows("users"):
        source = str(row.get("id"))
        label = f"{source} ({row.get('slug') or row.get('email')})"
        try:
            email = normalise_address(str(row.get("email") or ""))
        except AddressError as error:
            report.count("user", "skipped", f"{label}: no usable email address ({error})")
            continue
        ghost_id = _ghost_id(row.get("id"))
        user = None
        if ghost_id:
            user = db.session.scalar(select(User).where(User.ghost_id == ghost_id))
        user = user or db.session.scalar(
            select(User).where(func.lower(User.email) == email.lower())
        )
        slug = slugs.slugify(str(row.get("slug") or row.get("name") or "")) or "author"
        if user is not None and user.id in claimed:
            run.users[source] = user.id
            report.count(
                "user", "skipped", f"{label}: same address as {claimed[user.id]}; "
                "their posts go to that user"
            )  # fmt: skip
            continue
        role = roles.get(source, "author")
        if role == "owner" and (our_owner is not None or run.owner_id is not None):
            role = "administrator"  # an imported owner never displaces ours
        values = {
            "name": _clip(row.get("name") or slug, 191),
            "bio": _clip(row.get("bio"), 5000),
            "profile_image": _url(row.get("profile_image"), run),
            "website": _url(row.get("website"), run),
            "location": _clip(row.get("location"), 191),
            "is_active": str(row.get("status") or "active") != "inactive",
        }
        if user is None:
            if (
                db.session.scalar(select(User.id).where(User.slug == slug))
                or slug in slugs.RESERVED
            ):
                new = slugs.unique_slug(User, slug)
                report.notes.append(f"user: {label}: slug {slug!r} is taken; now {new!r}")
                slug = new
            user = User(email=email, slug=slug, role=role, password_hash=None, **values)
            if ghost_id and not db.session.scalar(select(User.id).where(User.ghost_id == ghost_id)):
                user.ghost_id = ghost_id
            db.session.add(user)
            db.session.flush()
            report.count("user", "imported")
        else:
            if not ghost_id or user.ghost_id != ghost_id:
                # One of our own accounts (matched by address): fill in what it lacks,
                # never overwrite or deactivate it.
                values = {
                    k: v for k, v in values.items() if k != "is_active" and not getattr(user, k)
                }
            changed = _assign(user, values)
            report.count("user", "updated" if changed else "unchanged")
        if user.role == "owner":
            run.owner_id = user.id
        claimed[user.id] = label
        run.users[source] = user.id
    db.session.commit()
    run.owner_id = our_owner or run.owner_id


def _assign(row, values: dict) -> bool:
    """Set values on row; tell whether any changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


# --- Tags --------------------------------------------------------------------------------------


def _import_tags(run: _Run) -> None:
    report = run.report
    claimed: set[int] = set()
    for row in run.export.rows("tags"):
        source = str(row.get("id"))
        slug = slugs.slugify(str(row.get("slug") or row.get("name") or ""))
        if not slug:
            report.count("tag", "skipped", f"{source}: no name or slug")
            continue
        ghost_id = _ghost_id(row.get("id"))
        tag = db.session.scalar(select(Tag).where(Tag.ghost_id == ghost_id)) if ghost_id else None
        tag = tag or db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is not None and tag.id in claimed:
            run.tags[source] = tag.id
            report.count("tag", "skipped", f"{slug}: a second tag with this slug; merged")
            continue
        values = {
            "name": _clip(row.get("name") or slug, 191),
            "description": _clip(row.get("description"), 5000),
            "feature_image": _url(row.get("feature_image"), run),
        }
        if tag is None:
            tag = Tag(slug=slug[:191], **values)
            if ghost_id and not db.session.scalar(select(Tag.id).where(Tag.ghost_id == ghost_id)):
                tag.ghost_id = ghost_id
            db.session.add(tag)
            db.session.flush()
            report.count("tag", "imported")
        else:
            report.count("tag", "updated" if _assign(tag, values) else "unchanged")
        claimed.add(tag.id)
        run.tags[source] = tag.id
    db.session.commit()


# --- Posts and pages ---------------------------------------------------------------------------


def _links(run: _Run, table: str, key: str, known: dict[str, int], posts: set[str]):
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


def _import_posts(run: _Run, batch_size: int, progress) -> None:
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


def _body(row: dict, run: _Run) -> tuple[str, str]:
    """Return (sanitised HTML, Markdown source) for a Ghost post row.

    The body is Ghost's rendered `html`; when that is empty, it is rendered from `lexical`,
    then `mobiledoc`, then Ghost 0.x's `markdown`. Markdown source is kept when the post is one
    Markdown card (Ghost 1.x) or 0.x Markdown; otherwise the editor gets the sanitised HTML,
    which Markdown passes through.
    """
    source = (
        row.get("markdown")
        or cards.markdown_source(row.get("lexical"))
        or (cards.markdown_source(row.get("mobiledoc")))
    )
    raw = row.get("html") or ""
    if not raw.strip():
        raw = cards.to_html(row.get("lexical"), content.render_markdown) or cards.to_html(
            row.get("mobiledoc"), content.render_markdown
        )
    if not raw.strip() and source:
        raw = content.render_markdown(source)
    html = content.sanitise(_headings(_relink_html(raw.replace("\x00", ""), run)))
    if source is not None:
        source = _relink_html(source.replace("\x00", ""), run)
    return html, source if source is not None else html


def _headings(html: str) -> str:
    """Keep the post title the page's only h1, as the editor's Markdown does: h1 becomes h2,
    h5 and h6 become h4 (the sanitiser would otherwise drop them, keeping their text)."""
    html = re.sub(r"<(/?)h1(?=[\s>])", r"<\1h2", html, flags=re.IGNORECASE)
    return re.sub(r"<(/?)h[56](?=[\s>])", r"<\1h4", html, flags=re.IGNORECASE)


def _find_post(run: _Run, ghost_id: str | None, uuid: str | None, slug: str) -> Post | None:
    """Find the post an earlier import stored for a row: by ObjectId, then uuid, then slug.

    A post this run already wrote is never matched again: two rows sharing a uuid or slug in
    one export stay two posts.
    """
    for column, value in ((Post.ghost_id, ghost_id), (Post.uuid, uuid), (Post.slug, slug)):
        if value:
            post = db.session.scalar(select(Post).where(column == value))
            if post is not None and post.id not in run.claimed_posts:
                return post
    return None


def _import_post(run: _Run, row: dict, meta: dict, tag_ids, author_ids) -> tuple[str, str | None]:
    """Create or update one post from its Ghost row; return (outcome, note)."""
    notes = []
    label = row.get("slug") or row.get("title") or row.get("id")
    title = _clip((row.get("title") or "").strip() or "(Untitled)", 255)
    slug = slugs.slugify(str(row.get("slug") or title))
    ghost_id = _ghost_id(row.get("id"))
    uuid = _clip(row.get("uuid"), 36) or None
    post = _find_post(run, ghost_id, uuid, slug)
    if post is None and slug:
        if slug in slugs.RESERVED or db.session.scalar(select(Post.id).where(Post.slug == slug)):
            new = slugs.unique_slug(Post, slug)
            notes.append(f"slug {slug!r} is reserved or taken; now {new!r}")
            slug = new
    slug = slug or slugs.unique_slug(Post, title)
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
    html, markdown = _body(row, run)
    text = content.plain_text(html)
    custom_excerpt = _clip(row.get("custom_excerpt"), 300)

    def field(name: str, length: int):
        value = meta.get(name) if meta.get(name) is not None else row.get(name)
        return _clip(value, length)

    values = {
        "title": title,
        "markdown": markdown,
        "html": html,
        "plaintext": text,
        "custom_excerpt": custom_excerpt,
        "excerpt": content.make_excerpt(custom_excerpt or text),
        "reading_time": content.reading_time(text),
        "feature_image": _url(row.get("feature_image"), run),
        "feature_image_alt": field("feature_image_alt", 191),
        "status": status,
        "type": "page" if row.get("type") == "page" else "post",
        "featured": row.get("featured") in (1, True, "1", "true"),
        "published_at": published_at,
        "created_at": created_at,
        "meta_title": field("meta_title", 300),
        "meta_description": field("meta_description", 500),
        "canonical_url": _url(field("canonical_url", 2000), run),
        "og_image": _url(field("og_image", 2000), run),
        "og_title": field("og_title", 300),
        "og_description": field("og_description", 500),
        "twitter_image": _url(field("twitter_image", 2000), run),
        "twitter_title": field("twitter_title", 300),
        "twitter_description": field("twitter_description", 500),
    }
    updated_at = parse_date(row.get("updated_at")) or created_at
    if not author_ids:
        fallback = run.users.get(str(row.get("author_id"))) or run.owner_id
        if fallback is None:
            fallback = db.session.scalar(select(User.id).order_by(User.id).limit(1))
        author_ids = [fallback] if fallback else []
        if author_ids and str(row.get("author_id")) not in run.users:
            notes.append("no author; given the owner")
    outcome = "imported"
    if post is None:
        post = Post(slug=slug, updated_at=updated_at, **values)
        if (
            uuid
            and uuid not in run.claimed_uuids
            and not db.session.scalar(select(Post.id).where(Post.uuid == uuid))
        ):
            post.uuid = uuid
        elif uuid:
            notes.append(f"uuid {uuid} belongs to another post; given a new one")
        if ghost_id and not db.session.scalar(select(Post.id).where(Post.ghost_id == ghost_id)):
            post.ghost_id = ghost_id
        db.session.add(post)
    else:
        changed = _assign(post, values)
        changed = _set_links(post, "author_links", PostAuthor, "author_id", author_ids) or changed
        changed = _set_links(post, "tag_links", PostTag, "tag_id", tag_ids or []) or changed
        outcome = "updated" if changed else "unchanged"
        if changed:
            post.updated_at = updated_at
    if outcome == "imported":
        post.author_links = [PostAuthor(author_id=i) for i in author_ids]
        post.tag_links = [PostTag(tag_id=i) for i in tag_ids or []]
    for table, ids in (("posts_authors", author_ids), ("posts_tags", tag_ids or [])):
        for _ in ids:
            run.report.count(table, outcome)
    db.session.flush()
    run.claimed_posts.add(post.id)
    run.claimed_uuids.add(post.uuid or "")
    run.posts[str(row.get("id"))] = post.id
    return outcome, f"{label}: {'; '.join(notes)}" if notes else None


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


def report_json(report: Report) -> str:
    """The report as JSON: {"counts": {"post": {"imported": 3, ...}, ...}, "notes": [...]}."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for (kind, outcome), number in report.counts.items():
        counts[kind][outcome] = number
    return json.dumps({"counts": counts, "notes": report.notes}, indent=2)

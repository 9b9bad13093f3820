"""Original demo content: a few authors, tags, an About page and as many posts as asked for."""

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, insert, select

from blog.content import render
from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, Tag, User, utcnow
from blog.posts.search import indexer as search_indexer
from blog.settings import save_settings
from blog.site import settings
from blog.slugs import slugify

# The demo's contact address: the About page gives it, and newsletter replies go to it.
CONTACT = "hello@example.com"
AUTHORS = [
    (
        "Ada Okafor",
        "ada",
        "editor",
        "Editor. Writes about cities, maps and the people who draw them.",
    ),
    (
        "Liam Novak",
        "liam",
        "author",
        "Cook and occasional gardener. Believes every soup needs lemon.",
    ),
    (
        "Mei Tanaka",
        "mei",
        "author",
        "Software person who would rather be hiking. Notes from trails.",
    ),
    (
        "Rosa Lindqvist",
        "rosa",
        "contributor",
        "Reads too much, sleeps too little, writes it all down.",
    ),
]
TAGS = [
    ("Cities", "Streets, maps and how places change."),
    ("Kitchen", "Recipes and the stories behind them."),
    ("Outdoors", "Walks, trails and weather."),
    ("Books", "What we are reading and why."),
    ("Craft", "Notes on writing, making and learning."),
    ("Tools", "The small things that make work easier."),
]
IMAGES = [
    ("harbour", "Soft circles of light over a dark teal harbour"),
    ("meadow", "Layered hills in navy and pink"),
    ("dusk", "Rotated squares drifting in green and cream"),
    ("orchard", "Golden circles on a purple evening sky"),
    ("tide", "Rolling pink waves under a violet sky"),
    ("ridge", "Tilted shapes over a blue and green gradient"),
    ("lantern", "Warm orange lights over deep purple"),
    ("canyon", "Layered ridges in midnight blue"),
    ("ember", "Scattered squares over a red and purple glow"),
    ("fjord", "Pale green circles above a dark fjord"),
    ("atlas", "Mountain lines in grey and coral"),
    ("coast", "Tilted tiles on an orange sunset"),
]
OPENINGS = [
    "Notes on",
    "A short guide to",
    "What I learned from",
    "In praise of",
    "Rethinking",
    "The quiet joy of",
    "Field notes:",
    "Why we keep returning to",
    "Ten minutes with",
    "Letters about",
    "Small lessons from",
    "An afternoon of",
]
# Each subject with the tags that fit it (names from TAGS).
SUBJECTS = [
    ("city maps", ["Cities", "Tools"]),
    ("slow soups", ["Kitchen"]),
    ("winter trails", ["Outdoors"]),
    ("second-hand books", ["Books"]),
    ("handwritten drafts", ["Craft", "Books"]),
    ("morning light", ["Outdoors", "Craft"]),
    ("old bridges", ["Cities"]),
    ("sourdough starters", ["Kitchen", "Craft"]),
    ("river walks", ["Outdoors", "Cities"]),
    ("paper notebooks", ["Tools", "Craft"]),
    ("night trains", ["Cities", "Outdoors"]),
    ("kitchen knives", ["Kitchen", "Tools"]),
    ("public libraries", ["Books", "Cities"]),
    ("mountain huts", ["Outdoors"]),
    ("street markets", ["Cities", "Kitchen"]),
    ("pocket tools", ["Tools"]),
    ("rainy Sundays", ["Books", "Kitchen"]),
    ("garden herbs", ["Kitchen", "Outdoors"]),
    ("long letters", ["Craft", "Books"]),
    ("small cafés", ["Cities", "Kitchen"]),
]
# Appended once every opening and subject has been used, so titles stay distinct.
SETTINGS = [
    "in winter", "in spring", "after rain", "at dawn", "on a budget", "with children",
    "for beginners", "in a small flat", "on the road", "by the sea", "in the north",
    "on a Monday", "with friends", "alone", "in the city", "in the country",
]  # fmt: skip
SENTENCES = [
    "It began, as these things do, with a question nobody at the table could answer.",
    "The first attempt went badly, and the second only slightly better.",
    "What surprised me most was how little equipment it actually needed.",
    "There is a version of this story that is tidy, but it is not the true one.",
    "By the third week a routine had formed without anyone deciding on it.",
    "Most of the advice I had read turned out to be about somebody else's life.",
    "A neighbour pointed out the obvious thing I had walked past for years.",
    "The trick, if there is one, is to stop before it feels finished.",
    "Weather changes everything, and it is worth planning around.",
    "I kept a notebook the whole time, and most of this post comes from it.",
    "Nothing here needs to be bought new; borrowing works just as well.",
    "The best moments were the unplanned ones between the planned ones.",
    "Patience matters more than talent, and it can be practised.",
    "Every place has a rhythm, and it takes a few visits to hear it.",
    "It is easy to overthink the start and underthink the finish.",
    "Good tools disappear in the hand; bad ones demand attention.",
    "Some of the oldest methods are still the most reliable ones.",
    "When in doubt, ask someone who has done it a hundred times.",
    "Small, repeated efforts beat occasional heroic ones.",
    "The map is not the territory, but it is a good place to start.",
]
HEADINGS = [
    "Getting started",
    "What went wrong",
    "A better way",
    "The details",
    "Looking back",
    "What I would change",
    "A few tips",
]


def _body(rnd: random.Random) -> str:
    """Write a Markdown body of a few sections, with a list and sometimes a quote or code."""
    parts = []
    for number in range(rnd.randint(2, 4)):
        if number:
            parts.append(f"## {rnd.choice(HEADINGS)}")
        for _ in range(rnd.randint(2, 3)):
            parts.append(" ".join(rnd.sample(SENTENCES, rnd.randint(3, 6))))
    parts.insert(2, "\n".join(f"- {s}" for s in rnd.sample(SENTENCES, 3)))
    if rnd.random() < 0.4:
        parts.insert(3, f"> {rnd.choice(SENTENCES)}")
    if rnd.random() < 0.2:
        parts.append("```python\nsteps = ['plan', 'try', 'note', 'repeat']\nprint(steps[-1])\n```")
    parts.append(f"*Thanks for reading. Reply to the newsletter to write to us at {CONTACT}.*")
    return "\n\n".join(parts)


def _rendered(source: str) -> dict:
    """Return the stored fields derived from Markdown source."""
    body = render(source)
    return {
        "markdown": source,
        "html": body.html,
        "plaintext": body.text,
        "excerpt": body.excerpt,
        "reading_time": body.reading_time,
    }


def _add_people_and_tags() -> tuple[list[int], list[int]]:
    """Create the demo authors (who cannot sign in) and tags; return their ids."""
    users = [
        User(
            name=name,
            slug=slug,
            email=f"{slug}@example.com",
            role=role,
            bio=bio,
            profile_image=f"/static/demo/avatar-{slug}.svg",
            website=f"https://example.com/{slug}",
        )
        for name, slug, role, bio in AUTHORS
    ]
    tags = [Tag(name=name, slug=name.lower(), description=desc) for name, desc in TAGS]
    db.session.add_all(users + tags)
    db.session.flush()
    return [u.id for u in users], {t.name: t.id for t in tags}


def titles(rnd: random.Random):
    """Yield distinct (title, subject) pairs: every opening with every subject in a shuffled
    order, then the same with a setting appended, then numbered parts."""
    pairs = [(opening, subject) for opening in OPENINGS for subject, _ in SUBJECTS]
    rnd.shuffle(pairs)
    for suffix in ["", *SETTINGS]:
        for opening, subject in pairs:
            yield f"{opening} {subject}{' ' + suffix if suffix else ''}", subject
    part = 2
    while True:
        for opening, subject in pairs:
            yield f"{opening} {subject}, part {part}", subject
        part += 1


@contextmanager
def bulk_writes() -> Iterator[None]:
    """Let fill() write a big demo fast on SQLite: with a rollback journal and no fsync (each
    page written once; WAL writes every page twice, into the log and then the database), then
    back to WAL. On other databases it changes nothing.

    For the demo command only: it closes the pool's connections, and the journal stays WAL
    when another process has the database open. An OS crash while it runs can corrupt the file
    (synchronous=OFF): the demo only fills an empty blog, so run it again on a fresh one.
    At 100,000 posts (1.5 GB) this takes about a third off `demo`'s time.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def unsafe_and_fast(dbapi_connection, connection_record) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=DELETE")  # stays WAL if another has it open
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    db.session.commit()
    engine.dispose()  # the pool's idle connections would keep the database in WAL
    event.listen(engine, "connect", unsafe_and_fast)
    try:
        yield
    finally:
        event.remove(engine, "connect", unsafe_and_fast)
        db.session.commit()
        db.session.close()
        engine.dispose()
        engine.connect().close()  # a new connection turns WAL on again (blog.extensions)


def _promise_replies() -> None:
    """Send newsletter replies to CONTACT, as the demo posts say, unless one is set already."""
    if not settings().get("newsletter_reply_to"):
        save_settings({"newsletter_reply_to": CONTACT})


def fill(count: int, progress: Callable[[int], None] = lambda n: None, seed: int = 1) -> None:
    """Add demo authors, tags, an About page and count posts, committing in batches."""
    rnd = random.Random(seed)
    _promise_replies()
    user_ids, tag_ids = _add_people_and_tags()
    now = utcnow()
    about = _rendered(
        "We are a small team writing about the things we love. "
        "This blog is a demo of a self-hosted platform: fast pages, a newsletter "
        "and nothing you do not need.\n\n## Get in touch\n\nWrite to "
        f"<{CONTACT}> or subscribe below."
    )
    page = Post(
        title="About us",
        slug="about",
        type="page",
        status="published",
        published_at=now - timedelta(days=400),
        **about,
    )
    page.authors.append(db.session.get(User, user_ids[0]))
    db.session.add(page)
    bodies = [_rendered(_body(rnd)) for n in range(min(count, 48))]
    moment, batch = now - timedelta(hours=2), 1000
    subject_tags = dict(SUBJECTS)
    names, slugs, post_tags = titles(rnd), {"about"}, {}
    for start in range(0, count, batch):
        rows, links = [], []
        for n in range(start, min(start + batch, count)):
            title, subject = next(names)
            slug = base = slugify(title)
            suffix = 2
            while slug in slugs:  # only if two titles slugify alike: never a "-1"
                slug, suffix = f"{base}-{suffix}", suffix + 1
            slugs.add(slug)
            post_tags[n] = [tag_ids[name] for name in subject_tags[subject]]
            image, alt = IMAGES[n % len(IMAGES)]
            moment -= timedelta(minutes=rnd.randint(6 * 60, 60 * 60))
            rows.append(
                {
                    "title": title,
                    "slug": slug,
                    "type": "post",
                    "status": "published",
                    "published_at": moment,
                    "featured": n % 9 == 0,
                    "feature_image": f"/static/demo/{image}.jpg",  # raster: share cards
                    "feature_image_alt": alt,
                    "created_at": moment,
                    "updated_at": moment,
                    **bodies[n % len(bodies)],
                }
            )
        # One executemany, then the new ids by slug: RETURNING in parameter order makes
        # SQLite insert row by row (a statement each), about a third of the demo's time.
        db.session.execute(insert(Post.__table__), rows)
        batch_slugs = [row["slug"] for row in rows]
        by_slug = dict(
            db.session.execute(
                select(Post.slug, Post.id).where(Post.slug.in_(batch_slugs))
            ).all()
        )
        ids = [by_slug[slug] for slug in batch_slugs]
        for n, post_id in enumerate(ids, start):
            authors = [user_ids[n % len(user_ids)]] + (
                [user_ids[(n + 1) % 4]] if n % 7 == 0 else []
            )
            links.append((post_id, authors, post_tags.pop(n)))
        db.session.execute(
            insert(PostAuthor),
            [
                {"post_id": p, "author_id": a, "sort_order": i}
                for p, authors, _ in links
                for i, a in enumerate(authors)
            ],
        )
        db.session.execute(
            insert(PostTag),
            [
                {"post_id": p, "tag_id": t, "sort_order": i}
                for p, _, tags in links
                for i, t in enumerate(tags)
            ],
        )
        search_indexer.index_posts(ids)  # core inserts bypass the ORM hook that keeps search current
        db.session.commit()
        progress(len(ids))

"""`flask --app blog export-ghost -o FILE`: Ghost's export shape, no secrets, and export then import
into an empty blog gives the same posts, pages, tags, authors and URLs. On SQLite and
PostgreSQL."""

import json

from sqlalchemy import delete, select

from blog.extensions import db
from blog.models import GhostImage, Integration, Post, PostAuthor, PostTag, Tag, User
from fixtures.ghost import FIXTURE_1_8_1, MODERN, report_table


def snapshot() -> dict:
    """Everything a reader or a Ghost client sees of the blog's content, by slug."""
    posts = {
        post.slug: {
            "title": post.title,
            "html": post.html,
            "status": post.status,
            "type": post.type,
            "featured": post.featured,
            "published_at": post.published_at and post.published_at.replace(microsecond=0),
            "custom_excerpt": post.custom_excerpt,
            "feature_image": post.feature_image,
            "meta": (post.meta_title, post.meta_description, post.og_title, post.twitter_title),
            "ghost_id": post.ghost_id,
            "uuid": post.uuid,
            "authors": [a.slug for a in post.authors],
            "tags": [t.slug for t in post.tags],
        }
        for post in db.session.scalars(select(Post))
    }
    tags = {t.slug: (t.name, t.description, t.ghost_id) for t in db.session.scalars(select(Tag))}
    users = {
        u.slug: (u.name, u.email, u.role, u.bio, u.profile_image, u.is_active, u.ghost_id)
        for u in db.session.scalars(select(User))
    }
    db.session.rollback()
    return {"posts": posts, "tags": tags, "users": users}


def empty_the_blog() -> None:
    for model in (PostAuthor, PostTag, Post, Tag, GhostImage, Integration, User):
        db.session.execute(delete(model))
    db.session.commit()


def test_export_then_import_into_an_empty_blog_round_trips(import_ghost, runner, client, tmp_path):
    import_ghost(MODERN)
    import_ghost(FIXTURE_1_8_1)
    before = snapshot()
    out = tmp_path / "export.json"
    result = runner.invoke(args=["export-ghost", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 13 posts and pages, 4 tags and 8 users" in result.output
    empty_the_blog()
    table = report_table(import_ghost(out).output)
    assert table["post"]["imported"] + table["page"]["imported"] == 13
    assert not any(counts["skipped"] for counts in table.values())
    assert snapshot() == before
    for slug, post in before["posts"].items():
        expected = 200 if post["status"] == "published" else 404
        assert client.get(f"/{slug}/").status_code == expected, slug
    for slug in before["tags"]:
        if not slug.startswith("hash-"):
            assert client.get(f"/tag/{slug}/").status_code == 200, slug
    assert client.get("/author/arthur/").status_code == 200


def test_our_own_posts_round_trip_too(
    make_post, make_user, make_tag, runner, import_ghost, tmp_path
):
    writer = make_user(name="Native Writer", slug="native", email="native@example.com")
    tag = make_tag("Notes", description="Short ones.")
    make_post(
        "Native post", slug="native-post", body="Some *Markdown*.", authors=[writer], tags=[tag]
    )
    make_post("Native page", slug="native-page", type="page", authors=[writer])
    before = snapshot()
    out = tmp_path / "export.json"
    assert runner.invoke(args=["export-ghost", "-o", str(out)]).exit_code == 0
    empty_the_blog()
    import_ghost(out)
    assert snapshot() == before


def test_export_is_in_ghosts_shape_without_secrets(make_post, make_user, runner, tmp_path):
    make_user(name="Signs In", slug="signs-in", email="pw@example.com")
    make_post("Exported", slug="exported", body="Body **text**.")
    out = tmp_path / "export.json"
    assert runner.invoke(args=["export-ghost", "-o", str(out)]).exit_code == 0
    text = out.read_text()
    document = json.loads(text)
    export = document["db"][0]
    assert export["meta"]["version"].startswith("5.")
    assert isinstance(export["meta"]["exported_on"], int)
    data = export["data"]
    assert {"posts", "posts_meta", "tags", "users", "roles", "roles_users", "posts_tags",
            "posts_authors", "settings"} <= set(data)  # fmt: skip
    settings = {row["key"]: row["value"] for row in data["settings"]}
    assert settings["title"] == "Test Blog" and json.loads(settings["navigation"])[0]["url"] == "/"
    post = next(p for p in data["posts"] if p["slug"] == "exported")
    assert "<strong>text</strong>" in post["html"]
    assert "mobiledoc" not in post and "lexical" not in post
    assert len(post["id"]) == 24 and post["published_at"].endswith("Z")
    link = next(link for link in data["posts_authors"] if link["post_id"] == post["id"])
    assert link["sort_order"] == 0
    assert '"password' not in text and "pbkdf2" not in text and "scrypt" not in text
    roles = {r["id"]: r["name"] for r in data["roles"]}
    assert {roles[link["role_id"]] for link in data["roles_users"]} == {"Author"}
    # Exporting twice names every row the same way.
    again = tmp_path / "again.json"
    assert runner.invoke(args=["export-ghost", "-o", str(again)]).exit_code == 0
    ids = lambda doc: sorted(p["id"] for p in doc["db"][0]["data"]["posts"])  # noqa: E731
    assert ids(json.loads(again.read_text())) == ids(document)

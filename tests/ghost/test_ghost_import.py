"""`flask --app blog import-ghost FILE`: a real Ghost 1.8.1 export with its edge cases, a Ghost 5
export (lexical, mobiledoc, posts_meta, roles), a Ghost 0.x export and a zip with images; the
report, re-runs, sanitising, and the old Ghost URLs. On SQLite and PostgreSQL."""

import json

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import GhostImage, Post, Tag, User
from fixtures.ghost import (
    FIXTURE_1_8_1,
    LEGACY,
    MODERN,
    make_zip,
    png_bytes,
    report_table,
    row_counts,
)


def post(slug: str) -> Post:
    return db.session.scalar(select(Post).where(Post.slug == slug))


# --- The real Ghost 1.8.1 export -------------------------------------------------------------


def test_real_export_imports_with_a_report_of_every_edge_case(import_ghost):
    result = import_ghost(FIXTURE_1_8_1)
    table = report_table(result.output)
    assert table["post"] == {"imported": 3, "updated": 0, "unchanged": 0, "skipped": 0}
    assert table["tag"]["imported"] == 1
    # Five users, two sharing a slug and address: the second becomes the first.
    assert table["user"] == {"imported": 4, "updated": 0, "unchanged": 0, "skipped": 1}
    # Ten join rows: a duplicate, one to post "unknown", one to a missing user, two repeats.
    assert table["posts_authors"]["skipped"] == 5
    assert table["posts_authors"]["imported"] == 5
    assert "no post 'unknown'" in result.output
    assert "no author '5951f5fca366002ebd5dbefff'" in result.output
    assert "duplicate of an earlier row" in result.output
    assert "same address as" in result.output
    assert "Importing posts" in result.output  # the progress bar's label


def test_real_export_serves_every_post_tag_and_author_at_its_ghost_url(import_ghost, client):
    import_ghost(FIXTURE_1_8_1)
    for path, text in [
        ("/themes/", "Setting up your own Ghost theme"),
        ("/advanced-markdown/", "Advanced Markdown tips"),
        ("/advanced-markdown-2/", "Advanced Markdown tips"),
        ("/tag/tag1/", "Setting up your own Ghost theme"),
        ("/author/joe-bloggs-mother/", "Setting up your own Ghost theme"),
        ("/author/joe-bloggs-father/", "Advanced Markdown tips"),
        ("/author/joe-bloggs-1/", "Advanced Markdown tips"),
    ]:
        page = client.get(path)
        assert page.status_code == 200, path
        assert text in page.get_data(as_text=True), path


def test_real_export_keeps_author_order_and_gives_no_one_a_password(import_ghost):
    import_ghost(FIXTURE_1_8_1)
    themes = post("themes")
    # posts_authors sort_order 0, 2, 4: the mother is the primary author.
    assert [a.slug for a in themes.authors] == [
        "joe-bloggs-mother",
        "joe-bloggs-brother",
        "joe-bloggs-father",
    ]
    assert [t.slug for t in themes.tags] == ["tag1"]
    # The row whose author is the duplicate user lands on the user it duplicates, once.
    assert [a.slug for a in post("advanced-markdown-2").authors] == ["joe-bloggs-father"]
    assert themes.ghost_id == "59a952be7d79ed06b0d21127"
    assert themes.uuid == "8c414ae2-dce6-4b0f-8ee6-5c403fa2ae86"
    # Ghost 1.x posts are one Markdown card: the Markdown source is kept for the editor.
    assert themes.markdown.startswith("Creating a totally custom design")
    users = db.session.scalars(select(User)).all()
    assert len(users) == 4 and all(u.password_hash is None for u in users)
    assert {u.email for u in users} >= {"jbloggsfather@example.com", "jbloggs@example.com"}


def test_importing_twice_adds_nothing(import_ghost):
    import_ghost(FIXTURE_1_8_1)
    before = row_counts()
    again = report_table(import_ghost(FIXTURE_1_8_1).output)
    assert row_counts() == before
    assert again["post"] == {"imported": 0, "updated": 0, "unchanged": 3, "skipped": 0}
    assert again["user"]["imported"] == 0 and again["tag"]["imported"] == 0


def test_a_changed_post_is_updated_in_place(import_ghost, tmp_path):
    import_ghost(FIXTURE_1_8_1)
    document = json.loads(FIXTURE_1_8_1.read_text())
    document["db"][0]["data"]["posts"][0]["title"] = "A new title"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document))
    before = row_counts()
    table = report_table(import_ghost(changed).output)
    assert table["post"]["updated"] == 1 and table["post"]["unchanged"] == 2
    assert row_counts() == before
    assert post("themes").title == "A new title"


# --- A Ghost 5 export: lexical, mobiledoc, posts_meta, roles, statuses ------------------------


def test_modern_export_renders_lexical_and_mobiledoc_bodies(import_ghost):
    import_ghost(MODERN)
    lexical = post("lexical-only").html
    assert "<h2>Lexical heading</h2>" in lexical  # h1 kept below the page title
    assert "<strong>Bold words</strong>" in lexical
    assert '<a href="https://ghost.org/"' in lexical and "<em> then italic</em>" in lexical
    assert "<li>First item</li>" in lexical
    assert '<code class="language-python">' in lexical and "&lt;hello&gt;" in lexical
    assert "<em>emphasis</em>" in lexical  # the markdown card
    assert "<p>HTML card</p>" in lexical and "<script" not in lexical  # its text stays inert
    mobiledoc = post("mobiledoc-only").html
    assert "<h2>Mobiledoc heading</h2>" in mobiledoc
    assert "<strong>Strong start</strong>" in mobiledoc
    assert '<a href="https://example.com/"' in mobiledoc
    assert "<ol><li>One</li><li>Two</li></ol>" in mobiledoc and "<hr>" in mobiledoc


def test_imported_html_goes_through_the_sanitiser(import_ghost, client):
    import_ghost(MODERN)
    hostile = post("hostile-html")
    for bad in ("<script", "onerror", "javascript:", "<h1"):
        assert bad not in hostile.html
    assert "<h2>Top</h2>" in hostile.html
    assert hostile.feature_image is None and hostile.canonical_url is None  # javascript:, data:
    assert db.session.scalar(select(User.website).where(User.slug == "arthur")) is None
    page = client.get("/hostile-html/").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "onerror" not in page
    assert "Hostile &lt;b&gt;HTML&lt;/b&gt;" in page  # a title is text, shown literally


def test_modern_export_fields_statuses_and_roles(import_ghost, client):
    import_ghost(MODERN)
    lexical = post("lexical-only")
    assert lexical.featured and lexical.custom_excerpt == "A custom excerpt."
    assert (lexical.og_title, lexical.meta_title, lexical.twitter_title) == (
        "OG lexical",
        "Meta lexical",
        "Twitter lexical",
    )
    assert lexical.feature_image_alt == "Feature alt"
    assert lexical.feature_image == "/content/images/2024/01/photo.png"  # no zip: path kept
    assert [t.slug for t in lexical.tags] == ["news", "guides"]  # sort_order, not file order
    assert [a.slug for a in lexical.authors] == ["arthur", "eddie"]
    assert post("about-us").type == "page"
    assert client.get("/about-us/").status_code == 200
    assert post("about-us").published_at.isoformat() == "2024-01-04T10:00:00"  # RFC 2822
    assert post("hostile-html").published_at.isoformat() == "2024-01-03T10:00:00"  # milliseconds
    assert post("mobiledoc-only").published_at.isoformat() == "2024-01-02T10:00:00"  # MySQL
    assert post("bad-date").published_at.isoformat() == "2024-01-09T10:00:00"  # created_at
    assert post("still-a-draft").status == "draft"
    assert post("coming-later").status == "scheduled"
    assert post("email-only").status == "draft"
    for hidden in ("/still-a-draft/", "/coming-later/", "/email-only/"):
        assert client.get(hidden).status_code == 404, hidden
    # A post without an author gets the owner; the owner of an empty blog is Ghost's.
    assert [a.slug for a in post("nobody-wrote-this").authors] == ["olive"]
    roles = {u.slug: (u.role, u.is_active) for u in db.session.scalars(select(User))}
    assert roles == {
        "olive": ("owner", True),
        "eddie": ("editor", True),
        "connie": ("contributor", False),
        "arthur": ("author", True),
    }
    assert all(u.password_hash is None for u in db.session.scalars(select(User)))
    assert post("search") is None and post("search-2").title == "Reserved slug"
    assert client.get("/tag/news/").status_code == 200
    assert client.get("/author/arthur/").status_code == 200
    tag = db.session.scalar(select(Tag).where(Tag.slug == "news"))
    assert tag.description == "What is new."


def test_an_imported_owner_does_not_displace_ours(import_ghost, make_user):
    ours = make_user(role="owner", slug="our-owner", email="boss@example.org")
    import_ghost(MODERN)
    assert db.session.get(User, ours.id).role == "owner"
    olive = db.session.scalar(select(User).where(User.slug == "olive"))
    assert olive.role == "administrator"
    assert [a.slug for a in post("nobody-wrote-this").authors] == ["our-owner"]


def test_a_post_that_fails_leaves_nothing_and_the_rest_imports(import_ghost, monkeypatch):
    from blog.ghost.importer import posts

    real = posts.post_body

    def failing(row, run, custom_excerpt):
        if row.get("slug") == "mobiledoc-only":
            raise ValueError("the renderer broke")
        return real(row, run, custom_excerpt)

    monkeypatch.setattr(posts, "post_body", failing)
    result = import_ghost(MODERN, True, "--batch-size", "3")
    assert "mobiledoc-only: the renderer broke" in result.output
    assert report_table(result.output)["post"]["skipped"] == 1
    assert post("mobiledoc-only") is None
    assert post("lexical-only") is not None and post("hostile-html") is not None


# --- A Ghost 0.x export ----------------------------------------------------------------------


def test_legacy_export_reads_old_field_names_and_millisecond_dates(import_ghost, client):
    table = report_table(import_ghost(LEGACY).output)
    assert table["post"]["imported"] == 2 and table["page"]["imported"] == 1
    assert table["posts_tags"]["skipped"] == 2  # a duplicate and a join to post 99
    welcome = post("welcome-to-ghost")
    assert welcome.featured and welcome.type == "post"
    assert welcome.feature_image == "/content/images/2013/12/cover.jpg"  # `image`
    assert welcome.published_at.isoformat() == "2013-12-29T11:58:30.783000"
    assert welcome.markdown.startswith("You're live!")  # the Markdown source
    assert "<h2>Big heading</h2>" in welcome.html
    assert welcome.uuid == "a1b2c3d4-0000-4000-8000-000000000001"
    assert len(welcome.ghost_id) == 24  # numeric 0.x ids get a Ghost-shaped one
    colophon = post("colophon")
    assert colophon.type == "page" and "<em>care</em>" in colophon.html  # from `markdown`
    assert [a.slug for a in colophon.authors] == ["legacy-editor"]  # the post's author_id
    owner = db.session.scalar(select(User).where(User.slug == "legacy-owner"))
    assert owner.role == "owner" and owner.profile_image == "/content/images/2013/12/me.jpg"
    assert client.get("/welcome-to-ghost/").status_code == 200
    assert client.get("/colophon/").status_code == 200
    assert client.get("/tag/getting-started/").status_code == 200
    before = row_counts()
    again = report_table(import_ghost(LEGACY).output)
    assert row_counts() == before and again["post"]["unchanged"] == 2


# --- A zip with images -----------------------------------------------------------------------


def test_zip_images_are_stored_relinked_and_old_paths_redirect(import_ghost, client, tmp_path):
    archive = make_zip(tmp_path / "export.zip")
    table = report_table(import_ghost(archive).output)
    assert table["image"]["imported"] == 1
    stored = db.session.scalar(select(GhostImage.url))
    assert stored.startswith("/uploads/") and stored.endswith(".png")
    lexical = post("lexical-only")
    assert lexical.feature_image == stored
    assert f'src="{stored}"' in lexical.html
    assert db.session.scalar(select(User).where(User.slug == "olive")).profile_image == stored
    db.session.rollback()
    for old in ("/content/images/2024/01/photo.png", "/content/images/size/w600/2024/01/photo.png"):
        moved = client.get(old)
        assert moved.status_code == 301 and moved.headers["Location"] == stored
    image = client.get(stored)
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert client.get("/content/images/2024/01/missing.png").status_code == 404
    again = report_table(import_ghost(archive).output)
    assert again["image"] == {"imported": 0, "updated": 0, "unchanged": 1, "skipped": 0}


def test_zip_image_that_is_not_an_image_is_skipped_with_a_reason(import_ghost, tmp_path):
    archive = make_zip(
        tmp_path / "export.zip",
        images={
            "2024/01/photo.png": b"<html><script>alert(1)</script></html>",
            "ok.png": png_bytes(),
        },
    )
    result = import_ghost(archive)
    assert report_table(result.output)["image"]["skipped"] == 1
    assert "2024/01/photo.png" in result.output
    assert post("lexical-only").feature_image == "/content/images/2024/01/photo.png"


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json at all", "is not a Ghost JSON export"),
        ('{"posts": []}', "no Ghost data"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused_and_nothing_stored(
    import_ghost, tmp_path, content, message
):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = import_ghost(bad, False)
    assert result.exit_code != 0 and message in result.output
    assert row_counts()["posts"] == 0


def test_an_existing_account_with_the_same_address_is_kept_not_overwritten(import_ghost, make_user):
    ours = make_user(name="Our Olive", slug="our-olive", email="olive@example.com", role="owner")
    import_ghost(MODERN)
    olive = db.session.get(User, ours.id)
    assert (olive.name, olive.slug, olive.role, olive.is_active) == (
        "Our Olive",
        "our-olive",
        "owner",
        True,
    )
    assert olive.bio == "Runs the place."  # what it lacked is filled in
    assert olive.password_hash is not None
    assert [a.slug for a in post("about-us").authors] == ["our-olive"]
    assert db.session.scalar(select(func.count()).select_from(User)) == 4


def test_old_ghost_amp_and_admin_addresses_redirect(import_ghost, client):
    import_ghost(FIXTURE_1_8_1)
    amp = client.get("/themes/amp/")
    assert amp.status_code == 301 and amp.headers["Location"] == "/themes/"
    assert client.get("/ghost/").headers["Location"] == "/admin/"


def test_two_users_with_one_slug_but_different_addresses_stay_two(import_ghost, tmp_path):
    document = json.loads(MODERN.read_text())
    users = document["db"][0]["data"]["users"]
    users.append({**users[3], "id": "6500000000000000000000a9", "email": "other@example.com"})
    clash = tmp_path / "clash.json"
    clash.write_text(json.dumps(document))
    result = import_ghost(clash)
    assert report_table(result.output)["user"]["imported"] == 5
    assert "slug 'arthur' is taken; now 'arthur-2'" in result.output
    twin = db.session.scalar(select(User).where(User.email == "other@example.com"))
    assert twin.slug == "arthur-2" and twin.ghost_id == "6500000000000000000000a9"
    before = row_counts()
    import_ghost(clash)
    assert row_counts() == before


def test_site_settings_come_over_unless_already_set(import_ghost, client, runner):
    from blog import settings as store

    db.session.rollback()
    store.save_settings({"description": "Ours, set before the move."})
    db.session.commit()
    result = import_ghost(MODERN)
    table = report_table(result.output)
    assert table["setting"] == {"imported": 4, "updated": 0, "unchanged": 1, "skipped": 0}
    assert "navigation link 'javascript:alert(1)' dropped" in result.output
    store.forget_settings()
    home = client.get("/").get_data(as_text=True)
    assert "Ghost test blog" in home and '<html lang="de">' in home
    assert "Ours, set before the move." in home
    assert '<a href="/about-us/">About</a>' in home and "javascript:" not in home
    again = report_table(import_ghost(MODERN).output)
    assert again["setting"] == {"imported": 0, "updated": 0, "unchanged": 5, "skipped": 0}

"""Slugs and names from the real world (issue 8, items 5-7): C++, C# and C stay three tags;
every script gets a transliterated slug, as Ghost does; an emptied slug field is regenerated;
a typed slug that is taken, reserved or malformed is refused on its field, never rewritten."""

import re

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Post, Tag, User
from blog.slugs import SlugError, check_slug, clean_slug, slugify, unique_slug
from conftest import HX, form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")


# --- slugify: Ghost's rules, with transliteration (no database) -----------------------------


@pytest.mark.parametrize(
    "text, slug",
    [
        ("Straße", "strasse"),
        ("Привет мир", "privet-mir"),
        ("Καλημέρα κόσμε", "kalemera-kosme"),
        ("Crème brûlée", "creme-brulee"),
        ("Ærøskøbing", "aeroskobing"),
        ("C++", "c-plus-plus"),
        ("C#", "c-sharp"),
        ("F# for fun", "f-sharp-for-fun"),
        ("C", "c"),
        ("Issue #5", "issue-5"),
        ("how we shouldn't be", "how-we-shouldnt-be"),  # Ghost drops apostrophes
        ("what’s new", "whats-new"),
        ("This :) means everything", "this-means-everything"),
        ("../etc/passwd", "etc-passwd"),
        ("a:b/c?d#e[f]g!h$i&j(k)l*m,n;o=p", "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p"),
        ("test 😬🖤❤︎", "test"),
        ("🎉", ""),
        ("Title\uffff with\x0b junk", "title-with-junk"),
    ],
)
def test_slugify_transliterates_like_ghost(text, slug):
    assert slugify(text) == slug


@pytest.mark.parametrize(
    "text", ["日本語のタイトル", "こんにちは世界", "Ελληνικά", "Україна", "עברית"]
)
def test_every_script_gets_a_real_slug(text):
    slug = slugify(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug


def test_slugs_are_bounded():
    assert len(slugify("word " * 100)) <= 185
    assert not slugify("ab-" * 100).endswith("-")


@pytest.mark.parametrize(
    "raw",
    ["../etc/passwd", "a/b", "a b", "a.b", "-a", "a-", "a--b", "straße", "a_b", "", "x" * 186],
)
def test_a_typed_slug_that_is_not_a_slug_is_refused(raw):
    with pytest.raises(SlugError):
        clean_slug(raw)


def test_a_typed_slug_is_only_trimmed_and_lower_cased():
    assert clean_slug("  My-Post-2 ") == "my-post-2"


def test_generated_slugs_are_numbered_and_typed_ones_checked(app, make_post):
    make_post("About", slug="about")
    make_post("About 2", slug="about-2")
    assert unique_slug(Post, "About") == "about-3"
    assert unique_slug(Post, "RSS") == "rss-2"  # reserved: numbered when generated
    with pytest.raises(SlugError, match="taken"):
        check_slug(Post, "about")
    with pytest.raises(SlugError, match="reserved"):
        check_slug(Post, "rss")
    check_slug(Post, "about-4")


# --- Through the screens ---------------------------------------------------------------------


@pytest.fixture
def owner(client, login, make_user):
    user = make_user(role="owner", name="Olive Owner", slug="olive")
    login(client, user)
    client.token = form_token(client, "/admin/")
    return user


def save(client, post_id=None, **fields):
    path = f"/admin/posts/{post_id}/" if post_id else "/admin/posts/new"
    data = {"csrf_token": client.token, "title": "A title", "markdown": "Some text.",
            "action": "publish", **fields}  # fmt: skip
    return client.post(path, data=data)


def saved_post(response) -> Post:
    assert response.status_code == 303, response.text[:1000]
    post_id = int(re.search(r"/admin/posts/(\d+)/", response.headers["Location"])[1])
    db.session.expire_all()
    return db.session.get(Post, post_id)


def test_c_plus_plus_c_sharp_and_c_are_three_tags(client, owner, app):
    first = saved_post(save(client, title="Templates", tags="C++"))
    second = saved_post(save(client, title="Delegates", tags="C#"))
    third = saved_post(save(client, title="Pointers", tags="C"))
    assert [t.name for t in first.tags] == ["C++"]
    assert [t.name for t in second.tags] == ["C#"]
    assert [t.name for t in third.tags] == ["C"]
    slugs = {t.name: t.slug for t in db.session.scalars(select(Tag))}
    assert slugs == {"C++": "c-plus-plus", "C#": "c-sharp", "C": "c"}
    reader = app.test_client()
    for slug, title, name in [("c-plus-plus", "Templates", "C++"), ("c-sharp", "Delegates", "C#"),
                              ("c", "Pointers", "C")]:  # fmt: skip
        page = reader.get(f"/tag/{slug}/")
        assert page.status_code == 200 and title in page.text
        assert page.text.count('<article class="card') == 1
        assert f'<h1 class="hero__title">{name}</h1>' in page.text


def test_one_post_may_carry_all_three_and_names_are_kept(client, owner):
    post = saved_post(save(client, tags="C, C++, C#, c"))
    assert [t.name for t in post.tags] == ["C", "C++", "C#"]  # "c" is "C": same name, any case
    again = saved_post(save(client, title="Again", tags="c++, c#"))
    assert [t.name for t in again.tags] == ["C++", "C#"]  # by name, ignoring case
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 3
    other = saved_post(save(client, title="Other", tags="c-plus-plus"))  # a name, not a slug
    assert [(t.name, t.slug) for t in other.tags] == [("c-plus-plus", "c-plus-plus-2")]


def test_names_that_slugify_alike_get_numbered_slugs(client, owner):
    post = saved_post(save(client, tags="Go!, Go?, Go"))
    assert [(t.name, t.slug) for t in post.tags] == [("Go!", "go"), ("Go?", "go-2"), ("Go", "go-3")]


@pytest.mark.parametrize(
    "title, slug",
    [
        ("Straße", "strasse"),
        ("Привет мир", "privet-mir"),
        ("Καλημέρα κόσμε", "kalemera-kosme"),
    ],
)
def test_post_titles_and_tag_names_in_any_script_get_real_slugs(client, owner, app, title, slug):
    post = saved_post(save(client, title=title, tags=title))
    assert post.slug == slug and post.tags[0].slug == slug
    reader = app.test_client()
    assert reader.get(f"/{slug}/").status_code == 200
    assert reader.get(f"/tag/{slug}/").status_code == 200


def test_a_japanese_title_is_not_untitled(client, owner):
    post = saved_post(save(client, title="日本語のタイトル", tags="日本語"))
    assert post.slug not in ("untitled", "") and post.slug.isascii()
    assert post.tags[0].slug not in ("tag", "tag-2") and post.tags[0].slug.isascii()


def test_a_title_with_no_letters_gets_a_generated_slug(client, owner):
    assert saved_post(save(client, title="🎉🎉", tags="🎉")).slug == "untitled"
    assert db.session.scalar(select(Tag.slug)) == "tag-2"  # "tag" is reserved


# Emptied slug fields: regenerated (or kept), never a 500.


def test_an_emptied_slug_on_a_draft_is_made_from_the_title(client, owner):
    post = saved_post(save(client, title="Первый", slug="", action="save"))
    assert post.slug == "pervyi"


def test_an_emptied_slug_on_a_published_post_keeps_its_address(client, owner):
    post = saved_post(save(client, title="Live", slug="live-one"))
    assert saved_post(save(client, post.id, title="Live", slug="")).slug == "live-one"


def tag_form(client, tag, **fields):
    data = {"csrf_token": form_token(client, "/admin/tags/"), "name": tag.name,
            "slug": tag.slug, "description": "", **fields}  # fmt: skip
    return client.post(f"/admin/tags/{tag.id}/", data=data)


@pytest.mark.parametrize(
    "name, slug",
    [("Straße", "strasse"), ("Ελληνικά", "ellenika"), ("🎉", "tag-2"), ("Search", "search-2")],
)
def test_an_emptied_tag_slug_is_made_from_the_name(client, owner, make_tag, name, slug):
    tag = make_tag("Old", slug="old")
    response = tag_form(client, tag, name=name, slug="")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Tag, tag.id).slug == slug


def profile_form(client, **fields):
    data = {"csrf_token": form_token(client, "/admin/profile/"), "name": "Olive Owner",
            "slug": "olive", "bio": "", "location": "", "website": "", **fields}  # fmt: skip
    return client.post("/admin/profile/", data=data)


@pytest.mark.parametrize(
    "name, slug", [("Jürgen Straße", "jurgen-strasse"), ("Admin", "admin-2"), ("🎉", "user")]
)
def test_an_emptied_profile_slug_is_made_from_the_name(client, owner, name, slug):
    assert profile_form(client, name=name, slug="").status_code == 303
    db.session.expire_all()
    assert db.session.get(User, owner.id).slug == slug


# Typed slugs: used as typed, or refused on the field with everything typed kept.


@pytest.mark.parametrize(
    "slug, message",
    [
        ("taken", "Another post has that slug."),
        ("admin", "reserved for the site itself"),
        ("rss", "reserved for the site itself"),
        ("sitemap.xml", "only letters a–z, digits and single hyphens"),
        ("../etc/passwd", "only letters a–z, digits and single hyphens"),
        ("a/b", "only letters a–z, digits and single hyphens"),
        ("two words", "For example “two-words”"),
    ],
)
def test_a_typed_slug_that_cannot_be_used_is_refused_on_the_field(
    client, owner, make_post, slug, message
):
    make_post("Taken", slug="taken")
    response = save(client, title="My <new> post", markdown="Body I typed.", slug=slug,
                    tags="Kept, Tags", custom_excerpt="My excerpt")  # fmt: skip
    assert response.status_code == 422
    assert message in response.text
    assert 'id="slug-error"' in response.text and 'aria-invalid="true"' in response.text
    for typed in ("My &lt;new&gt; post", "Body I typed.", "Kept, Tags", "My excerpt"):
        assert typed in response.text
    assert f'value="{slug}"'.replace("&", "&amp;") in response.text
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1  # only "Taken"


def test_a_taken_slug_on_an_existing_post_changes_nothing(client, owner, make_post):
    make_post("About", slug="about")
    post = saved_post(save(client, title="Team", slug="team"))
    response = save(client, post.id, title="Team renamed", slug="about")
    assert response.status_code == 422 and "Another post has that slug." in response.text
    db.session.expire_all()
    assert (db.session.get(Post, post.id).title, db.session.get(Post, post.id).slug) == (
        "Team",
        "team",
    )


def test_a_generated_slug_gets_a_suffix_but_a_typed_one_does_not(client, owner, make_post):
    make_post("About", slug="about")
    assert saved_post(save(client, title="About")).slug == "about-2"
    assert save(client, title="About", slug="about").status_code == 422
    assert saved_post(save(client, title="About", slug="about-us")).slug == "about-us"


def test_autosave_refuses_a_taken_slug(client, owner, make_post):
    make_post("About", slug="about")
    response = client.post(
        "/admin/posts/autosave",
        data={"title": "Draft", "markdown": "x", "slug": "about"},
        headers={**HX, "X-CSRFToken": client.token},
    )
    assert response.status_code == 422 and "Another post has that slug." in response.text


@pytest.mark.parametrize(
    "slug, message",
    [
        ("kitchen", "Another tag has that slug."),
        ("a/b", "only letters a–z"),
        ("../etc", "only letters a–z"),
        ("admin", "reserved"),
    ],
)
def test_the_tag_screen_refuses_unusable_typed_slugs(client, owner, make_tag, slug, message):
    garden, _ = make_tag("Garden"), make_tag("Kitchen")
    response = tag_form(client, garden, name="Gardens", slug=slug)
    assert response.status_code == 422 and message in response.text
    assert 'value="Gardens"' in response.text  # what was typed is shown again
    db.session.expire_all()
    assert (db.session.get(Tag, garden.id).name, db.session.get(Tag, garden.id).slug) == (
        "Garden",
        "garden",
    )


def test_renaming_a_tag_to_another_tags_name_is_refused(client, owner, make_tag):
    c, _ = make_tag("C", slug="c"), make_tag("C++", slug="c-plus-plus")
    response = tag_form(client, c, name="c++")
    assert response.status_code == 422 and "Another tag is called “c++”." in response.text


@pytest.mark.parametrize(
    "slug, message",
    [
        ("taken", "Another staff member has that slug."),
        ("a/b", "only letters a–z"),
        ("login", "reserved"),
    ],
)
def test_the_profile_refuses_unusable_typed_slugs(client, owner, make_user, slug, message):
    make_user(slug="taken")
    response = profile_form(client, slug=slug, name="Olive Renamed")
    assert response.status_code == 422 and message in response.text
    assert 'value="Olive Renamed"' in response.text
    db.session.expire_all()
    assert db.session.get(User, owner.id).slug == "olive"

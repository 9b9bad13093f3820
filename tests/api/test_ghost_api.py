"""Ghost's Content API at /ghost/api/content/: keys, Ghost's reply and error shapes, filters,
pagination, includes, CORS and caching, and a fixed number of queries per request. On SQLite and
PostgreSQL."""

from datetime import timedelta

import pytest

from blog.extensions import db
from blog.models import utcnow
from fixtures.ghost import FIXTURE_1_8_1

API = "/ghost/api/content"


@pytest.fixture
def blog(make_user, make_tag, make_post):
    """Three published posts, a page, a draft and a scheduled post, with tags and authors."""
    ada = make_user(name="Ada", slug="ada", email="ada@example.com", bio="Writes about engines.")
    bob = make_user(name="Bob", slug="bob", email="bob@example.com")
    news, guides = make_tag("News", description="What is new."), make_tag("Guides")
    internal = make_tag("#internal", slug="hash-internal")
    hour, now = timedelta(hours=1), utcnow().replace(microsecond=0)
    make_post("First", slug="first", authors=[ada], tags=[news], published_at=now - 3 * hour)
    make_post(
        "Second",
        slug="second",
        body="Second **body** with [a link](/first/).",
        authors=[bob, ada],
        tags=[guides, news],
        featured=True,
        published_at=now - 2 * hour,
    )
    make_post("Third", slug="third", authors=[ada], tags=[internal], published_at=now - hour)
    make_post("About", slug="about", type="page", authors=[ada])
    make_post("Draft", slug="draft", status="draft", authors=[bob], tags=[guides])
    make_post("Later", slug="later", status="scheduled", published_at=now + hour, authors=[bob])
    db.session.rollback()
    return {"ada": ada, "bob": bob}


def get(client, path: str, key: str | None, **params):
    query = {"key": key, **params} if key else params
    return client.get(f"{API}{path}", query_string=query)


def slugs(reply) -> list[str]:
    return [item["slug"] for item in reply.get_json()["posts"]]


# --- Keys --------------------------------------------------------------------------------------


def test_no_key_is_403_no_permission_and_an_unknown_key_401(client, blog, content_key):
    missing = get(client, "/posts/", None)
    assert missing.status_code == 403
    error = missing.get_json()["errors"][0]
    assert error["type"] == "NoPermissionError" and error["message"] == "Authorization failed"
    for wrong in ("0123456789abcdef0123456789", "not-a-key", content_key.upper()):
        unknown = get(client, "/posts/", wrong)
        assert unknown.status_code == 401
        assert unknown.get_json()["errors"][0]["type"] == "UnauthorizedError"
        assert unknown.get_json()["errors"][0]["code"] == "UNKNOWN_CONTENT_API_KEY"
    assert len(content_key) == 26 and set(content_key) <= set("0123456789abcdef")


def test_integrations_command_creates_lists_and_revokes_keys(client, runner, blog):
    created = runner.invoke(args=["integrations", "create", "Static site"])
    assert created.exit_code == 0, created.output
    key = created.output.strip()
    assert len(key) == 26
    assert get(client, "/posts/", key).status_code == 200
    listed = runner.invoke(args=["integrations", "list"])
    assert key in listed.output and "Static site" in listed.output
    revoked = runner.invoke(args=["integrations", "revoke", key])
    assert revoked.exit_code == 0 and "Revoked Static site" in revoked.output
    db.session.rollback()
    assert get(client, "/posts/", key).status_code == 401
    assert runner.invoke(args=["integrations", "revoke", key]).exit_code != 0
    assert runner.invoke(args=["integrations", "create", " "]).exit_code != 0


# --- Shapes ------------------------------------------------------------------------------------


def test_browse_answers_ghosts_shape_with_pagination(client, blog, content_key):
    reply = get(client, "/posts/", content_key, limit=2)
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    body = reply.get_json()
    assert [p["slug"] for p in body["posts"]] == ["third", "second"]  # newest first
    assert body["meta"]["pagination"] == {
        "page": 1,
        "limit": 2,
        "pages": 2,
        "total": 3,
        "next": 2,
        "prev": None,
    }
    second = get(client, "/posts/", content_key, limit=2, page=2).get_json()
    assert [p["slug"] for p in second["posts"]] == ["first"]
    assert second["meta"]["pagination"]["next"] is None
    assert second["meta"]["pagination"]["prev"] == 1
    # One item found by browse still comes as a list with meta.
    one = get(client, "/posts/", content_key, filter="slug:first").get_json()
    assert len(one["posts"]) == 1 and "meta" in one


def test_post_objects_carry_ghosts_fields(client, blog, content_key):
    post = get(client, "/posts/slug/second/", content_key).get_json()["posts"][0]
    assert len(post["id"]) == 24 and all(c in "0123456789abcdef" for c in post["id"])
    assert len(post["uuid"]) == 36
    assert post["url"] == "http://localhost/second/"
    assert post["featured"] is True and post["visibility"] == "public"
    assert post["published_at"].endswith("+00:00") and "T" in post["published_at"]
    assert "<strong>body</strong>" in post["html"]
    assert 'href="http://localhost/first/"' in post["html"]  # site paths made absolute
    assert post["excerpt"].startswith("Second body")
    assert post["reading_time"] == 1
    for name in ("custom_excerpt", "og_title", "twitter_title", "meta_title", "canonical_url"):
        assert name in post
    assert "plaintext" not in post and "authors" not in post and "primary_tag" not in post


def test_read_by_id_and_slug_without_meta_and_404_in_ghosts_envelope(client, blog, content_key):
    by_slug = get(client, "/posts/slug/first/", content_key).get_json()
    assert set(by_slug) == {"posts"} and len(by_slug["posts"]) == 1
    ghost_id = by_slug["posts"][0]["id"]
    by_id = get(client, f"/posts/{ghost_id}/", content_key).get_json()
    assert by_id["posts"][0]["slug"] == "first"
    for path in ("/posts/slug/draft/", "/posts/slug/later/", "/posts/slug/about/", "/posts/nope/"):
        missing = get(client, path, content_key)
        assert missing.status_code == 404, path
        assert missing.get_json()["errors"][0] == missing.get_json()["errors"][0] | {
            "type": "NotFoundError",
            "message": "Post not found.",
        }
    assert get(client, "/pages/slug/about/", content_key).get_json()["pages"][0]["title"] == "About"
    assert get(client, "/nothing-here/", content_key).status_code == 404


def test_only_what_readers_may_see(client, blog, content_key):
    posts = slugs(get(client, "/posts/", content_key, limit="all"))
    assert posts == ["third", "second", "first"]
    pages = get(client, "/pages/", content_key).get_json()["pages"]
    assert [p["slug"] for p in pages] == ["about"]
    authors = get(client, "/authors/", content_key).get_json()
    body = str(authors)
    assert "@example.com" not in body and "password" not in body
    tags = [t["slug"] for t in get(client, "/tags/", content_key).get_json()["tags"]]
    assert tags == ["guides", "news"]  # the internal #tag is not public


def test_includes_fields_and_formats(client, blog, content_key):
    post = get(
        client, "/posts/slug/second/", content_key, include="authors,tags", formats="html,plaintext"
    ).get_json()["posts"][0]
    assert [a["slug"] for a in post["authors"]] == ["bob", "ada"]
    assert post["primary_author"]["slug"] == "bob"
    assert [t["slug"] for t in post["tags"]] == ["guides", "news"]
    assert post["primary_tag"]["slug"] == "guides"
    assert post["primary_author"]["url"] == "http://localhost/author/bob/"
    assert "Second body" in post["plaintext"]
    only = get(client, "/posts/", content_key, fields="title,url").get_json()["posts"]
    assert only[0] == {"title": "Third", "url": "http://localhost/third/"}
    plain = get(client, "/posts/slug/first/", content_key, formats="plaintext").get_json()
    assert "html" not in plain["posts"][0] and "plaintext" in plain["posts"][0]
    tags = get(client, "/tags/", content_key, include="count.posts").get_json()["tags"]
    assert {t["slug"]: t["count"]["posts"] for t in tags} == {"guides": 1, "news": 2}
    authors = get(client, "/authors/", content_key, include="count.posts").get_json()["authors"]
    assert {a["slug"]: a["count"]["posts"] for a in authors} == {"ada": 3, "bob": 1}


def test_settings_is_one_object(client, blog, content_key):
    body = get(client, "/settings/", content_key).get_json()
    assert body["settings"]["title"] == "Test Blog"
    assert body["settings"]["url"] == "http://localhost/"
    assert isinstance(body["settings"]["navigation"], list)


# --- Filters, limits, order --------------------------------------------------------------------


@pytest.mark.parametrize(
    "nql, expected",
    [
        ("tag:news", ["second", "first"]),
        ("tags:[guides,hash-internal]", ["third", "second"]),
        ("primary_tag:news", ["first"]),
        ("tag:-news", ["third"]),
        ("author:bob", ["second"]),
        ("primary_author:ada", ["third", "first"]),
        ("featured:true", ["second"]),
        ("featured:false+tag:news", ["first"]),
        ("slug:[first,third]", ["third", "first"]),
        ("slug:-[first,third]", ["second"]),
        ("slug:first,slug:third", ["third", "first"]),
        ("tag:news+author:ada+primary_author:-bob", ["first"]),
        ("(tag:guides,tag:hash-internal)+featured:false", ["third"]),
        ("title:~'ir'", ["third", "first"]),
    ],
)
def test_filters(client, blog, content_key, nql, expected):
    reply = get(client, "/posts/", content_key, filter=nql)
    assert reply.status_code == 200, reply.get_json()
    assert slugs(reply) == expected


def test_filter_on_dates_and_ids(client, blog, content_key):
    first = get(client, "/posts/slug/first/", content_key).get_json()["posts"][0]
    stamp = first["published_at"][:19].replace("T", " ")
    assert slugs(get(client, "/posts/", content_key, filter=f"published_at:>'{stamp}'")) == [
        "third",
        "second",
    ]
    assert slugs(get(client, "/posts/", content_key, filter=f"published_at:<='{stamp}'")) == [
        "first"
    ]
    assert slugs(get(client, "/posts/", content_key, filter=f"id:{first['id']}")) == ["first"]
    assert slugs(get(client, "/posts/", content_key, filter=f"id:-{first['id']}")) == [
        "third",
        "second",
    ]


def test_the_client_encoding_of_plus_and_a_raw_plus(client, blog, content_key):
    encoded = client.get(f"{API}/posts/?key={content_key}&filter=tag:news%2Bauthor:bob")
    assert slugs(encoded) == ["second"]
    raw = client.get(f"{API}/posts/?key={content_key}&filter=tag:news+author:bob")
    assert slugs(raw) == ["second"]


@pytest.mark.parametrize(
    "nql", ["tag:", "tag:(news", "tag:[a,b", "+tag:news", "nonsense", "password:x", "email:~a"]
)
def test_a_filter_that_cannot_be_parsed_is_400_in_ghosts_envelope(client, blog, content_key, nql):
    reply = get(client, "/posts/", content_key, filter=nql)
    assert reply.status_code == 400
    error = reply.get_json()["errors"][0]
    assert error["type"] == "BadRequestError" and error["message"] == "Error parsing filter"


def test_injection_in_parameters_is_inert(client, blog, content_key):
    for params in (
        {"filter": "slug:'x'' OR 1=1--'"},
        {"order": "title; DROP TABLE posts"},
        {"filter": "title:~'%'"},
    ):
        reply = get(client, "/posts/", content_key, **params)
        assert reply.status_code in (200, 400)
        if reply.status_code == 200 and "filter" in params:
            assert slugs(reply) == []
    assert len(slugs(get(client, "/posts/", content_key))) == 3


def test_limits_pages_and_order(client, blog, content_key):
    assert (
        get(client, "/posts/", content_key, limit="all").get_json()["meta"]["pagination"]["limit"]
        == 100
    )
    assert (
        get(client, "/posts/", content_key, limit=500).get_json()["meta"]["pagination"]["limit"]
        == 100
    )
    for bad in ({"limit": "0"}, {"limit": "ten"}, {"page": "0"}, {"page": "-1"}):
        reply = get(client, "/posts/", content_key, **bad)
        assert reply.status_code == 422 and reply.get_json()["errors"][0]["type"] == (
            "ValidationError"
        )
    assert slugs(get(client, "/posts/", content_key, order="title asc")) == [
        "first",
        "second",
        "third",
    ]
    assert slugs(get(client, "/posts/", content_key, order="published_at asc")) == [
        "first",
        "second",
        "third",
    ]
    assert get(client, "/posts/", content_key, page=9).get_json()["posts"] == []


# --- HTTP: CORS, caching, versions, query counts -----------------------------------------------


def test_cors_preflight_and_public_caching(client, blog, content_key):
    preflight = client.options(
        f"{API}/posts/",
        headers={
            "Origin": "https://theme.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept-version",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "accept-version" in preflight.headers["Access-Control-Allow-Headers"]
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    reply = get(client, "/posts/", content_key)
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Cache-Control"] == "public, max-age=0"
    assert "Set-Cookie" not in reply.headers
    error = get(client, "/posts/", None)
    assert error.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" not in error.headers["Cache-Control"]


def test_versioned_prefixes_and_accept_version(client, blog, content_key):
    for prefix in ("/ghost/api/v4/content", "/ghost/api/v5/content"):
        reply = client.get(f"{prefix}/posts/?key={content_key}")
        assert reply.status_code == 200 and len(reply.get_json()["posts"]) == 3
    reply = client.get(f"{API}/posts/?key={content_key}", headers={"Accept-Version": "v6.0"})
    assert reply.status_code == 200


def test_the_same_queries_whatever_the_number_of_posts(
    client, blog, content_key, make_post, count_queries
):
    def count() -> int:
        # Warm up: the first request after a change looks up the next scheduled go-live once.
        get(client, "/posts/", content_key, include="authors,tags", limit="all")
        with count_queries() as statements:
            reply = get(client, "/posts/", content_key, include="authors,tags", limit="all")
            assert reply.status_code == 200
        return len(statements), len(reply.get_json()["posts"])

    few, shown = count()
    for n in range(12):
        make_post(f"More {n}", authors=[blog["ada"], blog["bob"]])
    db.session.rollback()
    many, shown_many = count()
    assert shown_many == shown + 12
    assert many == few <= 5  # key, count, page, authors, tags


def test_imported_ghost_content_is_served_with_its_ghost_ids(import_ghost, client, content_key):
    import_ghost(FIXTURE_1_8_1)
    post = get(client, "/posts/59a952be7d79ed06b0d21127/", content_key, include="authors,tags")
    body = post.get_json()["posts"][0]
    assert body["slug"] == "themes" and body["uuid"] == "8c414ae2-dce6-4b0f-8ee6-5c403fa2ae86"
    assert body["primary_author"]["id"] == "5951f5fca366002ebd5dbef8"
    assert body["primary_tag"]["id"] == "59a952be7d79ed06b0d2112e"
    assert body["feature_image"] == "https://casper.ghost.org/v1.0.0/images/design.jpg"

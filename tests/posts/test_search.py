"""Search: /search/?q= finds what a reader would expect and nothing unpublished, on SQLite (FTS5)
and PostgreSQL (tsvector), as a page and as an htmx fragment; hostile queries never 500."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, text

from blog.extensions import db
from blog.models import Post, PostAuthor, utcnow
from blog.posts import writing as admin
from blog.posts.search import indexer
from conftest import HX


def titles(response) -> list[str]:
    """The titles of the hits a results page lists, in order."""
    return re.findall(r'class="search-hit__title" href="[^"]*"[^>]*>([^<]*)<', response.text)


def hits(client, query: str) -> list[str]:
    response = client.get("/search/", query_string={"q": query})
    assert response.status_code == 200, response.text
    return titles(response) if "search-hits--latest" not in response.text else []


def test_search_finds_title_body_tag_and_author(client, make_post, make_user, make_tag):
    ada = make_user(name="Ada Okafor", slug="ada")
    tag = make_tag("Cartography")
    make_post("Harbour lights", body="Boats at night.", authors=[ada])
    make_post("Plain title", body="A long walk along the harbour wall.")
    make_post("Tagged post", body="Nothing else.", tags=[tag])
    assert hits(client, "harbour") == ["Harbour lights", "Plain title"]  # title match first
    assert hits(client, "cartography") == ["Tagged post"]
    assert hits(client, "okafor") == ["Harbour lights"]
    assert hits(client, "HARBOUR wall") == ["Plain title"]  # every word must match


def test_a_title_match_ranks_above_many_body_matches(client, make_post):
    make_post("Pocket tools", body="Notes, notes and more notes. " * 30)
    make_post("Notes on maps", body="Nothing else here.")
    make_post("Other", body="Unrelated.")
    assert hits(client, "notes") == ["Notes on maps", "Pocket tools"]


def test_search_stems_words_and_matches_a_prefix_as_you_type(client, make_post):
    make_post("Winter", body="We went walking on frozen lakes.")
    assert hits(client, "walks") == ["Winter"]  # stemming: walks ~ walking
    assert hits(client, "froz") == ["Winter"]  # the last word is a prefix


def test_search_never_finds_drafts_scheduled_or_deleted_posts(client, make_post):
    make_post("Secret draft", body="zebra", status="draft", published_at=None)
    make_post("Future zebra", status="scheduled", published_at=utcnow() + timedelta(days=1))
    gone = make_post("Deleted zebra")
    admin.delete_post(gone)
    db.session.commit()
    response = client.get("/search/?q=zebra")
    assert titles(response) == [] or "search-hits--latest" in response.text
    assert "No posts match “zebra”" in response.text
    for word in ("Secret", "Future zebra", "Deleted zebra"):
        assert word not in response.text


def test_index_follows_publish_unpublish_edit_and_tag_rename(client, make_post, make_user):
    user = make_user(role="editor")
    post = make_post("Quiet title", body="Pelicans.", status="draft", published_at=None)
    assert hits(client, "pelicans") == []
    admin.publish(post)
    db.session.commit()
    assert hits(client, "pelicans") == ["Quiet title"]
    admin.save_post(
        post, {"title": "Loud title", "markdown": "Flamingos.", "tags": ["Birds"]}, user
    )
    db.session.commit()
    assert hits(client, "pelicans") == []
    assert hits(client, "flamingos") == ["Loud title"]
    assert hits(client, "birds") == ["Loud title"]
    post.tags[0].name = "Waders"
    db.session.commit()
    assert hits(client, "waders") == ["Loud title"]
    admin.unpublish(post)
    db.session.commit()
    assert hits(client, "flamingos") == []


def test_scheduled_post_is_found_once_it_is_due(client, make_post):
    post = make_post("Later", body="Okapi.", status="scheduled")
    post.published_at = utcnow() + timedelta(days=1)
    db.session.commit()
    assert hits(client, "okapi") == []
    post.published_at = utcnow() - timedelta(minutes=1)  # the clock passed its time
    db.session.commit()
    assert hits(client, "okapi") == ["Later"]


def test_bulk_writers_index_with_index_posts_and_reindex_rebuilds(client, runner, make_post):
    author = make_post("Seed").authors[0]
    now = utcnow() - timedelta(hours=1)
    ids = db.session.scalars(
        insert(Post).returning(Post.id),
        [
            {"title": "Imported walrus", "slug": "walrus", "status": "published", "type": "post",
             "published_at": now, "plaintext": "tusks", "html": "<p>tusks</p>"},
        ],
    ).all()  # fmt: skip
    db.session.execute(insert(PostAuthor), [{"post_id": ids[0], "author_id": author.id}])
    db.session.commit()
    assert hits(client, "walrus") == []  # a core insert bypasses the ORM hook
    indexer.index_posts(ids)
    db.session.commit()
    assert hits(client, "walrus") == ["Imported walrus"]
    db.session.execute(text("DELETE FROM search_index"))
    db.session.commit()
    assert hits(client, "tusks") == []
    result = runner.invoke(args=["search-reindex"])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 2 posts read." in result.output
    assert hits(client, "tusks") == ["Imported walrus"]


def test_static_pages_are_found_and_labelled(client, make_post):
    make_post("About us", slug="about", type="page", body="We like otters.")
    response = client.get("/search/?q=otters")
    assert titles(response) == ["About us"]
    assert '<p class="search-hit__meta">Page</p>' in response.text


def test_matched_words_are_highlighted_in_an_escaped_snippet(client, make_post):
    make_post("Snippet", body="Before <b>bold</b> & the word gazelle appears here.")
    body = client.get("/search/?q=gazelle").text
    assert "<mark>gazelle</mark>" in body
    assert "<b>bold</b>" not in body


def test_highlighting_marks_the_word_not_lookalikes(client, make_post):
    make_post("Field notes", body="Nothing here is not a note. Notebooks and notes, walking.")
    body = client.get("/search/?q=notes").text
    assert "<mark>Nothing</mark>" not in body and "<mark>not</mark>" not in body
    assert "<mark>note</mark>" in body and "<mark>notes</mark>" in body
    assert "<mark>walking</mark>" in client.get("/search/?q=walks").text


def test_no_match_says_so_and_offers_latest_posts(client, make_post):
    make_post("Newest one")
    response = client.get("/search/?q=nonexistentword")
    assert response.status_code == 200
    assert "No posts match “nonexistentword”" in response.text
    assert "Latest posts" in response.text and "Newest one" in response.text


def test_empty_query_shows_the_search_form(client):
    response = client.get("/search/")
    assert response.status_code == 200
    assert 'role="search"' in response.text and "No posts match" not in response.text


@pytest.mark.parametrize(
    "query",
    ['"', "*", '"unclosed', "a AND OR NOT", "NEAR(a b, 2)", "title:harbour", "^harbour",
     "harbour*", "-harbour", "(harbour", "harbour'); DROP TABLE posts;--", "a:* & !b | c",
     "<svg onload=alert(1)>harbour", "％ _ harbour", "ünïcödé harbour", "日本語"],
)  # fmt: skip
def test_hostile_queries_are_plain_words(client, make_post, query):
    make_post("Harbour", body="Harbour.")
    response = client.get("/search/", query_string={"q": query})
    assert response.status_code in (200, 400), response.status_code
    assert "<svg" not in response.text
    if response.status_code == 400:
        assert "Type at least one word or number" in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a\x00b", "a character that is not allowed"),  # the site-wide guard (NUL anywhere)
        ("x" * 10_000, "limited to 300 characters"),
        (" ".join(f"w{n}" for n in range(20)), "at most 12 words"),
        ('"', "Type at least one word or number"),
        ("*", "Type at least one word or number"),
    ],
)
def test_nonsense_queries_answer_400_with_a_message(client, query, message):
    for headers in ({}, HX):
        response = client.get("/search/", query_string={"q": query}, headers=headers)
        assert response.status_code == 400
        assert message in response.text


def test_query_is_echoed_escaped(client):
    response = client.get("/search/", query_string={"q": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_htmx_gets_a_fragment_that_varies_on_hx_request(client, make_post):
    make_post("Fragmented", body="Lemur.")
    full = client.get("/search/?q=lemur")
    part = client.get("/search/?q=lemur", headers=HX)
    boosted = client.get("/search/?q=lemur", headers={**HX, "HX-Boosted": "true"})
    assert "<html" in full.text and "<html" in boosted.text
    assert "<html" not in part.text and titles(part) == ["Fragmented"]
    for response in (full, part):
        assert "HX-Request" in response.headers["Vary"]


def test_search_boxes_work_without_javascript_and_upgrade_with_htmx(client):
    page = client.get("/").text
    assert 'action="/search/"' in page and 'name="q"' in page  # a real GET form in the header
    assert 'hx-get="/search/"' in page and "delay:" in page  # debounced results as you type
    assert "data-ghost-search" in page


def test_a_match_deep_in_a_long_post_shows_the_words_around_it(client, make_post):
    filler = " ".join(f"word{i}" for i in range(1000))  # within the 20,000 characters read
    make_post("Long read", body=f"{filler} the rare pangolin appears here. {filler}")
    snippet = client.get("/search/?q=pangolin").text.split('class="search-hit__snippet">')[1]
    snippet = snippet.split("</p>")[0]
    assert snippet.startswith("…word994 word995 word996 word997 word998 word999 the rare")
    assert "<mark>pangolin</mark> appears here. word0 word1" in snippet and snippet.endswith("…")


def test_a_post_found_by_its_title_shows_its_opening_words(client, make_post):
    make_post("Pangolin facts", body="Scales of keratin cover them. " * 200)
    snippet = client.get("/search/?q=pangolin").text.split('class="search-hit__snippet">')[1]
    assert snippet.startswith("Scales of keratin cover them. Scales") and "<mark>" not in snippet.split("</p>")[0]


def test_a_hit_names_its_primary_tag(client, make_post, make_tag):
    make_post("Kayak trip", tags=[make_tag("Rivers"), make_tag("Boats")])
    meta = client.get("/search/?q=kayak").text.split('class="search-hit__meta">')[1]
    assert meta.startswith("Rivers · <time")


def test_hits_come_ten_at_a_time_with_show_more_results_as_in_ghost(client, make_post):
    for n in range(25):
        make_post(f"Otter notes {n:02}", body="Otters.")
    first = client.get("/search/?q=otter")
    assert titles(first) == [f"Otter notes {n:02}" for n in range(24, 14, -1)]  # newest first
    assert "10+ results for “otter”" in first.text
    more = re.search(r'<a class="button search-more" href="([^"]+)"', first.text)[1]
    assert more == "/search/?q=otter&amp;limit=20"
    second = client.get("/search/?q=otter&limit=20")
    assert titles(second) == [f"Otter notes {n:02}" for n in range(24, 4, -1)]
    assert 'href="/search/?q=otter&amp;limit=30"' in second.text
    focused = re.findall(r'class="search-hit__title" href="[^"]*" autofocus>([^<]*)<', second.text)
    assert focused == ["Otter notes 14"]  # the first hit added; none on the first step
    assert "autofocus" not in first.text
    last = client.get("/search/?q=otter&limit=30")
    assert len(titles(last)) == 25 and "25 results" in last.text
    assert "search-more" not in last.text  # nothing more to show
    part = client.get("/search/?q=otter", headers=HX)  # the box as the reader types
    assert 'hx-get="/search/?q=otter&amp;limit=20"' in part.text
    assert 'hx-target="closest [aria-live]"' in part.text  # the page's box or the header's


def test_the_last_step_links_to_no_more_than_a_hundred(client, make_post):
    for n in range(101):
        make_post(f"Walrus {n}", body="Tusks.")
    page = client.get("/search/?q=walrus&limit=100")
    assert len(titles(page)) == 100 and "100+ results" in page.text
    assert "search-more" not in page.text


@pytest.mark.parametrize("limit", ["15", "0", "110", "-10", "abc", "", "١٠", "9" * 5000])
def test_a_limit_off_the_steps_answers_400_with_a_message(client, make_post, limit):
    make_post("Otter notes", body="Otters.")
    for headers in ({}, HX):
        response = client.get("/search/", query_string={"q": "otter", "limit": limit},
                              headers=headers)  # fmt: skip
        assert response.status_code == 400
        assert "Results come 10 at a time" in response.text
        assert titles(response) == []

"""What the author wrote is what readers get (issue 8, items 17 and 18): only real URLs become
links (README.md stays text), and deep nesting is rendered in full or refused on save with the
line named, never cut off silently."""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from blog.content import MAX_NESTING, nesting_problem, render_markdown
from blog.extensions import db
from blog.models import Post
from conftest import HX, form_token

# --- Item 17: linkify --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "README.md",
        "setup.py",
        "config.yaml",
        "Node.js",
        "example.com",
        "example.com/path",
        "docs.python.org/3/",
        "user@example.com",
        "awww.example.com",
        "www.localhost",
        "v1.2.3",
    ],
)
def test_names_that_merely_look_like_domains_stay_text(text):
    html = render_markdown(f"Edit {text} first.")
    assert "<a" not in html
    assert f"Edit {text} first." in html


@pytest.mark.parametrize(
    "text, href",
    [
        ("https://example.org/x?a=1", "https://example.org/x?a=1"),
        ("http://localhost:5000/admin", "http://localhost:5000/admin"),
        ("https://blog.example.dev/post", "https://blog.example.dev/post"),  # any TLD
        ("www.example.com", "http://www.example.com"),
        ("WWW.Example.com/a", "http://WWW.Example.com/a"),
        ("https://README.md", "https://README.md"),  # a scheme says it is a URL
    ],
)
def test_urls_with_a_scheme_or_www_become_links(text, href):
    html = render_markdown(f"See {text}, then (read {text}).")
    assert html.count(f'<a href="{href}">{text}</a>') == 2


def test_urls_in_code_and_existing_links_are_left_alone():
    html = render_markdown("`https://in.code/` and [text](https://linked.example/) and\n\n"
                           "```\nhttps://in.block/\n```")  # fmt: skip
    assert html.count("<a ") == 1 and 'href="https://linked.example/"' in html


# --- Item 18: nesting ------------------------------------------------------------------------


def nested_list(levels: int, indent: int = 2, marker: str = "-") -> str:
    return "\n".join(" " * (indent * i) + f"{marker} level {i + 1}" for i in range(levels))


def quotes(levels: int) -> str:
    return "\n".join(">" * (i + 1) + f" level {i + 1}" for i in range(levels))


class Depth(HTMLParser):
    """Record how many lists and quotes enclose each "level N" text."""

    def __init__(self):
        super().__init__()
        self.open, self.depth = 0, {}

    def handle_starttag(self, tag, attrs):
        self.open += tag in ("ul", "ol", "blockquote")

    def handle_endtag(self, tag):
        self.open -= tag in ("ul", "ol", "blockquote")

    def handle_data(self, data):
        found = re.search(r"level (\d+)", data)
        if found:
            self.depth[int(found[1])] = self.open


def depths(html: str) -> dict[int, int]:
    parser = Depth()
    parser.feed(html)
    return parser.depth


@pytest.mark.parametrize(
    "source",
    [nested_list(12), nested_list(12, 4), nested_list(12, 3, "1."), quotes(12)],
    ids=["bullets", "bullets-4", "numbered", "quotes"],
)
def test_twelve_levels_render_in_full_and_in_place(source):
    assert depths(render_markdown(source)) == {n: n for n in range(1, 13)}
    assert nesting_problem(source) is None


def test_the_deepest_nesting_kept_renders_in_full_and_one_more_is_refused():
    lists, deepest_quote = MAX_NESTING // 2 - 1, MAX_NESTING - 1
    assert depths(render_markdown(nested_list(lists)))[lists] == lists
    assert nesting_problem(nested_list(lists)) is None
    assert "Line 50 is nested too deeply" in nesting_problem(nested_list(lists + 1))
    assert depths(render_markdown(quotes(deepest_quote)))[deepest_quote] == deepest_quote
    assert nesting_problem(quotes(deepest_quote)) is None
    assert "Line 100 is nested too deeply" in nesting_problem(quotes(deepest_quote + 1))


def test_the_problem_names_the_line_after_other_text():
    source = "# Intro\n\nSome words.\n\n" + nested_list(60)
    assert nesting_problem(source).startswith("Line 54 is nested too deeply")


http = pytest.mark.usefixtures("fresh_requests")  # before the client fixture is made


@pytest.fixture
def owner(client, login, make_user):
    user = make_user(role="owner", name="Olive Owner", slug="olive")
    login(client, user)
    client.token = form_token(client, "/admin/")
    return user


def save(client, **fields):
    data = {"csrf_token": client.token, "title": "Nested", "action": "publish", **fields}
    return client.post("/admin/posts/new", data=data)


@http
def test_a_twelve_level_list_saved_in_the_editor_reaches_readers_whole(client, owner, app):
    response = save(client, markdown="Steps:\n\n" + nested_list(12))
    assert response.status_code == 303
    page = app.test_client().get("/nested/")
    assert page.status_code == 200
    found = depths(page.text.split('class="content', 1)[1].split("</article>", 1)[0])
    assert {n: found[n] for n in range(1, 13)} == {n: n for n in range(1, 13)}


@http
def test_a_post_mentioning_file_names_links_only_real_urls(client, owner, app):
    body = (
        "Edit README.md and setup.py, then see https://docs.example.dev/setup or www.example.com."
    )
    assert save(client, title="Files", markdown=body).status_code == 303
    page = app.test_client().get("/files/").text
    assert "http://README.md" not in page and "http://setup.py" not in page
    assert '<a href="https://docs.example.dev/setup">' in page
    assert '<a href="http://www.example.com">' in page
    feed = app.test_client().get("/rss/").text
    assert "README.md" in feed and "http://README.md" not in feed


@http
def test_a_list_too_deep_is_refused_with_the_line_and_nothing_is_lost(client, owner):
    markdown = "Intro\n\n" + nested_list(60)
    response = save(client, markdown=markdown, tags="Kept")
    assert response.status_code == 422
    assert "Line 52 is nested too deeply" in response.text
    assert 'id="markdown-error"' in response.text or "field--invalid" in response.text
    assert "level 60" in response.text and 'value="Kept"' in response.text  # typed text kept
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


@http
def test_autosave_refuses_a_list_too_deep(client, owner):
    response = client.post(
        "/admin/posts/autosave",
        data={"title": "Deep", "markdown": nested_list(60)},
        headers={**HX, "X-CSRFToken": client.token},
    )
    assert response.status_code == 422 and "Line 50 is nested too deeply" in response.text
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


@http
def test_the_preview_warns_before_anything_is_lost(client, owner):
    response = client.post(
        "/admin/preview",
        data={"title": "Deep", "markdown": nested_list(60)},
        headers={**HX, "X-CSRFToken": client.token},
    )
    assert response.status_code == 200 and "Line 50 is nested too deeply" in response.text
    shallow = client.post(
        "/admin/preview",
        data={"title": "Fine", "markdown": nested_list(12)},
        headers={**HX, "X-CSRFToken": client.token},
    )
    assert "nested too deeply" not in shallow.text and "level 12" in shallow.text

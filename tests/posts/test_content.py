"""Markdown rendering, sanitising, excerpts and reading time."""

import pytest

from blog.content import make_excerpt, reading_time, render_markdown, sanitise


def test_markdown_renders_commonmark_tables_and_fenced_code():
    html = render_markdown(
        "# Title\n\nSome *words* and a [link](https://example.com).\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n"
    )
    assert "<h2>Title</h2>" in html  # the post title is the page's only h1
    assert "<em>words</em>" in html
    assert '<a href="https://example.com">link</a>' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<code class="language-python">' in html


@pytest.mark.parametrize(
    "source, forbidden",
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ("[a](javascript:alert(1))", 'href="javascript'),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', 'alert(1)"'),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<p style="color:red">x</p>', "style="),
        ('<div hx-get="/admin/delete">x</div>', "hx-get"),
        ('<form action="/x"><button formaction="/y">x</button></form>', "formaction"),
        ('<img src="data:text/html;base64,PHNjcmlwdD4=">', "data:"),
        ("<scr<script>ipt>alert(1)</script>", "<script"),
    ],
)
def test_sanitising_drops_executable_markup(source, forbidden):
    assert forbidden not in render_markdown(source)


def test_sanitised_html_is_a_fixed_point():
    html = render_markdown("Visit https://example.com or <b>bold</b> & `code <x>`")
    assert sanitise(html) == html
    assert 'href="https://example.com"' in html  # bare links are linkified


def test_excerpt_cuts_at_a_word_with_an_ellipsis():
    text = "word " * 100
    excerpt = make_excerpt(text.strip(), limit=50)
    assert len(excerpt) <= 51 and excerpt.endswith("…") and "wor…" not in excerpt


@pytest.mark.parametrize("words, minutes", [(0, 1), (100, 1), (412, 1), (413, 2), (1100, 4)])
def test_reading_time_follows_ghosts_rule(words, minutes):
    assert reading_time("w " * words) == minutes

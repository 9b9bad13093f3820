"""Code blocks are highlighted with Pygments at render time; the sanitiser keeps only token
classes on spans; mail gets inline colours; the stylesheet's colours meet WCAG AA."""

from blog.colours import contrast_ratio
from blog.content import render_markdown, sanitise
from blog.highlight import (
    DARK_BACKGROUND,
    LIGHT_BACKGROUND,
    _colours,
    css,
    inline_styles,
)

FENCE = '```python\ndef greet(name):\n    return "<b>hi</b>"  # say it\n```\n'


def test_a_fenced_block_with_a_language_is_highlighted_and_escaped():
    html = render_markdown(FENCE)
    assert '<code class="language-python"><span class="k">def</span>' in html
    assert '<span class="nf">greet</span>' in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>" not in html
    assert sanitise(html) == html  # a fixed point


def test_unknown_languages_and_plain_blocks_stay_plain():
    assert render_markdown("```klingon\nqapla\n```") == (
        '<pre><code class="language-klingon">qapla\n</code></pre>\n'
    )
    assert "<span" not in render_markdown("```\nx = 1\n```")


def test_authors_cannot_smuggle_attributes_on_spans():
    html = render_markdown('<span class="k" onclick="alert(1)" style="x">a</span>'
                           '<span class="not a token">b</span>')  # fmt: skip
    assert html == '<p><span class="k">a</span><span>b</span></p>\n'


def test_mail_gets_inline_colours_instead_of_classes():
    mail = inline_styles(render_markdown(FENCE))
    assert 'class="k"' not in mail and '<span style="color: #' in mail


def test_every_colour_reads_at_wcag_aa_on_its_background():
    for style, background in (("friendly", LIGHT_BACKGROUND), ("monokai", DARK_BACKGROUND)):
        for rules in _colours(style).values():
            if "color: #" not in rules:
                continue  # bold or italic only
            colour = rules.split("color: #")[1][:6]
            assert contrast_ratio(colour, background) >= 4.5, (style, rules)
    assert "@media (prefers-color-scheme: dark)" in css()

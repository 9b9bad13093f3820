"""End to end in real Chromium: "Read More" loads the next cards in place with JavaScript, and is
a plain link to the next full page without it."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

CARDS = ".post-feed .card"
READ_MORE = "a.read-more"


@pytest.fixture
def twelve_posts(make_user, make_tag, make_post):
    """Twelve published posts: pages of 5, 5 and 2 cards (POSTS_PER_PAGE is 5 in tests)."""
    ada = make_user(name="Ada Okafor", slug="ada", profile_image="/static/demo/avatar-ada.svg")
    cities = make_tag("Cities")
    return [
        make_post(
            title=f"Story {n:02d}",
            authors=[ada],
            tags=[cities],
            feature_image="/static/demo/harbour.svg",
            feature_image_alt="Circles of light over a harbour",
        )
        for n in range(1, 13)
    ]


def titles(page) -> list[str]:
    return page.locator(f"{CARDS} .card__title").all_inner_texts()


@pytest.mark.browser
def test_read_more_loads_the_next_cards_in_place(page, live_server, twelve_posts):
    page.goto(live_server + "/")
    expect(page.locator(CARDS)).to_have_count(5)
    first_page = titles(page)
    # A full page load would forget this; an htmx swap keeps the same document.
    page.evaluate("window.__marker = 1")

    page.get_by_role("link", name=re.compile("Read More")).click()

    expect(page.locator(CARDS)).to_have_count(10)
    assert page.evaluate("window.__marker") == 1
    assert titles(page)[:5] == first_page
    assert titles(page) == [f"Story {n:02d}" for n in range(1, 11)]
    # The link swapped itself for the cards plus one new link, which points at page 3.
    expect(page.locator(READ_MORE)).to_have_count(1)
    assert urlsplit(page.locator(READ_MORE).get_attribute("href")).path == "/page/3/"
    # The address bar may carry the page's URL (hx-push-url); it must not be a fragment URL.
    assert urlsplit(page.url).path in ("/", "/page/2/")

    page.locator(READ_MORE).click()
    expect(page.locator(CARDS)).to_have_count(12)
    expect(page.locator(READ_MORE)).to_have_count(0)
    assert page.evaluate("window.__marker") == 1
    # Still one complete document: one header, one footer, one main.
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("main")).to_have_count(1)


@pytest.mark.browser
def test_read_more_without_javascript_loads_page_two(browser, live_server, twelve_posts):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + "/")
        expect(page.locator(CARDS)).to_have_count(5)

        page.get_by_role("link", name=re.compile("Read More")).click()

        page.wait_for_url(re.compile(r"/page/2/"))
        assert urlsplit(page.url).path == "/page/2/"
        expect(page.locator(CARDS)).to_have_count(5)
        assert titles(page) == [f"Story {n:02d}" for n in range(6, 11)]
        # A complete page in the site's look, not a fragment.
        expect(page.locator("header.site-header")).to_have_count(1)
        expect(page).to_have_title(re.compile(r"Page 2"))
        assert urlsplit(page.locator(READ_MORE).get_attribute("href")).path == "/page/3/"
    finally:
        context.close()

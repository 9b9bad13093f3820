"""The reader pages in Chromium: search as you type, the subscribe dialog and its success state,
and the layout fixes (Read More grid, centred button label, phone header, long titles)."""

import re

import pytest
from playwright.sync_api import expect

from blog.extensions import db
from blog.models import Subscriber

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2


@pytest.fixture
def posts(make_post, make_user, make_tag):
    ada = make_user(name="Ada Okafor", slug="ada")
    tag = make_tag("Cities")
    made = [
        make_post(f"Notes on city maps {n}", slug=f"maps-{n}", authors=[ada], tags=[tag],
                  body="A walk along the harbour.", feature_image="/static/demo/harbour.jpg",
                  featured=n == 0)  # first in "Read More" on /long/: once a wide card
        for n in range(7)
    ]  # fmt: skip
    make_post(f"A title with {LONG_WORD} in it", slug="long", body="Long.")
    return made


@pytest.mark.browser
def test_header_search_shows_results_as_you_type(page, live_server, posts):
    page.goto(live_server + "/")
    box = page.locator("#site-search-q")
    box.press_sequentially("harb", delay=30)
    results = page.locator("#site-search-results")
    expect(results.locator(".search-hit__title").first).to_be_visible()
    expect(results.locator(".search-hit__title")).to_have_count(7)
    assert page.url == live_server + "/"  # no page load: htmx swapped the results in
    box.fill("zzzqqq")
    expect(results).to_contain_text("No posts match “zzzqqq”")


@pytest.mark.browser
def test_search_page_without_javascript(browser, live_server, posts):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + "/")
        page.locator("#site-search-q").fill("harbour")
        page.locator("#site-search-q").press("Enter")
        page.wait_for_url(re.compile(r"/search/\?q=harbour$"))
        expect(page.locator("#search-results .search-hit")).to_have_count(7)
        expect(page.locator("mark").first).to_have_text(re.compile("harbour", re.I))
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False])
def test_show_more_results_adds_the_next_ten_in_both_boxes(
    browser, live_server, posts, make_post, javascript
):
    for n in range(6):
        make_post(f"Harbour log {n}", body="Boats in the harbour.")
    context = browser.new_context(java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.goto(live_server + "/search/?q=harbour")
        hits = page.locator("#search-results .search-hit")
        expect(hits).to_have_count(10)
        page.locator("#search-results").get_by_role("link", name="Show more results").click()
        expect(hits).to_have_count(13)
        expect(page.locator("#search-results .search-more")).to_have_count(0)
        if javascript:  # swapped in place; and the header's box grows the same way
            assert page.url == live_server + "/search/?q=harbour"
            page.locator("#site-search-q").press_sequentially("harb", delay=30)
            header = page.locator("#site-search-results")
            expect(header.locator(".search-hit")).to_have_count(10)
            header.get_by_role("link", name="Show more results").click()
            expect(header.locator(".search-hit")).to_have_count(13)
            expect(header.locator(".search-hit").last).to_be_visible()  # the box stays open
            expect(hits).to_have_count(13)  # the page's own results stay as they were
        else:
            assert page.url == live_server + "/search/?q=harbour&limit=20"
    finally:
        context.close()


@pytest.mark.browser
def test_subscribe_button_opens_the_dialog_and_success_shows_in_both_boxes(
    page, live_server, posts, smtp_sink
):
    page.goto(live_server + "/maps-0/")
    dialog = page.locator("#subscribe-dialog")
    expect(dialog).to_be_hidden()
    page.locator(".site-header__cta").click()
    expect(dialog).to_be_visible()
    assert page.url == live_server + "/maps-0/"  # opened in place, not the newsletter page
    dialog.get_by_label("Email address").fill("reader@example.com")
    dialog.get_by_role("button", name="Subscribe").click()
    expect(dialog).to_contain_text("Success! Now Check Your Email")
    expect(dialog).to_contain_text(
        "To complete Subscribe, click the confirmation link in your inbox. If it doesn't "
        "arrive within 3 minutes, check your spam folder."
    )
    cta = page.locator("#subscribe-cta")  # the other box on the page says the same
    expect(cta).to_contain_text("Success! Now Check Your Email")
    expect(page.locator("form#subscribe-cta")).to_have_count(0)
    dialog.get_by_role("link", name="Ok, Thanks").click()
    expect(dialog).to_be_hidden()
    cta.get_by_role("link", name="Ok, Thanks").click()
    expect(cta).to_be_hidden()
    assert page.url == live_server + "/maps-0/"
    db.session.rollback()
    assert db.session.query(Subscriber).count() == 1


@pytest.mark.browser
def test_without_javascript_subscribe_is_a_link_to_the_newsletter_page(browser, live_server, posts):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + "/maps-0/")
        page.locator(".site-header__cta").click()
        page.wait_for_url(re.compile(r"/newsletter/$"))
    finally:
        context.close()


@pytest.mark.browser
def test_read_more_is_an_even_row_of_three_cards(page, live_server, posts):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + "/long/")
    cards = page.locator(".read-more-section .card")
    expect(cards).to_have_count(3)
    boxes = [cards.nth(n).bounding_box() for n in range(3)]
    assert len({round(box["width"]) for box in boxes}) == 1, boxes
    assert len({round(box["y"]) for box in boxes}) == 1, boxes


@pytest.mark.browser
def test_read_more_button_label_is_centred(page, live_server, posts):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + "/")
    button = page.locator("a.read-more")
    box = button.bounding_box()
    label = page.evaluate(
        """() => { const a = document.querySelector('a.read-more');
                   const range = document.createRange(); range.selectNodeContents(a.firstChild);
                   const r = range.getBoundingClientRect(); return {x: r.x, width: r.width}; }"""
    )
    assert abs((label["x"] + label["width"] / 2) - (box["x"] + box["width"] / 2)) < 2


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/", "/long/", "/maps-0/", "/search/?q=harbour"])
def test_phone_keeps_subscribe_reachable_and_nothing_overflows(page, live_server, posts, path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + path)
    expect(page.locator(".site-header__cta")).to_be_visible()
    expect(page.locator("#site-search-q")).to_be_visible()
    title, button = (page.locator(s).bounding_box() for s in (".site-title", ".site-header__cta"))
    assert title["x"] + title["width"] <= button["x"] or title["y"] + title["height"] <= button["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_search_and_the_open_dialog(page, live_server, posts, scheme):
    from fixtures.checks import AXE_RUN, AXE_SOURCE, BLOCKING, format_violations

    page.emulate_media(color_scheme=scheme)
    failures = []
    for name in ("search", "no-match", "dialog", "results-as-you-type"):
        path = "/search/?q=zzzz" if name == "no-match" else "/search/?q=harbour"
        assert page.goto(live_server + path).status == 200, path
        if name == "dialog":
            page.locator(".site-header__cta").click()
            expect(page.locator("#subscribe-dialog")).to_be_visible()
        if name == "results-as-you-type":
            page.locator("#site-search-q").press_sequentially("harb", delay=30)
            expect(page.locator("#site-search-results .search-hit").first).to_be_visible()
        page.evaluate(AXE_SOURCE.read_text())
        blocking = [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING]
        if blocking:
            failures.append(f"{name}, {scheme}:\n{format_violations(blocking)}")
    assert not failures, "\n\n".join(failures)

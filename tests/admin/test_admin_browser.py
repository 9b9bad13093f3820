"""End to end in real Chromium: an owner signs in, writes with the live preview, autosaves,
adds a feature image and publishes, and readers see it; a contributor cannot publish; leaving
unsaved changes warns; the editor works with JavaScript off; XSS payloads never fire."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from blog.content import make_excerpt, plain_text, render_markdown
from blog.extensions import db
from blog.models import Post, utcnow
from conftest import PASSWORD
from fixtures.admin import sign_in, staff

pytestmark = pytest.mark.browser


@pytest.fixture
def watch(page):
    """Record dialogs (dismissing them) and console errors, such as CSP violations."""
    seen = {"dialogs": [], "errors": []}

    def on_dialog(dialog):
        seen["dialogs"].append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(message):
        # Failed loads are reported as responses below (a missing /favicon.ico is fine).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            seen["errors"].append(message.text)

    def on_response(response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            seen["errors"].append(f"{response.status} {response.url}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    return seen


def picture(tmp_path) -> str:
    path = tmp_path / "sunrise.png"
    Image.new("RGB", (1200, 800), "orange").save(path)
    return str(path)


def test_an_owner_writes_previews_illustrates_and_publishes(
    page, live_server, make_user, tmp_path, watch
):
    sign_in(page, live_server, staff(make_user, role="owner", name="Olive Owner"))
    page.get_by_role("link", name="New post").first.click()
    page.get_by_label("Title", exact=True).fill("Morning light")
    body = page.locator("#field-markdown")
    body.click()
    body.press_sequentially("The sun is **up** and _warm_.")
    # The live preview arrives after a pause, rendered and sanitised by the server.
    expect(page.locator("#preview strong")).to_have_text("up")
    expect(page.locator("#preview em")).to_have_text("warm")
    # Autosave keeps the draft and says so.
    expect(page.locator("#autosave-status")).to_contain_text("Saved at", timeout=10_000)
    page.locator("#field-feature-image-file").set_input_files(picture(tmp_path))
    page.get_by_label("Alt text", exact=True).fill("An orange sky")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash--success")).to_have_text("Published.")
    expect(page.locator(".status").first).to_contain_text("Published ·")

    page.goto(live_server + "/")
    card = page.locator(".card", has_text="Morning light")
    expect(card).to_have_count(1)
    image = card.locator("img.card__image")
    expect(image).to_have_attribute("src", re.compile(r"^/uploads/[0-9a-f]{32}-1200x800\.png$"))
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) > 0
    card.get_by_role("link", name="Morning light").click()
    expect(page.locator("h1.article__title")).to_have_text("Morning light")
    expect(page.locator(".content strong")).to_have_text("up")
    # Autosave made the draft; Publish updated that same post rather than adding another.
    assert db.session.scalars(select(Post.status)).all() == ["published"]
    db.session.rollback()
    assert watch["dialogs"] == [] and watch["errors"] == []


def test_a_contributor_can_write_but_not_publish(page, live_server, make_user, watch):
    sign_in(page, live_server, staff(make_user, role="contributor"))
    page.goto(live_server + "/admin/posts/new")
    expect(page.get_by_role("button", name="Save draft")).to_be_visible()
    expect(page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Schedule")).to_have_count(0)
    page.get_by_label("Title", exact=True).fill("Please review")
    page.locator("#field-markdown").fill("My first draft.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash--success")).to_have_text("Saved.")
    page.goto(live_server + "/")
    expect(page.get_by_text("Please review")).to_have_count(0)
    assert watch["errors"] == []


def test_a_failed_autosave_says_so_and_keeps_the_text(page, live_server, make_user):
    sign_in(page, live_server, staff(make_user, role="author"))
    page.goto(live_server + "/admin/posts/new")
    page.route("**/admin/posts/autosave", lambda route: route.abort())
    body = page.locator("#field-markdown")
    body.click()
    body.press_sequentially("Words I must not lose")
    expect(page.locator("#autosave-status")).to_contain_text(
        "Not saved: the server cannot be reached", timeout=10_000
    )
    expect(body).to_have_value("Words I must not lose")
    page.unroute("**/admin/posts/autosave")
    page.route(
        "**/admin/posts/autosave",
        lambda route: route.fulfill(status=500, body="<!doctype html><html>oops</html>"),
    )
    body.press_sequentially("!")
    expect(page.locator("#autosave-status")).to_contain_text(
        "Not saved. Something went wrong (500)"
    )


def test_leaving_unsaved_changes_asks_first(page, live_server, make_user, make_post):
    email = staff(make_user, role="owner")
    post_id = make_post("Already live").id
    db.session.rollback()
    sign_in(page, live_server, email)
    page.goto(f"{live_server}/admin/posts/{post_id}/")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    title = page.get_by_label("Title", exact=True)
    title.click()
    title.press_sequentially(" (edited)")
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]


def test_the_editor_works_with_javascript_off(browser, live_server, make_user):
    email = staff(make_user, role="author")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title", exact=True).fill("Written without scripts")
    page.locator("#field-markdown").fill("Plain *forms* still work.")
    page.get_by_label("Tags").fill("Craft")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash--success")).to_have_text("Published.")
    page.goto(live_server + "/tag/craft/")
    expect(page.get_by_text("Written without scripts")).to_have_count(1)
    context.close()


PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(2)>",
    '"><script>alert(3)</script>',
    "<details open ontoggle=alert(4)>x</details>",
    '<a href="javascript:alert(5)">click me</a>',
    '<div hx-get="/admin/" hx-trigger="load" hx-target="body">htmx</div>',
    '<iframe srcdoc="<script>parent.alert(6)</script>"></iframe>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(7)></style></mglyph></table>",
    "[click me](javascript:alert(8))",
    "{{7*7}}",
]


def test_xss_payloads_never_run_in_a_browser(page, live_server, make_user, watch):
    owner = make_user(role="owner", slug="owner")
    email = owner.email
    for n, payload in enumerate(PAYLOADS):
        html = render_markdown(payload)
        post = Post(title=payload, slug=f"payload-{n}", markdown=payload, html=html,
                    plaintext=plain_text(html), excerpt=make_excerpt(plain_text(html)),
                    custom_excerpt=payload, feature_image_alt=payload, meta_title=payload,
                    status="published", published_at=utcnow())  # fmt: skip
        post.authors.append(owner)
        db.session.add(post)
    db.session.commit()
    db.session.rollback()
    sign_in(page, live_server, email)
    for n in range(len(PAYLOADS)):
        page.goto(f"{live_server}/payload-{n}/")
        links = page.locator(".content a")
        if links.count():
            links.first.click()
    for path in ("/", "/admin/", "/author/owner/"):
        page.goto(live_server + path)
    # Typed into the editor, each payload goes through the live preview too.
    page.goto(live_server + "/admin/posts/new")
    body = page.locator("#field-markdown")
    for payload in PAYLOADS:
        with page.expect_response(lambda r: r.url.endswith("/admin/preview")) as answer:
            body.fill(payload)
        assert answer.value.status == 200
        page.wait_for_timeout(300)  # let the swap land and anything in it try to run
    assert watch["dialogs"] == []
    assert not [e for e in watch["errors"] if "Content Security Policy" in e]
    assert page.evaluate("document.title") and "49" not in page.locator("#preview").inner_text()


def test_from_an_empty_install_to_a_published_post_without_a_terminal(
    page, browser, live_server, tmp_path, watch
):
    # First run: the owner account is made in the browser.
    page.goto(live_server + "/admin/")
    expect(page.get_by_role("heading", name="Welcome! Set up your blog")).to_be_visible()
    page.get_by_label("Site title").fill("Field Notes")
    page.get_by_label("Your name").fill("Olive Owner")
    page.get_by_label("Email address").fill("olive@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account and sign in").click()
    expect(page).to_have_url(live_server + "/admin/")
    # The owner invites an author; the link is on screen to copy (no mail needed).
    page.get_by_role("link", name="Staff").click()
    page.get_by_label("Email address").fill("amy@example.com")
    page.get_by_label("Role").select_option("author")
    page.get_by_role("button", name="Send invite").click()
    link = page.locator("#invite-url").input_value()
    assert "/admin/invite/" in link

    author = browser.new_context().new_page()
    author.goto(link.replace("http://localhost", live_server))
    author.get_by_label("Your name").fill("Amy Author")
    author.get_by_label("Password", exact=True).fill("amy's long password")
    author.get_by_label("Password again").fill("amy's long password")
    author.get_by_role("button", name="Create account and sign in").click()
    expect(author).to_have_url(live_server + "/admin/")
    # The author writes, previews, illustrates and schedules...
    author.get_by_role("link", name="New post").first.click()
    author.get_by_label("Title", exact=True).fill("Field day")
    body = author.locator("#field-markdown")
    body.click()
    body.press_sequentially("We counted *forty* birds.")
    expect(author.locator("#preview em")).to_have_text("forty")
    author.locator("#field-feature-image-file").set_input_files(picture(tmp_path))
    author.get_by_label("Publication date (UTC)").fill("2999-01-01T09:00")
    author.get_by_role("button", name="Schedule").click()
    expect(author.locator(".flash--success")).to_contain_text("Scheduled for 01 Jan 2999 09:00")
    reader = browser.new_context().new_page()
    reader.goto(live_server + "/")
    expect(reader.get_by_role("heading", name="Field Notes")).to_be_visible()
    expect(reader.get_by_text("Field day")).to_have_count(0)
    # ...then publishes it now, and readers see it with its picture.
    author.get_by_role("button", name="Publish now").click()
    expect(author.locator(".flash--success")).to_have_text("Published.")
    reader.reload()
    card = reader.locator(".card", has_text="Field day")
    expect(card).to_have_count(1)
    expect(card.locator("img.card__image")).to_have_attribute("src", re.compile("^/uploads/"))
    expect(card).to_contain_text("Amy Author")
    assert watch["dialogs"] == [] and watch["errors"] == []

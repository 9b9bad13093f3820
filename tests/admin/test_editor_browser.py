"""The editor in real Chromium, as an author uses it: typing with the toolbar and shortcuts,
autosave giving the page its edit URL (a reload keeps the draft), pasting, dropping and
picking images, two tabs on one post, JavaScript off, and axe and a 390 px phone on every
admin screen."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, PostRevision, Subscriber
from fixtures.admin import sign_in, staff
from fixtures.checks import AXE_RUN, AXE_SOURCE, BLOCKING, format_violations

pytestmark = pytest.mark.browser


def png_bytes(tmp_path, name="photo.png", colour="teal") -> bytes:
    path = tmp_path / name
    Image.new("RGB", (640, 480), colour).save(path)
    return path.read_bytes()


# Build a File in the page and hand it to the textarea as a paste or a drop would.
SEND_FILE = """async ([kind, bytes, name, type]) => {
  const file = new File([new Uint8Array(bytes)], name, {type});
  const data = new DataTransfer();
  data.items.add(file);
  const text = document.getElementById('field-markdown');
  text.focus();
  text.setSelectionRange(text.value.length, text.value.length);
  const event = kind === 'paste'
    ? new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true})
    : new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true});
  text.dispatchEvent(event);
}"""


def describe(page, alt: str) -> None:
    """Answer the editor's image description dialog."""
    dialog = page.get_by_role("dialog", name="Describe the image")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Image description").fill(alt)
    dialog.get_by_role("button", name="Insert").click()
    expect(dialog).to_be_hidden()


def send_file(page, kind, data: bytes, name="photo.png", type_="image/png"):
    page.evaluate(SEND_FILE, [kind, list(data), name, type_])


def errors_of(page) -> list[str]:
    """Collect script errors (a CSP violation, an exception) the page reports."""
    seen: list[str] = []
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.on(
        "console",
        lambda m: (
            seen.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None
        ),
    )
    return seen


def test_typing_with_toolbar_and_autosave_then_reload_keeps_the_draft(page, live_server, make_user):
    errors = errors_of(page)
    sign_in(page, live_server, staff(make_user, role="author"))
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title", exact=True).fill("Toolbar day")
    body = page.locator("#field-markdown")
    body.click()
    body.press_sequentially("Hello ")
    page.get_by_role("button", name="Bold").click()  # inserts **bold text**, selected
    body.press_sequentially("world")
    body.press("End")
    body.press("Control+i")
    body.press_sequentially("softly")
    expect(body).to_have_value("Hello **world**_softly_")
    expect(page.locator("#word-count")).to_have_text("2 words · 1 min read")
    expect(page.locator("#autosave-status")).to_contain_text("Saved at", timeout=10_000)
    # The address is now the post's edit URL, so a reload shows the draft, not an empty editor.
    expect(page).to_have_url(re.compile(r"/admin/posts/\d+/$"))
    page.reload()
    expect(page.locator("#field-markdown")).to_have_value("Hello **world**_softly_")
    assert len(db.session.scalars(select(Post)).all()) == 1
    db.session.rollback()
    assert errors == []


def test_pasting_and_dropping_images_uploads_and_inserts_them(
    page, live_server, make_user, tmp_path
):
    errors = errors_of(page)
    sign_in(page, live_server, staff(make_user, role="author"))
    page.goto(live_server + "/admin/posts/new")
    body = page.locator("#field-markdown")
    body.fill("Before the pictures.\n")
    send_file(page, "paste", png_bytes(tmp_path))
    describe(page, "A teal square")
    expect(body).to_have_value(
        re.compile(r"!\[A teal square\]\(/uploads/[0-9a-f]{32}-640x480\.png\)"), timeout=10_000
    )
    expect(page.locator("#md-upload-status")).to_have_text("Image added.")
    send_file(page, "drop", png_bytes(tmp_path, "drop.png", "orange"), "drop.png")
    describe(page, "An orange square")
    expect(body).to_have_value(re.compile(r"!\[An orange square\]\(/uploads/"), timeout=10_000)
    assert "Before the pictures." in body.input_value()
    expect(page.locator("#preview img")).to_have_count(2, timeout=10_000)
    # A file that is not an image: a clear message, the text untouched.
    before = body.input_value()
    send_file(page, "drop", b"just text", "notes.txt", "text/plain")
    expect(page.locator("#md-upload-status")).to_contain_text("is not a JPEG, PNG, GIF or WebP")
    # Bytes that only claim to be an image: the server refuses, the message says why.
    send_file(page, "paste", b"<html>not really</html>", "fake.png", "image/png")
    expect(page.locator("#md-upload-status")).to_contain_text("Image not added:")
    expect(body).to_have_value(before)
    assert errors == []


def test_picking_an_image_from_the_toolbar_inserts_it(page, live_server, make_user, tmp_path):
    sign_in(page, live_server, staff(make_user, role="author"))
    page.goto(live_server + "/admin/posts/new")
    (tmp_path / "pick.png").write_bytes(png_bytes(tmp_path, "pick.png"))
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Insert an image").click()
    chooser.value.set_files(str(tmp_path / "pick.png"))
    describe(page, "Chosen")
    expect(page.locator("#field-markdown")).to_have_value(
        re.compile(r"!\[Chosen\]\(/uploads/"), timeout=10_000
    )


@pytest.mark.parametrize("scripts", [True, False], ids=["js", "no-js"])
def test_two_tabs_the_older_save_gets_both_texts_and_loses_nothing(
    browser, live_server, make_user, make_post, scripts
):
    email = staff(make_user, role="owner")
    post_id = make_post("Two tabs", body="Original.").id
    db.session.rollback()
    context = browser.new_context(java_script_enabled=scripts)
    first, second = context.new_page(), context.new_page()
    sign_in(first, live_server, email)
    for tab in (first, second):
        tab.goto(f"{live_server}/admin/posts/{post_id}/")
    first.locator("#field-markdown").fill("Newer words from the first tab.")
    first.get_by_role("button", name="Update").click()
    expect(first.locator(".flash--success")).to_have_text("Saved.")
    second.locator("#field-markdown").fill("Words typed in the second tab.")
    second.get_by_role("button", name="Update").click()
    expect(second.locator(".conflict")).to_contain_text("changed since you opened it")
    expect(second.locator("#conflict-markdown")).to_have_value("Newer words from the first tab.")
    expect(second.locator("#field-markdown")).to_have_value("Words typed in the second tab.")
    # Reload the first tab: the stored text is still the newer one.
    first.reload()
    expect(first.locator("#field-markdown")).to_have_value("Newer words from the first tab.")
    context.close()


def test_without_javascript_errors_keep_the_text_and_publish_later_schedules(
    browser, live_server, make_user
):
    email = staff(make_user, role="owner")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, email)
    page.goto(live_server + "/admin/posts/new")
    expect(page.locator("[data-md-toolbar]")).to_be_hidden()
    page.get_by_label("Title", exact=True).fill("No scripts here")
    page.locator("#field-markdown").fill("Typed without JavaScript.")
    page.get_by_role("button", name="Schedule").click()  # no date: an error, nothing lost
    expect(page.locator("#published_at-error")).to_contain_text("Choose a date")
    expect(page.locator("#field-markdown")).to_have_value("Typed without JavaScript.")
    page.get_by_label("Publication date (UTC)").fill("2099-01-02T03:04")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash--success")).to_contain_text("Scheduled for 02 Jan 2099 03:04 UTC")
    expect(page).to_have_url(re.compile(r"/admin/posts/\d+/$"))
    expect(page.locator("#field-markdown")).to_have_value("Typed without JavaScript.")
    context.close()


def admin_screens(make_user, make_post) -> tuple[str, list[str]]:
    email = staff(make_user, role="owner", name="Olive Owner")
    post = make_post("Screens", body="```python\nprint('hi')\n```\n\nSome *text*.")
    post.markdown += "\n\nMore."
    page = make_post("About", type="page")
    db.session.add(Subscriber(email="reader@example.com", status="confirmed"))
    db.session.add(
        PostRevision(post_id=post.id, title="Screens", markdown="Old line.\nSome *text*.")
    )
    db.session.commit()
    paths = ["/admin/", "/admin/posts/new", f"/admin/posts/{post.id}/", f"/admin/posts/{post.id}/history/",
             "/admin/pages/", "/admin/subscribers/", "/admin/staff/", "/admin/tags/", "/admin/settings/", "/admin/profile/", f"/admin/posts/{page.id}/"]  # fmt: skip
    db.session.rollback()
    return email, paths


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_admin_screens_have_no_serious_axe_issue(page, live_server, make_user, make_post, scheme):
    email, paths = admin_screens(make_user, make_post)
    sign_in(page, live_server, email)
    page.emulate_media(color_scheme=scheme)
    axe = AXE_SOURCE.read_text()
    failures = []
    for path in paths:
        assert page.goto(live_server + path).status == 200, path
        page.evaluate(axe)
        blocking = [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING]
        if blocking:
            failures.append(f"{path}, {scheme}:\n{format_violations(blocking)}")
    assert not failures, "\n\n".join(failures)


def test_admin_screens_fit_a_390_px_phone(browser, live_server, make_user, make_post):
    email, paths = admin_screens(make_user, make_post)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server, email)
    wide = {}
    for path in paths:
        page.goto(live_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    context.close()
    assert wide == {}


def test_the_editor_text_is_wide_at_1280_px(browser, live_server, make_user):
    email = staff(make_user, role="author")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live_server, email)
    page.goto(live_server + "/admin/posts/new")
    assert page.locator("#field-markdown").bounding_box()["width"] >= 600
    context.close()


def test_publish_and_email_shows_the_send_status_updating_while_it_runs(
    page, live_server, make_user, app, smtp_sink
):
    import threading

    from blog.mail.sender import run

    app.config["MAIL_BACKGROUND_SENDER"] = False  # the test plays the sender, below
    email = staff(make_user, role="owner")
    db.session.add_all([Subscriber(email="one@example.com", status="confirmed"),
                        Subscriber(email="two@example.com", status="confirmed")])  # fmt: skip
    db.session.commit()
    sign_in(page, live_server, email)
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title", exact=True).fill("Straight to inboxes")
    page.locator("#field-markdown").fill("Hello, subscribers.")
    page.get_by_role("button", name="Publish and email subscribers").click()
    status = page.locator("#send-status")
    expect(status).to_contain_text("Sending: 2 queued · sent 0")
    db.session.rollback()
    run(app, threading.Event(), burst=True)  # the sender works through the outbox
    expect(status).to_contain_text("Finished · sent 2", timeout=10_000)  # no reload
    assert sorted(m[1][0] for m in smtp_sink.messages) == ["one@example.com", "two@example.com"]


def test_two_tabs_on_a_draft_autosave_warns_and_save_shows_both(browser, live_server, make_user):
    email = staff(make_user, role="author")
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    sign_in(first, live_server, email)
    first.goto(live_server + "/admin/posts/new")
    first.get_by_label("Title", exact=True).fill("Draft in two tabs")
    first.locator("#field-markdown").press_sequentially("First tab.")
    expect(first.locator("#autosave-status")).to_contain_text("Saved at", timeout=10_000)
    second.goto(first.url)  # the edit URL autosave gave the first tab
    first.locator("#field-markdown").press("Control+End")
    first.locator("#field-markdown").press_sequentially(" More from the first.")
    expect(first.locator("#autosave-status")).to_contain_text("Saved at", timeout=10_000)
    second.locator("#field-markdown").press("Control+End")
    second.locator("#field-markdown").press_sequentially(" Second tab.")
    expect(second.locator("#autosave-status")).to_contain_text(
        "changed in another tab", timeout=10_000
    )
    second.get_by_role("button", name="Save draft").click()
    expect(second.locator("#conflict-markdown")).to_have_value("First tab. More from the first.")
    expect(second.locator("#field-markdown")).to_have_value("First tab. Second tab.")
    context.close()


def test_publishing_right_after_typing_makes_one_post(page, live_server, make_user):
    # The editor autosaves 2 s after the last key. A Publish pressed before then must not
    # leave that autosave to fire while the save is on its way (a second, draft copy).
    import time

    sign_in(page, live_server, staff(make_user, role="owner"))
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title", exact=True).fill("Only once")
    page.locator("#field-markdown").fill("Typed, then published at once.")

    def slow_save(route):
        time.sleep(3)  # the save is slow to arrive: the autosave's 2 s pass meanwhile
        route.continue_()

    page.route(re.compile(r".*/admin/posts/new$"), slow_save)
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/posts/\d+/$"))
    page.wait_for_timeout(2500)  # an autosave would have landed by now
    db.session.expire_all()
    titles = db.session.scalars(select(Post.title).where(Post.title == "Only once")).all()
    assert titles == ["Only once"]

"""The editor never loses work, and publishing keeps its promises: errors keep everything typed
at a URL that works, stale saves answer 409 with both texts, revisions and History, Publish
with a future date, scheduled posts going live (and emailing), pages, preview links, send
status, the Subscribers screen, one owner. Runs on SQLite and PostgreSQL."""

import email
import email.policy
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.mail.sender import run
from blog.models import OutboxMessage, Post, PostRevision, Subscriber, User, utcnow
from blog.posts.revisions import KEEP_SAVES
from conftest import HX, PASSWORD
from fixtures.admin import Writer, fresh, saved_id

pytestmark = pytest.mark.usefixtures("fresh_requests")


@pytest.fixture
def owner(client, login, make_user):
    user = make_user(role="owner", name="Olive Owner", slug="olive")
    login(client, user)
    return Writer(client, user)


def version_in(page: str) -> str:
    return re.search(r'name="version" id="post-version" value="([^"]*)"', page)[1]


def future(**delta) -> str:
    return (utcnow() + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


# --- Never lose work ------------------------------------------------------------------------


def test_schedule_without_a_date_on_a_new_post_keeps_the_text_at_the_new_post_url(owner):
    response = owner.save(title="Unfinished", markdown="Every word matters.", action="schedule")
    assert response.status_code == 422
    assert "Choose a date and time in the future" in response.text
    assert 'action="/admin/posts/new"' in response.text  # not a post that does not exist
    assert "Every word matters." in response.text and 'value="Unfinished"' in response.text
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0
    # Submitting the re-rendered form again works.
    again = owner.save(title="Unfinished", markdown="Every word matters.", action="save")
    assert fresh(saved_id(again)).markdown == "Every word matters."


def test_a_past_date_with_schedule_on_an_existing_post_re_renders_at_its_url(owner):
    post_id = saved_id(owner.save(title="Kept", markdown="Draft one."))
    past = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = owner.save(post_id, title="Kept", markdown="Draft two.", action="schedule",
                          published_at=past)  # fmt: skip
    assert response.status_code == 422
    assert f'action="/admin/posts/{post_id}/"' in response.text and "Draft two." in response.text


def test_status_filter_answers_200_and_shows_the_chosen_state(owner, make_post):
    make_post("A draft", status="draft", published_at=None)
    make_post("Out there")
    response = owner.client.get("/admin/?status=draft")
    assert response.status_code == 200
    assert '<option value="draft" selected>' in response.text
    assert "A draft" in response.text and "Out there" not in response.text


def test_a_stale_save_answers_409_with_both_texts_and_changes_nothing(owner):
    post_id = saved_id(owner.save(title="Shared", markdown="Start."))
    opened = version_in(owner.client.get(f"/admin/posts/{post_id}/").text)
    # Tab one saves first.
    newer = owner.save(post_id, title="Shared", markdown="Newer text from tab one.",
                       version=opened)  # fmt: skip
    assert newer.status_code == 303
    # Tab two, opened before, saves last.
    stale = owner.save(post_id, title="Shared", markdown="Older tab's words.", version=opened)
    assert stale.status_code == 409
    assert "Newer text from tab one." in stale.text and "Older tab&#39;s words." in stale.text
    assert re.search(r"conflict-yours[^>]*>Older tab&#39;s words.", stale.text)
    assert "Olive Owner saved a newer version" in stale.text
    assert fresh(post_id).markdown == "Newer text from tab one."
    # Saving from the conflict screen (it carries the current version) is a deliberate overwrite.
    retry = owner.save(post_id, title="Shared", markdown="Merged.", version=version_in(stale.text))
    assert retry.status_code == 303 and fresh(post_id).markdown == "Merged."


def test_a_stale_autosave_is_refused_with_a_message(owner):
    post_id = saved_id(owner.save(title="Auto", markdown="One."))
    opened = version_in(owner.client.get(f"/admin/posts/{post_id}/").text)
    owner.save(post_id, title="Auto", markdown="Two.", version=opened)
    late = owner.autosave(post_id=post_id, title="Auto", markdown="Three.", version=opened)
    assert late.status_code == 409 and "changed in another tab" in late.text
    assert fresh(post_id).markdown == "Two."


def test_autosave_answers_with_the_edit_url_and_the_new_version(owner):
    first = owner.autosave(title="Fresh", markdown="Hello")
    post_id = int(re.search(r'id="post-id" value="(\d+)"', first.text)[1])
    assert f'data-edit-url="/admin/posts/{post_id}/"' in first.text
    version = re.search(r'id="post-version" value="([^"]+)"', first.text)[1]
    second = owner.autosave(post_id=post_id, title="Fresh", markdown="Hello again", version=version)
    assert second.status_code == 200 and fresh(post_id).markdown == "Hello again"


# --- Revisions ------------------------------------------------------------------------------


def test_every_save_keeps_a_revision_the_last_20_and_every_publish(owner):
    post_id = saved_id(owner.save(title="Long", markdown="v0"))
    saved_id(owner.save(post_id, title="Long", markdown="published words", action="publish"))
    for n in range(1, KEEP_SAVES + 5):
        saved_id(owner.save(post_id, title="Long", markdown=f"v{n}"))
    kept = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post_id).order_by(PostRevision.id)
    ).all()
    assert "published words" in [r.markdown for r in kept if r.reason == "publish"]
    saves = [r for r in kept if r.reason != "publish"]
    assert len(saves) <= KEEP_SAVES and saves[-1].markdown == f"v{KEEP_SAVES + 4}"
    assert "v0" not in [r.markdown for r in kept]


def test_history_shows_who_when_and_a_diff_and_restores_as_a_new_revision(owner):
    post_id = saved_id(owner.save(title="Story", markdown="line one\nline two"))
    saved_id(owner.save(post_id, title="Story", markdown="line one\nline 2 rewritten"))
    first = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post_id).order_by(PostRevision.id)
    ).first()
    page = owner.client.get(f"/admin/posts/{post_id}/history/?revision={first.id}")
    assert page.status_code == 200 and "Olive Owner" in page.text
    assert re.search(r'diff__removed">− line two', page.text)
    assert re.search(r'diff__added">\+ line 2 rewritten', page.text)
    restored = owner.client.post(
        f"/admin/posts/{post_id}/history/{first.id}/restore", data={"csrf_token": owner.token}
    )
    assert restored.status_code == 303
    assert fresh(post_id).markdown == "line one\nline two"
    latest = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post_id).order_by(PostRevision.id)
    ).all()[-1]
    assert latest.reason == "restore" and latest.markdown == "line one\nline two"


def test_another_authors_history_is_refused(client, login, make_user, make_post):
    post = make_post("Not yours", authors=[make_user()])
    login(client, make_user(role="author"))
    assert client.get(f"/admin/posts/{post.id}/history/").status_code == 403


# --- Publishing through time ----------------------------------------------------------------


def test_publish_with_a_future_date_schedules_it_for_that_date(owner):
    when = future(days=2)
    response = owner.save(title="Later", markdown="Soon.", action="publish", published_at=when)
    post = fresh(saved_id(response))
    assert post.status == "scheduled" and f"{post.published_at:%Y-%m-%dT%H:%M}" == when
    assert "Scheduled for" in owner.client.get(f"/admin/posts/{post.id}/").text


def test_publish_and_email_with_a_future_date_emails_at_go_live(owner):
    response = owner.save(title="Mail later", action="email", published_at=future(days=1))
    post = fresh(saved_id(response))
    assert post.status == "scheduled" and post.email_when_published


def send(app) -> None:
    """Run the mail sender once over what is due, as `flask worker --burst` would."""
    db.session.rollback()  # outside a request, a transaction holds SQLite's write lock
    run(app, threading.Event(), burst=True)


def _go_live(post_id: int) -> None:
    """Move a scheduled post's time into the past, as if the clock had reached it."""
    post = fresh(post_id)
    post.published_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def test_a_scheduled_post_goes_live_and_the_sender_mails_it_then(owner, app, smtp_sink):
    db.session.add(Subscriber(email="reader@example.com", status="confirmed"))
    db.session.commit()
    response = owner.save(title="Go live", markdown="At last.", action="schedule",
                          published_at=future(hours=3), email_when_published="on")  # fmt: skip
    post_id = saved_id(response)
    assert fresh(post_id).email_when_published
    send(app)
    assert fresh(post_id).status == "scheduled" and smtp_sink.messages == []
    _go_live(post_id)
    send(app)  # the sender, with nothing else started
    post = fresh(post_id)
    assert post.status == "published" and not post.email_when_published
    assert [m[1] for m in smtp_sink.messages] == [["reader@example.com"]]
    mail = email.message_from_bytes(smtp_sink.messages[0][2], policy=email.policy.default)
    assert "Go live" in mail["Subject"]
    send(app)
    assert len(smtp_sink.messages) == 1  # never twice


def test_the_editor_of_a_scheduled_post_that_went_live_offers_update_and_email(owner):
    post_id = saved_id(
        owner.save(title="Was scheduled", action="schedule", published_at=future(hours=1))
    )
    _go_live(post_id)
    page = owner.client.get(f"/admin/posts/{post_id}/")  # a GET changes nothing
    assert 'value="email">Email subscribers</button>' in page.text
    update = owner.save(post_id, title="Was scheduled", markdown="Edited after.",
                        version=version_in(page.text),
                        published_at=re.search(r'name="published_at" value="([^"]+)"', page.text)[1])  # fmt: skip
    post = fresh(post_id)
    assert update.status_code == 303 and post.markdown == "Edited after."
    assert post.status == "published"


def test_saving_a_due_scheduled_post_still_sends_its_go_live_mail(owner, app, smtp_sink):
    app.config["MAIL_BACKGROUND_SENDER"] = False
    db.session.add(Subscriber(email="due@example.com", status="confirmed"))
    db.session.commit()
    post_id = saved_id(owner.save(title="Due", action="schedule", published_at=future(hours=1),
                                  email_when_published="on"))  # fmt: skip
    _go_live(post_id)  # the clock passes its time before any sender ran
    db.session.rollback()
    opened = version_in(owner.client.get(f"/admin/posts/{post_id}/").text)
    update = owner.save(post_id, title="Due", markdown="Fixed a typo.", version=opened)
    assert update.status_code == 303, update.text[:500]
    assert fresh(post_id).status == "published"
    send(app)
    assert [m[1] for m in smtp_sink.messages] == [["due@example.com"]]


def test_send_status_shows_queued_sent_and_failures_with_reasons(owner, make_post):
    post = make_post("Sent one")
    for n, (status, error) in enumerate(
        [("queued", None), ("sent", None), ("sent", None), ("failed", "550 mailbox unavailable")]
    ):
        db.session.add(Subscriber(email=f"s{n}@example.com", status="confirmed"))
        db.session.flush()
        db.session.add(OutboxMessage(kind="newsletter", status=status, recipient=f"s{n}@example.com",
                                     post_id=post.id, last_error=error,
                                     subscriber_id=db.session.scalar(select(func.max(Subscriber.id)))))  # fmt: skip
    db.session.commit()
    page = owner.client.get(f"/admin/posts/{post.id}/")
    assert "Sending: 1 queued" in page.text and "sent 2" in page.text and "failed 1" in page.text
    assert "550 mailbox unavailable" in page.text
    assert f'hx-get="/admin/posts/{post.id}/send-status"' in page.text  # updates while it runs
    part = owner.client.get(f"/admin/posts/{post.id}/send-status", headers=HX)
    assert "<html" not in part.text and "sent 2" in part.text


# --- Pages, previews ------------------------------------------------------------------------


def test_pages_are_listed_apart_and_never_in_feeds_or_listings(owner, reader_client):
    page_id = saved_id(owner.client.post("/admin/posts/new", data={
        "csrf_token": owner.token, "type": "page", "title": "About us", "markdown": "Hello.",
        "action": "publish"}))  # fmt: skip
    post_id = saved_id(owner.save(title="A real post", action="publish"))
    assert fresh(page_id).type == "page" and fresh(post_id).type == "post"
    pages = owner.client.get("/admin/pages/").text
    assert "About us" in pages and "A real post" not in pages
    assert "About us" not in owner.client.get("/admin/").text
    assert reader_client.get("/about-us/").status_code == 200
    assert "About us" not in reader_client.get("/").text
    assert "About us" not in reader_client.get("/rss/").text
    assert "Edit page" in owner.client.get(f"/admin/posts/{page_id}/").text


@pytest.fixture
def reader_client(app):
    return app.test_client()


def test_open_preview_shows_the_reader_page_with_image_byline_and_tags(owner, make_tag):
    make_tag("Travel")
    response = owner.client.post("/admin/preview", data={
        "csrf_token": owner.token, "title": "Seen by readers", "markdown": "Body **text**.",
        "tags": "Travel", "feature_image": "/static/demo/coast.svg",
        "feature_image_alt": "A coast"})  # fmt: skip
    assert response.status_code == 200 and "noindex" in response.headers["X-Robots-Tag"]
    text = response.text
    assert "Seen by readers" in text and "<strong>text</strong>" in text
    assert 'src="/static/demo/coast.svg" alt="A coast"' in text
    assert "Olive Owner" in text and 'href="/tag/travel/"' in text


def test_a_preview_link_shows_the_draft_without_sign_in_until_revoked(owner, reader_client):
    post_id = saved_id(owner.save(title="Secret draft", markdown="Not yet public."))
    owner.client.post(
        f"/admin/posts/{post_id}/share", data={"csrf_token": owner.token, "share": "create"}
    )
    link = re.search(r'id="share-link" readonly value="http://localhost(/p/[^"]+/)"',
                     owner.client.get(f"/admin/posts/{post_id}/").text)[1]  # fmt: skip
    shared = reader_client.get(link)
    assert shared.status_code == 200 and "Not yet public." in shared.text
    assert 'name="robots" content="noindex' in shared.text and shared.headers["X-Robots-Tag"]
    assert reader_client.get(link[:-6] + "xxxxx/").status_code == 404  # tampered
    owner.client.post(
        f"/admin/posts/{post_id}/share", data={"csrf_token": owner.token, "share": "revoke"}
    )
    assert reader_client.get(link).status_code == 404


def test_live_word_count_and_reading_time_are_shown(owner):
    post_id = saved_id(owner.save(title="Counted", markdown=" ".join(["word"] * 600)))
    assert "600 words · 2 min read" in owner.client.get(f"/admin/posts/{post_id}/").text


# --- Subscribers, owner ---------------------------------------------------------------------


def test_subscribers_are_in_the_admin_menu_with_the_confirmed_count(owner):
    db.session.add_all([Subscriber(email="a@example.com", status="confirmed"),
                        Subscriber(email="b@example.com", status="pending")])  # fmt: skip
    db.session.commit()
    menu = owner.client.get("/admin/").text
    assert 'href="/admin/subscribers/"' in menu
    page = owner.client.get("/admin/subscribers/")
    assert page.status_code == 200 and "1 confirmed" in page.text
    assert 'aria-current="page">Subscribers' in page.text


def test_create_user_refuses_a_second_owner(runner, make_user):
    make_user(role="owner", email="first@example.com")
    result = runner.invoke(args=["create-user", "second@example.com", "--name", "Second",
                                 "--role", "owner", "--password", PASSWORD])  # fmt: skip
    assert result.exit_code != 0 and "already has an owner" in result.output
    assert db.session.scalar(select(func.count()).where(User.role == "owner")) == 1


def test_the_owner_transfers_ownership_to_an_administrator(owner, make_user):
    admin = make_user(role="administrator", name="Ann Admin")
    assert "Make owner…" in owner.client.get("/admin/staff/").text
    confirm = owner.client.get(f"/admin/staff/{admin.id}/transfer-ownership")
    assert confirm.status_code == 200 and "Make Ann Admin the owner?" in confirm.text
    assert db.session.get(User, admin.id).role == "administrator"  # asking changes nothing
    response = owner.client.post(f"/admin/staff/{admin.id}/transfer-ownership",
                                 data={"csrf_token": owner.token})  # fmt: skip
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "owner"
    assert db.session.get(User, owner.user.id).role == "administrator"


def test_an_administrator_cannot_take_ownership(client, login, make_user):
    make_user(role="owner")
    admin = make_user(role="administrator")
    other = make_user(role="administrator")
    login(client, admin)
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/admin/").text)[1]
    response = client.post(
        f"/admin/staff/{other.id}/transfer-ownership", data={"csrf_token": token}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, other.id).role == "administrator"


def test_send_newsletter_accepts_a_scheduled_post_once_its_time_has_come(owner, runner):
    db.session.add(Subscriber(email="cli@example.com", status="confirmed"))
    db.session.commit()
    post_id = saved_id(
        owner.save(title="Cli later", action="schedule", published_at=future(hours=2))
    )
    slug = fresh(post_id).slug
    early = runner.invoke(args=["send-newsletter", slug, "--queue-only"])
    assert early.exit_code != 0 and "Only a published post" in early.output
    _go_live(post_id)
    db.session.rollback()
    result = runner.invoke(args=["send-newsletter", slug, "--queue-only"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 new deliveries" in result.output and fresh(post_id).status == "published"


def test_settings_offer_published_pages_as_navigation_links(owner):
    saved_id(owner.client.post("/admin/posts/new", data={
        "csrf_token": owner.token, "type": "page", "title": "Contact", "action": "publish"}))  # fmt: skip
    page = owner.client.get("/admin/settings/").text
    assert '<option value="/contact/">Contact</option>' in page and 'list="page-urls"' in page


def test_newsletter_mail_carries_code_colours_inline(owner, app, smtp_sink):
    app.config["MAIL_BACKGROUND_SENDER"] = False  # send() below is the only sender
    db.session.add(Subscriber(email="coder@example.com", status="confirmed"))
    db.session.commit()
    body = "Look:\n\n```python\ndef f():\n    return 1\n```\n"
    saved_id(owner.save(title="Code mail", markdown=body, action="email"))
    send(app)
    mail = email.message_from_bytes(smtp_sink.messages[0][2], policy=email.policy.default)
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert '<span style="color: #' in html and 'class="k"' not in html


def test_update_on_a_scheduled_post_changes_whether_it_is_emailed(owner):
    when = future(days=1)
    post_id = saved_id(owner.save(title="Maybe mail", action="schedule", published_at=when,
                                  email_when_published="on"))  # fmt: skip
    assert fresh(post_id).email_when_published
    saved_id(owner.save(post_id, title="Maybe mail", published_at=when))  # box unticked
    post = fresh(post_id)
    assert post.status == "scheduled" and not post.email_when_published


def test_open_preview_drops_an_unsafe_feature_image_address(owner):
    response = owner.client.post("/admin/preview", data={
        "csrf_token": owner.token, "title": "Unsafe", "feature_image": "javascript:alert(1)"})  # fmt: skip
    assert response.status_code == 200 and "javascript:" not in response.text


def test_autosaves_within_ten_minutes_update_one_revision_and_explicit_saves_add_one(owner):
    first = owner.autosave(title="Typing", markdown="a")
    post_id = int(re.search(r'id="post-id" value="(\d+)"', first.text)[1])
    for text in ("ab", "abc", "abcd"):
        version = fresh(post_id).updated_at.isoformat(timespec="microseconds")
        owner.autosave(post_id=post_id, title="Typing", markdown=text, version=version)
    revisions = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post_id)
    ).all()
    assert [r.markdown for r in revisions] == ["abcd"]
    saved_id(owner.save(post_id, title="Typing", markdown="abcde"))
    revisions = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post_id).order_by(PostRevision.id)
    ).all()
    assert [r.markdown for r in revisions] == ["abcd", "abcde"]


def test_a_bad_feature_image_on_a_new_post_keeps_the_text_at_the_new_post_url(owner):
    import io

    response = owner.client.post("/admin/posts/new", data={
        "csrf_token": owner.token, "title": "With a picture", "markdown": "Words first.",
        "action": "publish", "feature_image_file": (io.BytesIO(b"<html>no</html>"), "x.png")},
        content_type="multipart/form-data")  # fmt: skip
    assert response.status_code in (400, 415)
    assert 'action="/admin/posts/new"' in response.text and "Words first." in response.text
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0

"""Writes under contention (issue 10, items 1, 2, 3 and 5): Markdown is rendered with no lock
held, a reply after commit never waits for the lock, 503 means nothing was stored (so a retry
stores it once), error pages render while the database is locked, and concurrent saves of
one title on PostgreSQL each get their own slug."""

import re
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from blog.admin import editor
from blog.extensions import db
from blog.models import Post
from conftest import form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")


@pytest.fixture
def app_config(request, app_config):
    if "concurrent" not in request.node.name:
        app_config["SQLITE_BUSY_TIMEOUT_MS"] = 200  # a held lock gives up quickly
    return app_config


@pytest.fixture
def owner(client, login, make_user):
    user = make_user(role="owner")
    login(client, user)
    return user


def new_post(client, title="A title", markdown="Some text.", path="/admin/posts/new", **extra):
    token = form_token(client, "/admin/")
    data = {"csrf_token": token, "title": title, "markdown": markdown, "action": "save", **extra}
    return client.post(path, data=data)


def post_count(title: str | None = None) -> int:
    db.session.rollback()
    stmt = select(func.count()).select_from(Post)
    if title is not None:
        stmt = stmt.where(Post.title == title)
    return db.session.scalar(stmt)


def test_markdown_is_rendered_while_nobody_holds_the_write_lock(
    client, owner, sqlite_lock, monkeypatch
):
    seen = []
    real = editor.render_content

    def probing(markdown):
        seen.append(sqlite_lock.is_free())
        return real(markdown)

    monkeypatch.setattr(editor, "render_content", probing)
    response = new_post(client, markdown="# Big\n\n" + "Some words. " * 500)
    assert response.status_code == 303
    assert seen == [True]  # rendered between transactions, not inside the write
    assert post_count() == 1


def test_the_reply_after_commit_never_waits_for_the_lock(client, owner, sqlite_lock):
    """Another writer takes the lock the moment this save commits: the reply still says
    what happened (303 to the saved post), and the post is stored exactly once."""

    def grab(session):
        if not sqlite_lock.conn and not session.in_nested_transaction():
            sqlite_lock.take()

    event.listen(Session, "after_commit", grab)
    try:
        response = new_post(client, title="Committed", follow_redirects=False)
        edited = None
        if response.status_code == 303:
            post_id = int(re.search(r"/admin/posts/(\d+)/", response.headers["Location"])[1])
            sqlite_lock.release()
            edited = new_post(client, title="Committed again", path=f"/admin/posts/{post_id}/")
    finally:
        event.remove(Session, "after_commit", grab)
        sqlite_lock.release()
    assert response.status_code == 303, response.status_code
    assert edited is not None and edited.status_code == 303, edited.status_code
    assert post_count() == 1 and post_count("Committed again") == 1


def test_a_503_stores_nothing_and_the_retry_stores_the_post_once(client, owner, sqlite_lock):
    token = form_token(client, "/admin/")
    data = {"csrf_token": token, "title": "Retried", "markdown": "Text.", "action": "publish"}
    sqlite_lock.take()
    busy = client.post("/admin/posts/new", data=data)
    sqlite_lock.release()
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    assert "Nothing was saved" in busy.get_data(as_text=True)  # the site's page, not a 500
    assert post_count() == 0
    assert client.post("/admin/posts/new", data=data).status_code == 303
    assert post_count("Retried") == 1


def test_a_lock_taken_after_the_staff_member_was_loaded_still_gets_the_busy_page(
    client, owner, sqlite_lock, monkeypatch
):
    """The save loads the signed-in staff member, lets the lock go while it renders the
    Markdown, and finds the lock taken when it writes: 503, not a 500 from the error page
    reloading the staff member (a load that waited for the write lock too)."""
    real = editor.render_content

    def render_then_lose_the_lock(markdown):
        html = real(markdown)
        sqlite_lock.take()
        return html

    monkeypatch.setattr(editor, "render_content", render_then_lose_the_lock)
    response = new_post(client, title="Lost the lock", markdown="Some words.")
    sqlite_lock.release()
    assert response.status_code == 503, response.status_code
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert 'name="csrf-token"' in page  # still shown as signed in
    assert post_count() == 0


@pytest.mark.parametrize("path", ["/admin/", "/admin/tags/", "/no-such-page/"])
def test_error_pages_render_while_the_database_is_locked(client, owner, sqlite_lock, path):
    token = form_token(client, "/admin/")
    sqlite_lock.take()
    response = client.post(path, data={"csrf_token": token, "name": "x"})
    assert response.status_code in (503, 404, 405), response.status_code
    assert "<html" in response.get_data(as_text=True)


def test_a_signed_in_write_under_a_held_lock_gets_the_busy_page(client, owner, sqlite_lock):
    token = form_token(client, "/admin/tags/")
    sqlite_lock.take()
    response = client.post("/admin/tags/", data={"csrf_token": token, "name": "Locked"})
    assert response.status_code == 503
    assert "The blog is busy" in response.get_data(as_text=True)


def test_concurrent_saves_of_one_title_each_get_their_own_slug(app, login, make_user):
    """Ghost numbers clashing slugs; 20 saves at once (PostgreSQL: truly concurrent) all
    succeed, each with a different slug."""
    users = [make_user(role="author") for _ in range(20)]
    clients = []
    for user in users:
        client = app.test_client()
        login(client, user)
        clients.append((client, form_token(client, "/admin/")))
    db.session.rollback()
    start = threading.Barrier(len(clients))
    answers: list = [None] * len(clients)

    def save(n, client, token):
        start.wait(timeout=30)
        data = {"csrf_token": token, "title": "Same title", "markdown": "x", "action": "save"}
        try:
            answers[n] = client.post("/admin/posts/new", data=data).status_code
        except Exception as error:  # noqa: BLE001 - a propagated 500
            answers[n] = repr(error)

    threads = [threading.Thread(target=save, args=(n, *pair)) for n, pair in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert answers == [303] * len(clients)
    db.session.rollback()
    slugs = db.session.scalars(select(Post.slug).where(Post.title == "Same title")).all()
    assert len(slugs) == 20 and len(set(slugs)) == 20
    assert "same-title" in slugs and "same-title-2" in slugs


def test_an_upload_is_re_encoded_while_nobody_holds_the_write_lock(
    client, owner, sqlite_lock, monkeypatch
):
    import io

    from PIL import Image

    from blog import images

    seen = []
    real = images.save_image

    def probing(file):
        seen.append(sqlite_lock.is_free())
        return real(file)

    monkeypatch.setattr(images, "save_image", probing)
    data = io.BytesIO()
    Image.new("RGB", (600, 400), "teal").save(data, "PNG")
    token = form_token(client, "/admin/")
    response = client.post(
        "/admin/uploads",
        data={"csrf_token": token, "image": (io.BytesIO(data.getvalue()), "a.png", "image/png")},
    )
    assert response.status_code == 201
    assert seen == [True]


def test_readers_read_while_another_process_holds_the_write_lock(client, make_post, sqlite_lock):
    make_post("Still readable", slug="readable")
    sqlite_lock.take()  # a reader request begins with a plain BEGIN: it never waits for the lock
    for path in ("/", "/readable/", "/rss/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Still readable" in response.text
    assert not sqlite_lock.is_free()

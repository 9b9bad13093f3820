"""A full disk (issue 10, item 6; SECURITY.md #55): subscribe, publish and upload answer 503
with a message that says storage is full, the log says so too, nothing is stored half-way,
readers keep reading, and writes work again once space is freed. The database and uploads
live on a real 4 MB tmpfs that the test fills up."""

import io
import logging
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from blog.errors import is_storage_full
from blog.extensions import db
from blog.models import Post, Subscriber
from conftest import form_token

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fresh_requests")]
FULL = "storage is full"


@pytest.fixture
def disk(tmp_path):
    from fixtures.safety import tmpfs

    with tmpfs(tmp_path / "disk", "4m") as folder:
        yield folder


@pytest.fixture
def app_config(app_config, database, disk):
    if database == "sqlite":
        app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{disk / 'blog.sqlite'}"
    app_config["UPLOAD_FOLDER"] = str(disk / "uploads")  # absolute: used as it is
    app_config["MAIL_BACKGROUND_SENDER"] = False  # no thread writing to the disk meanwhile
    return app_config


@pytest.fixture
def staff(app, client, login, make_user, make_post):
    make_post("Already here", slug="already-here")
    login(client, make_user(role="owner"))
    client.token = form_token(client, "/admin/")
    return client


@pytest.fixture
def full(app, database, disk, staff):
    """Fill the disk once the app is set up; free it again afterwards."""
    from fixtures.safety import fill

    db.session.rollback()
    if database == "sqlite":  # start the next write on an empty WAL: it must grow the file
        raw = sqlite3.connect(db.engine.url.database, isolation_level=None)
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
    filler = fill(disk)
    yield filler
    filler.unlink(missing_ok=True)


def png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (1200, 800), "teal").save(data, "PNG")
    return data.getvalue()


def refused_as_full(response) -> bool:
    return response.status_code == 503 and FULL in response.get_data(as_text=True)


def count(model) -> int:
    db.session.rollback()
    value = db.session.scalar(select(func.count()).select_from(model))
    db.session.rollback()
    return value


def test_subscribe_on_a_full_disk_says_storage_is_full(database, client, full, caplog):
    if database != "sqlite":
        pytest.skip("the PostgreSQL server's disk is not ours to fill")
    with caplog.at_level(logging.ERROR, logger="blog.errors"):
        response = client.post("/newsletter/", data={"email": "reader@example.com"})
    assert refused_as_full(response)
    assert response.headers["Retry-After"]
    assert any("Storage is full" in r.getMessage() for r in caplog.records)
    assert count(Subscriber) == 0
    assert client.get("/").status_code == 200  # readers keep reading
    assert client.get("/already-here/").status_code == 200
    full.unlink()
    assert client.post("/newsletter/", data={"email": "reader@example.com"}).status_code == 303
    assert count(Subscriber) == 1


def test_publish_on_a_full_disk_says_storage_is_full(database, staff, full):
    if database != "sqlite":
        pytest.skip("the PostgreSQL server's disk is not ours to fill")
    before = count(Post)
    data = {"csrf_token": staff.token, "title": "New", "markdown": "Words. " * 2000,
            "action": "publish"}  # fmt: skip
    response = staff.post("/admin/posts/new", data=data)
    assert refused_as_full(response)
    assert count(Post) == before
    full.unlink()
    assert staff.post("/admin/posts/new", data=data).status_code == 303
    assert count(Post) == before + 1


def test_upload_on_a_full_disk_says_storage_is_full_and_leaves_no_file(app, staff, full, disk):
    response = staff.post(
        "/admin/uploads",
        data={"csrf_token": staff.token, "image": (io.BytesIO(png()), "a.png", "image/png")},
    )
    assert refused_as_full(response)
    folder = Path(disk / "uploads")
    assert not folder.exists() or list(folder.iterdir()) == []
    full.unlink()
    again = staff.post(
        "/admin/uploads",
        data={"csrf_token": staff.token, "image": (io.BytesIO(png()), "a.png", "image/png")},
    )
    assert again.status_code == 201


def test_postgresql_disk_full_counts_as_storage_full():
    import psycopg

    error = OperationalError("INSERT ...", {}, psycopg.errors.DiskFull("could not extend file"))
    assert is_storage_full(error)
    locked = OperationalError("INSERT ...", {}, Exception("database is locked"))
    assert not is_storage_full(locked)

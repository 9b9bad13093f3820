"""Backups: `flask backup -o FILE` takes the database and uploads while the blog serves, and
`flask restore FILE` gives back the same site."""

import io
import tarfile
from datetime import timedelta

import pytest
from PIL import Image

from blog.extensions import db
from blog.models import Post, utcnow
from blog.settings import save_settings
from blog.storage import storage

pytestmark = pytest.mark.usefixtures("fresh_requests")

NAME = "ab" * 16 + "-480.png"


def png(color: str) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (480, 240), color).save(data, "PNG")
    return data.getvalue()


@pytest.fixture
def site(app, make_post, make_tag):
    garden = make_tag("Garden")
    posts = [make_post(tags=[garden]) for _ in range(7)]
    storage().put(NAME, png("teal"), "image/png")
    posts[0].feature_image = f"/uploads/{NAME}"
    save_settings({"title": "Backed Up Blog"})
    db.session.commit()
    return [post.id for post in posts]


URLS = ["/", "/page/2/", "/post-number-1/", "/post-number-2/", "/tag/garden/", "/rss/",
        "/sitemap.xml", "/author/default-author/", f"/uploads/{NAME}"]  # fmt: skip


def snapshot(client) -> dict:
    return {url: (client.get(url).status_code, client.get(url).data) for url in URLS}


def test_a_restored_backup_gives_the_same_site(site, client, runner, tmp_path):
    before = snapshot(client)
    assert before["/"][0] == 200 and b"Backed Up Blog" in before["/"][1]
    db.session.remove()
    out = tmp_path / "blog.tar"
    result = runner.invoke(args=["backup", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Database" in result.output and "1 uploads" in result.output
    with tarfile.open(out) as archive:
        names = archive.getnames()
    assert f"uploads/{NAME}" in names and "manifest.json" in names

    # Then things go wrong: a post deleted, another renamed, settings changed, image replaced.
    db.session.delete(db.session.get(Post, site[1]))
    vandalised = db.session.get(Post, site[2])
    vandalised.title = "Vandalised"
    vandalised.updated_at = utcnow() + timedelta(hours=1)  # every sitemap's lastmod moves
    save_settings({"title": "Someone Else's Blog"})
    db.session.commit()
    storage().put(NAME, png("red"), "image/png")
    storage().put("cd" * 16 + "-480.png", png("blue"), "image/png")
    assert snapshot(client) != before

    db.session.remove()
    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Restored the backup" in result.output
    assert snapshot(client) == before
    assert sorted(storage().names()) == [NAME]  # the later upload is gone with its post


def test_restore_refuses_what_is_not_a_backup(app, runner, tmp_path, site, client):
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"not an archive")
    before = snapshot(client)
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code != 0 and "not a backup archive" in result.output
    assert snapshot(client) == before


def test_restore_asks_before_replacing_the_site(app, runner, tmp_path, site):
    out = tmp_path / "blog.tar"
    db.session.remove()
    assert runner.invoke(args=["backup", "-o", str(out)]).exit_code == 0
    result = runner.invoke(args=["restore", str(out)], input="n\n")
    assert result.exit_code != 0 and "Replace everything" in result.output


def test_the_archive_is_private_and_carries_the_secret_key(app, runner, tmp_path, site):
    """Links in mail already sent are signed with the instance's generated key: a restore
    elsewhere puts it back, so they keep working. The archive is readable by its owner only."""
    key_file = tmp_path / "instance-key"
    key_file.write_text("the-key-mail-was-signed-with")
    app.instance_path = str(tmp_path)  # the folder whose secret_key the blog generated
    (tmp_path / "secret_key").write_text("the-key-mail-was-signed-with")
    out = tmp_path / "blog.tar"
    db.session.remove()
    assert runner.invoke(args=["backup", "-o", str(out)]).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600
    (tmp_path / "secret_key").write_text("a-new-machine's-key")
    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Restored the secret key" in result.output
    assert (tmp_path / "secret_key").read_text() == "the-key-mail-was-signed-with"
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_restore_needs_no_extraction_filter(app, runner, tmp_path, site, client, monkeypatch):
    """tarfile's filter= came in Python 3.11.4 (Debian 12 has 3.11.2): restore copies the
    members it wants by itself and never extracts by a member's name."""
    out = tmp_path / "blog.tar"
    db.session.remove()
    assert runner.invoke(args=["backup", "-o", str(out)]).exit_code == 0

    def no_extract(*args, **kwargs):
        raise TypeError("TarFile.extract() got an unexpected keyword argument 'filter'")

    monkeypatch.setattr(tarfile.TarFile, "extract", no_extract)
    monkeypatch.setattr(tarfile.TarFile, "extractall", no_extract)
    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 200

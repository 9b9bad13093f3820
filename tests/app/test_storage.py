"""Uploads behind one storage interface: the instance folder by default, S3-compatible object
storage when configured (tested against moto's server on 127.0.0.1), so servers share images."""

import io
import re

import pytest
from PIL import Image

from blog import create_app
from blog.storage import LocalStorage, S3Storage, storage
from conftest import form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")


@pytest.fixture
def app_config(app_config, s3_bucket):
    app_config.update(s3_bucket)
    return app_config


@pytest.fixture
def staff(client, login, make_user):
    login(client, make_user(role="author"))
    client.token = form_token(client, "/admin/")
    return client


def png(size=(1200, 600)) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", size, "teal").save(data, "PNG")
    return data.getvalue()


def upload(client) -> str:
    response = client.post(
        "/admin/uploads",
        data={"csrf_token": client.token, "image": (io.BytesIO(png()), "a.png", "image/png")},
    )
    assert response.status_code == 201, response.text[:500]
    return re.search(r'<img src="(/uploads/[0-9a-f]{32}-\d+(?:x\d+)?\.\w+)"', response.text)[1]


def test_uploads_go_to_the_bucket_and_are_served_by_every_server(
    app, app_config, staff, tmp_path, monkeypatch
):
    url = upload(staff)
    store = storage()
    assert isinstance(store, S3Storage)
    names = sorted(store.names())
    assert len(names) == 3 and url.rsplit("/", 1)[1] in names  # 480, 960 and 1200 wide
    assert not (tmp_path / "instance" / "uploads").exists()  # nothing on this machine's disk
    served = staff.get(url)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert Image.open(io.BytesIO(served.data)).width == 1200
    assert "immutable" in served.headers["Cache-Control"]
    assert staff.get(url, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
    # A second server, with an instance folder of its own, shows the same image.
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "other-server"))
    other = create_app(app_config).test_client()
    elsewhere = other.get(url)
    assert elsewhere.status_code == 200 and elsewhere.data == served.data
    assert other.get("/uploads/" + "0" * 32 + "-480.png").status_code == 404


def test_a_refused_upload_leaves_nothing_in_the_bucket(app, staff):
    response = staff.post(
        "/admin/uploads",
        data={"csrf_token": staff.token, "image": (io.BytesIO(b"<html>"), "a.png", "image/png")},
    )
    assert response.status_code == 415
    assert list(storage().names()) == []


def test_removing_a_feature_image_deletes_every_width_from_the_bucket(app, staff):
    from blog import images

    url = upload(staff)
    assert len(list(storage().names())) == 3
    images.delete_image(url)
    assert list(storage().names()) == []
    assert staff.get(url).status_code == 404


def test_without_a_bucket_uploads_stay_in_the_instance_folder(app_config, tmp_path, monkeypatch):
    config = {k: v for k, v in app_config.items() if not k.startswith("S3_")}
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "plain"))
    local = create_app(config)
    with local.app_context():
        store = storage()
        assert isinstance(store, LocalStorage)
        store.put("a.txt", b"hello", "text/plain")
        assert (tmp_path / "plain" / "uploads" / "a.txt").read_bytes() == b"hello"
        assert store.get("a.txt") == b"hello" and list(store.names()) == ["a.txt"]
        store.delete("a.txt")
        assert store.get("a.txt") is None

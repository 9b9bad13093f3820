"""Image uploads: only real JPEG/PNG/GIF/WebP images, checked by content and size and pixel
count before decoding, re-encoded without metadata, stored under generated names in several
widths, served as images; every refusal is clear and leaves nothing behind."""

import io
import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Post
from conftest import form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")


@pytest.fixture
def app_config(app_config):
    app_config["IMAGE_MAX_BYTES"] = 400_000
    app_config["MAX_CONTENT_LENGTH"] = 1_000_000
    return app_config


@pytest.fixture
def staff(client, login, make_user):
    login(client, make_user(role="author"))
    client.token = form_token(client, "/admin/")
    return client


def image_bytes(fmt="PNG", size=(800, 500), color="teal", **options) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", size, color).save(data, fmt, **options)
    return data.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def upload(client, data: bytes, filename="photo.png", content_type="image/png"):
    return client.post(
        "/admin/uploads",
        data={"csrf_token": client.token, "image": (io.BytesIO(data), filename, content_type)},
    )


def uploads(app) -> set[str]:
    folder = Path(app.instance_path) / "uploads"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def all_files(app) -> set[Path]:
    return {p for p in Path(app.instance_path).rglob("*") if p.is_file()}


def stored_url(response) -> str:
    assert response.status_code == 201, response.text[:500]
    import re

    return re.search(r'<img src="(/uploads/[0-9a-f]{32}-\d+x\d+\.\w+)"', response.text)[1]


@pytest.mark.parametrize(
    "fmt, ext, mimetype",
    [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp"),
     ("GIF", "png", "image/png")],
)  # fmt: skip
def test_images_are_stored_in_several_widths_and_served_as_images(app, staff, fmt, ext, mimetype):
    url = stored_url(upload(staff, image_bytes(fmt, size=(2000, 1000)), f"x.{fmt.lower()}"))
    # Full size (under the 2400 cap) with its height in the name, plus smaller widths.
    assert url.endswith(f"-2000x1000.{ext}")
    names = uploads(app)
    assert len(names) == 4 and all(n.endswith(f".{ext}") for n in names)  # 480, 960, 1600
    for name in names:
        served = staff.get(f"/uploads/{name}")
        assert served.status_code == 200 and served.mimetype == mimetype
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in served.headers["Content-Security-Policy"]
        width = int(name.split("-")[1].split(".")[0].split("x")[0])
        assert Image.open(io.BytesIO(served.data)).width == width
    assert "srcset=" in staff.post("/admin/uploads", data={"csrf_token": staff.token,
        "image": (io.BytesIO(image_bytes(fmt)), "y.png")}).text  # fmt: skip


def test_exif_and_gps_are_stripped(app, staff):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS latitude
    data = image_bytes("JPEG", exif=exif.tobytes())
    assert b"SpyCam" in data
    url = stored_url(upload(staff, data, "holiday.jpg", "image/jpeg"))
    stored = staff.get(url).data
    assert b"SpyCam" not in stored and b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_an_upright_photo_stays_upright(app, staff):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° to view
    data = image_bytes("JPEG", size=(400, 200), exif=exif.tobytes())
    stored = staff.get(stored_url(upload(staff, data, "tall.jpg", "image/jpeg"))).data
    assert Image.open(io.BytesIO(stored)).size == (200, 400)


def test_a_polyglot_is_stored_only_re_encoded(app, staff):
    payload = b"<html><script>alert(document.cookie)</script></html>"
    url = stored_url(upload(staff, image_bytes("PNG", size=(50, 50)) + payload))
    served = staff.get(url)
    assert payload not in served.data and b"<script" not in served.data
    assert served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "data, filename, content_type",
    [
        (b"<html><script>alert(1)</script></html>", "page.png", "image/png"),
        (b"#!/bin/sh\nrm -rf /\n", "run.jpg", "image/jpeg"),
        (b"%PDF-1.4\n%...", "doc.png", "image/png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
         b"</svg>", "logo.svg", "image/svg+xml"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><body onload="alert(1)"/>'
         b"</foreignObject></svg>", "logo.png", "image/png"),
        (b"BM" + b"\0" * 60, "bitmap.bmp", "image/bmp"),  # a real format, but not one we take
        (b"MZ\x90\x00" + b"\0" * 100, "setup.gif", "image/gif"),
    ],
)  # fmt: skip
def test_anything_but_the_four_image_formats_is_refused_with_415(
    app, staff, data, filename, content_type
):
    response = upload(staff, data, filename, content_type)
    assert response.status_code == 415
    assert "Upload a JPEG, PNG, GIF or WebP image." in response.text
    assert uploads(app) == set()


def test_a_decompression_bomb_is_refused_before_decoding(app, staff):
    started = time.monotonic()
    response = upload(staff, png_header(20_000, 20_000))
    assert time.monotonic() - started < 2
    assert response.status_code == 413 and "too many pixels" in response.text
    assert uploads(app) == set()


def test_an_image_just_over_the_pixel_limit_is_refused(app, staff):
    app.config["IMAGE_MAX_PIXELS"] = 1_000_000
    response = upload(staff, png_header(1001, 1000))
    assert response.status_code == 413 and "too many pixels" in response.text
    assert uploads(app) == set()


def test_an_image_over_the_size_limit_is_refused(app, staff):
    noisy = Image.frombytes("RGB", (400, 400), bytes(range(256)) * 1875)
    data = io.BytesIO()
    noisy.save(data, "PNG", compress_level=0)
    assert 400_000 < len(data.getvalue()) < 1_000_000
    response = upload(staff, data.getvalue())
    assert response.status_code == 413 and "at most" in response.text
    assert uploads(app) == set()


def test_a_body_over_the_request_limit_gets_413_quickly(app, staff):
    started = time.monotonic()
    response = upload(staff, b"\0" * 2_000_000)
    assert response.status_code == 413
    assert time.monotonic() - started < 2
    assert uploads(app) == set()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "That file is empty."),
        (image_bytes("PNG", size=(300, 300))[:120], "damaged"),
        (image_bytes("JPEG", size=(300, 300))[:400], "damaged"),
    ],
)
def test_empty_and_truncated_images_get_400(app, staff, data, message):
    response = upload(staff, data)
    assert response.status_code == 400 and message in response.text
    assert uploads(app) == set()


def test_no_file_at_all_gets_400(app, staff):
    response = staff.post("/admin/uploads", data={"csrf_token": staff.token})
    assert response.status_code == 400 and "Choose an image" in response.text


@pytest.mark.parametrize(
    "filename",
    ["../../app.py", "..\\..\\wsgi.py", "x.php%00.jpg", "x.php\x00.jpg", "CON.jpg",
     "evil\u202egnp.js", "/etc/passwd", ".htaccess"],
)  # fmt: skip
def test_odd_file_names_never_choose_where_the_file_goes(app, staff, filename):
    before = all_files(app)
    url = stored_url(upload(staff, image_bytes("PNG"), filename))
    created = all_files(app) - before
    folder = Path(app.instance_path) / "uploads"
    assert created and all(path.parent == folder for path in created)
    assert all(path.name.split("-")[0] == url.split("/")[-1].split("-")[0] for path in created)
    assert not any("php" in p.name or "passwd" in p.name or "app" in p.name for p in created)


def test_anonymous_uploads_store_nothing(app, client):
    token = form_token(client, "/login")
    response = client.post(
        "/admin/uploads",
        data={"csrf_token": token, "image": (io.BytesIO(image_bytes()), "a.png")},
    )
    assert response.status_code == 401
    no_token = client.post("/admin/uploads", data={"image": (io.BytesIO(image_bytes()), "a.png")})
    assert no_token.status_code == 400
    assert uploads(app) == set()


def test_uploads_are_served_only_under_generated_names(app, staff):
    url = stored_url(upload(staff, image_bytes()))
    (Path(app.instance_path) / "secret.txt").write_text("secret")
    for path in ("/uploads/../secret.txt", "/uploads/secret.txt", "/uploads/%2e%2e%2fsecret.txt",
                 url.replace(".png", ".html"), url.replace("-", "_")):  # fmt: skip
        response = staff.get(path)
        assert response.status_code == 404 and b"secret" not in response.data
    assert staff.get(url).status_code == 200


def test_a_bad_feature_image_keeps_the_post_unsaved_and_leaves_no_file(app, staff):
    response = staff.post(
        "/admin/posts/new",
        data={"csrf_token": staff.token, "title": "With picture", "markdown": "x",
              "action": "save", "feature_image_file": (io.BytesIO(png_header(20_000, 20_000)),
                                                       "bomb.png")},
    )  # fmt: skip
    assert response.status_code == 413 and "too many pixels" in response.text
    assert 'value="With picture"' in response.text  # what was typed is still there
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0
    assert uploads(app) == set()


def test_a_feature_image_is_stored_and_offered_in_several_widths(app, staff):
    response = staff.post(
        "/admin/posts/new",
        data={"csrf_token": staff.token, "title": "Pictured", "markdown": "x", "action": "save",
              "feature_image_alt": "A teal rectangle",
              "feature_image_file": (io.BytesIO(image_bytes(size=(1200, 600))), "p.png")},
    )  # fmt: skip
    assert response.status_code == 303
    post = db.session.scalar(select(Post))
    assert post.feature_image.endswith("-1200x600.png")
    assert post.feature_image_alt == "A teal rectangle"
    editor = staff.get(response.headers["Location"])
    token = post.feature_image.split("/")[-1].split("-")[0]
    assert f"/uploads/{token}-480.png 480w, /uploads/{token}-960.png 960w" in editor.text
    urls = [f"/uploads/{token}-{w}.png" for w in (480, 960)] + [post.feature_image]
    assert all(staff.get(url).status_code == 200 for url in urls)


def test_an_animated_gif_keeps_its_frames(app, staff):
    frames = [Image.new("RGB", (120, 80), color) for color in ("red", "green", "blue")]
    data = io.BytesIO()
    frames[0].save(data, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    url = stored_url(upload(staff, data.getvalue(), "anim.gif", "image/gif"))
    stored = Image.open(io.BytesIO(staff.get(url).data))
    assert url.endswith(".gif") and stored.n_frames == 3

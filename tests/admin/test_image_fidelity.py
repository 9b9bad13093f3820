"""Re-encoding an upload keeps what the author uploaded: each frame's delay and the loop count
of an animation, transparency, the tones of 16-bit images, and the real width and height,
which pages declare (a portrait picture is not declared 1200x800)."""

import io
import re
import struct
import zlib

import pytest
from PIL import Image, ImageSequence
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post
from tests.conftest import form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")
DELAYS = [100, 1000, 3000]


@pytest.fixture
def staff(client, login, make_user):
    login(client, make_user(role="author"))
    client.token = form_token(client, "/admin/")
    return client


def upload(client, data: bytes, filename: str) -> str:
    """Upload through the editor's endpoint; return the stored image's URL."""
    response = client.post(
        "/admin/uploads",
        data={"csrf_token": client.token, "image": (io.BytesIO(data), filename)},
    )
    assert response.status_code == 201, response.text[:300]
    return re.search(r'<img src="(/uploads/[^"]+)"', response.text)[1]


def every_width(client, url: str) -> list[Image.Image]:
    """Open the stored image at the URL and at each smaller width its srcset lists."""
    token, ext = re.fullmatch(r"/uploads/([0-9a-f]{32})-[0-9x]+\.(\w+)", url).groups()
    smaller = [
        w
        for w in client.application.config["IMAGE_WIDTHS"]
        if w < int(url.split("-")[1].split("x")[0])
    ]
    urls = [url] + [f"/uploads/{token}-{w}.{ext}" for w in smaller]
    return [Image.open(io.BytesIO(client.get(u).data)) for u in urls]


def delays(image: Image.Image) -> list[int]:
    found = []
    for frame in ImageSequence.Iterator(image):
        frame.load()
        found.append(frame.info.get("duration"))
    return found


def animation(fmt: str, size=(600, 400), transparent=False, **options) -> bytes:
    """Three frames: a coloured block that shrinks, on a clear (or white) background."""
    frames = []
    for i, color in enumerate([(255, 0, 0, 255), (0, 160, 0, 255), (0, 0, 255, 255)]):
        frame = Image.new("RGBA", size, (0, 0, 0, 0) if transparent else (255, 255, 255, 255))
        frame.paste(color, (0, 0, size[0] // (i + 2), size[1] // (i + 2)))
        frames.append(frame if transparent else frame.convert("RGB"))
    data = io.BytesIO()
    frames[0].save(data, fmt, save_all=True, append_images=frames[1:], duration=DELAYS, **options)
    return data.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_an_animation_keeps_each_frames_delay_and_its_loop(staff, fmt):
    url = upload(staff, animation(fmt, loop=0), f"anim.{fmt.lower()}")
    for stored in every_width(staff, url):
        assert stored.n_frames == 3 and delays(stored) == DELAYS
        assert stored.info.get("loop") == 0  # forever, as uploaded


def test_a_gif_that_plays_once_still_plays_once(staff):
    url = upload(staff, animation("GIF"), "once.gif")  # no loop block: browsers play it once
    assert all("loop" not in stored.info for stored in every_width(staff, url))


def test_a_gif_that_loops_three_times_loops_three_times(staff):
    url = upload(staff, animation("GIF", loop=3), "thrice.gif")
    assert all(stored.info.get("loop") == 3 for stored in every_width(staff, url))


def test_an_animations_transparency_is_kept_and_frames_do_not_show_through(staff):
    url = upload(staff, animation("GIF", transparent=True, loop=0, disposal=2), "clear.gif")
    stored = Image.open(io.BytesIO(staff.get(url).data))
    corner, centre_left = (599, 399), (250, 150)
    frames = [frame.convert("RGBA") for frame in ImageSequence.Iterator(stored)]
    assert all(frame.getpixel(corner)[3] == 0 for frame in frames)
    assert frames[0].getpixel(centre_left)[:3] == (255, 0, 0)
    # Frame 3's block is smaller: where frame 1 was red, frame 3 is clear, not red.
    assert frames[2].getpixel(centre_left)[3] == 0


def test_a_transparent_png_stays_transparent(staff):
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((10, 20, 30, 255), (0, 0, 100, 100))
    data = io.BytesIO()
    image.save(data, "PNG")
    stored = Image.open(io.BytesIO(staff.get(upload(staff, data.getvalue(), "a.png")).data))
    assert stored.convert("RGBA").getpixel((250, 150))[3] == 0
    assert stored.convert("RGBA").getpixel((50, 50)) == (10, 20, 30, 255)


def png16(width: int, height: int, color_type: int, sample: tuple[int, ...]) -> bytes:
    """A 16-bit PNG (color_type 0: grey, 2: RGB) filled with one 16-bit sample value."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    pixel = b"".join(struct.pack(">H", value) for value in sample)
    rows = b"".join(b"\0" + pixel * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "color_type, sample, expected",
    [
        (0, (32768,), (128, 128, 128)),  # mid grey stays mid grey (it was clipped to white)
        (0, (8192,), (32, 32, 32)),
        (2, (65535, 32768, 0), (255, 128, 0)),
    ],
)
def test_16_bit_images_are_scaled_to_8_bits_not_clipped(staff, color_type, sample, expected):
    url = upload(staff, png16(64, 48, color_type, sample), "deep.png")
    stored = Image.open(io.BytesIO(staff.get(url).data)).convert("RGB")
    assert all(abs(a - b) <= 1 for a, b in zip(stored.getpixel((10, 10)), expected, strict=True))


def save_post_with(staff, size) -> Post:
    picture = io.BytesIO()
    Image.new("RGB", size, "teal").save(picture, "PNG")
    response = staff.post(
        "/admin/posts/new",
        data={"csrf_token": staff.token, "title": "Tall", "markdown": "x", "action": "publish",
              "feature_image_file": (io.BytesIO(picture.getvalue()), "p.png")},
    )  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    return db.session.scalar(select(Post))


@pytest.mark.parametrize("size", [(600, 900), (1000, 1000), (3000, 1500)])
def test_pages_declare_the_real_width_and_height(app, staff, size):
    post = save_post_with(staff, size)
    width = min(size[0], max(app.config["IMAGE_WIDTHS"]))
    height = round(size[1] * width / size[0])
    declared = f'width="{width}" height="{height}"'
    reader = app.test_client()
    for path in ("/", post.url.replace("http://localhost", "")):
        page = reader.get(path).text
        tag = re.search(r'<img[^>]+src="/uploads/[^"]+"[^>]*>', page)[0]
        assert declared in tag and 'width="1200" height="800"' not in tag


def test_pictures_from_elsewhere_declare_no_size_rather_than_a_wrong_one(client, make_post):
    make_post("Elsewhere", slug="elsewhere", feature_image="/static/demo/tide.svg")
    tag = re.search(r'<img[^>]+src="/static/demo/tide.svg"[^>]*>', client.get("/elsewhere/").text)[
        0
    ]
    assert "width=" not in tag and "height=" not in tag


def test_uploaded_images_in_the_body_declare_their_real_size(app, staff):
    picture = io.BytesIO()
    Image.new("RGB", (600, 900), "teal").save(picture, "PNG")
    url = upload(staff, picture.getvalue(), "tall.png")
    response = staff.post(
        "/admin/posts/new",
        data={"csrf_token": staff.token, "title": "Inline", "action": "publish",
              "markdown": f"Look:\n\n![A tall one]({url})\n\n<img src=\"{url}\" width=\"300\">"},
    )  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    post = db.session.scalar(select(Post))
    page = app.test_client().get(post.url.replace("http://localhost", "")).text
    tags = re.findall(rf'<img[^>]*src="{url}"[^>]*>', page)
    assert len(tags) == 2
    assert 'width="600" height="900"' in tags[0]
    assert 'width="300"' in tags[1] and "height=" not in tags[1]  # the author's own size stays

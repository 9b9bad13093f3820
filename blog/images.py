"""Image uploads: checked by content, size and pixel count, re-encoded without metadata, and
stored in a few widths with generated names, in the upload store (blog.storage: the instance
folder, or S3-compatible object storage).

A stored image is `<32 hex>-<width>x<height>.<ext>` at its largest width (the URL a post keeps),
and `<32 hex>-<width>.<ext>` at each smaller width: the URLs of every width, and the real size a
page declares in width/height, follow from the largest one's name without touching the disk.
Uploads from before heights were in the name (`<32 hex>-<width>.<ext>`) are still served.

Re-encoding keeps what the author uploaded: each frame's own delay and the loop count of an
animation, transparency, the upright orientation of a photo (EXIF), and the tones of a 16-bit
greyscale PNG (scaled to 8 bits, not clipped to white).
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from werkzeug.datastructures import FileStorage

from blog.storage import storage

if TYPE_CHECKING:  # Pillow is imported where images are decoded: readers' workers never need it
    from PIL import Image

FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
# What each accepted format is stored as: a still GIF becomes a PNG.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
MIMETYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
SAVE_FORMATS = {"jpg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}
NAME = re.compile(
    r"(?P<token>[0-9a-f]{32})-(?P<width>[0-9]{1,5})(?:x(?P<height>[0-9]{1,5}))?"
    r"\.(?P<ext>jpg|png|gif|webp)"
)
URL_PREFIX = "/uploads/"
MAX_FRAMES = 200
# Pillow modes holding more than 8 bits per sample (16-bit greyscale PNGs open as these).
WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


class UploadError(Exception):
    """An upload was refused; status is the HTTP status to answer with, message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def upload_dir() -> Path:
    """Return the folder uploads live in (inside the instance folder), creating it."""
    folder = Path(current_app.instance_path) / current_app.config["UPLOAD_FOLDER"]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_image(file: FileStorage | None) -> str:
    """Check, re-encode and store an uploaded image in several widths; return its URL.

    The URL names the largest stored width and its height (`/uploads/<hex>-1600x1067.jpg`).
    Raises UploadError: 400 (missing, empty or damaged), 413 (too many bytes or pixels) or
    415 (not a JPEG, PNG, GIF or WebP image). Nothing is left on disk when it raises.
    """
    data = _read(file)
    image = _open(data)
    frames, durations = _decode(image)
    ext = EXTENSIONS[image.format] if len(frames) > 1 or image.format != "GIF" else "png"
    widths = current_app.config["IMAGE_WIDTHS"]
    largest = min(frames[0].width, max(widths))
    token = secrets.token_hex(16)
    height = _resized(frames[0], largest).height
    names = {w: f"{token}-{w}.{ext}" for w in widths if w < largest}
    names[largest] = f"{token}-{largest}x{height}.{ext}"
    store = storage()
    written: list[str] = []
    try:
        for width, name in names.items():
            resized = [_resized(frame, width) for frame in frames]
            data = _encode(resized, ext, durations, image.info.get("loop"))
            store.put(name, data, MIMETYPES[ext])
            written.append(name)
    except BaseException:
        for name in written:
            store.delete(name)
        raise
    return URL_PREFIX + names[largest]


def image_size(url: str | None) -> tuple[int, int] | None:
    """Return an uploaded image's (width, height) in pixels at its URL, from the name alone.

    None for other URLs and for uploads stored before heights were in the name; a page then
    declares no size rather than a wrong one.
    """
    if not url or not url.startswith(URL_PREFIX):
        return None
    match = NAME.fullmatch(url[len(URL_PREFIX) :])
    if not match or not match["height"]:
        return None
    return int(match["width"]), int(match["height"])


def srcset(url: str | None) -> str:
    """Return a srcset listing every stored width of an uploaded image ("" for other URLs)."""
    found = _parse(url)
    if not found:
        return ""
    token, largest, ext = found
    smaller = [w for w in current_app.config["IMAGE_WIDTHS"] if w < largest]
    return ", ".join(
        [f"{URL_PREFIX}{token}-{w}.{ext} {w}w" for w in smaller] + [f"{url} {largest}w"]
    )


_IMG = re.compile(r'<img\b[^>]*?\ssrc="(/uploads/[^"]+)"[^>]*>')


def declare_sizes(post_html: str) -> str:
    """Give each uploaded image in sanitised post HTML its real width and height attributes.

    Only images whose stored name carries its size (image_size) and that declare neither
    width nor height already; the browser then reserves the right space before it loads.
    """

    def declare(match: re.Match) -> str:
        tag, size = match[0], image_size(match[1])
        if size is None or re.search(r"\s(?:width|height)=", tag):
            return tag
        return f'{tag[:4]} width="{size[0]}" height="{size[1]}"{tag[4:]}'

    return _IMG.sub(declare, post_html)


def delete_image(url: str | None) -> None:
    """Remove every stored width of an uploaded image (nothing for other URLs)."""
    found = _parse(url)
    if not found:
        return
    token, largest, ext = found
    for width in [w for w in current_app.config["IMAGE_WIDTHS"] if w < largest]:
        storage().delete(f"{token}-{width}.{ext}")
    storage().delete(url[len(URL_PREFIX) :])


def stored_path(name: str) -> Path | None:
    """Return the file for an upload's name, or None if the name is not one we generate
    (or the upload store is not a local folder: see send_upload)."""
    if not NAME.fullmatch(name):
        return None
    return storage().path(name)


def send_upload(name: str):
    """Return a response sending an upload from whichever store holds it (conditional, with
    the name as ETag: names are never reused); abort 404 for unknown names."""
    from flask import abort, send_file

    if not NAME.fullmatch(name):
        abort(404)
    mimetype = MIMETYPES[name.rsplit(".", 1)[1]]
    path = storage().path(name)
    if path is not None:
        return send_file(path, mimetype=mimetype, conditional=True, max_age=31_536_000)
    data = storage().get(name)
    if data is None:
        abort(404)
    return send_file(
        io.BytesIO(data), mimetype=mimetype, etag=name, conditional=True, max_age=31_536_000
    )


def _parse(url: str | None) -> tuple[str, int, str] | None:
    """Split an upload URL into (token, width, extension), or None."""
    if not url or not url.startswith(URL_PREFIX):
        return None
    match = NAME.fullmatch(url[len(URL_PREFIX) :])
    return (match["token"], int(match["width"]), match["ext"]) if match else None


def _read(file: FileStorage | None) -> bytes:
    """Read the upload into memory, refusing more than IMAGE_MAX_BYTES."""
    if file is None or not file.filename and not file.content_length:
        raise UploadError(400, "Choose an image to upload.")
    limit = current_app.config["IMAGE_MAX_BYTES"]
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadError(413, f"Images can be at most {limit // (1024 * 1024)} MB.")
    if not data:
        raise UploadError(400, "That file is empty.")
    return data


def _open(data: bytes) -> Image.Image:
    """Identify the image by its content and check its pixel count before decoding it."""
    from PIL import Image, UnidentifiedImageError

    limit = current_app.config["IMAGE_MAX_PIXELS"]
    too_big = UploadError(
        413, f"That image has too many pixels (the limit is {limit // 1_000_000} megapixels)."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_big from None
        except UnidentifiedImageError:
            raise UploadError(415, "Upload a JPEG, PNG, GIF or WebP image.") from None
        except Exception:  # Pillow raises many kinds of errors for broken headers
            raise UploadError(400, "That image is damaged and cannot be read.") from None
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if width < 1 or height < 1:
        raise UploadError(400, "That image is damaged and cannot be read.")
    if width * height > limit or frames > MAX_FRAMES or width * height * frames > limit * 2:
        raise too_big
    return image


def _decode(image: Image.Image) -> tuple[list[Image.Image], list[int]]:
    """Decode every frame into plain RGB(A) pixels, upright, with no metadata attached.

    Returns the frames and each frame's delay in milliseconds (100 where the file gives none).
    Every frame gets the same mode: RGBA when any frame has transparency.
    """
    from PIL import Image, ImageOps, ImageSequence

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if getattr(image, "n_frames", 1) > 1:
                frames, durations = [], []
                for frame in ImageSequence.Iterator(image):
                    frame.load()  # WebP sets a frame's duration when it is decoded
                    durations.append(int(frame.info.get("duration") or 100))
                    frames.append(_clean(frame, image.format))
            else:
                frames, durations = [_clean(ImageOps.exif_transpose(image), image.format)], [0]
    except Exception:  # truncated data, bad chunks, broken frames
        raise UploadError(400, "That image is damaged or incomplete.") from None
    if any(frame.mode == "RGBA" for frame in frames):
        frames = [frame if frame.mode == "RGBA" else frame.convert("RGBA") for frame in frames]
    return frames, durations


def _clean(frame: Image.Image, source_format: str) -> Image.Image:
    """Copy a frame's pixels into a fresh image: metadata (EXIF, GPS, text chunks) stays behind.

    16-bit greyscale is scaled to 8 bits (65535 -> 255) rather than clipped, which would turn
    everything above 255 of 65535 white.
    """
    from PIL import Image

    if frame.mode in WIDE_MODES:
        frame = frame.convert("I").point(lambda value: value / 257).convert("L")
    has_alpha = frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info
    mode = "RGBA" if has_alpha and source_format != "JPEG" else "RGB"
    pixels = frame.convert(mode)
    fresh = Image.new(mode, pixels.size)
    fresh.paste(pixels)
    return fresh


def _resized(frame: Image.Image, width: int) -> Image.Image:
    """Scale a frame down to width, keeping its proportions."""
    from PIL import Image

    if frame.width <= width:
        return frame
    height = max(1, round(frame.height * width / frame.width))
    return frame.resize((width, height), Image.Resampling.LANCZOS)


def _encode(frames: list[Image.Image], ext: str, durations: list[int], loop: int | None) -> bytes:
    """Encode frames as one image file of type ext.

    An animation keeps each frame's delay (ms) and its loop count; loop None means the source
    played once (a GIF without a NETSCAPE loop block), and so does the copy.
    """
    options: dict = {}
    if ext == "jpg":
        options = {"quality": 85, "optimize": True, "progressive": True}
    elif ext == "webp":
        options = {"quality": 85}
    elif ext == "png":
        options = {"optimize": True}
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], duration=durations)
        if loop is not None:
            options["loop"] = loop
        if ext == "gif" and frames[0].mode == "RGBA":
            # Whole frames with transparent parts: clear the canvas between frames, so the
            # previous frame does not show through.
            options["disposal"] = 2
    out = io.BytesIO()
    frames[0].save(out, format=SAVE_FORMATS[ext], **options)
    return out.getvalue()

"""Video embeds: a YouTube or Vimeo link alone on a line becomes a player.

The server builds the iframe from the video's id after the author's markup has been sanitised
without any iframes; the final pass (blog.content.sanitise with embeds=True) allows only
iframes of exactly the shape built here.
"""

import html
import re
from urllib.parse import parse_qs, urlsplit

_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com"}
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_VIMEO_ID = re.compile(r"[0-9]{1,12}")
EMBED_SRC = re.compile(
    r"https://www\.youtube-nocookie\.com/embed/[A-Za-z0-9_-]{11}"
    r"|https://player\.vimeo\.com/video/[0-9]{1,12}"
)
EMBED_TITLES = {"YouTube video", "Vimeo video"}
# Every attribute of a server-built player, with its one allowed value (after src and title).
EMBED_ATTRIBUTES = {
    "width": "560",
    "height": "315",
    "loading": "lazy",
    "allow": "autoplay; encrypted-media; fullscreen; picture-in-picture",
    "referrerpolicy": "strict-origin-when-cross-origin",
    "sandbox": "allow-scripts allow-same-origin allow-presentation allow-popups",
    "allowfullscreen": "",
}
# A paragraph holding nothing but one bare link (what a URL alone on a line becomes).
LINK_PARAGRAPH = re.compile(r'<p><a href="([^"<>]+)">([^<>]+)</a></p>')


def embed_src(url: str) -> tuple[str, str] | None:
    """Return (provider, player URL) for a YouTube or Vimeo video link, else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or parts.username or parts.port:
        return None
    segments = [s for s in parts.path.split("/") if s]
    video = ""
    if host in _YOUTUBE_HOSTS:
        if parts.path == "/watch":
            video = parse_qs(parts.query).get("v", [""])[0]
        elif len(segments) == 2 and segments[0] in ("embed", "shorts", "live"):
            video = segments[1]
    elif host == "youtu.be" and len(segments) == 1:
        video = segments[0]
    if _YOUTUBE_ID.fullmatch(video):
        return "YouTube", f"https://www.youtube-nocookie.com/embed/{video}"
    if host in _VIMEO_HOSTS and len(segments) == 1:
        video = segments[0]
    elif host == "player.vimeo.com" and len(segments) == 2 and segments[0] == "video":
        video = segments[1]
    if host in _VIMEO_HOSTS | {"player.vimeo.com"} and _VIMEO_ID.fullmatch(video):
        return "Vimeo", f"https://player.vimeo.com/video/{video}"
    return None


def embed(match: re.Match) -> str:
    """Replace a paragraph that is only a video link with the server-built player."""
    href, text = html.unescape(match[1]), html.unescape(match[2])
    found = embed_src(href) if href == text else None
    if found is None:
        return match[0]
    provider, src = found
    attributes = " ".join(f'{name}="{value}"' for name, value in EMBED_ATTRIBUTES.items())
    return (
        f'<figure class="embed"><iframe src="{src}" title="{provider} video" {attributes}>'
        "</iframe></figure>"
    )


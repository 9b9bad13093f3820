"""The one sanitiser: every piece of HTML a reader gets passes through sanitise() once, on save.

bleach is no longer maintained, so nothing else in the codebase calls it: swapping the
sanitiser touches this file only. Links in text become links here too (bleach's linkifier).
"""

import re
from functools import cache, partial

from blog.content.embeds import EMBED_ATTRIBUTES, EMBED_SRC, EMBED_TITLES
from blog.highlight import TOKEN_CLASS

ALLOWED_TAGS = frozenset(
    "p br hr h2 h3 h4 blockquote ul ol li strong b em i u s sub sup code pre a img "
    "figure figcaption table thead tbody tr th td abbr span".split()
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LANGUAGE_CLASS = re.compile(r"^language-[a-z0-9]+$")
# Only what is plainly a URL becomes a link: a scheme, or www. and a dotted host. So
# README.md and setup.py stay text (.md and .py are TLDs); any TLD is fine after a scheme.
LINKABLE_URL = re.compile(
    r"""\(*
    (?:
        \bhttps?://[\w-]+(?:\.[\w-]+)*
      | (?<![\w.@/-])www\.[\w-]+(?:\.[\w-]+)+
    )
    (?::[0-9]{1,5})?
    (?:[/?\#][^\s{}|\\^`<>"]*)?
    """,
    re.IGNORECASE | re.VERBOSE | re.UNICODE,
)


NEW_TAB_REL = "noopener noreferrer"
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Allow only the attributes a post needs; code may carry one language class."""
    if tag == "code" and name == "class":
        return bool(LANGUAGE_CLASS.match(value))
    if tag == "span":  # Pygments' token spans in highlighted code (blog/highlight.py)
        return name == "class" and bool(TOKEN_CLASS.match(value))
    if tag == "a" and name == "target":
        return value == "_blank"
    if tag == "a" and name == "rel":
        return value == NEW_TAB_REL
    return name in _ALLOWED_ATTRIBUTES.get(tag, ())


def _allowed_embed_attribute(tag: str, name: str, value: str) -> bool:
    """Allow post attributes, plus exactly the iframe the server builds for an embed."""
    if tag == "iframe":
        if name == "src":
            return bool(EMBED_SRC.fullmatch(value))
        if name == "title":
            return value in EMBED_TITLES
        return name in EMBED_ATTRIBUTES and value == EMBED_ATTRIBUTES[name]
    if tag == "figure" and name == "class":
        return value == "embed"
    return _allowed_attribute(tag, name, value)


def _new_tab_rel(attrs: dict, new: bool = False) -> dict:
    """Give links that open a new tab rel="noopener noreferrer", and no other link a rel."""
    if attrs.get((None, "target")) == "_blank":
        attrs[(None, "rel")] = NEW_TAB_REL
    else:
        attrs.pop((None, "rel"), None)
    return attrs


@cache
def _cleaners() -> tuple:
    """Build the two cleaners (posts; posts with server-built embeds) on first use.

    Only saving needs them; a reader-only web worker never imports bleach.
    """
    import bleach
    from bleach.linkifier import LinkifyFilter

    linkify = partial(
        LinkifyFilter,
        callbacks=[_new_tab_rel],
        skip_tags={"pre", "code"},
        parse_email=False,
        url_re=LINKABLE_URL,
    )
    common = {"protocols": ALLOWED_PROTOCOLS, "strip": True, "strip_comments": True}
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS, attributes=_allowed_attribute, filters=[linkify], **common
    )
    embed_cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS | {"iframe"},
        attributes=_allowed_embed_attribute,
        filters=[linkify],
        **common,
    )
    return cleaner, embed_cleaner


def sanitise(raw_html: str, embeds: bool = False) -> str:
    """Return raw_html with everything outside the allowlist removed; a fixed point.

    With embeds, iframes of exactly the shape render_markdown builds are kept too; never pass
    author-written HTML with embeds=True.
    """
    cleaner, embed_cleaner = _cleaners()
    cleaner = embed_cleaner if embeds else cleaner
    once = cleaner.clean(raw_html)
    # Stripping can expose new markup (<scr<script>ipt>); clean until nothing changes.
    for _ in range(3):
        again = cleaner.clean(once)
        if again == once:
            break
        once = again
    return once

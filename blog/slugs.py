"""Slugs: URL-safe names for posts, tags and authors, never a reserved word.

A slug made from a title or name follows Ghost's slugify (TryGhost/SDK
packages/string/lib/slugify.js): apostrophes dropped, every script transliterated to ASCII
(`Straße` -> `strasse`, `Привет мир` -> `privet-mir`), anything else a hyphen, lower case.
Transliteration is text-unidecode's (python-slugify's default backend), called directly so
that installing Unidecode elsewhere never changes a slug. `C++` and `C#` read as words
(`c-plus-plus`, `c-sharp`), so they never collapse into `c`.

A generated slug that is taken gets a numeric suffix (unique_slug); a slug someone typed is
checked (check_slug) and refused with a reason instead, never renamed.
"""

import re
import unicodedata

from slugify import slugify as _python_slugify
from sqlalchemy import or_, select

from blog.extensions import db
from blog.xmlchars import strip_not_xml

# Paths the site itself uses; a post may never take one.
RESERVED = frozenset(
    "admin login logout page tag tags author authors rss static uploads newsletter ghost api "
    "sitemap.xml robots.txt favicon.ico feed feeds search signup signin members p email "
    "unsubscribe subscribe confirm assets content public private preview edit new".split()
)
MAX_LENGTH = 185
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_APOSTROPHES = re.compile("['‘’´]")  # Ghost drops them: "what’s" -> "whats"
# Programming languages and the like: C++, C#, F#, Google+ (a letter or digit, then the sign).
_PLUS = re.compile(r"(?<=[A-Za-z0-9])(\+{1,2})(?![\w+])")
_SHARP = re.compile(r"(?<=[A-Za-z])#(?!\w)")


class SlugError(ValueError):
    """A typed slug cannot be used; message says why, for the form field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def slugify(text: str, max_length: int = MAX_LENGTH) -> str:
    """Turn text into a lower-case ASCII slug of words joined by hyphens ("" if none is left).

    `Straße` -> `strasse`, `Καλημέρα κόσμε` -> `kalemera-kosme`, `C++` -> `c-plus-plus`,
    `Don't stop` -> `dont-stop`, `../etc/passwd` -> `etc-passwd`, `🎉` -> ``.
    """
    text = unicodedata.normalize("NFC", strip_not_xml(text or ""))
    text = _APOSTROPHES.sub("", text)
    text = _PLUS.sub(lambda m: " plus" * len(m[1]) + " ", text)
    text = _SHARP.sub(" sharp ", text)
    if not text.isascii():
        from text_unidecode import unidecode  # a 3 MB table: loaded when first needed

        text = unidecode(text)
    return _python_slugify(text, max_length=max_length, lowercase=True)


def unique_slug(model, text: str, exclude_id: int | None = None) -> str:
    """Return a slug for text that no other row of model has and that is not reserved.

    The slug is slugify(text) (or the model's name, `post`, `tag`, `user`, when that is empty),
    with `-2`, `-3`, ... added until it is free: for generated slugs only (see check_slug).
    """
    base = slugify(text) or model.__tablename__.rstrip("s")
    taken = set(
        db.session.scalars(
            select(model.slug).where(
                or_(model.slug == base, model.slug.like(f"{base}-%")),
                model.id != (exclude_id if exclude_id else -1),
            )
        )
    )
    slug, number = base, 1
    while slug in taken or slug in RESERVED:
        number += 1
        slug = f"{base}-{number}"
    return slug


def clean_slug(raw: str) -> str:
    """Return a typed slug trimmed and lower-cased; raise SlugError unless it is a slug.

    A slug is ASCII letters and digits in words joined by single hyphens: `a/b`,
    `../etc/passwd`, `hello world` and `straße` are refused (with a suggestion), not rewritten.
    """
    value = raw.strip().lower()
    if SLUG.fullmatch(value) and len(value) <= MAX_LENGTH:
        return value
    if len(value) > MAX_LENGTH:
        raise SlugError(f"A slug can be at most {MAX_LENGTH} characters.")
    suggestion = slugify(raw)
    hint = f" For example “{suggestion}”." if suggestion else ""
    raise SlugError(
        "A slug can hold only letters a–z, digits and single hyphens between them "
        f"(no slashes, dots or spaces).{hint}"
    )


def check_slug(model, slug: str, exclude_id: int | None = None, what: str = "post") -> None:
    """Raise SlugError if a typed slug is reserved or another row of model has it."""
    if slug in RESERVED:
        raise SlugError(f"“{slug}” is reserved for the site itself; choose another slug.")
    other = db.session.scalar(
        select(model.id).where(model.slug == slug, model.id != (exclude_id or -1)).limit(1)
    )
    if other is not None:
        raise SlugError(f"Another {what} has that slug. “{slug}” is taken; choose another one.")

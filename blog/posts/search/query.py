"""What a reader typed, turned into words to search for, and those words into each database's
full-text query syntax (FTS5 MATCH on SQLite, to_tsquery on PostgreSQL)."""

from __future__ import annotations

import re

MAX_QUERY_CHARS = 300  # a search box, not a document: longer is refused (400)
MAX_TERMS = 12
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script: nothing an FTS parser reads


class QueryError(ValueError):
    """A search that cannot be run as typed; str(error) says why, for the reader (HTTP 400)."""


def parse_query(raw: str) -> list[str]:
    """Return the words to search for in raw, lower-cased, in order, without repeats.

    Only letters and digits are kept, so FTS operators, quotes, `*`, `NEAR(`, `:` and column
    filters are plain text, never syntax. Raises QueryError for control characters (NUL),
    more than MAX_QUERY_CHARS characters or MAX_TERMS words, or no word at all.
    """
    if CONTROL.search(raw):
        raise QueryError("That search contains characters that cannot be typed in a search box.")
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(f"Searches are limited to {MAX_QUERY_CHARS} characters.")
    terms = list(dict.fromkeys(word.lower() for word in _WORD.findall(raw)))
    if not terms:
        raise QueryError("Type at least one word or number to search for.")
    if len(terms) > MAX_TERMS:
        raise QueryError(f"Search for at most {MAX_TERMS} words at a time.")
    return terms


def fts5_query(terms: list[str]) -> str:
    """Every word as a quoted FTS5 string (never an operator), all required; the last one
    also as a prefix (stemmed words are stored stemmed, so "soups" must match as a word)."""
    *whole, last = terms
    return " AND ".join([f'"{word}"' for word in whole] + [f'("{last}" OR "{last}"*)'])


def tsquery(terms: list[str]) -> str:
    """Every word ANDed for to_tsquery (letters and digits only, so no syntax errors); the last
    word also matches as a prefix."""
    *whole, last = terms
    return " & ".join([*whole, f"{last}:*"])

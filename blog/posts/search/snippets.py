"""Search hits: a post's card with a snippet of its text around the words found, marked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from blog.posts.reading import Card
from blog.posts.search.query import CONTROL

_HIT_START, _HIT_END = "\ue000", "\ue001"  # private-use marks, escaped text goes between them


@dataclass(slots=True)
class Hit(Card):
    """A post found by a search: its card (without bylines: a hit shows its primary tag's
    name only, tag_name), and a snippet with the matched words marked."""

    plaintext: str = ""
    tag_name: str | None = None
    snippet: str = ""

    @property
    def highlighted(self) -> Markup:
        """The snippet as HTML: the text escaped, matched words in <mark>."""
        safe = str(escape(self.snippet)).replace(_HIT_START, "<mark>").replace(_HIT_END, "</mark>")
        return str.__new__(Markup, safe)  # escaped just above: no Markup.__new__ checks


def make_snippet(text_: str, terms: list[str], words: int = 30) -> str:
    """Return about words words of text around the first matched word, matched words between
    the private-use marks that Hit.highlighted turns into <mark>; "…" where text is left out.

    A word matches when it starts with a search word less a common English ending (_stem:
    "walks" marks "walking"), roughly as the index's stemmer matched it. Only a window of text
    around the first match is cleaned and split (a post's whole text is read once, by
    str.find): cleaning and splitting 20 posts' whole text was most of a search page's time.
    """
    stems, pattern = _matcher(tuple(terms))
    found = _first_match(text_, stems, pattern)
    matched = found >= 0
    found = max(found, 0)
    span = 8 * words  # characters each side: widened until the window holds what is shown
    while True:
        lo, hi = _window_start(text_, found - span, found), _window_end(text_, found + span)
        window = text_[lo:hi]
        if _HIT_START in window or _HIT_END in window:  # cleaning changes the length
            head = _clean(text_[lo:found])
            tokens = (head + _clean(text_[found:hi])).split()
        else:  # controls become spaces one for one: clean once, cut where the match starts
            window = CONTROL.sub(" ", window)
            head, tokens = window[: found - lo], window.split()
        first = len(head.split()) - (1 if head and not head[-1].isspace() else 0)
        start = max(0, first - _WORDS_BEFORE)
        if (not lo or first >= _WORDS_BEFORE) and (hi == len(text_) or len(tokens) > start + words):
            break
        span *= 4
    more_before = start > 0 or _TEXT.search(text_, 0, lo) is not None
    chunk = " ".join(tokens[start : start + words])
    if matched or not text_.isascii():
        chunk = _marked(chunk, stems, pattern)
    # else no word of the whole text matched, so none of the chunk's can: ASCII text (no marks
    # to drop, no case rule beyond str.lower's) cut only at whitespace and controls
    return ("…" if more_before else "") + chunk + ("…" if start + words < len(tokens) else "")


_WORDS_BEFORE = 8  # words shown before the first match
_MARKED = f"{_HIT_START}\\g<0>{_HIT_END}"  # a match, between the marks
_SPACE = re.compile(r"\s")
_WORD_RUN = re.compile(r"\w*")  # a word's letters, digits and underscores, as the pattern's \w*
# A character that is a word's once cleaned: not whitespace, a control character or a mark.
_TEXT = re.compile(r"[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ue000\ue001]")


@lru_cache(maxsize=64)
def _matcher(terms: tuple[str, ...]) -> tuple[list[str], re.Pattern]:
    """The stems of terms, longest first, and the pattern that marks words starting with one."""
    stems = sorted({_stem(term) for term in terms}, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + r")\w*", re.IGNORECASE)
    return stems, pattern


def _first_match(text_: str, stems: list[str], pattern: re.Pattern) -> int:
    """Where the first word starting with a stem starts in text_ (-1 when none does).

    str.find on the lower-cased text, keeping finds at a word's start: the same as
    pattern.search (terms are lower-case letters and digits) at a fraction of the cost, which
    is used instead when lower-casing changes the text's length (as for "İ").
    """
    lowered = text_.lower()
    if len(lowered) != len(text_):
        found = pattern.search(text_)
        return found.start() if found else -1
    best = len(text_)
    for stem in stems:
        at = lowered.find(stem)
        while -1 < at < best:
            if at == 0 or not (text_[at - 1].isalnum() or text_[at - 1] == "_"):
                best = at
                break
            at = lowered.find(stem, at + 1)
    return best if best < len(text_) else -1


def _marked(chunk: str, stems: list[str], pattern: re.Pattern) -> str:
    """chunk with every word that starts with a stem between the marks: pattern.sub(_MARKED,
    chunk). For ASCII text and stems the same words are found by str.find on the lower-cased
    chunk, kept where a word starts, each marked to its end (a regex pass cost 10 µs a
    snippet, five times that); other text goes through the pattern."""
    if not chunk.isascii() or not all(stem.isascii() for stem in stems):
        return pattern.sub(_MARKED, chunk)
    lowered = chunk.lower()
    starts = set()
    for stem in stems:
        at = lowered.find(stem)
        while at != -1:
            if at == 0 or not (chunk[at - 1].isalnum() or chunk[at - 1] == "_"):
                starts.add(at)
            at = lowered.find(stem, at + 1)
    if not starts:
        return chunk
    parts, done = [], 0
    for at in sorted(starts):  # word starts: their words never overlap
        end = _WORD_RUN.match(chunk, at).end()
        parts += [chunk[done:at], _HIT_START, chunk[at:end], _HIT_END]
        done = end
    parts.append(chunk[done:])
    return "".join(parts)


def _window_start(text_: str, at: int, found: int) -> int:
    """Where a window reaching back to about at begins: after whitespace, so at a word's start."""
    if at <= 0:
        return 0
    space = _SPACE.search(text_, at, found)
    return space.end() if space else 0


def _window_end(text_: str, at: int) -> int:
    """Where a window reaching on to about at ends: at whitespace, so at a word's end."""
    space = _SPACE.search(text_, at) if at < len(text_) else None
    return space.start() if space else len(text_)


def _clean(text_: str) -> str:
    """Control characters as spaces, the highlight marks dropped (they are ours to insert)."""
    return CONTROL.sub(" ", text_).replace(_HIT_START, "").replace(_HIT_END, "")


def _stem(word: str) -> str:
    """Strip one common English ending, carefully: "notes" -> "note" (not "not"), "boxes" ->
    "box", "walking"/"walked" -> "walk"; short words stay whole."""
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    if word.endswith("s") and not word.endswith("ss") and len(word) >= 4:
        return word[:-1]
    return word

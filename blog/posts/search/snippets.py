"""Search hits: a post's card with a snippet of its text around the words found, marked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from blog.posts.reading import Card
from blog.posts.search.query import CONTROL

_HIT_START, _HIT_END = "\ue000", "\ue001"  # private-use marks, escaped text goes between them


@dataclass(slots=True)
class Hit(Card):
    """A post found by a search: its card, and a snippet with the matched words marked."""

    plaintext: str = ""
    snippet: str = ""

    @property
    def highlighted(self) -> Markup:
        """The snippet as HTML: the text escaped, matched words in <mark>."""
        safe = str(escape(self.snippet))
        return Markup(safe.replace(_HIT_START, "<mark>").replace(_HIT_END, "</mark>"))


def make_snippet(text_: str, terms: list[str], words: int = 30) -> str:
    """Return about words words of text around the first matched word, matched words between
    the private-use marks that Hit.highlighted turns into <mark>.

    A word matches when it starts with a search word less a common English ending (_stem:
    "walks" marks "walking"), roughly as the index's stemmer matched it.
    """
    stems = sorted({_stem(term) for term in terms}, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + r")\w*", re.IGNORECASE)
    clean = CONTROL.sub(" ", text_).replace(_HIT_START, "").replace(_HIT_END, "")
    tokens = clean.split()
    # One search over the text, not one per word (a match never spans whitespace): the word
    # it falls in is the number of words before it, less one when it starts inside a word.
    found = pattern.search(clean)
    first = 0
    if found:
        before = clean[: found.start()].split()
        first = len(before) - (1 if before and not clean[found.start() - 1].isspace() else 0)
    start = max(0, first - 8)
    chunk = " ".join(tokens[start : start + words])
    marked = pattern.sub(lambda m: f"{_HIT_START}{m[0]}{_HIT_END}", chunk)
    return ("…" if start else "") + marked + ("…" if start + words < len(tokens) else "")


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
